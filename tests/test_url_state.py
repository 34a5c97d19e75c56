"""Query parameters are read with the same care as widget input: finite numbers clamped (or refused) to the
widget's range, names checked against the known choices, lists capped, huge values refused unread, and every
adjustment explained in a note instead of an exception."""

from __future__ import annotations

import math

import pytest

from explorer_ui.url_state import (MAX_LIST_ITEMS, MAX_PARAM_CHARS, encode, parse_choice, parse_flag, parse_float,
                                   parse_int, parse_int_list)


def test_a_missing_parameter_is_the_default_without_a_note():
    for parsed in (parse_int(None, "step", 1, 9, 1), parse_float(None, "t", 0.0, 2.0, 1.0),
                   parse_choice(None, "path", ("linear", "spherical"), "linear"), parse_flag(None, "present"),
                   parse_int_list(None, "picked", 0, 99)):
        assert parsed.note is None and not parsed.present


@pytest.mark.parametrize("raw, value", [("4", 4), (" 7 ", 7), ("3.0", 3), ("1e1", 10)])
def test_whole_numbers_in_range_are_taken_as_they_are(raw, value):
    parsed = parse_int(raw, "seed", 0, 100, 0)
    assert parsed.value == value and parsed.note is None


@pytest.mark.parametrize("raw", ["NaN", "nan", "inf", "-inf", "abc", "", "3.5", "1e400", "0x10", "--3"])
def test_junk_or_non_whole_numbers_give_the_default_and_say_why(raw):
    parsed = parse_int(raw, "step", 1, 9, 1)
    assert parsed.value == 1
    assert parsed.note and "step must be a whole number" in parsed.note


@pytest.mark.parametrize("raw, clamped", [("-3", 1), ("0", 1), ("10", 9), (str(10**9), 9), (str(10**400), 9)])
def test_out_of_range_numbers_are_clamped_with_a_note(raw, clamped):
    parsed = parse_int(raw, "step", 1, 9, 1)
    assert parsed.value == clamped
    assert "between 1 and 9" in parsed.note


def test_without_clamping_an_out_of_range_number_gives_the_default():
    parsed = parse_int(str(10**9), "step", 1, 9, 1, clamp=False)
    assert parsed.value == 1 and "between 1 and 9" in parsed.note


def test_an_oversized_value_is_refused_before_it_is_parsed():
    huge = "1" * (MAX_PARAM_CHARS + 1)
    parsed = parse_int(huge, "seed", 0, 10, 0)
    assert parsed.value == 0 and f"{len(huge):,}-character" in parsed.note
    assert len(parsed.note) < 200  # the message quotes nothing of the value


@pytest.mark.parametrize("raw, value, noted", [("0.5", 0.5, False), ("2", 2.0, False), ("7", 2.0, True),
                                                ("-1e9", 0.0, True), ("nan", 1.0, True), ("Infinity", 1.0, True),
                                                ("warm", 1.0, True)])
def test_floats_must_be_finite_and_are_clamped(raw, value, noted):
    parsed = parse_float(raw, "temperature", 0.0, 2.0, 1.0)
    assert parsed.value == value and math.isfinite(parsed.value)
    assert (parsed.note is not None) == noted


def test_names_must_be_one_of_the_known_choices():
    assert parse_choice("spherical", "path", ("linear", "spherical"), "linear").value == "spherical"
    for raw in ("../../etc/passwd", "Spherical", "geodesic", ""):
        parsed = parse_choice(raw, "path", ("linear", "spherical"), "linear")
        assert parsed.value == "linear" and "linear, spherical" in parsed.note


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)])
def test_flags(raw, value):
    assert parse_flag(raw, "present").value is value


def test_an_unreadable_flag_keeps_the_default_and_says_so():
    parsed = parse_flag("maybe", "present", default=False)
    assert parsed.value is False and "1 or 0" in parsed.note


def test_lists_are_capped_and_bad_items_dropped():
    parsed = parse_int_list("3, 5,x,-1,200,7,nan", "picked", 0, 99)
    assert parsed.value == [3, 5, 7]
    assert "dropped 4" in parsed.note
    many = ",".join(str(i % 100) for i in range(300))[:MAX_PARAM_CHARS]
    capped = parse_int_list(many, "picked", 0, 99)
    assert len(capped.value) == MAX_LIST_ITEMS and f"first {MAX_LIST_ITEMS}" in capped.note


def test_a_million_indices_are_refused_unread():
    million = ",".join("1" for _ in range(10**6))
    parsed = parse_int_list(million, "picked", 0, 99)
    assert parsed.value == [] and "character value" in parsed.note


def test_encoded_values_parse_back():
    assert parse_float(encode(0.35), "t", 0.0, 2.0, 1.0).value == 0.35
    assert parse_flag(encode(True), "present").value is True
    assert parse_int_list(encode([4, 8, 15]), "picked", 0, 99).value == [4, 8, 15]
