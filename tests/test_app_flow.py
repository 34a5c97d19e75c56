"""AppTest flows across pages: train a model in the app → it is selected → map → selection → endpoints →
interpolation strip and GIF; stopping a run keeps its best weights; state survives page switches."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app_helpers import (
    assert_clean,
    download_url,
    goto,
    image_urls,
    played_gif,
    start_app,
    texts,
    wait_for_training,
)
from explorer_ui.sidebar import W_MODEL
from explorer_ui.state import (
    INTERP_END,
    INTERP_START,
    MODEL_CHOICE,
    MODELS,
    SELECTION,
    TRAIN_JOB,
    TRAIN_RESULT,
)
from vae_core.checkpoint import checkpoint_from_bytes

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("app_router")]


def start_training(at, epochs: int, latent: int = 2):
    """Fill the Train form and press Start."""
    goto(at, "train")
    at.number_input(key="train_epochs").set_value(epochs)
    at.slider(key="train_latent").set_value(latent)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    assert at.session_state[TRAIN_JOB] is not None
    return at


def inject_selection(at, indices):
    points = [{"customdata": int(i), "curve_number": 0, "point_index": k} for k, i in enumerate(indices)]
    at.session_state["latent_map"] = {
        "selection": {"points": points, "point_indices": list(range(len(indices))), "box": [], "lasso": []}
    }
    at.run()
    assert_clean(at)


def test_train_in_the_app_then_map_select_and_interpolate(media):
    at = start_app()
    start_training(at, epochs=6)
    wait_for_training(at)

    # the new model is registered, selected, offered in the sidebar and downloadable
    models = at.session_state[MODELS]
    key = at.session_state[MODEL_CHOICE]
    assert key != "default" and models[key].label.startswith("Trained #1") and models[key].kind == "trained"
    assert at.sidebar.selectbox(key=W_MODEL).value == key
    assert models[key].label in at.sidebar.selectbox(key=W_MODEL).options  # offered beside the shipped ones
    assert "Latent size:** 2" in "\n".join(m.value for m in at.sidebar.markdown)
    checkpoint = checkpoint_from_bytes(media.bytes_for_url(download_url(at, "train_download")))
    assert checkpoint.config.latent_dim == 2 and checkpoint.summary["epochs_run"] == 6
    # the Train page's button and the sidebar's name the same checkpoint alike
    trained_name = media.name_for_url(download_url(at, "train_download"))
    assert trained_name == media.name_for_url(download_url(at, "sb_download_model"))
    assert trained_name == "vae_mlp_z2_digits.safetensors"
    assert "Done" in texts(at)

    # the map of the new model; a 2-d latent space gets the latent plane as its manifold grid
    goto(at, "latent_map")
    assert "z₁" in texts(at)
    inject_selection(at, [10, 500, 1200])
    assert at.session_state[SELECTION] == [10, 500, 1200]
    at.button(key="map_set_start").click().run()
    at.selectbox(key="map_focus").set_value(1200).run()
    at.button(key="map_set_end").click().run()
    assert_clean(at)

    # the interpolation page picks the endpoints up, draws the strip and offers a valid GIF
    goto(at, "interpolate")
    assert at.number_input(key="interp_w_start").value == 10
    assert at.number_input(key="interp_w_end").value == 1200
    at.slider(key="interp_steps").set_value(8).run()
    assert_clean(at)
    captions = [c for element in at.get("image") for c in element.captions]
    assert any(c.startswith("8 frames") for c in captions)
    gif = Image.open(io.BytesIO(played_gif(at, media)))
    assert gif.format == "GIF" and gif.is_animated and gif.n_frames == 14
    gif.seek(gif.n_frames - 1)  # every frame decodes

    # everything chosen survives a tour of the other pages
    for page in ("sample", "anomalies", "home", "train", "latent_map"):
        goto(at, page)
        assert at.session_state[MODEL_CHOICE] == key
        assert at.session_state[SELECTION] == [10, 500, 1200]
        assert (at.session_state[INTERP_START], at.session_state[INTERP_END]) == (10, 1200)
    assert "3 selected" in [h.value for h in at.subheader]
    goto(at, "interpolate")
    assert (
        at.slider(key="interp_steps").value == 8
    )  # page widgets keep their values (persist_state="session")

    # switching back to the shipped model keeps the trained one selectable
    at.sidebar.selectbox(key=W_MODEL).set_value("default").run()
    assert_clean(at)
    assert at.session_state[MODEL_CHOICE] == "default" and key in at.session_state[MODELS]


def test_stop_keeps_the_best_weights_and_registers_the_model():
    at = start_app()
    start_training(at, epochs=2000)
    assert any(p for p in at.get("progress"))
    at.button(key="train_stop").click().run()
    assert_clean(at)
    wait_for_training(at)
    job = at.session_state[TRAIN_JOB]
    summary = job.snapshot().summary
    assert summary["status"] == "stopped by user" and summary["epochs_run"] < 2000
    key = at.session_state[MODEL_CHOICE]
    assert key == at.session_state[TRAIN_RESULT] and key != "default"
    goto(at, "sample")
    assert len(image_urls(at)) == 2


def test_leaving_the_train_page_does_not_lose_the_run():
    at = start_app()
    start_training(at, epochs=4)
    goto(at, "sample")  # the run goes on in its thread; the sidebar registers it on any page
    job = at.session_state[TRAIN_JOB]
    assert job.join(timeout=180)
    at.run()
    assert_clean(at)
    assert at.session_state[MODELS][at.session_state[MODEL_CHOICE]].label.startswith("Trained #1")
    assert any("is trained and selected" in s.value for s in at.sidebar.success)
