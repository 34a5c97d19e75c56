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


def test_a_rerun_carrying_an_older_address_does_not_snap_a_moved_slider_back(sample_session):
    """The browser applies the URL a run wrote after that run: a slider moved twice quickly can send its second
    value with the address from before the first. That address is this session's own, not a link."""
    at = sample_session()
    at.slider(key="sample_temperature").set_value(0.9).run()
    assert at.query_params["temperature"] == "0.9"
    at.query_params["temperature"] = "1"  # the address as it was before the 0.9 run reached the browser
    at.slider(key="sample_temperature").set_value(0.7).run()
    assert at.slider(key="sample_temperature").value == 0.7
    assert at.query_params["temperature"] == "0.7"
    assert "temperature=0.7" in at.get("code")[-1].proto.code_text


def test_a_link_the_session_never_wrote_is_still_taken(sample_session):
    at = sample_session()
    at.slider(key="sample_temperature").set_value(0.9).run()
    at.query_params["temperature"] = "0.35"  # a value typed into the address: new to this session
    at.run()
    assert at.slider(key="sample_temperature").value == 0.35


def test_hostile_sample_links_are_clamped_with_a_message(sample_session):
    at = sample_session({"count": str(10**6), "temperature": "NaN", "seed": "-5"})
    assert at.slider(key="sample_count").value == 64
    assert at.slider(key="sample_temperature").value == 1.0
    assert at.number_input(key="sample_seed").value == 0
    message = at.warning[0].value
    assert "count must be between 1 and 64" in message and "temperature must be a finite number" in message
    assert at.query_params["count"] == "64"  # the address now says what is on screen


# ---------------------------------------------------------------- every page: a copied link restores the view


def open_page(name: str, query: dict[str, str] | None = None):
    """A fresh session opened on a page's address with this query string (no exception)."""
    from streamlit.testing.v1 import AppTest

    from app_helpers import APP, assert_clean, page_path

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page(page_path(name))
    at.query_params.update(query or {})
    at.run()
    assert_clean(at)
    return at


def _teach_home(at):
    at.number_input(key="home_seed").set_value(12).run()


def _teach_map(at):
    from explorer_ui.state import SELECTION

    at.session_state[SELECTION] = [5, 17, 300]  # what a box selection leaves
    at.slider(key="map_grid_side").set_value(6).run()


def _teach_sliders(at):
    at.radio(key="slider_mode").set_value("stock").run()
    at.slider(key="stock_dim_0").set_value(1.5).run()
    at.slider(key="stock_dim_3").set_value(-2.0).run()


def _teach_interpolate(at):
    at.number_input(key="interp_w_start").set_value(10).run()
    at.number_input(key="interp_w_end").set_value(20).run()
    at.radio(key="interp_method").set_value("spherical").run()
    at.slider(key="interp_steps").set_value(6).run()


def _teach_anomalies(at):
    at.slider(key="anomaly_count").set_value(5).run()
    at.radio(key="anomaly_score").set_value("recon").run()


def _teach_geometry(at):
    at.multiselect(key="geo_clouds").set_value([4, 40]).run()
    at.number_input(key="geo_holes_seed").set_value(3).run()


def _teach_directions(at):
    at.selectbox(key="directions_class_a").set_value(3).run()
    at.selectbox(key="directions_class_b").set_value(8).run()
    at.slider(key="directions_alpha").set_value(1.5).run()


TEACH = {
    "home": (_teach_home, {"seed": "12"}),
    "latent_map": (_teach_map, {"selection": "5,17,300", "grid": "6"}),
    "latent_sliders": (_teach_sliders, {"mode": "stock"}),
    "sample": (None, {}),  # its own tests above
    "interpolate": (_teach_interpolate, {"start": "10", "end": "20", "path": "spherical", "steps": "6"}),
    "anomalies": (_teach_anomalies, {"count": "5", "score": "recon"}),
    "geometry": (_teach_geometry, {"clouds": "4,40", "seed": "3"}),
    "directions": (_teach_directions, {"a": "3", "b": "8", "alpha": "1.5"}),
    "train": (None, {}),  # settings only: test_a_train_link_fills_the_settings_and_never_a_model
    "lesson": (None, {}),  # tests/test_lesson.py
}


def widget_values(at) -> dict:
    """Every keyed widget's value on the page (main area), for comparing two sessions."""
    kinds = ("slider", "number_input", "radio", "selectbox", "multiselect", "toggle", "segmented_control")
    values = {}
    for kind in kinds:
        for widget in at.get(kind):
            key = getattr(widget, "key", None)
            if key and not key.startswith("sb_"):
                values[key] = widget.value
    return values


def test_every_registered_page_is_covered_by_a_link_test():
    from explorer_ui.registry import PAGES

    assert set(TEACH) == {spec.name for spec in PAGES}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, (teach, _) in TEACH.items() if teach is not None])
def test_a_copied_link_opens_the_same_view_in_a_fresh_session(app_router, name):
    """The teacher changes the page's controls; the link they copy opens, in a new session, the same widget
    values and pixel-identical pictures (media ids are content hashes)."""
    from app_helpers import assert_clean, image_urls

    teach, expected = TEACH[name]
    teacher = open_page(name)
    teach(teacher)
    assert_clean(teacher)
    query = dict(teacher.query_params)
    for param, value in expected.items():
        assert query.get(param) == value, (param, query)
    link = teacher.get("code")[-1].proto.code_text
    assert all(f"{param}=" in link for param in expected), link
    student = open_page(name, query)
    assert widget_values(student) == widget_values(teacher)
    assert image_urls(student) == image_urls(teacher)
    assert not [w.value for w in student.warning if "link" in w.value], "a clean link raised a warning"


def test_a_train_link_fills_the_settings_and_never_a_model(app_router):
    at = open_page("train", {"arch": "conv", "latent": "4", "beta": "4", "epochs": "20"})
    assert at.selectbox(key="train_arch").value == "conv"
    assert at.slider(key="train_latent").value == 4
    assert at.number_input(key="train_beta").value == 4.0
    assert at.number_input(key="train_epochs").value == 20
    link = at.get("code")[-1].proto.code_text
    assert "arch=conv" in link and "latent=4" in link and "beta=4" in link and "model=" not in link


# ---------------------------------------------------------------- lists of floats, model and dataset


def test_a_float_list_has_the_model_size_and_every_value_clamped():
    from explorer_ui.url_state import parse_float_list

    parsed = parse_float_list("1.5,NaN,99,-inf", "z", -4.0, 4.0, 4)
    assert parsed.value == [1.5, 0.0, 4.0, 0.0] and "z:" in parsed.note
    short = parse_float_list("1,2", "z", -4.0, 4.0, 4)
    assert short.value == [1.0, 2.0, 0.0, 0.0] and "expected 4 values, got 2" in short.note
    assert parse_float_list("0.25,-1", "z", -4.0, 4.0, 2).note is None
    huge = parse_float_list(",".join(["1"] * 10**6), "z", -4.0, 4.0, 8)
    assert huge.value == [0.0] * 8 and "ignored a" in huge.note


def test_a_link_picks_a_shipped_model_and_a_builtin_dataset(app_router):
    from explorer_ui.state import DATASET_CHOICE, MODEL_CHOICE

    at = open_page("sample", {"model": "shapes_betavae", "dataset": "shapes"})
    assert at.session_state[MODEL_CHOICE] == "shapes_betavae"
    assert at.session_state[DATASET_CHOICE] == "spec:shapes"
    link = at.get("code")[-1].proto.code_text
    assert "model=shapes_betavae" in link and "dataset=shapes" in link


@pytest.mark.parametrize(
    "query, message",
    [
        ({"model": "../../etc/passwd"}, "model must be one of default"),
        ({"model": "x" * 5000}, "ignored a 5,000-character value"),
        ({"dataset": "npz:../../../etc/passwd"}, "Could not load"),
        ({"dataset": "no-such-dataset"}, "Could not load"),
    ],
)
def test_a_link_to_a_model_or_dataset_it_cannot_use_says_so_and_keeps_the_default(app_router, query, message):
    from app_helpers import texts
    from explorer_ui.state import DATASET_CHOICE, MODEL_CHOICE

    at = open_page("sample", query)
    shown = (
        texts(at)
        + "\n".join(e.value for e in at.sidebar.error)
        + "\n".join(w.value for w in at.sidebar.warning)
    )
    assert message in shown, shown
    assert at.session_state[MODEL_CHOICE] == "default" and at.session_state[DATASET_CHOICE] == "spec:digits"
    assert len(at.get("image")) >= 1  # the page still draws


def test_a_session_trained_model_is_not_put_in_a_link_and_the_link_says_why(app_router):
    from explorer_ui.state import MODEL_CHOICE, MODELS, ModelEntry
    from vae_core import DEFAULT_MODEL_PATH

    at = open_page("sample")
    models = dict(at.session_state[MODELS])
    models["trained-1"] = ModelEntry("Trained #1: digits", DEFAULT_MODEL_PATH.read_bytes(), kind="trained")
    at.session_state[MODELS] = models
    at.session_state[MODEL_CHOICE] = "trained-1"
    at.run()
    link = at.get("code")[-1].proto.code_text
    assert "model=" not in link
    note = next(w.value for w in at.warning if "cannot carry it" in w.value)
    assert "Trained #1: digits" in note and "shipped default model" in note
