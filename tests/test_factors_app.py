"""Known factors in the app (AppTest): picking a shipped shapes model loads the shapes dataset, the
sliders are named after the factor each dimension moves, the MI heatmap and scores show, and the model
card reports latent health."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer_ui import latent_pad as pad
from explorer_ui.factors_view import slider_labels
from explorer_ui.state import SHIPPED_SHAPES_MODELS
from tests.app_helpers import assert_clean, goto, router_runs_every_time, start_app, texts, wait_for_training
from vae_core.disentangle import MutualInformation
from vae_core.shapes import FACTOR_NAMES


def test_slider_labels_name_the_best_factor_and_say_when_none_or_inactive():
    mi = np.array([[0.1, 2.0, 0.0], [1.2, 0.1, 0.05]])
    info = MutualInformation(mi=mi, factor_entropy=np.array([2.0, 2.0]))
    labels = slider_labels(info, ("x position", "scale"))
    assert labels == ["z₀ ≈ scale (0.60)", "z₁ ≈ x position (1.00)", "z₂ · no factor (0.03)"]
    assert slider_labels(info, ("x position", "scale"), np.array([True, False, True]))[1] == "z₁ · inactive"


def _pick_model(at, key: str):
    at.selectbox(key="sb_model").set_value(key).run()
    at.run()  # the sidebar loads the dataset the model asked for (queued by the pick)
    assert_clean(at)
    return at


@pytest.mark.slow
@pytest.mark.parametrize("model_key", [k for k, (_, path) in SHIPPED_SHAPES_MODELS.items() if path.is_file()])
def test_sliders_name_the_factor_each_dimension_moves(model_key):
    with router_runs_every_time():
        at = start_app(timeout=180)
        _pick_model(at, model_key)
        assert "Shapes" in texts(at) + "".join(c.value for c in at.sidebar.caption)
        assert "Latent health" in texts(at)
        goto(at, "latent_sliders")
        data = json.loads(at.get("bidi_component")[0].proto.json)
        labels = data["labels"]
        assert len(labels) == 10 and labels[0].startswith("z₀")
        named = [label for label in labels if "≈" in label]
        assert named, labels  # at least one dimension is named after a factor
        assert any("inactive" in label for label in labels)  # both shipped models leave some dims unused
        assert all(any(f"≈ {name} (" in label for name in FACTOR_NAMES) for label in named)
        assert at.get("plotly_chart"), "the factor × dimension heatmap is missing"
        heatmap = json.loads(at.get("plotly_chart")[-1].proto.spec)
        assert heatmap["data"][0]["y"] == list(FACTOR_NAMES)
        page = texts(at)
        assert "MIG" in page and "disentangled" in page and "What β does" in page
        at.radio(key=pad.MODE).set_value("stock").run()
        assert_clean(at)
        assert [s.label.split(" · KL")[0] for s in at.slider] == [labels[d] for d in data["order"]]


@pytest.mark.slow
def test_digits_sliders_keep_plain_names():
    with router_runs_every_time():
        at = start_app(timeout=120)
        goto(at, "latent_sliders")
        data = json.loads(at.get("bidi_component")[0].proto.json)
        assert data["labels"][0] == "z₀" and not any("≈" in label for label in data["labels"])
        assert data["kl"] is not None and "still work" not in texts(at)  # digits fit: sliders ordered by KL
        assert "What β does" not in texts(at)


@pytest.mark.slow
def test_train_page_on_shapes_shows_disentanglement_scores_after_training():
    with router_runs_every_time():
        at = start_app(timeout=180)
        at.selectbox(key="sb_dataset").set_value("spec:shapes").run()
        at.run()
        assert_clean(at)
        goto(at, "train")
        assert "32×32" in texts(at)
        at.number_input(key="train_epochs").set_value(1)
        next(b for b in at.button if b.label == "Start training").click().run()
        assert_clean(at)
        wait_for_training(at, limit_s=300)
        metrics = {m.label: m.value for m in at.metric}
        assert "MIG" in metrics and 0.0 <= float(metrics["MIG"]) <= 1.0, metrics
        assert "DCI disentanglement" in metrics and "Active units" in metrics
