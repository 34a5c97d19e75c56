"""Hostile input through the app itself: nothing a user sends runs code, crashes the app, or loses the model
and dataset selected before.

Part 1 drives the sidebar's real file uploaders with AppTest (hostile checkpoints and datasets). Part 2 talks to
a real `streamlit run` server over its websocket (app_drivers/load_client.py) and sends what no browser would:
out-of-range widget values, malformed component and selection state, garbage frames; the session that sent
them keeps working and so does everyone else's.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from app_helpers import assert_clean, goto, image_urls, start_app
from dataset_fixtures import labelled_pngs, png_bytes, random_images, understate_sizes, zip_bytes
from explorer_ui.registry import PAGES
from explorer_ui.sidebar import W_DATASET_SPEC
from explorer_ui.state import DATASET_CHOICE, DATASETS, MODEL_CHOICE, MODELS, URL_WRITTEN
from vae_core.checkpoint import FORMAT, checkpoint_bytes
from vae_core.config import VAEConfig
from vae_core.models import build_vae

MODEL_UPLOAD, DATASET_UPLOAD = "sb_model_upload", "sb_dataset_upload"


class Tripwire:
    """Unpickling this creates a file: the marker must never appear."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


pytestmark = pytest.mark.usefixtures("app_router")


def upload(at, key: str, name: str, payload: bytes):
    """Put a file into a sidebar uploader and rerun, as a browser upload does."""
    at.file_uploader(key=key).set_value((name, payload, "application/octet-stream"))
    at.run()
    assert_clean(at)
    return at


def sidebar_errors(at) -> str:
    return "\n".join(e.value for e in at.sidebar.error)


# ---------------------------------------------------------------- checkpoints


def tiny_model(latent_dim: int = 3):
    """A small untrained VAE for 8×8 digits (a stand-in for a student's own checkpoint)."""
    torch.manual_seed(0)
    return build_vae(VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=latent_dim, hidden=(16,)))


def with_metadata(model, tensors=None, **changes) -> bytes:
    """safetensors bytes of the model's tensors with our metadata, some fields changed."""
    tensors = tensors if tensors is not None else {k: v.contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": model.config.to_json(), "summary": "{}", **changes}
    return st_save(tensors, metadata=metadata)


def hostile_checkpoints(marker: Path) -> dict[str, tuple[str, bytes, str]]:
    """case id → (file name, bytes, a phrase the error must contain)."""
    model = tiny_model()
    good = checkpoint_bytes(model)
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    first = next(iter(state))
    nan_state = {k: v.clone() for k, v in state.items()}
    nan_state[first].view(-1)[0] = float("nan")
    torch_zip = io.BytesIO()
    torch.save({"weights": state[first], "payload": Tripwire(marker)}, torch_zip)
    absurd = json.loads(model.config.to_json()) | {"latent_dim": 10**9}
    mismatch = json.loads(model.config.to_json()) | {"latent_dim": 5}
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    return {
        "pickle-named-safetensors": ("evil.safetensors", pickle.dumps(Tripwire(marker)), "never unpickles"),
        "pickle-named-pt": ("model.pt", pickle.dumps({"state_dict": Tripwire(marker)}), "never unpickles"),
        "torch-save-zip": ("model.pth", torch_zip.getvalue(), "torch.save"),
        "truncated": ("cut.safetensors", good[: len(good) // 2], "truncated"),
        "empty": ("empty.safetensors", b"", "too short"),
        "nan-weights": ("nan.safetensors", with_metadata(model, nan_state), "NaN"),
        "float64-weights": (
            "f64.safetensors",
            with_metadata(model, {k: v.double() for k, v in state.items()}),
            "dtype",
        ),
        "shape-mismatch": ("shape.safetensors", with_metadata(model, config=json.dumps(mismatch)), "shape"),
        "missing-tensor": (
            "missing.safetensors",
            with_metadata(model, {k: v for k, v in state.items() if k != first}),
            "missing",
        ),
        "absurd-config": ("absurd.safetensors", with_metadata(model, config=json.dumps(absurd)), "config"),
        "not-our-metadata": (
            "plain.safetensors",
            st_save(state, metadata={"framework": "pt"}),
            "not a Latent Explorer checkpoint",
        ),
        "oversized-header": ("header.safetensors", struct.pack("<Q", 2**40) + b"{" + bytes(64), "header"),
        "header-not-json": ("json.safetensors", struct.pack("<Q", 7) + b"{nope!}" + bytes(8), "JSON"),
        "header-points-outside": (
            "outside.safetensors",
            struct.pack("<Q", len(header)) + header + bytes(4),
            "outside the file",
        ),
    }


CHECKPOINT_CASES = list(hostile_checkpoints(Path("unused")))


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_a_hostile_checkpoint_upload_is_refused_and_the_previous_model_kept(tmp_path, case):
    """First a valid checkpoint of the user's own is uploaded and selected; then the hostile file: the error names
    the problem, nothing is unpickled (no marker file), the user's model stays selected and the pages work."""
    marker = tmp_path / "pwned.txt"
    name, payload, phrase = hostile_checkpoints(marker)[case]
    at = start_app(timeout=120)
    upload(at, MODEL_UPLOAD, "mine.safetensors", checkpoint_bytes(tiny_model()))
    mine = at.session_state[MODEL_CHOICE]
    assert at.session_state[MODELS][mine].label == "Uploaded: mine.safetensors"
    registered = list(at.session_state[MODELS])

    upload(at, MODEL_UPLOAD, name, payload)
    assert not marker.exists(), "the upload was unpickled"
    errors = sidebar_errors(at)
    assert name in errors and phrase in errors, errors
    assert "Still using *Uploaded: mine.safetensors*" in errors
    assert at.session_state[MODEL_CHOICE] == mine
    assert list(at.session_state[MODELS]) == registered
    goto(at, "sample")
    assert len(image_urls(at)) >= 1
    assert not marker.exists()


def test_the_checkpoint_size_cap_applies_to_uploads(monkeypatch):
    """vae_core refuses checkpoints over MAX_CHECKPOINT_BYTES before parsing them (Streamlit's own upload cap,
    server.maxUploadSize, stops larger files earlier; see test_deploy_config)."""
    import vae_core.checkpoint as checkpoint

    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 1_000)
    at = start_app(timeout=120)
    fresh = checkpoint_bytes(tiny_model(), summary={"note": "not seen by the cache before"})
    upload(at, MODEL_UPLOAD, "big.safetensors", fresh)
    assert "the limit is" in sidebar_errors(at)
    assert at.session_state[MODEL_CHOICE] == "default"


# ---------------------------------------------------------------- datasets


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def encrypted_flag(archive: bytes) -> bytes:
    patched = bytearray(archive)
    patched[patched.find(b"PK\x01\x02") + 8] |= 0x1
    return bytes(patched)


def hostile_datasets(marker: Path) -> dict[str, tuple[str, bytes, str]]:
    """case id → (file name, bytes, a phrase the error must contain)."""
    pngs = labelled_pngs({"a": 2, "b": 2})
    images = random_images(6, 12, 12)
    pickled = np.empty(1, dtype=object)
    pickled[0] = Tripwire(marker)
    huge_header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        huge_header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    nan_images = images.astype(np.float32) / 255
    nan_images[2, 3, 4] = np.nan
    inf_images = images.astype(np.float32) / 255
    inf_images[0, 0, 0] = np.inf
    return {
        "zip-bomb-declared": (
            "bomb.zip",
            understate_sizes(zip_bytes(pngs), declared=3_000_000_000),
            "zip bomb",
        ),
        "zip-bomb-lying-sizes": (
            "liar.zip",
            understate_sizes(zip_bytes(pngs | {"a/big.png": bytes(4_000_000)}), declared=1_000),
            "cannot be read",
        ),
        "path-traversal": (
            "escape.zip",
            zip_bytes(pngs | {"../../evil.png": png_bytes(images[0])}),
            "outside the archive",
        ),
        "absolute-path": (
            "abs.zip",
            zip_bytes(pngs | {"/tmp/evil.png": png_bytes(images[0])}),
            "outside the archive",
        ),
        "encrypted-member": ("locked.zip", encrypted_flag(zip_bytes(pngs)), "encrypted"),
        "only-non-images": (
            "docs.zip",
            zip_bytes({"a/readme.txt": b"hi", "b/data.csv": b"1,2"}),
            "no readable PNG or JPEG",
        ),
        "corrupt-zip": ("garbage.zip", b"PK\x03\x04" + bytes(200), "zip"),
        "truncated-zip": ("cut.zip", zip_bytes(pngs)[:300], "zip"),
        "corrupt-npz-header": (
            "lies.npz",
            zip_bytes({"images.npy": huge_header.getvalue() + bytes(64)}),
            "declares shape",
        ),
        "npz-not-a-zip": ("plain.npz", b"\x93NUMPY not really", "not a usable .npz"),
        "npz-pickled-objects": ("objects.npz", npz_bytes(images=pickled), "pickle"),
        "pickle-named-npz": ("sneaky.npz", pickle.dumps({"images": Tripwire(marker)}), "not a usable .npz"),
        "nan-pixels": ("nan.npz", npz_bytes(images=nan_images), "NaN or infinite"),
        "inf-pixels": ("inf.npz", npz_bytes(images=inf_images), "NaN or infinite"),
        "flat-vectors": ("flat.npz", npz_bytes(images=np.zeros((5, 144), np.uint8)), "dimensions"),
        "one-by-one-images": ("dots.npz", npz_bytes(images=np.zeros((4, 1, 1), np.uint8)), "at least 8"),
        "huge-images": ("tall.npz", npz_bytes(images=np.zeros((1, 8, 5000), np.uint8)), "limit per side"),
        "label-count-mismatch": ("labels.npz", npz_bytes(images=images, labels=np.arange(4)), "labels"),
        "empty-array": ("empty.npz", npz_bytes(images=np.zeros((0, 12, 12), np.uint8)), "empty"),
    }


DATASET_CASES = list(hostile_datasets(Path("unused")))


@pytest.mark.parametrize("case", DATASET_CASES)
def test_a_hostile_dataset_upload_is_refused_and_the_previous_dataset_kept(tmp_path, case):
    """First a valid dataset of the user's own is uploaded and selected; then the hostile file: a clear error,
    no file written outside, nothing unpickled, the user's dataset stays selected and the pages work."""
    marker = tmp_path / "pwned.txt"
    name, payload, phrase = hostile_datasets(marker)[case]
    at = start_app(timeout=120)
    mine = npz_bytes(images=random_images(30, 8, 8), labels=np.arange(30) % 3)
    upload(at, DATASET_UPLOAD, "mine.npz", mine)
    chosen = at.session_state[DATASET_CHOICE]
    assert at.session_state[DATASETS][chosen].filename == "mine.npz"
    registered = list(at.session_state[DATASETS])

    at.file_uploader(key=DATASET_UPLOAD).set_value((name, payload, "application/octet-stream"))
    at.run()
    assert_clean(at)
    assert not marker.exists(), "the upload was unpickled"
    assert not (tmp_path.parent / "evil.png").exists() and not Path("/tmp/evil.png").exists()
    errors = sidebar_errors(at)
    assert name in errors and phrase in errors, errors
    assert "Still using *mine.npz (uploaded, 30 images)*" in errors  # named as everywhere else
    assert at.session_state[DATASET_CHOICE] == chosen
    assert list(at.session_state[DATASETS]) == registered
    goto(at, "interpolate")  # a page that needs the (8×8) dataset: still the user's 30 images
    assert at.number_input(key="interp_w_end").proto.max == 29


def test_a_file_type_the_uploader_does_not_take_is_refused_before_the_app_sees_it(tmp_path):
    """A browser only offers .npz/.zip; a crafted client that sends data.pkl anyway gets Streamlit's own refusal
    (a redacted error in that session only, raised before any app code runs). Nothing is unpickled, and the
    session's next run goes on with the dataset it had."""
    marker = tmp_path / "pwned.txt"
    at = start_app(timeout=120)
    upload(at, DATASET_UPLOAD, "mine.npz", npz_bytes(images=random_images(30, 8, 8)))
    chosen = at.session_state[DATASET_CHOICE]
    at.file_uploader(key=DATASET_UPLOAD).set_value(
        ("data.pkl", pickle.dumps(Tripwire(marker)), "application/x-pickle")
    )
    at.run()
    assert at.exception and "redacted" in at.exception[0].value  # client.showErrorDetails hides the details
    assert not marker.exists()
    at.run()  # the next rerun no longer carries the refused file
    assert_clean(at)
    assert at.session_state[DATASET_CHOICE] == chosen


@pytest.mark.parametrize(
    ("name", "payload", "note"),
    [
        ("big.npz", npz_bytes(images=random_images(3, 100, 100)), "downscaled 100×100 → 64×64"),
        (
            "mixed.zip",
            zip_bytes(labelled_pngs({"a": 2, "b": 2}) | {"notes.txt": b"x", "a/.DS_Store": b"\0"}),
            "skipped 2 non-image files",
        ),
    ],
    ids=["large-images-downscaled", "non-images-skipped"],
)
def test_uploads_that_need_a_change_load_with_a_message(name, payload, note):
    at = upload(start_app(timeout=120), DATASET_UPLOAD, name, payload)
    assert at.session_state[DATASETS][at.session_state[DATASET_CHOICE]].filename == name
    assert any(note in c.value for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize(
    ("spec", "phrase"),
    [
        ("npz:/etc/passwd", "not a usable .npz"),
        ("idx:/nonexistent/mnist", "not found"),
        ("images:/definitely/not/here", "no folder"),
        ("pickle:/tmp/x.pkl", "unknown dataset spec"),
        pytest.param("npz:" + "A" * 5000, "cannot read", id="path-too-long"),
    ],
)
def test_a_bad_dataset_spec_typed_in_the_sidebar_is_refused(spec, phrase):
    at = start_app(timeout=120)
    at.text_input(key=W_DATASET_SPEC).set_value(spec)
    at.run()
    assert_clean(at)
    assert phrase in sidebar_errors(at)
    assert at.session_state[DATASET_CHOICE] == "spec:digits"


def test_a_server_data_folder_confines_the_spec_box(tmp_path, monkeypatch):
    """With LATENT_EXPLORER_SPEC_ROOT set, a path outside it is refused with a message (the digits stay
    selected), and a relative path inside it loads."""
    from dataset_fixtures import write_idx_split

    root = tmp_path / "datasets"
    write_idx_split(root / "mnist", "t10k", random_images(20), None, gz=False)
    write_idx_split(tmp_path / "private", "t10k", random_images(20), None, gz=False)
    monkeypatch.setenv("LATENT_EXPLORER_SPEC_ROOT", str(root))
    at = start_app(timeout=120)
    assert any(str(root) in c.value for c in at.sidebar.caption)
    at.text_input(key=W_DATASET_SPEC).set_value(f"idx:{tmp_path / 'private'}")
    at.run()
    assert_clean(at)
    assert "outside the data folder" in sidebar_errors(at)
    assert at.session_state[DATASET_CHOICE] == "spec:digits"
    at.text_input(key=W_DATASET_SPEC).set_value("idx:mnist")
    at.run()
    assert_clean(at)
    assert at.session_state[DATASET_CHOICE] == "spec:idx:mnist"


def test_corrupt_idx_files_named_in_the_sidebar_are_refused(tmp_path):
    """idx:DIR typed in the sidebar over a corrupt gzip, a wrong magic number and a lying header: each a clear
    error, the digits stay selected."""
    import gzip

    from dataset_fixtures import IMAGES_MAGIC, LABELS_MAGIC, idx_bytes

    images = random_images(20)
    cases = {
        "bad-gzip": (gzip.compress(idx_bytes(images, IMAGES_MAGIC))[:60], "corrupt"),
        "wrong-magic": (idx_bytes(images, LABELS_MAGIC), "magic"),
        "lying-header": (
            IMAGES_MAGIC.to_bytes(4, "big") + struct.pack(">III", 10**9, 28, 28) + bytes(64),
            "items",
        ),
    }
    at = start_app(timeout=120)
    for name, (payload, phrase) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "t10k-images-idx3-ubyte").write_bytes(payload)
        at.text_input(key=W_DATASET_SPEC).set_value(f"idx:{folder}")
        at.run()
        assert_clean(at)
        assert phrase in sidebar_errors(at).replace(str(folder), "<dir>"), sidebar_errors(at)
        assert at.session_state[DATASET_CHOICE] == "spec:digits"


# ---------------------------------------------------------------- part 2: a crafted client on the websocket

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from app_drivers.load_client import ClientError, StreamlitServer, StreamlitSession, simulate_user  # noqa: E402

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One `streamlit run explorer_app.py` for the crafted clients, warmed up by a normal visit."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with StreamlitServer(log_path=log) as running:
        warm = StreamlitSession(running.url).connect()
        assert warm.open_page("").ok
        warm.close()
        running.log = log
        yield running


@pytest.fixture()
def session(server):
    client = StreamlitSession(server.url, timeout_s=120).connect()
    yield client
    client.close()


def assert_everyone_else_is_fine(server) -> None:
    """A normal user, in a session of their own, goes through sliders, sample and interpolate without a hitch."""
    import time

    stats = simulate_user(server.url, time.monotonic() + 300, seed=7, think_s=(0.0, 0.0), cycles=1)
    assert not stats.errors, stats.errors[:3]
    assert stats.responses >= 6


def slider(value) -> dict:
    return {"double_array_value": list(value) if isinstance(value, (list, tuple)) else [value]}


HOSTILE_WIDGET_VALUES = [
    ("sample", "sample_count", slider(1e9)),
    ("sample", "sample_count", slider(-5)),
    ("sample", "sample_count", slider(NAN)),
    ("sample", "sample_count", slider([])),
    ("sample", "sample_count", slider([1, 64])),
    ("sample", "sample_count", {"string_value": "all of them"}),
    ("sample", "sample_temperature", slider(NAN)),
    ("sample", "sample_temperature", slider(INF)),
    ("sample", "sample_temperature", slider(-1)),
    ("sample", "sample_temperature", slider(99)),
    ("sample", "sample_seed", {"double_value": -1}),
    ("sample", "sample_seed", {"double_value": 2.0**80}),
    ("sample", "sample_seed", {"double_value": 1e300}),
    ("sample", "sample_seed", {"double_value": 0.5}),
    ("interpolate", "interp_steps", slider(1e6)),
    ("interpolate", "interp_steps", slider(NAN)),
    ("interpolate", "interp_w_start", {"double_value": 1e9}),
    ("interpolate", "interp_w_end", {"double_value": -1}),
    ("interpolate", "interp_w_start", {"double_value": 0.5}),
    ("interpolate", "interp_frame", slider(1e6)),
    ("interpolate", "interp_method", {"string_value": "cubic"}),
    ("interpolate", "interp_method", {"string_value": ""}),
    ("interpolate", "interp_source", {"string_array_value": ["../../etc"]}),
    ("interpolate", "interp_source", {"string_array_value": []}),
    ("latent_map", "map_grid_side", slider(NAN)),
    ("latent_map", "map_grid_side", slider(1e9)),
    ("anomalies", "anomaly_count", slider(1e9)),
    ("anomalies", "anomaly_score", {"string_value": "rm -rf"}),
    ("sample", "sb_model", {"string_value": "no-such-model"}),
    ("sample", "sb_dataset", {"string_value": "spec:images:/"}),
]


def widget_state(widget_id: str, fields: dict) -> WidgetState:
    state = WidgetState(id=widget_id)
    for name, value in fields.items():
        if name.endswith("_array_value"):
            getattr(state, name).data[:] = value
        else:
            setattr(state, name, value)
    return state


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "key", "fields"),
    HOSTILE_WIDGET_VALUES,
    ids=[f"{k}={json.dumps(f)[:40]}" for _, k, f in HOSTILE_WIDGET_VALUES],
)
def test_widget_values_no_browser_would_send_are_clamped_or_ignored(session, page, key, fields):
    """Streamlit checks slider/number bounds and option lists on the server; the pages then clamp what they
    read. Either way the page draws normally: no exception, pictures shown, the dataset unchanged."""
    assert session.open_page(page).ok
    session.set_raw(widget_state(session.widget(key).id, fields))
    result = session.rerun(session.widget(key).fragment_id)
    assert result.ok, result.exceptions
    assert result.elements > 5
    again = session.rerun()  # and the next run too
    assert again.ok, again.exceptions


def pad_state(generation: int, **z) -> dict:
    return {"z": {"generation": generation, "seq": 1, "values": [0.0] * 8, "dragging": False, **z}}


@pytest.mark.slow
@pytest.mark.parametrize(
    "raw",
    [
        lambda g: json.dumps(pad_state(g, values=[NAN] * 8)),
        lambda g: json.dumps(pad_state(g, values=[1e308] * 8)),
        lambda g: json.dumps(pad_state(g, values="eight")),
        lambda g: json.dumps(pad_state(g, values=list(range(100_000)))),
        lambda g: json.dumps(pad_state(g, values={"0": 1})),
        lambda g: json.dumps(pad_state(g, seq=-3, dragging="yes")),
        lambda g: json.dumps(pad_state(g + 1000)),
        lambda g: json.dumps({"z": "not a dict"}),
        lambda g: json.dumps([1, 2, 3]),
        lambda g: json.dumps(pad_state(g, seq=INF)),
    ],
    ids=[
        "nan",
        "huge",
        "string",
        "100k-values",
        "dict",
        "odd-seq",
        "stale-generation",
        "z-not-dict",
        "list",
        "seq-infinity",
    ],
)
def test_malformed_slider_pad_messages_are_ignored(session, raw):
    """What the latent pad's JS would never send: the fragment reruns, the image stays finite, no exception."""
    assert session.open_page("latent_sliders").ok
    pad, data = session.pad()
    session.set_raw(WidgetState(id=pad.id, json_value=raw(data["generation"])))
    result = session.rerun(pad.fragment_id)
    assert result.ok, result.exceptions
    _, echoed = session.pad()
    assert all(math.isfinite(v) and abs(v) <= echoed["limit"] for v in echoed["values"])
    assert session.drag_pad(0, 1.5, moves=2)[-1].ok  # and the pad still works


def map_selection(points: str) -> str:
    return '{"selection": {"points": ' + points + ', "point_indices": [], "box": [], "lasso": []}}'


@pytest.mark.slow
@pytest.mark.parametrize(
    "selection",
    [
        map_selection(
            '[{"customdata": -1}, {"customdata": 999999999}, {"customdata": "3"}, {"customdata": [4]}]'
        ),
        map_selection('[{"customdata": NaN}, {"customdata": null}, {"customdata": {"a": 1}}]'),
        map_selection('"everything"'),
        '{"selection": {"points": [], "point_indices": [1e300, -4, "x"], "box": [], "lasso": []}}',
        '{"no_selection": true}',
        map_selection('[{"customdata": Infinity}]'),
    ],
    ids=[
        "out-of-range",
        "nan-null-dict",
        "points-string",
        "junk-point-indices",
        "no-selection-key",
        "infinity",
    ],
)
def test_malformed_map_selections_are_ignored(session, selection):
    assert session.open_page("latent_map").ok
    chart = session.widget("latent_map")
    session.set_raw(WidgetState(id=chart.id, string_value=selection))
    result = session.rerun()
    assert result.ok, result.exceptions


@pytest.mark.slow
def test_garbage_frames_close_only_that_connection(server):
    """Bytes that are not a BackMsg, a text frame, an oversized frame: the server closes that socket and
    everyone else carries on."""
    import websocket as ws_client

    for send in (
        lambda ws: ws.send_binary(b"\xff\x00garbage" * 10),
        lambda ws: ws.send("hello"),
        lambda ws: ws.send_binary(b"\x12" + bytes(300 * 2**20)),
    ):
        crafted = StreamlitSession(server.url, timeout_s=30).connect()
        try:
            with pytest.raises((ClientError, ws_client.WebSocketException, OSError)):
                send(crafted.ws)
                crafted.open_page("sample")
        finally:
            crafted.close()
    assert_everyone_else_is_fine(server)


@pytest.mark.slow
def test_odd_but_valid_messages_do_not_break_the_session(session, server):
    """A junk query string, an unknown page, unknown widget ids, a stop request and a cache clear: the session
    keeps answering and other users are unaffected (the cache clear only costs a reload of the model)."""
    message = BackMsg()
    message.rerun_script.query_string = "sample_count=1e9&%3Cscript%3E=1&" + "x" * 10_000
    message.rerun_script.page_name = "sample"
    session.page = "sample"
    session.send(message)
    assert session._read_run(0.0, "").ok
    assert not session.open_page("../../etc/passwd").exceptions[1:]  # the default page, or a not-found notice
    session.set_raw(WidgetState(id="$$ID-deadbeef-nothing", double_value=1.0))
    session.set_raw(WidgetState(id="", trigger_value=True))
    assert session.open_page("interpolate").ok
    stop = BackMsg(stop_script=True)
    session.send(stop)
    assert session.open_page("sample").ok
    session.send(BackMsg(clear_cache=True))
    assert session.open_page("sample").ok
    assert_everyone_else_is_fine(server)


def app_frames(log: str) -> list[str]:
    """Traceback lines that point into the project's own code (not Streamlit's, not the standard library)."""
    return [
        line
        for line in log.splitlines()
        if 'File "' in line
        and "site-packages" not in line
        and any(part in line for part in ("/pages/", "/explorer_ui/", "/vae_core/", "explorer_app.py"))
    ]


STREAMLIT_REFUSES = [
    ("sample", "sample_seed", {"double_value": NAN}),  # int number_input: int(nan) before its bounds check
    ("sample", "sample_seed", {"double_value": INF}),  # int(inf): OverflowError
    ("sample", "sample_seed", {"double_value": -INF}),
    ("interpolate", "interp_w_start", {"double_value": NAN}),
    ("latent_sliders", "latent_pad", {"json_value": "{not json"}),  # json.loads in Streamlit's widget state
    ("latent_sliders", "latent_pad", {"json_value": ""}),
    ("latent_map", "latent_map", {"string_value": "{not json"}),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "key", "fields"),
    STREAMLIT_REFUSES,
    ids=[f"{k}={json.dumps(f)[:30]}" for _, k, f in STREAMLIT_REFUSES],
)
def test_values_streamlit_cannot_parse_break_only_the_senders_session(server, page, key, fields):
    """Streamlit itself raises while unpacking these (before any app code runs): the sender sees a redacted
    error (client.showErrorDetails), everyone else is unaffected, and a reconnect gives a working session.
    No project code appears in the server's traceback."""
    before = len(server.log.read_text(errors="replace"))
    crafted = StreamlitSession(server.url).connect()
    try:
        assert crafted.open_page(page).ok
        widget = crafted.components.get(key) if key == "latent_pad" else crafted.widget(key)
        crafted.set_raw(widget_state(widget.id, fields))
        result = crafted.rerun(widget.fragment_id)
        assert result.exceptions and all("redacted" in e for e in result.exceptions)
    finally:
        crafted.close()
    added = server.log.read_text(errors="replace")[before:]
    assert "Uncaught app execution" in added
    assert not app_frames(added), "\n".join(app_frames(added))
    assert_everyone_else_is_fine(server)
    again = StreamlitSession(server.url).connect()
    try:
        assert again.open_page(page).ok
    finally:
        again.close()


@pytest.mark.slow
def test_a_deep_link_as_the_first_request_on_a_fresh_server_gets_the_router(tmp_path):
    """The first visitor after a restart opens /sample directly: the page comes with the sidebar."""
    with StreamlitServer(log_path=tmp_path / "server.log") as fresh:
        first = StreamlitSession(fresh.url).connect()
        try:
            result = first.open_page("sample")
            assert result.ok and result.sidebar_elements > 0
            assert first.has("sb_model") and first.has("sample_count")
        finally:
            first.close()


# ---------------------------------------------------------------- deployment defaults (.streamlit/config.toml)


def deploy_config() -> dict:
    import tomllib

    return tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())


def test_deploy_config_has_safe_defaults():
    from vae_core.checkpoint import MAX_CHECKPOINT_BYTES
    from vae_core.data import DEFAULT_LIMITS

    config = deploy_config()
    server, client = config["server"], config["client"]
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert server["fileWatcherType"] == "none" and server["runOnSave"] is False and server["headless"] is True
    assert client["showErrorDetails"] in ("type", "none")  # no tracebacks with server paths for students
    assert client["toolbarMode"] == "viewer"  # no "Clear cache" / "Rerun" developer menu
    assert config["browser"]["gatherUsageStats"] is False
    assert server.get("enableStaticServing", False) is False and server.get("enableAgentApi", False) is False
    upload_cap = server["maxUploadSize"] * 2**20
    assert upload_cap <= min(
        MAX_CHECKPOINT_BYTES, DEFAULT_LIMITS.max_upload_bytes
    )  # Streamlit stops it first


@pytest.mark.slow
def test_the_server_enforces_xsrf_and_the_upload_cap(server, session):
    """The running server applies the config: an upload without the XSRF token is refused (403), one over
    server.maxUploadSize is refused from its Content-Length before any byte is read (413)."""
    import http.client

    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    assert session.open_page("sample").ok
    token = generate_xsrf_token_string(None, None)  # double-submit: the same value as cookie and header
    path = f"/_stcore/upload_file/{session.session_id}/probe-file"

    def put(headers: dict, body: bytes = b"x") -> int:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.putrequest("PUT", path)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            if body:
                conn.send(body)
            return conn.getresponse().status
        finally:
            conn.close()

    assert put({"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "1"}) == 403
    too_big = (deploy_config()["server"]["maxUploadSize"] + 1) * 2**20
    assert (
        put(
            {
                "Content-Type": "multipart/form-data; boundary=x",
                "Content-Length": str(too_big),
                "X-Xsrftoken": token,
                "Cookie": f"_streamlit_xsrf={token}",
            },
            body=b"",
        )
        == 413
    )


GC_PROBE = """\
import gc
import os
import sys

_collect = gc.collect


def _logged_collect(*args, **kwargs):
    caller = sys._getframe(1).f_code.co_name
    with open(os.environ["GC_PROBE_LOG"], "a") as log:
        log.write(caller + "\\n")
    return _collect(*args, **kwargs)


gc.collect = _logged_collect
"""


def post_run_collections(tmp_path: Path, extra_args: tuple[str, ...] = ()) -> int:
    """Full collections Streamlit's script runner starts after runs, counted in a server started from the repo."""
    probe_dir, log = tmp_path / f"probe{len(extra_args)}", tmp_path / f"gc{len(extra_args)}.log"
    probe_dir.mkdir()
    (probe_dir / "sitecustomize.py").write_text(GC_PROBE)
    log.write_text("")
    path = os.pathsep.join(p for p in (str(probe_dir), os.environ.get("PYTHONPATH", "")) if p)
    with StreamlitServer(
        extra_args=extra_args, env={"PYTHONPATH": path, "GC_PROBE_LOG": str(log)}
    ) as running:
        client = StreamlitSession(running.url, timeout_s=120).connect()
        try:
            for page in ("", "sample", "latent_sliders"):
                assert client.open_page(page).ok
        finally:
            client.close()
    return log.read_text().split().count("_on_script_finished")


@pytest.mark.slow
def test_the_running_server_skips_the_full_gc_after_each_run(tmp_path):
    """runner.postScriptGC = false reaches the server started from the repo: no gc.collect(2) after a run (it
    took 57 % of a slider drag's server time in a session that had trained a model). The control run with
    Streamlit's default shows the probe sees those collections."""
    assert deploy_config()["runner"]["postScriptGC"] is False
    assert post_run_collections(tmp_path) == 0
    assert post_run_collections(tmp_path, ("--runner.postScriptGC", "true")) >= 3


# ---------------------------------------------------------------- hostile links, on every registered page

# Every query parameter any page reads, each given something no honest link carries.
HOSTILE_QUERIES = {
    # A million indices: Streamlit drops a query string over 524,288 characters before any page sees it.
    "million": {"selection": ",".join(["7"] * 10**6), "z": ",".join(["1"] * 10**6)},
    "junk": {
        "step": "NaN",
        "steps": "-3",
        "count": "1e400",
        "temperature": "inf",
        "seed": "-1",
        "start": "10000000",
        "end": "-5",
        "selection": "1,2,NaN,-4,999999999,3.5",
        "clouds": "a,b,c",
        "z": "NaN,inf,-inf,1e309",
        "alpha": "nan",
        "a": "-1",
        "b": "99",
        "index": "1e9",
        "grid": "0",
        "latent": "1000",
        "beta": "-1",
        "epochs": "0",
        "budget": "-10",
        "projection": "<script>",
        "path": "teleport",
        "source": "../",
        "score": "__class__",
        "mode": "eval",
        "arch": "os.system",
        "likelihood": "none",
        "typical": "maybe",
        "present": "2",
        "model": "../../../etc/passwd",
        "dataset": "npz:../../../../etc/passwd",
    },
}


# Under Streamlit's cap, over ours (url_state.MAX_PARAM_CHARS): every parameter refused unread, with a message.
HOSTILE_QUERIES["huge"] = {name: ",".join(["7"] * 1_500) for name in HOSTILE_QUERIES["junk"]}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(HOSTILE_QUERIES))
@pytest.mark.parametrize("name", [spec.name for spec in PAGES])
def test_a_hostile_link_gives_messages_not_a_crash_on_every_page(name, case):
    """A link with a million indices, NaN, negative steps, unknown names and `../` specs: every page opens,
    explains what it adjusted, and keeps the shipped model and the digits."""
    from streamlit.testing.v1 import AppTest

    from app_helpers import APP, page_path

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page(page_path(name))
    at.query_params.update(HOSTILE_QUERIES[case])
    at.run()
    assert_clean(at)
    assert at.session_state[MODEL_CHOICE] == "default" and at.session_state[DATASET_CHOICE] == "spec:digits"
    messages = [w.value for w in at.warning] + [w.value for w in at.sidebar.warning]
    messages += [c.value for c in at.sidebar.caption] + [e.value for e in at.sidebar.error]
    explained = any("link" in m.lower() or "Could not load" in m for m in messages)
    assert explained or case == "million", messages
    written = {name: text for (_, name), text in at.session_state[URL_WRITTEN].items() if text is not None}
    assert all(len(text) <= 2_000 for text in written.values()), "a hostile value was written back"
    for name, text in written.items():  # what the page owns, the address now says as it is on screen
        assert at.query_params[name] == text
