"""AppTest, page by page, on the shipped model: every page renders without an exception, and its main
widget changes what it draws. Plus the sidebar: uploads (good and bad), the model card, shape checks."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from app_helpers import PAGES, assert_clean, download_url, goto, image_urls, played_gif, start_app, texts
from explorer_ui.sidebar import W_DATASET, W_DATASET_UPLOAD, W_MODEL, W_MODEL_UPLOAD
from explorer_ui.state import (
    DATASET_CHOICE,
    DATASETS,
    INTERP_END,
    INTERP_START,
    MODEL_CHOICE,
    MODELS,
    SELECTION,
    SLIDER_ORIGIN,
)
from vae_core import DEFAULT_MODEL_PATH
from vae_core.explore import rank_worst
from vae_core.latents import image_scores

pytestmark = pytest.mark.usefixtures("app_router")


@pytest.fixture(scope="module")
def shipped():
    from vae_core.checkpoint import load_checkpoint

    return load_checkpoint(DEFAULT_MODEL_PATH)


def select(at, indices, key="latent_map"):
    """Inject a plotly selection event for the map (as the browser sends it: customdata = row index)."""
    points = [
        {"customdata": int(i), "curve_number": 0, "point_index": k, "x": 0.0, "y": 0.0}
        for k, i in enumerate(indices)
    ]
    at.session_state[key] = {
        "selection": {"points": points, "point_indices": list(range(len(indices))), "box": [], "lasso": []}
    }
    at.run()
    assert_clean(at)


# ---------------------------------------------------------------- every page renders


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_shipped_model(page):
    at = start_app()
    goto(at, page)
    assert at.title, f"{page} drew no title"
    assert at.sidebar.selectbox(key=W_MODEL).value == "default"


def test_the_app_process_runs_with_a_short_gil_switch_interval():
    """Concurrent sessions: torch-heavy runs are not starved by other sessions' Python (the README's sizing
    section relies on it; the per-thread torch setting is tests/test_boundaries.py's)."""
    import sys

    from explorer_ui.state import GIL_SWITCH_INTERVAL_S

    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        start_app()
        assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_INTERVAL_S)
        assert GIL_SWITCH_INTERVAL_S < 0.005
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_with_a_teaching_panel_and_a_formula(page):
    at = goto(start_app(), page)
    assert len(at.get("latex")) >= 1


# ---------------------------------------------------------------- Overview


def test_overview_samples_follow_the_seed_and_compare_vae_with_autoencoder():
    at = start_app()
    before = image_urls(at)[0]
    at.number_input(key="home_seed").set_value(7).run()
    assert_clean(at)
    assert image_urls(at)[0] != before
    headings = [h.value for h in at.subheader]
    assert "VAE (β = 1)" in headings and "Plain autoencoder (β = 0)" in headings
    charts = [c for c in at.get("plotly_chart") if c.proto.spec]
    assert len(charts) == 2  # the two latent maps side by side
    assert (
        len(image_urls(at)) >= 3
    )  # live samples + prior samples of both models (or the note without the AE)


# ---------------------------------------------------------------- Sample


def test_sample_seed_count_and_temperature_change_the_pictures(media):
    at = goto(start_app(), "sample")
    first = image_urls(at)
    assert len(first) == 2  # samples grid + nearest-training-image grid
    at.number_input(key="sample_seed").set_value(123).run()
    assert_clean(at)
    second = image_urls(at)
    assert second[0] != first[0] and second[1] != first[1]
    at.slider(key="sample_count").set_value(4).run()
    assert image_urls(at)[0] != second[0]
    at.slider(key="sample_temperature").set_value(0.0).run()
    assert_clean(at)
    png = media.bytes_for_url(download_url(at, "sample_png"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_new_seed_button_draws_a_new_seed():
    at = goto(start_app(), "sample")
    at.button(key="sample_new_seed").click().run()
    assert_clean(at)
    assert at.number_input(key="sample_seed").value != 0 or at.session_state["sample_seed"] != 0


# ---------------------------------------------------------------- Latent map


def test_latent_map_draws_every_point_with_its_row_index():
    at = goto(start_app(), "latent_map")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = [t for t in spec["data"] if t["type"] == "scatter"]  # SVG: drawn in every browser
    assert len(traces) == 10  # one per digit class
    counts = 0
    for t in traces:
        xs = t["x"]
        counts += len(xs) if isinstance(xs, list) else _typed_len(xs)
        assert "index %{customdata}" in t["hovertemplate"] and t["hovertemplate"].startswith("label ")
    assert counts == 1797  # no subsampling


def _typed_len(typed: dict) -> int:
    """Length of a plotly typed array ({'dtype': 'f4', 'bdata': base64})."""
    import base64

    return len(base64.b64decode(typed["bdata"])) // np.dtype(typed["dtype"]).itemsize


def test_a_selection_shows_originals_reconstructions_neighbours_and_sets_endpoints():
    at = goto(start_app(), "latent_map")
    assert "Select dots" in texts(at)
    images_before = len(image_urls(at))
    select(at, [5, 17, 42])
    assert at.session_state[SELECTION] == [5, 17, 42]
    assert "3 selected" in [h.value for h in at.subheader]
    assert (
        len(image_urls(at)) >= images_before + 2 + 12
    )  # originals + reconstructions + focus and 11 neighbours
    at.button(key="map_set_start").click().run()
    assert at.selectbox(key="map_focus").value == 17  # the focus moves on, so 'end' picks another image
    at.selectbox(key="map_focus").set_value(42).run()
    at.button(key="map_set_end").click().run()
    at.button(key="map_set_origin").click().run()
    assert_clean(at)
    assert at.session_state[INTERP_START] == 5 and at.session_state[INTERP_END] == 42
    origin = at.session_state[SLIDER_ORIGIN]
    assert isinstance(origin, list) and len(origin) == 8 and all(isinstance(v, float) for v in origin)
    at.button(key="map_clear").click().run()
    assert at.session_state[SELECTION] == []
    assert at.session_state[INTERP_START] == 5  # endpoints outlive the selection


def test_manifold_grid_size_changes_the_grid():
    at = goto(start_app(), "latent_map")
    before = image_urls(at)[-1]
    at.slider(key="map_grid_side").set_value(6).run()
    assert_clean(at)
    assert image_urls(at)[-1] != before


@pytest.mark.slow
def test_tsne_is_computed_on_demand_and_kept():
    at = goto(start_app(), "latent_map")
    at.get("button_group")[0].set_value("tsne").run()
    assert_clean(at)
    pca_spec = at.get("plotly_chart")[0].proto.spec
    at.button(key="map_tsne_go").click().run(timeout=300)
    assert_clean(at)
    assert (
        "t-SNE 1" in at.get("plotly_chart")[0].proto.spec and at.get("plotly_chart")[0].proto.spec != pca_spec
    )
    at.run()  # stored: drawn straight away, no button
    assert not [b for b in at.button if b.key == "map_tsne_go"]
    select(at, [1, 2])
    assert "2 selected" in [h.value for h in at.subheader]


# ---------------------------------------------------------------- Interpolate


def test_interpolation_steps_method_and_scrubber_change_the_output(media):
    at = goto(start_app(), "interpolate")
    strip = image_urls(at)[2]  # start image, end image, strip
    at.slider(key="interp_steps").set_value(5).run()
    assert_clean(at)
    assert image_urls(at)[2] != strip
    linear = image_urls(at)[2]
    at.number_input(key="interp_w_end").set_value(30).run()
    at.radio(key="interp_method").set_value("spherical").run()
    assert_clean(at)
    assert image_urls(at)[2] != linear
    frame0 = image_urls(at)[3]
    at.slider(key="interp_frame").set_value(4).run()
    assert image_urls(at)[3] != frame0
    assert at.session_state[INTERP_END] == 30  # typed indices become the shared endpoints
    path = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(t.get("name") == "path" for t in path["data"])
    _assert_gif(played_gif(at, media), 5)


def test_interpolation_between_random_codes():
    at = goto(start_app(), "interpolate")
    at.get("button_group")[0].set_value("random").run()
    assert_clean(at)
    before = image_urls(at)[0]
    at.number_input(key="interp_seed").set_value(3).run()
    assert_clean(at)
    assert image_urls(at)[0] != before


def _assert_gif(payload: bytes, frames: int) -> None:
    from PIL import Image

    gif = Image.open(io.BytesIO(payload))
    assert gif.format == "GIF" and gif.is_animated
    assert gif.n_frames == 2 * frames - 2  # forth and back


# ---------------------------------------------------------------- Anomalies


def test_anomalies_are_the_worst_scored_images_first(shipped, digits):
    at = goto(start_app(), "anomalies")
    shown = [c for element in at.get("image") for c in element.captions]
    assert len(shown) == 16
    expected = rank_worst(image_scores(shipped.model, digits.images)["neg_elbo"], 16)
    assert [int(c.split(" ")[0].lstrip("#")) for c in shown] == list(expected)
    at.slider(key="anomaly_count").set_value(5).run()
    assert_clean(at)
    assert len(image_urls(at)) == 5
    at.toggle(key="anomaly_typical").set_value(True).run()
    assert_clean(at)
    typical = [int(c.split(" ")[0].lstrip("#")) for element in at.get("image") for c in element.captions]
    assert not set(typical) & set(expected)


# ---------------------------------------------------------------- sidebar: model card, uploads, shape checks


def test_model_card_describes_the_shipped_model():
    at = start_app()
    card = "\n".join(m.value for m in at.sidebar.markdown)
    for field in (
        "Architecture",
        "Latent size:** 8",
        "β (KL weight)",
        "Likelihood",
        "Training data",
        "Validation −ELBO",
        "Parameters",
    ):
        assert field in card


def test_a_bad_model_upload_shows_an_error_and_keeps_the_model():
    at = start_app()
    models_before = list(at.session_state[MODELS])
    at.file_uploader(key=W_MODEL_UPLOAD).set_value(
        ("weights.pt", b"\x80\x04\x95garbage", "application/octet-stream")
    )
    at.run()
    assert_clean(at)
    assert any("pickle" in e.value for e in at.sidebar.error)
    assert at.session_state[MODEL_CHOICE] == "default"
    assert list(at.session_state[MODELS]) == models_before  # nothing registered
    goto(at, "sample")  # the app goes on with the shipped model
    assert len(image_urls(at)) == 2


def test_a_bad_dataset_upload_shows_an_error_and_keeps_the_dataset():
    at = start_app()
    at.file_uploader(key=W_DATASET_UPLOAD).set_value(
        ("broken.npz", b"not a zip at all", "application/octet-stream")
    )
    at.run()
    assert_clean(at)
    assert any("broken.npz" in e.value for e in at.sidebar.error)
    assert at.session_state[DATASET_CHOICE] == "spec:digits"
    at.button(key="sb_dismiss_dataset_error").click().run()
    assert not at.sidebar.error


def test_a_good_checkpoint_upload_is_selected_at_once(digits):
    payload = DEFAULT_MODEL_PATH.read_bytes()
    at = start_app()
    at.file_uploader(key=W_MODEL_UPLOAD).set_value(("mine.safetensors", payload, "application/octet-stream"))
    at.run()
    assert_clean(at)
    assert at.session_state[MODELS][at.session_state[MODEL_CHOICE]].label == "Uploaded: mine.safetensors"
    assert at.sidebar.selectbox(key=W_MODEL).value == at.session_state[MODEL_CHOICE]


def test_a_dataset_of_another_shape_says_so_and_offers_training():
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buffer, images=rng.random((40, 16, 16)).astype(np.float32), labels=np.arange(40) % 4)
    at = start_app()
    at.file_uploader(key=W_DATASET_UPLOAD).set_value(
        ("blobs.npz", buffer.getvalue(), "application/octet-stream")
    )
    at.run()
    assert_clean(at)
    assert at.session_state[DATASETS][at.session_state[DATASET_CHOICE]].filename == "blobs.npz"
    assert any("expects 1×8×8" in w.value for w in at.sidebar.warning)
    goto(at, "latent_map")
    assert any("1×16×16" in w.value for w in at.warning)
    at.sidebar.button(key="sb_mismatch_train").click().run()
    assert_clean(at)
    assert at.title[0].value == "Train a VAE" and "blobs" in texts(at)


def test_an_offline_download_is_reported_and_the_dataset_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_EXPLORER_DATA", str(tmp_path))  # an empty cache: loading must try to download
    monkeypatch.setattr(
        "vae_core.data.builtin.download_torchvision", lambda source, root: OSError("network is unreachable")
    )
    at = start_app()
    at.sidebar.selectbox(key=W_DATASET).set_value("spec:fashion-mnist").run()
    assert_clean(at)
    assert any("Fashion-MNIST" in e.value and "network is unreachable" in e.value for e in at.sidebar.error)
    assert at.session_state[DATASET_CHOICE] == "spec:digits"
    assert at.sidebar.selectbox(key=W_DATASET).value == "spec:digits"


def test_only_the_oldest_uploads_are_forgotten_whatever_the_labels_say():
    """Uploads beyond KEEP_UPLOADS are dropped, oldest first; a trained model is never dropped, even one whose
    label reads like an upload (an entry's kind says where it came from, not its label)."""
    from explorer_ui.state import KEEP_UPLOADS, ModelEntry, content_key
    from vae_core.checkpoint import checkpoint_bytes
    from vae_core.config import VAEConfig
    from vae_core.models import build_vae

    model = build_vae(VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=2, hidden=(8,)))
    at = start_app()
    trained = checkpoint_bytes(model, summary={"n": -1})
    at.session_state[MODELS] = {
        **at.session_state[MODELS],
        content_key(trained): ModelEntry("Uploaded: looks like one", trained, "trained"),
    }
    uploads = [checkpoint_bytes(model, summary={"n": i}) for i in range(KEEP_UPLOADS + 2)]
    for i, payload in enumerate(uploads):
        at.file_uploader(key=W_MODEL_UPLOAD).set_value(
            (f"m{i}.safetensors", payload, "application/octet-stream")
        )
        at.run()
        assert_clean(at)
    models = at.session_state[MODELS]
    assert [e.kind for e in models.values()].count("uploaded") == KEEP_UPLOADS
    assert content_key(trained) in models and content_key(uploads[-1]) in models
    assert content_key(uploads[0]) not in models and "default" in models


def test_the_sidebar_shows_one_kl_bar_per_latent_dimension(shipped):
    """The model card's latent-health chart: a bar per dimension, its height the dimension's KL on the dataset."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    from vae_core.data import load_dataset
    from vae_core.health import latent_health
    from vae_core.latents import encode

    at = start_app()
    charts = at.sidebar.get("vega_lite_chart")
    assert len(charts) == 1
    assert json.loads(charts[0].proto.spec)["mark"]["type"] == "bar"
    bars = convert_arrow_bytes_to_pandas_df(charts[0].proto.data.data)
    expected = latent_health(*encode(shipped.model, load_dataset("digits").images)).kl_per_dim
    assert list(bars["dimension"]) == list(range(shipped.config.latent_dim))
    np.testing.assert_allclose(bars["KL (nats)"], expected, rtol=1e-4)
