"""Known factors in the app (AppTest): picking a shipped shapes model loads the shapes dataset, the
sliders are named after the factor each dimension moves, the MI heatmap and scores show, and the model
card reports latent health."""

from __future__ import annotations

import json

import pytest

from explorer_ui import latent_pad as pad
from explorer_ui.state import SHIPPED_SHAPES_MODELS
from tests.app_helpers import assert_clean, goto, router_runs_every_time, start_app, texts
from vae_core.shapes import FACTOR_NAMES

pytestmark = pytest.mark.slow


def _pick_model(at, key: str):
    at.selectbox(key="sb_model").set_value(key).run()
    at.run()  # the sidebar loads the dataset the model asked for (queued by the pick)
    assert_clean(at)
    return at


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
        assert all(any(f"≈ {name} (" in label for name in FACTOR_NAMES) for label in named)
        assert at.get("plotly_chart"), "the factor × dimension heatmap is missing"
        heatmap = json.loads(at.get("plotly_chart")[-1].proto.spec)
        assert heatmap["data"][0]["y"] == list(FACTOR_NAMES)
        page = texts(at)
        assert "MIG" in page and "disentangled" in page and "What β does" in page
        at.radio(key=pad.MODE).set_value("stock").run()
        assert_clean(at)
        assert [s.label.split(" · KL")[0] for s in at.slider] == [labels[d] for d in data["order"]]


def test_digits_sliders_keep_plain_names():
    with router_runs_every_time():
        at = start_app(timeout=120)
        goto(at, "latent_sliders")
        data = json.loads(at.get("bidi_component")[0].proto.json)
        assert data["labels"][0] == "z₀" and not any("≈" in label for label in data["labels"])
        assert "What β does" not in texts(at)
