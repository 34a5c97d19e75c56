"""The latent pad: a custom component (st.components.v2) with one slider per latent direction that reports
values WHILE they move, and the page state behind the sliders (the current values, their generation, the start).

Values flow in a loop that stays inside one st.fragment:
  browser: slider `input` → throttled, one message in flight → component state "z" = {generation, seq, values,
           dragging}
  Python:  fragment rerun → values_from_pad_state → decode → PNG data URL → component data {image, seq, strips…}
  browser: paints the data URL into its own <img> (no media request), acknowledges `seq`, sends the next value.
When the decoder fits the browser caps (every architecture vae_core builds, at the sizes the app trains), its
layer list goes to the browser once per model and tab, and the pad decodes there on every `input` event, with no
server round trip while dragging; it sends only the released value, and Python answers with the same image and
the strips. What crosses the wire is defined in latent_pad_frontend/protocol.py; the frontend (plain HTML, CSS
and an ES module, no build step) lives beside it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import streamlit as st

from explorer_ui.latent_pad_frontend.protocol import (
    PadAxes,
    coordinate_axes,
    decoder_spec,
    pad_data,
    png_data_url,
    values_from_pad_state,
)
from vae_core.images import fit_scale, image_grid, upscale
from vae_core.latent_input import latent_fits
from vae_core.models import VAE
from vae_core.sliders import (
    MAX_STRIP_DIMS,
    SLIDER_LIMIT,
    SLIDER_STEP,
    STRIP_VALUES,
    decode_vector,
    kl_per_dim_from_latents,
    order_by_kl,
    starting_vector,
    strip_image,
    traversal_strips,
)

FRONTEND_DIR = Path(__file__).resolve().parent / "latent_pad_frontend"
COMPONENT_NAME = "latent_pad"
PAD_KEY = "latent_pad"
THROTTLE_MS = 35  # at most ~28 messages a second while dragging; the release is sent at once
IMAGE_PX = 224  # shown size of the decoded image (the browser enlarges it pixelated)
STRIP_PX = 36  # shown height of one traversal strip

# session_state keys of the sliders page
VECTOR = "sliders_vector"  # list[float]: the latent vector now shown
GENERATION = "sliders_generation"  # int: bumped whenever Python (not the user's drag) sets the vector
START = "sliders_start"  # "origin" | "point" | "random": what Reset goes back to
SEED = "sliders_seed"  # int: seed of the random start
MODEL_SEEN = "sliders_model_key"  # model key the vector belongs to
ORIGIN_SEEN = (
    "sliders_origin_seen"  # the SLIDER_ORIGIN value last adopted (a new one from the map switches the start)
)
MODE = "slider_mode"  # "live" (this component) | "stock" (st.slider + st.image, for the latency comparison)
STRIP_CACHE = "sliders_strip_cache"  # ((model key, vector bytes), strip data URLs): kept while dragging
STOCK_GENERATION = "sliders_stock_generation"  # generation the stock sliders were seeded from
LOCAL_DECODE = (
    "slider_local_decode"  # bool: let the browser decode while dragging when the decoder fits its caps
)
DECODER_SENT = "sliders_decoder_sent"  # (model key, times its decoder went to this session's browser)
MAX_DECODER_SENDS = (
    2  # a browser that never confirms (a broken tab, a script client) is not sent megabytes every frame
)

MODES = {"live": "Live (custom component)", "stock": "Stock st.slider"}
START_LABELS = {"origin": "Origin (z = 0)", "point": "Chosen point's μ", "random": "Random z ~ N(0, I)"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _read(name: str) -> str:
    return (FRONTEND_DIR / name).read_text(encoding="utf-8")


_pad_component = st.components.v2.component(
    COMPONENT_NAME, html=_read("pad.html"), css=_read("pad.css"), js=_read("pad.js"), isolate_styles=True
)


def stock_key(dim: int) -> str:
    """Widget key of the stock st.slider for dimension `dim`."""
    return f"stock_dim_{dim}"


def dim_label(dim: int) -> str:
    """Display name of a latent dimension: z₀, z₁, …"""
    return "z" + str(dim).translate(_SUBSCRIPTS)


# ---------------------------------------------------------------- cached per model and dataset
@st.cache_resource(max_entries=16, show_spinner=False)
def _kl_per_dim(
    model_key: str, dataset_key: str, _latent_means: np.ndarray, _latent_logvars: np.ndarray
) -> np.ndarray:
    """KL per dimension of the encoded dataset (read-only, shared by all sessions)."""
    kl = kl_per_dim_from_latents(_latent_means, _latent_logvars)
    kl.setflags(write=False)
    return kl


def kl_and_order(
    model_key: str, dataset_key: str, latent_means: np.ndarray, latent_logvars: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(KL per dim, dims by KL descending), cached per (model, dataset)."""
    kl = _kl_per_dim(model_key, dataset_key, latent_means, latent_logvars)
    return kl, order_by_kl(kl)


# ---------------------------------------------------------------- the vector and where it starts
def state_keys(key: str = PAD_KEY) -> tuple[str, str]:
    """(values key, generation key) in session_state of the pad with this component key.

    Another view's pad (principal-direction sliders, say) keeps its own values under its own key.
    """
    return (VECTOR, GENERATION) if key == PAD_KEY else (f"{key}_values", f"{key}_generation")


def set_vector(vector: Sequence[float] | np.ndarray, key: str = PAD_KEY) -> None:
    """Python sets the slider values (reset, new start, new model): the pad and stock sliders adopt them."""
    ss = st.session_state
    values_key, generation_key = state_keys(key)
    ss[values_key] = [float(v) for v in np.asarray(vector).reshape(-1)]
    ss[generation_key] = int(ss.get(generation_key, 0)) + 1


def apply_start(latent_dim: int, origin_point: Sequence[float] | None) -> None:
    """Set the vector to the chosen start (falls back to the origin when the chosen point does not fit)."""
    ss = st.session_state
    start = ss.get(START, "origin")
    if start == "point" and not latent_fits(origin_point, latent_dim):
        start = "origin"
    set_vector(starting_vector(start, latent_dim, point=origin_point, seed=int(ss.get(SEED, 0))))


def new_random(latent_dim: int) -> None:
    """Draw a fresh random start (button callback)."""
    ss = st.session_state
    ss[SEED] = int(ss.get(SEED, 0)) + 1
    ss[START] = "random"
    set_vector(starting_vector("random", latent_dim, seed=ss[SEED]))


def ensure_vector(latent_dim: int, model_key: str, origin_point: Sequence[float] | None) -> None:
    """Before rendering: a vector that fits the model; a new point from the map switches the start to it."""
    ss = st.session_state
    ss.setdefault(START, "origin")
    ss.setdefault(SEED, 0)
    ss.setdefault(MODE, "live")
    ss.setdefault(GENERATION, 0)
    ss.setdefault(LOCAL_DECODE, True)
    origin_list = None if origin_point is None else list(np.asarray(origin_point, dtype=float).reshape(-1))
    if (
        origin_list is not None
        and origin_list != ss.get(ORIGIN_SEEN)
        and latent_fits(origin_list, latent_dim)
    ):
        ss[ORIGIN_SEEN] = origin_list
        ss[START] = "point"
        ss[MODEL_SEEN] = model_key
        apply_start(latent_dim, origin_list)
        return
    vector = ss.get(VECTOR)
    if ss.get(MODEL_SEEN) != model_key or vector is None or len(vector) != latent_dim:
        ss[MODEL_SEEN] = model_key
        apply_start(latent_dim, origin_list)


def current_vector(key: str = PAD_KEY) -> np.ndarray:
    """The slider values now shown, float64 (K,)."""
    return np.asarray(st.session_state[state_keys(key)[0]], dtype=np.float64)


# ---------------------------------------------------------------- what one frame sends to the browser
def strip_urls(
    model: VAE, model_key: str, z: np.ndarray, order: Sequence[int], wait: bool
) -> tuple[list[str | None], bool]:
    """(traversal strip data URLs in index order, None past MAX_STRIP_DIMS; whether they are z's own).

    With `wait` (a slider is being dragged, or was just released to a new value) the strips kept from the last
    frame come back as they are, so each such frame is one decode whatever the model: the image goes out at once
    and the strips follow on the pad's next message (it asks when a frame says its strips are stale).
    """
    ss = st.session_state
    cache_key = (model_key, np.asarray(z, dtype=np.float32).tobytes())
    cached = ss.get(STRIP_CACHE)  # (cache key, urls)
    if (
        cached is not None
        and cached[0][0] == model_key
        and len(cached[1]) == len(z)
        and (cached[0] == cache_key or wait)
    ):
        return cached[1], cached[0] == cache_key
    dims = [int(d) for d in order[:MAX_STRIP_DIMS]]
    frames = traversal_strips(model, z, dims)
    urls: list[str | None] = [None] * len(z)
    for d, row in zip(dims, frames):
        urls[d] = png_data_url(strip_image(row))
    ss[STRIP_CACHE] = (cache_key, urls)
    return urls, True


@st.cache_resource(max_entries=16, show_spinner=False)
def _browser_decoder(model_key: str, _model: VAE) -> dict | None:
    """The model's decoder as a layer list for the browser, or None past the caps (shared by all sessions)."""
    return decoder_spec(_model)


def decodes_in_browser(model: VAE, model_key: str) -> bool:
    """Whether the pad can decode this model in the browser (its decoder fits the caps)."""
    return _browser_decoder(model_key, model) is not None


def _component_value(key: str, name: str, kind: type) -> object | None:
    """One state value the component reported (session_state[key][name]) if it has the expected type, else None."""
    try:
        state = st.session_state[key]
    except KeyError:
        return None
    value = state.get(name) if isinstance(state, Mapping) else None
    return value if isinstance(value, kind) else None


def browser_decoder_key(key: str = PAD_KEY) -> str | None:
    """The model key whose decoder the browser says it holds (component state "decoder"), or None."""
    return _component_value(key, "decoder", str)


def pad_state(key: str = PAD_KEY) -> Mapping | None:
    """The component's last reported value {generation, seq, values, dragging}, or None before the first message."""
    return _component_value(key, "z", Mapping)


def is_dragging(key: str = PAD_KEY) -> bool:
    """Whether the browser's last message came mid-drag (another value follows within milliseconds)."""
    state = pad_state(key)
    return bool(state.get("dragging")) if state is not None else False


def _ignore() -> None:
    """on_z_change: the fragment reruns by itself, nothing else to do."""


def render_pad(
    model: VAE,
    model_key: str,
    order: Sequence[int],
    kl: np.ndarray | None,
    key: str = PAD_KEY,
    axes: PadAxes | None = None,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """One frame of the live pad: read the browser's slider values, decode z = axes(values), send image + strips
    back; returns the values. `axes` (default: one slider per coordinate) maps the sliders to z, so any view that
    decodes per frame (principal directions, attributes) reuses this pad and its browser decoder."""
    started = time.perf_counter()
    ss = st.session_state
    axes = axes or coordinate_axes(model.config.latent_dim)
    values_key, generation_key = state_keys(key)
    if values_key not in ss or len(ss[values_key]) != axes.count:
        set_vector(np.zeros(axes.count), key)
    ss.setdefault(LOCAL_DECODE, True)
    previous = current_vector(key)
    values, seq, dragging = values_from_pad_state(pad_state(key), ss[generation_key], previous)
    moved = not np.array_equal(values, previous)  # the user moved a slider (not a rerun for another reason)
    ss[values_key] = values.tolist()
    z = axes.latent(values)
    image = decode_vector(model, z)
    if axes.basis is None:
        strips, strips_fresh = strip_urls(model, model_key, z, order, wait=dragging or moved)
    else:
        strips, strips_fresh = [None] * axes.count, True  # traversal strips are per coordinate
    labels = list(labels) if labels is not None else [dim_label(d) for d in range(axes.count)]
    data = pad_data(
        image=image,
        values=values,
        order=order,
        labels=labels,
        kl=kl,
        strips=strips,
        strip_values=STRIP_VALUES,
        seq=seq,
        generation=ss[generation_key],
        axes=axes,
        image_px=IMAGE_PX,
        strip_px=STRIP_PX,
        throttle_ms=THROTTLE_MS,
    )
    data["strips_stale"] = not strips_fresh  # the pad asks again (same values) once the image is shown
    local = _browser_decoder(model_key, model) if ss[LOCAL_DECODE] else None
    data["decoder_key"] = model_key if local is not None else None
    if local is not None and browser_decoder_key(key) != model_key:
        sent_for, sends = ss.get(DECODER_SENT) or (None, 0)
        sends = sends if sent_for == model_key else 0
        if sends < MAX_DECODER_SENDS:  # once per model and tab: the browser then reports the key it holds
            data["decoder"] = local
            ss[DECODER_SENT] = (model_key, sends + 1)
    python_ms = 1000 * (time.perf_counter() - started)
    data["python_ms"] = round(
        python_ms, 2
    )  # recorded by the browser beside each frame, for the latency benchmark
    data["caption"] = (
        f"‖z‖ = {np.linalg.norm(z):.2f} (a draw from N(0, I) has about {np.sqrt(len(z)):.1f}) · "
        f"decoded on the server · {python_ms:.1f} ms in Python"
    )
    _pad_component(
        key=key,
        data=data,
        default={"z": None, "decoder": None},
        on_z_change=_ignore,
        on_decoder_change=_ignore,
    )
    return values


# ---------------------------------------------------------------- the stock widgets, for the latency comparison
def on_mode_change() -> None:
    """Switching live ↔ stock: the widget that appears adopts the current vector."""
    if VECTOR in st.session_state:
        set_vector(current_vector())


def render_stock(
    model: VAE,
    model_key: str,
    order: Sequence[int],
    kl: np.ndarray | None,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """The same decode behind Streamlit's own st.slider (sends on release) and st.image; returns the vector."""
    ss = st.session_state
    latent_dim = len(order)
    if ss.get(STOCK_GENERATION) != ss[GENERATION] or any(stock_key(d) not in ss for d in range(latent_dim)):
        for d, v in enumerate(current_vector()):
            ss[stock_key(d)] = float(
                np.clip(round(v / SLIDER_STEP) * SLIDER_STEP, -SLIDER_LIMIT, SLIDER_LIMIT)
            )
        ss[STOCK_GENERATION] = ss[GENERATION]
    image_col, slider_col = st.columns([1, 2], gap="large")
    with slider_col:
        for d in order:
            name = labels[d] if labels is not None else dim_label(d)
            label = name if kl is None else f"{name} · KL {kl[d]:.2f}"
            st.slider(label, -SLIDER_LIMIT, SLIDER_LIMIT, step=SLIDER_STEP, format="%+.2f", key=stock_key(d))
    z = np.array([ss[stock_key(d)] for d in range(latent_dim)], dtype=np.float64)
    ss[VECTOR] = z.tolist()
    image = decode_vector(model, z)
    with image_col:
        with st.container(key="stock_image"):
            st.image(upscale(image, fit_scale(image.shape[0], IMAGE_PX)), output_format="PNG", width=IMAGE_PX)
        dims = [int(d) for d in order[:MAX_STRIP_DIMS]]
        frames = traversal_strips(model, z, dims)
        grid = image_grid(frames.reshape(-1, *frames.shape[2:]), ncols=len(STRIP_VALUES))
        st.image(
            upscale(grid, 4),
            output_format="PNG",
            caption="Traversal −3 … +3: one row per slider, in the same order",
        )
    return z
