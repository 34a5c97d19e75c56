"""The Lesson page and the presenter view under AppTest: every step renders offline on the shipped models and
reveals its answer, ?step= links land on their step (hostile ones on step 1 with a message), the ε control
moves z, and ?present=1 switches the presenter view on without touching the rest of the session."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from app_helpers import APP, assert_clean, goto, image_urls, page_path, start_app, texts
from explorer_ui.lesson_steps import STEPS, step_at, step_count
from explorer_ui.lesson_views import LESSON_STEP, VIEWS
from explorer_ui.presenter import PRESENT

pytestmark = pytest.mark.usefixtures("app_router")


def open_lesson(query: dict[str, str] | None = None) -> AppTest:
    """A fresh session opened on the Lesson page's URL with this query string."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(page_path("lesson"))
    at.query_params.update(query or {})
    at.run()
    assert_clean(at)
    return at


def step_heading(at: AppTest) -> str:
    return at.title[0].value


def presenter_css_applied(at: AppTest) -> bool:
    return any("font-size: 20px" in element.proto.body for element in at.get("html"))


# ---------------------------------------------------------------- the content


def test_every_step_has_a_view_a_fair_question_and_a_two_sentence_explanation():
    assert len({s.key for s in STEPS}) == len({s.title for s in STEPS}) == step_count() == len(STEPS)
    for step in STEPS:
        assert step.view in VIEWS, f"{step.key}: no view {step.view}"
        q = step.question
        assert len(q.choices) >= 3 and len(set(q.choices)) == len(q.choices)
        assert 0 <= q.answer < len(q.choices)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Zμz])", q.explanation.strip()) if s]
        assert len(sentences) == 2, f"{step.key}: {len(sentences)} sentences: {sentences}"


def test_step_at_clamps_into_the_lesson():
    assert step_at(-3) is STEPS[0] and step_at(10**9) is STEPS[-1] and step_at(2) is STEPS[1]


# ---------------------------------------------------------------- walking the lesson


def test_the_lesson_walks_every_step_and_reveals_every_answer():
    at = goto(start_app(), "lesson")
    for number, step in enumerate(STEPS, start=1):
        assert step_heading(at) == f"{number}. {step.title}"
        assert at.query_params["step"] == str(number)
        assert image_urls(at) or at.get("plotly_chart"), f"step {number} drew no picture"
        question = at.radio(key=f"lesson_q_{step.key}")
        wrong = (step.question.answer + 1) % len(step.question.choices)
        question.set_value(wrong).run()
        assert not at.success, "the answer showed before it was revealed"
        at.button(key=f"lesson_reveal_{step.key}").click().run()
        assert_clean(at)
        shown = at.success[0].value
        assert step.question.choices[step.question.answer] in shown and step.question.explanation in shown
        assert shown.startswith("Not quite")
        if number < len(STEPS):
            at.button(key="lesson_next_bottom").click().run()
            assert_clean(at)
    assert at.button(key="lesson_next_top").disabled


def test_previous_and_the_step_picker_move_both_ways():
    at = open_lesson({"step": "5"})
    at.button(key="lesson_prev_top").click().run()
    assert step_heading(at).startswith("4.") and at.query_params["step"] == "4"
    at.selectbox(key="lesson_jump").set_value(8).run()
    assert_clean(at)
    assert step_heading(at).startswith("8.") and at.query_params["step"] == "8"


@pytest.mark.parametrize("number", [1, 4, len(STEPS)])
def test_a_step_link_opens_that_step_in_a_fresh_session(number):
    at = open_lesson({"step": str(number)})
    assert step_heading(at) == f"{number}. {STEPS[number - 1].title}"
    assert not at.warning
    link = at.get("code")[-1].proto.code_text
    assert f"step={number}" in link


@pytest.mark.parametrize("raw", ["NaN", "-3", str(10**9), "abc", "1e400", "2.5", "", "9" * 5000, "../../etc"])
def test_a_hostile_step_gives_a_message_and_step_one(raw):
    at = open_lesson({"step": raw})
    assert step_heading(at).startswith("1. ")
    assert any("step" in w.value for w in at.warning), texts(at)
    assert at.query_params["step"] == "1"  # the URL now says what is on screen


def test_a_link_typed_after_the_session_moved_on_still_wins():
    at = open_lesson({"step": "2"})
    at.button(key="lesson_next_top").click().run()
    assert step_heading(at).startswith("3.")
    at.query_params["step"] = "6"  # the address bar edited by hand
    at.run()
    assert step_heading(at).startswith("6.")


# ---------------------------------------------------------------- live views


def test_the_epsilon_sliders_move_z_on_the_map_and_redraw_the_image():
    at = open_lesson({"step": "4"})
    mean_before, z_before = image_urls(at)[-2:]
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    z_trace = next(t for t in chart["data"] if t.get("name") == "z = μ + σ·ε")
    mu_trace = next(t for t in chart["data"] if t.get("name") == "μ")
    assert z_trace["x"] == mu_trace["x"] and z_trace["y"] == mu_trace["y"]  # ε = 0: z is μ
    at.slider(key="lesson_eps_0").set_value(2.5).run()
    at.slider(key="lesson_eps_1").set_value(-2.5).run()
    assert_clean(at)
    mean_after, z_after = image_urls(at)[-2:]
    moved = json.loads(at.get("plotly_chart")[0].proto.spec)
    z_moved = next(t for t in moved["data"] if t.get("name") == "z = μ + σ·ε")
    assert (z_moved["x"], z_moved["y"]) != (z_trace["x"], z_trace["y"])
    assert z_after != z_before
    at.button(key="lesson_eps_zero").click().run()
    assert at.slider(key="lesson_eps_0").value == 0.0


def test_the_image_followed_through_the_steps_is_kept():
    at = open_lesson({"step": "3"})
    at.number_input(key="lesson_image").set_value(42).run()
    at.button(key="lesson_next_top").click().run()
    assert at.number_input(key="lesson_image").value == 42


def test_the_conv_comparison_says_why_it_is_missing():
    at = open_lesson({"step": "8"})
    assert "No convolutional model for these 8×8 digits" in texts(at)


# ---------------------------------------------------------------- presenter view


def test_present_in_the_link_turns_the_presenter_view_on_and_keeps_it_in_the_url():
    at = open_lesson({"step": "3", "present": "1"})
    assert at.session_state[PRESENT] is True and presenter_css_applied(at)
    assert at.sidebar.toggle(key="sb_present").value is True
    assert at.query_params["present"] == "1"
    assert "present=1" in at.get("code")[-1].proto.code_text
    at.sidebar.toggle(key="sb_present").set_value(False).run()
    assert_clean(at)
    assert not presenter_css_applied(at) and "present" not in at.query_params
    assert step_heading(at).startswith("3.")  # same session: the lesson stayed where it was


def test_the_presenter_toggle_keeps_the_session_on_other_pages():
    at = start_app()
    at.number_input(key="home_seed").set_value(5).run()
    at.sidebar.toggle(key="sb_present").set_value(True).run()
    assert_clean(at)
    assert presenter_css_applied(at) and at.query_params["present"] == "1"
    assert at.number_input(key="home_seed").value == 5
    goto(at, "sample")
    assert presenter_css_applied(at)


@pytest.mark.parametrize("raw", ["yes please", "NaN", "2"])
def test_a_bad_present_value_is_explained_and_ignored(raw):
    at = open_lesson({"present": raw})
    assert at.session_state[PRESENT] is False
    assert any("present must be 1 or 0" in c.value for c in at.sidebar.caption)


def test_lesson_step_state_key_is_an_int_after_any_link():
    at = open_lesson({"step": "7"})
    assert at.session_state[LESSON_STEP] == 7


# ---------------------------------------------------------------- what the README says


def test_the_readme_lists_every_step_and_its_screenshots_exist(repo_root):
    readme = (repo_root / "README.md").read_text()
    section = readme.split("## Teaching with it", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^(\d+)\. ", section, flags=re.M)
    assert listed == [str(i) for i in range(1, step_count() + 1)]
    assert f"a guided path in {step_count()} steps" in readme
    for picture in re.findall(r"\((docs/screenshots/lesson_\d+\.png)\)", section):
        assert (repo_root / picture).is_file(), picture


def test_step_8_shows_a_conv_model_of_the_session_beside_the_shipped_mlp():
    """An untrained conv decoder is enough to check the wiring: its samples appear, labelled, beside the MLP's."""
    from explorer_ui.state import MODELS, ModelEntry
    from vae_core.checkpoint import checkpoint_bytes
    from vae_core.config import VAEConfig
    from vae_core.models import build_vae

    conv = build_vae(
        VAEConfig(input_shape=(1, 8, 8), arch="conv", latent_dim=8, hidden=(32,), channels=(8, 16))
    )
    at = open_lesson({"step": "8"})
    before = len(image_urls(at))
    models = dict(at.session_state[MODELS])
    models["conv-test"] = ModelEntry(
        "Trained #1: digits · conv z=8", checkpoint_bytes(conv.eval()), kind="trained"
    )
    at.session_state[MODELS] = models
    at.run()
    assert_clean(at)
    assert "No convolutional model" not in texts(at)
    assert len(image_urls(at)) == before + 2  # the MLP's and the conv model's prior samples
    captions = [picture.caption for element in at.get("image") for picture in element.proto.imgs]
    assert "Trained #1: digits · conv z=8: 16 prior samples" in captions


# ---------------------------------------------------------------- steps 10-12: views reused from the feature pages


def step_number(key: str) -> int:
    return next(i for i, s in enumerate(STEPS, start=1) if s.key == key)


def test_the_factors_step_compares_the_shipped_shapes_pair_and_sweeps_a_dimension():
    at = open_lesson({"step": str(step_number("factors"))})
    shown = texts(at)
    assert "Shipped shapes VAE (β = 1, MLP)" in shown and "Shipped shapes β-VAE (β = 8, MLP)" in shown
    assert "MIG" in shown
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["type"] == "heatmap" and len(heatmap["y"]) == 5  # the five known factors
    sweep_before = image_urls(at)[-1]
    at.radio(key="lesson_factor_model").set_value(1).run()
    assert_clean(at)
    assert image_urls(at)[-1] != sweep_before  # the β-VAE's sprite sweep


def test_the_uses_step_shows_anomalies_augmentation_and_probes():
    at = open_lesson({"step": str(step_number("uses"))})
    shown = texts(at)
    assert "The 8 digits the model explains worst" in shown
    assert "a linear read-out of μ names the label" in shown
    before = image_urls(at)
    at.slider(key="lesson_aug_temperature").set_value(2.0).run()
    assert_clean(at)
    assert image_urls(at) != before  # wider draws, new pictures


def test_the_curvature_step_draws_the_straight_and_the_geodesic_path():
    at = open_lesson({"step": str(step_number("curved"))})
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    paths = {t["name"]: (t["x"], t["y"]) for t in chart["data"] if t.get("name") in ("linear", "geodesic")}
    assert set(paths) == {"linear", "geodesic"} and paths["linear"] != paths["geodesic"]
    assert any(t.get("type") == "heatmap" for t in chart["data"])  # the magnification underneath
    table = at.dataframe[0].value
    assert list(table["path"]) == ["linear", "geodesic"]
    # the geodesic is the shorter walk in image space (what the step claims)
    assert table["length in the geodesic's metric"][1] <= table["length in the geodesic's metric"][0]


# ---------------------------------------------------------------- session keys


def test_the_lesson_and_presenter_keep_no_session_key_outside_the_declared_ones():
    """Every non-widget key the Lesson (all steps, presenter view on) leaves in session_state is declared."""
    from explorer_ui.state import SESSION_KEYS

    at = open_lesson({"step": "4", "present": "1"})
    at.button(key="lesson_eps_draw").click().run()
    at.button(key="lesson_reveal_reparam").click().run()
    safe = at.session_state._state  # streamlit's SafeSessionState behind AppTest's proxy
    widget_keys = set(safe._state._key_id_mapper._key_id_mapping)
    user_keys = set(safe.filtered_state) - widget_keys
    assert user_keys, "no session keys seen: the check would pass vacuously"
    undeclared = sorted(k for k in user_keys if k not in SESSION_KEYS)
    assert not undeclared, f"session keys not declared in explorer_ui/state.py SESSION_KEYS: {undeclared}"


def test_the_interpolation_step_offers_the_geodesic_beside_linear_and_spherical():
    at = open_lesson({"step": str(step_number("interpolate"))})
    strip_before = image_urls(at)[0]
    at.radio(key="lesson_interp_method").set_value("geodesic").run()
    assert_clean(at)
    assert image_urls(at)[0] != strip_before
    norms = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert [t["name"] for t in norms["data"]] == ["linear", "spherical", "geodesic"]
