"""Query parameters are read with the same care as widget input: finite numbers clamped (or refused) to the
widget's range, names checked against the known choices, lists capped, huge values refused unread, and every
adjustment explained in a note instead of an exception."""

from __future__ import annotations

import math

import pytest

from explorer_ui.url_state import (
    MAX_LIST_ITEMS,
    MAX_PARAM_CHARS,
    encode,
    parse_choice,
    parse_flag,
    parse_float,
    parse_int,
    parse_int_list,
)


def test_a_missing_parameter_is_the_default_without_a_note():
    for parsed in (
        parse_int(None, "step", 1, 9, 1),
        parse_float(None, "t", 0.0, 2.0, 1.0),
        parse_choice(None, "path", ("linear", "spherical"), "linear"),
        parse_flag(None, "present"),
        parse_int_list(None, "picked", 0, 99),
    ):
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


@pytest.mark.parametrize(
    "raw, value, noted",
    [
        ("0.5", 0.5, False),
        ("2", 2.0, False),
        ("7", 2.0, True),
        ("-1e9", 0.0, True),
        ("nan", 1.0, True),
        ("Infinity", 1.0, True),
        ("warm", 1.0, True),
    ],
)
def test_floats_must_be_finite_and_are_clamped(raw, value, noted):
    parsed = parse_float(raw, "temperature", 0.0, 2.0, 1.0)
    assert parsed.value == value and math.isfinite(parsed.value)
    assert (parsed.note is not None) == noted


def test_names_must_be_one_of_the_known_choices():
    assert parse_choice("spherical", "path", ("linear", "spherical"), "linear").value == "spherical"
    for raw in ("../../etc/passwd", "Spherical", "geodesic", ""):
        parsed = parse_choice(raw, "path", ("linear", "spherical"), "linear")
        assert parsed.value == "linear" and "linear, spherical" in parsed.note


@pytest.mark.parametrize(
    "raw, value", [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)]
)
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


# ---------------------------------------------------------------- the Sample page's link (AppTest)


@pytest.fixture()
def sample_session(app_router):
    """A function opening the Sample page in a fresh session with a query string."""
    from streamlit.testing.v1 import AppTest

    from app_helpers import APP, assert_clean, page_path

    def open_sample(query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.switch_page(page_path("sample"))
        at.query_params.update(query or {})
        at.run()
        assert_clean(at)
        return at

    return open_sample


def test_a_sample_link_reopens_the_same_pictures_in_a_fresh_session(sample_session):
    from app_helpers import image_urls

    teacher = sample_session()
    teacher.slider(key="sample_count").set_value(9).run()
    teacher.slider(key="sample_temperature").set_value(0.5).run()
    teacher.number_input(key="sample_seed").set_value(77).run()
    query = dict(teacher.query_params)
    assert query == {"count": "9", "temperature": "0.5", "seed": "77"}
    assert "count=9&temperature=0.5&seed=77" in teacher.get("code")[-1].proto.code_text
    student = sample_session(query)
    assert student.slider(key="sample_count").value == 9
    assert student.slider(key="sample_temperature").value == 0.5
    assert image_urls(student) == image_urls(teacher)  # media ids are content hashes: the same pictures
    assert not student.warning


def test_hostile_sample_links_are_clamped_with_a_message(sample_session):
    at = sample_session({"count": str(10**6), "temperature": "NaN", "seed": "-5"})
    assert at.slider(key="sample_count").value == 64
    assert at.slider(key="sample_temperature").value == 1.0
    assert at.number_input(key="sample_seed").value == 0
    message = at.warning[0].value
    assert "count must be between 1 and 64" in message and "temperature must be a finite number" in message
    assert at.query_params["count"] == "64"  # the address now says what is on screen
