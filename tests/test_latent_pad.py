"""The Latent sliders page through AppTest: the live pad's data, values sent by the browser, starts, the stock sliders.

The browser half (the component's JavaScript, the drag, the paint) is exercised by benchmarks/bench_browser.py
and tests/browser/test_sliders.py in Chromium; here the component's value is injected the way the frontend
sets it (session_state[key]["z"]).
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer_ui import latent_pad as pad
from explorer_ui import registry
from explorer_ui.state import DATASET_CHOICE, DATASETS, SLIDER_ORIGIN, DatasetEntry, dataset_key
from vae_core.sliders import SLIDER_LIMIT

PAGE = registry.page_file("latent_sliders")
LATENT_DIM = 8  # the shipped default model


@pytest.fixture
def at(repo_root) -> AppTest:
    """The sliders page, run once on the shipped model and the digits dataset."""
    app = AppTest.from_file(str(repo_root / PAGE), default_timeout=60).run()
    assert not app.exception, app.exception
    return app


def pad_data(app: AppTest) -> dict:
    """What the page sent to the live pad on its last run."""
    components = app.get("bidi_component")
    assert len(components) == 1
    return json.loads(components[0].proto.json)


def image_of(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def send_from_browser(
    app: AppTest, values: list[float], seq: int, generation: int | None = None, dragging: bool = False
) -> dict:
    """Set the pad's value as its JavaScript does, rerun, and return the new data."""
    gen = pad_data(app)["generation"] if generation is None else generation
    app.session_state[pad.PAD_KEY] = {
        "z": {"generation": gen, "seq": seq, "values": values, "dragging": dragging}
    }
    app.run()
    assert not app.exception, app.exception
    return pad_data(app)


def test_page_renders_the_pad_ordered_by_kl(at):
    data = pad_data(at)
    assert data["values"] == [0.0] * LATENT_DIM  # starts at the origin
    kl = np.array(data["kl"])
    assert sorted(data["order"]) == list(range(LATENT_DIM))
    assert np.all(np.diff(kl[data["order"]]) <= 0)  # most used dimension first
    assert (
        kl[data["order"][0]] > 0.5 > kl[data["order"][-1]]
    )  # the shipped model leaves some dimensions unused
    assert image_of(data["image"]).shape == (8, 8)
    assert all(image_of(s).shape == (10, 64) for s in data["strips"])  # one −3…+3 strip per dimension
    assert data["labels"][3] == "z₃" and data["limit"] == SLIDER_LIMIT
    assert not at.slider  # the stock sliders only appear in stock mode
    assert at.radio(key=pad.MODE).value == "live"
    assert any("dimensions carry" in c.value for c in at.caption)


def test_a_value_from_the_browser_is_decoded_and_its_seq_echoed(at):
    before = pad_data(at)
    top = before["order"][0]
    values = [0.0] * LATENT_DIM
    values[top] = 2.5
    first = send_from_browser(at, values, seq=40)
    assert (
        first["seq"] == 40 and first["strips_stale"] and first["strips"] == before["strips"]
    )  # the image first…
    after = send_from_browser(
        at, values, seq=41
    )  # …the pad asks again with the same values: the strips follow
    assert after["seq"] == 41 and not after["strips_stale"]
    assert after["image"] == first["image"]
    assert after["values"][top] == 2.5
    assert after["generation"] == before["generation"]  # the user's own drag: the pad keeps its values
    assert not np.array_equal(image_of(after["image"]), image_of(before["image"]))
    assert after["strips"][top] == before["strips"][top]  # that dimension's own strip does not depend on it
    other = before["order"][1]
    assert after["strips"][other] != before["strips"][other]  # the others' strips follow the new vector


def test_strips_wait_while_dragging_and_follow_on_release(at):
    before = pad_data(at)
    top, other = before["order"][0], before["order"][1]
    values = [0.0] * LATENT_DIM
    values[top] = -2.0
    dragged = send_from_browser(at, values, seq=5, dragging=True)
    assert dragged["image"] != before["image"]  # the image follows the drag…
    assert dragged["strips"] == before["strips"]  # …the strips wait, so each frame stays one decode
    released = send_from_browser(at, values, seq=6, dragging=False)
    assert released["image"] == dragged["image"] and released["seq"] == 6
    assert released["strips"][other] != before["strips"][other]


def test_values_are_clamped_and_stale_or_broken_messages_ignored(at):
    data = send_from_browser(at, [99.0] + [0.0] * (LATENT_DIM - 1), seq=3)
    assert data["values"][0] == SLIDER_LIMIT
    at.button(key="sliders_reset").click().run()  # Python sets the vector: a new generation
    reset = pad_data(at)
    assert reset["generation"] > data["generation"] and reset["values"] == [0.0] * LATENT_DIM
    stale = send_from_browser(at, [1.0] * LATENT_DIM, seq=4, generation=data["generation"])
    assert stale["values"] == [0.0] * LATENT_DIM and stale["seq"] == 4  # ignored, but acknowledged
    broken = send_from_browser(at, [float("nan")] * LATENT_DIM, seq=5)
    assert broken["values"] == [0.0] * LATENT_DIM and broken["seq"] == 5


def test_random_start_reset_and_origin(at):
    at.button(key="sliders_new_random").click().run()
    first = pad_data(at)
    assert at.radio(key=pad.START).value == "random"
    assert any(v != 0.0 for v in first["values"])
    at.button(key="sliders_new_random").click().run()
    second = pad_data(at)
    assert second["values"] != first["values"] and second["generation"] > first["generation"]
    send_from_browser(at, [0.5] * LATENT_DIM, seq=9)
    at.button(key="sliders_reset").click().run()
    assert pad_data(at)["values"] == second["values"]  # Reset goes back to the same random draw
    at.radio(key=pad.START).set_value("origin").run()
    assert pad_data(at)["values"] == [0.0] * LATENT_DIM


def test_a_point_chosen_on_the_map_becomes_the_start(at):
    point = [0.5, -1.0, 2.0, 0.0, 9.0, 0.0, 0.0, -0.25]
    at.session_state[SLIDER_ORIGIN] = point
    at.run()
    assert at.radio(key=pad.START).value == "point"
    assert pad_data(at)["values"] == [0.5, -1.0, 2.0, 0.0, SLIDER_LIMIT, 0.0, 0.0, -0.25]
    send_from_browser(at, [0.0] * LATENT_DIM, seq=2)
    at.button(key="sliders_reset").click().run()
    assert pad_data(at)["values"][0] == 0.5


def test_point_start_without_a_point_says_so_and_shows_the_origin(at):
    at.radio(key=pad.START).set_value("point").run()
    assert any("No point chosen" in c.value for c in at.caption)
    assert pad_data(at)["values"] == [0.0] * LATENT_DIM


def test_stock_slider_changes_the_image_and_the_vector_carries_over(at):
    at.radio(key=pad.MODE).set_value("stock").run()
    assert not at.exception
    assert not at.get("bidi_component")
    keys = [s.key for s in at.slider]
    assert sorted(keys) == sorted(pad.stock_key(d) for d in range(LATENT_DIM))
    top = int(keys[0].rsplit("_", 1)[1])
    main_image = lambda: at.get("image")[0].proto.imgs[0].url  # noqa: E731
    before = main_image()
    at.slider(key=pad.stock_key(top)).set_value(2.0).run()
    assert not at.exception
    assert main_image() != before
    at.radio(key=pad.MODE).set_value("live").run()
    assert pad_data(at)["values"][top] == 2.0  # the pad picks up where the stock slider left


def test_a_dataset_that_does_not_fit_still_gives_sliders_in_index_order(repo_root):
    buf = io.BytesIO()
    np.savez(buf, images=np.random.default_rng(0).integers(0, 255, (20, 16, 16), dtype=np.uint8))
    entry = DatasetEntry("sixteen", filename="sixteen.npz", payload=buf.getvalue())
    app = AppTest.from_file(str(repo_root / PAGE), default_timeout=60)
    app.session_state[DATASETS] = {dataset_key(entry): entry}
    app.session_state[DATASET_CHOICE] = dataset_key(entry)
    app.run()
    assert not app.exception, app.exception
    assert app.warning  # the shared mismatch notice
    data = pad_data(app)
    assert data["kl"] is None and data["order"] == list(range(LATENT_DIM))


def test_the_page_runs_inside_the_app_and_keeps_its_vector_across_page_switches(repo_root, app_router):
    app = AppTest.from_file(str(repo_root / "explorer_app.py"), default_timeout=60).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    values = [0.0] * LATENT_DIM
    values[pad_data(app)["order"][0]] = -1.5
    send_from_browser(app, values, seq=12)
    app.switch_page(registry.page_file("home")).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert pad_data(app)["values"] == values


def test_the_shipped_mlp_decoder_goes_to_the_browser_once_and_can_be_turned_off(at):
    first = pad_data(at)
    assert first["decoder_key"] and first["decoder"]["shape"] == [
        1,
        8,
        8,
    ]  # the shipped MLP decodes in the browser
    at.session_state[pad.PAD_KEY] = {"z": None, "decoder": first["decoder_key"]}  # the pad says it holds it
    at.run()
    again = pad_data(at)
    assert again["decoder_key"] == first["decoder_key"] and "decoder" not in again  # not sent twice
    at.toggle(key=pad.LOCAL_DECODE).set_value(False).run()
    off = pad_data(at)
    assert (
        off["decoder_key"] is None and "decoder" not in off
    )  # the pad goes back to asking Python each frame


def _app_with_model(repo_root, config):
    from explorer_ui.state import MODEL_CHOICE, MODELS, ModelEntry
    from vae_core.checkpoint import checkpoint_bytes
    from vae_core.models import build_vae

    model = build_vae(config).eval()
    app = AppTest.from_file(str(repo_root / PAGE), default_timeout=60)
    app.session_state[MODELS] = {"m": ModelEntry("m", payload=checkpoint_bytes(model, {}))}
    app.session_state[MODEL_CHOICE] = "m"
    app.run()
    assert not app.exception, app.exception
    return app


def test_a_convolutional_decoder_goes_to_the_browser_as_a_layer_list(repo_root):
    from vae_core.config import VAEConfig

    app = _app_with_model(repo_root, VAEConfig(input_shape=(1, 8, 8), arch="resconv", latent_dim=LATENT_DIM))
    data = pad_data(app)
    assert data["decoder_key"] and {"conv_transpose2d", "residual"} <= {
        layer["kind"] for layer in data["decoder"]["layers"]
    }
    assert data["axes"] == {"origin": None, "basis": None}  # one slider per coordinate
    assert app.toggle(key=pad.LOCAL_DECODE).value is True


def test_a_decoder_past_the_caps_stays_on_the_server(repo_root):
    from vae_core.config import VAEConfig

    app = _app_with_model(repo_root, VAEConfig(input_shape=(3, 64, 64), arch="conv", latent_dim=LATENT_DIM))
    data = pad_data(app)
    assert data["decoder_key"] is None and "decoder" not in data
    assert not app.toggle and any("too large" in c.value for c in app.caption)
    assert "decoded on the server" in data["caption"]


def test_a_browser_that_never_confirms_the_decoder_is_not_sent_it_every_frame(at):
    assert "decoder" in pad_data(at)  # first frame: sent
    sent = 1
    for seq in range(1, 6):  # a client that sends values but never reports holding the decoder
        sent += "decoder" in send_from_browser(at, [0.1 * seq] * LATENT_DIM, seq=seq)
    assert sent == pad.MAX_DECODER_SENDS


def _directions_pad_script():
    """Another view's pad: two sliders along (2·e₀, 2·e₁) from the point (0.5, …, 0.5), under its own key."""
    import numpy as np

    from explorer_ui import latent_pad as pad
    from explorer_ui.latent_pad_frontend.protocol import PadAxes
    from vae_core import DEFAULT_MODEL_PATH
    from vae_core.checkpoint import load_checkpoint

    model = load_checkpoint(DEFAULT_MODEL_PATH).model
    axes = PadAxes(8, origin=np.full(8, 0.5), basis=2 * np.eye(8)[:2])
    pad.render_pad(model, "shipped", [1, 0], None, key="directions_pad", axes=axes, labels=["PC₁", "PC₂"])


def test_a_pad_with_its_own_axes_decodes_origin_plus_weighted_basis():
    from vae_core import DEFAULT_MODEL_PATH
    from vae_core.checkpoint import load_checkpoint
    from vae_core.sliders import decode_vector

    model = load_checkpoint(DEFAULT_MODEL_PATH).model
    app = AppTest.from_function(_directions_pad_script, default_timeout=60).run()
    assert not app.exception, app.exception
    data = pad_data(app)
    assert data["values"] == [0.0, 0.0] and data["labels"] == ["PC₁", "PC₂"] and data["order"] == [1, 0]
    assert data["axes"]["origin"] == [0.5] * 8 and len(data["axes"]["basis"]) == 2
    assert np.array_equal(image_of(data["image"]), decode_vector(model, np.full(8, 0.5)))
    app.session_state["directions_pad"] = {
        "z": {"generation": data["generation"], "seq": 3, "values": [1.0, -0.5], "dragging": True}
    }
    app.run()
    moved = pad_data(app)
    expected = np.full(8, 0.5)
    expected[:2] += [2.0, -1.0]
    assert moved["seq"] == 3 and moved["values"] == [1.0, -0.5]
    assert np.array_equal(image_of(moved["image"]), decode_vector(model, expected))
    assert app.session_state["directions_pad_values"] == [1.0, -0.5]  # this pad keeps its own values…
    assert pad.VECTOR not in app.session_state  # …and leaves the sliders page's alone
