"""AppTest, a first-time user with real-sized data: a bare folder typed in the dataset box is answered with the
spec it needs (one click loads it), errors stay short with the spec list one click away, datasets and checkpoints
carry readable names, and a shape mismatch opens Train on defaults that fit the data."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app_helpers import assert_clean, download_url, start_app, texts
from dataset_fixtures import random_images, write_idx_split
from explorer_ui.names import checkpoint_file_name
from explorer_ui.sidebar import W_DATASET, W_DATASET_SPEC
from explorer_ui.state import DATASET_CHOICE, TRAIN_JOB
from vae_core import DEFAULT_MODEL_PATH
from vae_core.config import VAEConfig

pytestmark = pytest.mark.usefixtures("app_router")


@pytest.fixture()
def mnist_folder(tmp_path):
    """A folder named 'mnist' holding 60 small 28×28 IDX images with labels (the t10k split only)."""
    folder = tmp_path / "data" / "mnist"
    write_idx_split(folder, "t10k", random_images(60, 28, 28), np.arange(60) % 10, gz=True)
    return folder


def type_spec(at, text: str):
    at.text_input(key=W_DATASET_SPEC).set_value(text)
    at.run()
    assert_clean(at)
    return at


def test_a_bare_idx_folder_is_answered_with_idx_and_one_click_loads_it(mnist_folder):
    at = type_spec(start_app(), str(mnist_folder))
    assert not at.sidebar.error  # not a refusal: a suggestion
    assert any(f"Did you mean `idx:{mnist_folder}`" in i.value for i in at.sidebar.info)
    assert at.session_state[DATASET_CHOICE] == "spec:digits"  # nothing changed yet
    assert at.sidebar.selectbox(key=W_DATASET).value == "spec:digits"

    at.sidebar.button(key="sb_use_suggestion").click().run()
    assert_clean(at)
    assert at.session_state[DATASET_CHOICE] == f"spec:idx:{mnist_folder}"
    assert at.text_input(key=W_DATASET_SPEC).value == f"idx:{mnist_folder}"  # the box shows what it needed
    assert not at.sidebar.info or not any("Did you mean" in i.value for i in at.sidebar.info)
    # named by its folder and size everywhere, never by the raw path
    name = "mnist (IDX files, 60 images)"
    assert at.sidebar.selectbox(key=W_DATASET).options[-1] == name
    assert any(c.value.startswith(name) for c in at.sidebar.caption)
    assert any(name in s.value for s in at.sidebar.success)
    assert any(name in w.value for w in at.sidebar.warning)  # the shipped digits model does not fit it
    assert str(mnist_folder) not in at.sidebar.selectbox(key=W_DATASET).options[-1]


def test_an_unknown_spec_gets_a_short_error_and_the_spec_list_is_a_list(tmp_path):
    at = type_spec(start_app(), str(tmp_path / "no-such-folder"))
    (error,) = [e.value for e in at.sidebar.error]
    assert "idx:, npz: or images:" in error and "Valid dataset specs" in error
    assert "fashion-mnist" not in error and len(error) < 400  # the list is not pasted into the error
    assert at.session_state[DATASET_CHOICE] == "spec:digits"
    (spec_list,) = [m.value for m in at.sidebar.markdown if "`idx:DIR`" in m.value]
    items = spec_list.splitlines()
    assert all(item.startswith("- `") for item in items) and len(items) >= 8  # one item per spec


def architecture_caption(at) -> str:
    """The note under the Train page's Architecture choice (the one caption that describes a network)."""
    (note,) = [c.value for c in at.caption if c.value.startswith(("MLP widths", "Stride-2 convolutions"))]
    return note


def test_a_shape_mismatch_opens_train_on_the_default_conv(mnist_folder):
    at = type_spec(start_app(), f"idx:{mnist_folder}")
    at.sidebar.button(key="sb_mismatch_train").click().run()
    assert_clean(at)
    assert at.title[0].value == "Train a VAE"
    assert at.selectbox(key="train_arch").value == "conv"
    assert at.slider(key="train_latent").value == 16
    assert at.number_input(key="train_budget").value >= 120  # a 60 s conv run stops far from its best
    note = architecture_caption(at)
    assert "256-wide hidden layer" in note and "MLP" not in note and "8×8" not in note
    assert "mnist (IDX files, 60 images)" in texts(at)

    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    job = at.session_state[TRAIN_JOB]
    try:
        assert job.config == VAEConfig()  # exactly the library's default conv for 1×28×28
    finally:
        job.stop()
        job.join(timeout=120)


def test_the_train_caption_follows_the_architecture_picked(mnist_folder):
    at = type_spec(start_app(), f"idx:{mnist_folder}")
    at.sidebar.button(key="sb_mismatch_train").click().run()
    at.selectbox(key="train_arch").set_value("mlp").run()
    assert_clean(at)
    note = architecture_caption(at)
    assert note.startswith("MLP widths") and "28×28" in note
    at.selectbox(key="train_arch").set_value("resconv").run()
    note = architecture_caption(at)
    assert "residual blocks" in note and "MLP" not in note


def test_the_sidebar_download_names_the_checkpoint_as_the_train_page_does(media):
    from vae_core.checkpoint import load_checkpoint

    at = start_app()
    shipped = load_checkpoint(DEFAULT_MODEL_PATH)
    name = media.name_for_url(download_url(at, "sb_download_model"))
    assert name == checkpoint_file_name(shipped.config, shipped.summary) == "vae_mlp_z8_digits.safetensors"


def test_the_manifold_grid_is_decoded_under_a_progress_bar(progress_log):
    """Every slow step runs under state.with_progress; the manifold grid reports its rows with time left."""
    from app_helpers import goto

    at = goto(start_app(), "latent_map")
    at.slider(key="map_grid_side").set_value(6).run()
    assert_clean(at)
    grids = [messages for label, messages in progress_log if label == "Decoding the 6×6 grid…"]
    assert grids, [label for label, _ in progress_log]
    assert grids[-1][0].startswith("Decoding 6 / 36 pictures · ~")
    assert grids[-1][-1] == "Decoding 36 / 36 pictures"


@pytest.fixture()
def progress_log(monkeypatch):
    """Every state.with_progress call of the runs: (label, [messages reported]) in order."""
    from explorer_ui import state

    seen: list[tuple[str, list[str]]] = []
    original = state.with_progress

    def recording(label, compute):
        messages: list[str] = []
        seen.append((label, messages))
        return original(label, lambda report: compute(lambda f, m: (messages.append(m), report(f, m))))

    monkeypatch.setattr(state, "with_progress", recording)
    return seen


def test_encoding_and_anomaly_scoring_show_progress_with_time_left(tmp_path, progress_log, monkeypatch):
    """A dataset no session has encoded yet: the Anomalies page encodes it, then scores it, each under a bar."""
    from app_helpers import goto
    from vae_core import scoring

    slow_batches(monkeypatch, scoring, 0.4)
    write_idx_split(tmp_path / "fresh", "t10k", random_images(700, 8, 8), np.arange(700) % 10, gz=False)
    at = type_spec(start_app(), f"idx:{tmp_path / 'fresh'}")
    goto(at, "anomalies")
    by_label = dict(progress_log)
    assert by_label["Encoding the dataset…"][-1] == "Encoding 700 / 700 images"
    assert by_label["Encoding the dataset…"][0].endswith("s left")  # an estimate from the speed so far
    scoring_messages = by_label["Scoring every image…"]
    assert any(
        m.startswith("Scoring 256 / 700 images · ~") and m.endswith("s left") for m in scoring_messages
    )


def slow_batches(monkeypatch, scoring, seconds: float) -> None:
    """Make every scored batch take `seconds` longer, as a big dataset's batches would."""
    original = scoring.score_batch

    def slow(*args):
        time.sleep(seconds)
        return original(*args)

    monkeypatch.setattr(scoring, "score_batch", slow)


def shown_indices(at) -> list[int]:
    return [int(c.split(" ")[0].lstrip("#")) for element in at.get("image") for c in element.captions]


def test_a_slow_scoring_shows_a_fair_preview_then_the_full_ranking(tmp_path, monkeypatch):
    """Scoring that takes more than a second: the page ranks the random sample scored so far, says it is a
    preview with a progress bar, and shows the ranking of every image once the background job is done."""
    from app_helpers import goto
    from vae_core import scoring
    from vae_core.checkpoint import load_checkpoint
    from vae_core.data import load_dataset
    from vae_core.explore import rank_worst
    from vae_core.latents import image_scores

    slow_batches(monkeypatch, scoring, 0.7)
    write_idx_split(tmp_path / "fresh", "t10k", random_images(700, 8, 8), np.arange(700) % 10, gz=False)
    at = type_spec(start_app(), f"idx:{tmp_path / 'fresh'}")
    goto(at, "anomalies")
    assert_clean(at)
    preview = [c.value for c in at.caption if "Preview" in c.value]
    assert preview and "256 of 700 images scored so far" in preview[0]
    assert at.get("progress") and "Scoring 256 / 700 images" in at.get("progress")[0].proto.text
    shown = shown_indices(at)
    assert len(shown) == 16 and set(shown) <= set(scoring.scoring_order(700)[:256].tolist())

    for _ in range(60):  # the background job goes on without the page
        time.sleep(0.25)
        at.run()
        if not any("Preview" in c.value for c in at.caption):
            break
    assert_clean(at)
    assert not at.get("progress")
    model = load_checkpoint(DEFAULT_MODEL_PATH).model
    data = load_dataset(f"idx:{tmp_path / 'fresh'}")
    expected = rank_worst(image_scores(model, data.images)["neg_elbo"], 16)
    assert shown_indices(at) == list(expected)


@pytest.fixture()
def stored_tsne_of_digits():
    """Made-up t-SNE coordinates for the shipped model on digits, as if a session had computed them (removed
    after the test, so other tests still see no t-SNE)."""
    from explorer_ui.state import DEFAULT_MODEL_KEY, TSNE_SEED, projection_store

    key = (DEFAULT_MODEL_KEY, "spec:digits", "tsne", TSNE_SEED)
    coords = np.random.default_rng(1).normal(size=(1797, 2)).astype(np.float32) * 40 + 100
    store = projection_store()
    store.put(key, coords)
    yield coords
    with store._lock:
        store._items.pop(key, None)


def test_the_interpolation_path_is_drawn_on_the_t_sne_the_map_shows(stored_tsne_of_digits):
    import json

    from app_helpers import goto
    from explorer_ui.state import INTERP_END, INTERP_START

    at = start_app()
    at.session_state["map_method"] = "tsne"  # the user looks at t-SNE on the map
    at.session_state[INTERP_START], at.session_state[INTERP_END] = 5, 900
    goto(at, "interpolate")
    assert at.get("button_group")[-1].value == "tsne"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "t-SNE 1"
    ends = next(t for t in spec["data"] if t.get("name") == "ends")
    placed = np.stack([_plotted(ends["x"]), _plotted(ends["y"])], axis=1)
    # the path starts and ends on the endpoints' own t-SNE dots (not on their PCA positions)
    assert np.allclose(placed, stored_tsne_of_digits[[5, 900]], atol=0.01)


def _plotted(values) -> np.ndarray:
    """A trace's x or y as sent to the browser: a list, or a typed array ({'dtype', 'bdata': base64})."""
    import base64

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(np.float64)
    return np.asarray(values, dtype=np.float64)


def test_a_page_opened_before_any_image_is_scored_shows_progress_not_an_error(tmp_path, monkeypatch):
    from app_helpers import goto
    from vae_core import scoring

    slow_batches(monkeypatch, scoring, 1.6)  # the first batch takes longer than the page waits
    write_idx_split(tmp_path / "fresh", "t10k", random_images(300, 8, 8), np.arange(300) % 10, gz=False)
    at = type_spec(start_app(), f"idx:{tmp_path / 'fresh'}")
    goto(at, "anomalies")
    assert_clean(at)
    assert "Scoring 0 / 300 images" in at.get("progress")[0].proto.text
    assert any("being scored" in c.value for c in at.caption) and not at.get("image")
