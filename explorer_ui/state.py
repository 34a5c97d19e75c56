"""Shared app state: the chosen model and dataset, cached loads and encodings, the map selection and endpoints.

Everything heavy is cached with st.cache_resource under small explicit keys (a content hash), so
all sessions share one read-only copy; everything a user made lives in st.session_state.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import streamlit as st
import torch

from vae_core import ASSETS_DIR, DEFAULT_DATASET_SPEC, DEFAULT_MODEL_PATH
from vae_core.checkpoint import LoadedCheckpoint, checkpoint_from_bytes
from vae_core.data import (
    UPLOAD_LIMITS,
    ImageDataset,
    load_dataset,
    load_uploaded,
    spec_root_from_env,
    split_indices,
)
from vae_core.disentangle import MutualInformation, mutual_information
from vae_core.errors import LatentExplorerError
from vae_core.health import latent_report
from vae_core.latents import all_cores, encode
from vae_core.models import image_shape_fits
from vae_core.projection import PCAProjection, estimate_tsne_seconds, pca_2d, tsne_2d
from vae_core.scoring import SCORE_PARTS, ScoresSnapshot, ScoringJob

from .names import dataset_display_name

DEFAULT_MODEL_KEY = "default"
BUILTIN_DATASETS = ("digits", "shapes", "mnist", "fashion-mnist", "kmnist")
BUILTIN_LABELS = {
    "digits": "digits (scikit-learn, 8×8)",
    "shapes": "shapes (sprites with known factors, 32×32)",
    "mnist": "mnist (70k, 28×28; downloads once)",
    "fashion-mnist": "fashion-mnist (70k, 28×28; downloads once)",
    "kmnist": "kmnist (70k, 28×28; downloads once)",
}
AE_MODEL_PATH = ASSETS_DIR / "models" / "digits_ae.safetensors"  # the shipped plain autoencoder (β = 0)
SHIPPED_SHAPES_MODELS = {  # menu key → (label, file): the shipped models trained on the shapes dataset
    "shapes_beta1": ("Shipped shapes VAE (β = 1, MLP)", ASSETS_DIR / "models" / "shapes_beta1.safetensors"),
    "shapes_betavae": (
        "Shipped shapes β-VAE (β = 8, MLP)",
        ASSETS_DIR / "models" / "shapes_betavae.safetensors",
    ),
}


ModelKind = Literal["shipped", "trained", "uploaded"]


@dataclass(frozen=True)
class ModelEntry:
    """A model the user can pick: its menu label, where it came from, its checkpoint bytes (None: the shipped file)."""

    label: str
    payload: bytes | None = None
    kind: ModelKind = "uploaded"


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset the user can pick: a vae_core spec, or an uploaded file's name and bytes."""

    label: str
    spec: str | None = None
    filename: str | None = None
    payload: bytes | None = None

    @property
    def uploaded(self) -> bool:
        """Whether the user uploaded it (uploads are pruned beyond KEEP_UPLOADS)."""
        return self.payload is not None


@dataclass(frozen=True)
class ActiveModel:
    """The model in use: cache key, label and the loaded checkpoint (read-only, shared across sessions)."""

    key: str
    label: str
    loaded: LoadedCheckpoint

    @property
    def model(self):
        """The VAE (eval mode, no grad)."""
        return self.loaded.model

    @property
    def config(self):
        """Its VAEConfig."""
        return self.loaded.config


@dataclass(frozen=True)
class ActiveDataset:
    """The dataset in use: cache key, label and the loaded images."""

    key: str
    label: str
    data: ImageDataset

    @property
    def display_name(self) -> str:
        """How captions name it: 'mnist (IDX files, 10,000 images)', 'Digits (1,797 images)'."""
        return dataset_display_name(self.data.spec, self.data.name, len(self.data))


# ---------------------------------------------------------------- session_state: every key and its default, once


@dataclass(frozen=True)
class SessionKey:
    """One session_state key the app shares between pages: its name, what it holds, and its first value."""

    name: str
    holds: str
    default: Callable[[], Any]


SESSION_KEYS: dict[str, SessionKey] = {}


def _key(name: str, holds: str, default: Callable[[], Any] = lambda: None) -> str:
    """Declare a shared session_state key with its default; returns the name pages and tests use."""
    SESSION_KEYS[name] = SessionKey(name, holds, default)
    return name


def _default_dataset() -> DatasetEntry:
    return DatasetEntry(BUILTIN_LABELS["digits"], spec=DEFAULT_DATASET_SPEC)


MODELS = _key(
    "models",
    "dict key -> ModelEntry, in menu order",
    lambda: {
        DEFAULT_MODEL_KEY: ModelEntry("Shipped default (digits, MLP)", kind="shipped"),
        **shipped_extra_models(),
    },
)
MODEL_CHOICE = _key("model_choice", "key into MODELS", lambda: DEFAULT_MODEL_KEY)
DATASETS = _key(
    "datasets", "dict key -> DatasetEntry", lambda: {dataset_key(_default_dataset()): _default_dataset()}
)
DATASET_CHOICE = _key("dataset_choice", "key into DATASETS", lambda: dataset_key(_default_dataset()))
SELECTION = _key("selection", "list[int]: dataset indices picked on the map", list)
INTERP_START = _key("interp_start", "int dataset index or None")
INTERP_END = _key("interp_end", "int dataset index or None")
SLIDER_ORIGIN = _key("slider_origin", "list[float] latent vector the sliders start from, or None")
FLASH = _key("flash", "list[(level, text)] messages shown once by the sidebar", list)
MODEL_ERROR = _key("model_error", "str or None: why the last model load failed (shown until dismissed)")
DATASET_ERROR = _key("dataset_error", "str or None: why the last dataset load failed")
PENDING_DATASET = _key("pending_dataset", "DatasetEntry asked for, not loaded yet (the sidebar loads it)")
SPEC_SUGGESTION = _key(
    "spec_suggestion", "(typed text, spec it likely means) offered under the dataset spec box, or None"
)
TRAIN_JOB = _key("train_job", "vae_core.explore.TrainingRun of this session, or None")
TRAINED_COUNT = _key("trained_count", "how many models this session has trained (numbers their labels)", int)
TRAIN_RESULT = _key("train_result", "model key of TRAIN_JOB's registered checkpoint, None until registered")
PRESENT = _key("present_view", "bool: the presenter view is on (sidebar toggle or ?present=1)", bool)
URL_WRITTEN = _key(
    "url_state_written", "{(scope, name): the query text this session last put in the URL}", dict
)
URL_ECHOES = _key(
    "url_state_echoes",
    "{(scope, name): every query text this session has put in the URL, newest last (a rerun can still carry an "
    "older one: the browser applies URL updates after the run that wrote them)}",
    dict,
)
SLIDERS_LINK_Z = _key(
    "sliders_link_z",
    "str: the slider vector the Sliders page's link carries (kept while a slider is dragged)",
)
LESSON_STEP = _key("lesson_step", "int: the Lesson's step on screen, 1-based", lambda: 1)
LESSON_REVEALED = _key("lesson_revealed", "set of Lesson step keys whose answers were revealed", set)
LESSON_EPS_DRAWS = _key(
    "lesson_eps_draws", "int: how many ε draws the Lesson's step 4 made (seeds the next)", int
)


# Sessions' script runs share one interpreter. Torch code (a geodesic's optimiser, a decoder pass) releases the
# GIL around every small op and must win it back from threads running plain Python (other sessions building
# their pages), which hold it up to the switch interval (5 ms by default) each time: a 0.26 s geodesic took
# 17–51 s beside 3 busy threads, 3.0–3.6 s at 0.5 ms. The 40-user load bench measures the effect (README).
GIL_SWITCH_INTERVAL_S = 0.0005


def configure_thread() -> None:
    """One intra-op torch thread for the thread this run is in. Streamlit runs every rerun, fragment reruns
    included, in a new thread, and OpenMP's thread count belongs to each thread: a new thread's first
    convolution otherwise started a team of one thread per core (a 28 × 28 conv decode took 3–12 ms there
    instead of 1.6 ms, every slider frame)."""
    torch.set_num_threads(1)


def configure_process() -> None:
    """One intra-op torch thread (many small decodes from concurrent sessions beat one big parallel one) and a
    short GIL switch interval, so torch-heavy runs are not starved by other sessions' Python."""
    configure_thread()
    if sys.getswitchinterval() != GIL_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def fragment(func: Callable | None = None, *, run_every: float | None = None):
    """st.fragment whose reruns first set this thread's torch threads (configure_thread): use it for every
    fragment, since a fragment rerun does not pass through explorer_app.py."""

    def wrap(inner: Callable) -> Callable:
        @functools.wraps(inner)
        def configured(*args, **kwargs):
            configure_thread()
            return inner(*args, **kwargs)

        return st.fragment(configured, run_every=run_every)

    return wrap(func) if func is not None else wrap


def content_key(payload: bytes) -> str:
    """Short sha256 of some bytes, used as a cache key."""
    return hashlib.sha256(payload).hexdigest()[:16]


@st.cache_resource(max_entries=32, show_spinner=False)
def _checkpoint(key: str, _payload: bytes | None) -> LoadedCheckpoint:
    """Load (and share) a checkpoint by content key; the default is read from assets/."""
    payload = DEFAULT_MODEL_PATH.read_bytes() if _payload is None else _payload
    return checkpoint_from_bytes(
        payload, source="the shipped model" if _payload is None else "uploaded checkpoint"
    )


KEEP_UPLOADS = 4  # uploads kept per session and registry (the oldest unselected ones are dropped)


@st.cache_resource(max_entries=6, show_spinner="Loading dataset…")
def _dataset(key: str, spec: str | None, filename: str | None, _payload: bytes | None) -> ImageDataset:
    """Load (and share) a dataset by spec or upload content key."""
    if spec is not None:
        return load_dataset(spec, spec_root=spec_root_from_env())
    return load_uploaded(filename or "upload", _payload or b"", limits=UPLOAD_LIMITS)


@st.cache_resource(show_spinner=False)
def _shipped_file(path: str) -> bytes:
    """A shipped checkpoint's bytes, read once per process and shared (read-only) by every session."""
    return open(path, "rb").read()


def shipped_extra_models() -> dict[str, ModelEntry]:
    """The shipped shapes models whose files are present, as menu entries."""
    return {
        key: ModelEntry(label, _shipped_file(str(path)), kind="shipped")
        for key, (label, path) in SHIPPED_SHAPES_MODELS.items()
        if path.is_file()
    }


def shipped_shapes_models() -> list[ActiveModel]:
    """The shipped shapes models (present ones), loaded, whatever the user picked."""
    models = []
    for key, entry in shipped_extra_models().items():
        ckey = model_key(key, entry)
        models.append(ActiveModel(ckey, entry.label, _checkpoint(ckey, entry.payload)))
    return models


def init_state() -> None:
    """Fill session_state with every declared key's default on a session's first run."""
    ss = st.session_state
    for name, key in SESSION_KEYS.items():
        if name not in ss:
            ss[name] = key.default()


def model_key(key: str, entry: ModelEntry) -> str:
    """Cache key of a model entry: 'default' or the payload's hash."""
    return DEFAULT_MODEL_KEY if entry.payload is None else content_key(entry.payload)


def dataset_key(entry: DatasetEntry) -> str:
    """Cache key of a dataset entry: its spec or the upload's hash."""
    return f"spec:{entry.spec}" if entry.spec is not None else f"upload:{content_key(entry.payload or b'')}"


def active_model() -> ActiveModel:
    """The chosen model, loaded (cached)."""
    init_state()
    key = st.session_state[MODEL_CHOICE]
    entry = st.session_state[MODELS][key]
    ckey = model_key(key, entry)
    return ActiveModel(ckey, entry.label, _checkpoint(ckey, entry.payload))


def registered_model(key: str) -> ActiveModel:
    """A registered model by its menu key, loaded (cached)."""
    entry = st.session_state[MODELS][key]
    ckey = model_key(key, entry)
    return ActiveModel(ckey, entry.label, _checkpoint(ckey, entry.payload))


def active_dataset() -> ActiveDataset:
    """The chosen dataset, loaded (cached)."""
    init_state()
    entry = st.session_state[DATASETS][st.session_state[DATASET_CHOICE]]
    dkey = dataset_key(entry)
    return ActiveDataset(dkey, entry.label, _dataset(dkey, entry.spec, entry.filename, entry.payload))


def shapes_match(model: ActiveModel, dataset: ActiveDataset) -> bool:
    """Whether the dataset's images have the shape the model was built for."""
    return image_shape_fits(dataset.data.image_shape, model.config.input_shape)


def latents(model: ActiveModel, dataset: ActiveDataset) -> tuple[np.ndarray, np.ndarray]:
    """Encoded μ, log σ² of the active dataset under the active model (stored for every session; a progress bar
    with a time-left estimate while it is computed)."""
    key = (model.key, dataset.key, "encoded")
    store = projection_store()
    found = [store.get(key + (part,)) for part in ("mu", "logvar")]
    if any(part is None for part in found):
        with all_cores():
            found = with_progress(
                "Encoding the dataset…",
                lambda report: encode(model.model, dataset.data.images, progress=report),
            )
        for part, array in zip(("mu", "logvar"), found):
            store.put(key + (part,), array)
    return found[0], found[1]


def with_progress(label: str, compute: Callable[[Callable[[float, str], None]], object]):
    """Run compute(report) under a progress bar (redrawn at most 5 times a second), removed when it is done."""
    bar = st.progress(0.0, text=label)
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.perf_counter()
        if now - last[0] >= 0.2 or fraction >= 1.0:
            last[0] = now
            bar.progress(min(1.0, max(0.0, fraction)), text=message)

    try:
        return compute(report)
    finally:
        bar.empty()


def try_load_model(label: str, payload: bytes, kind: ModelKind = "uploaded") -> str:
    """Validate checkpoint bytes and register them as a selectable model; returns its key (raises CheckpointError)."""
    key = content_key(payload)
    _checkpoint(key, payload)  # raises before anything is registered
    st.session_state[MODELS][key] = ModelEntry(label, payload, kind)
    _drop_old_uploads(st.session_state[MODELS], MODEL_CHOICE, lambda e: e.kind == "uploaded", keep=key)
    return key


def try_load_dataset(entry: DatasetEntry) -> str:
    """Validate a dataset and register it as selectable; returns its key (raises DatasetError)."""
    key = dataset_key(entry)
    data = _dataset(key, entry.spec, entry.filename, entry.payload)  # raises before anything is registered
    if entry.spec not in BUILTIN_DATASETS:  # a path or upload: named by what was read, not by the typed spec
        entry = replace(entry, label=dataset_display_name(data.spec, data.name, len(data)))
    st.session_state[DATASETS][key] = entry
    _drop_old_uploads(st.session_state[DATASETS], DATASET_CHOICE, lambda e: e.uploaded, keep=key)
    return key


def _drop_old_uploads(registry: dict, choice_key: str, is_upload, keep: str) -> None:
    """Forget the oldest uploaded entries until KEEP_UPLOADS are left (never the selected one or `keep`)."""
    uploads = [k for k, e in registry.items() if is_upload(e)]
    protected = (keep, st.session_state.get(choice_key))
    for k in [k for k in uploads if k not in protected][: max(0, len(uploads) - KEEP_UPLOADS)]:
        del registry[k]


def flash(level: str, text: str) -> None:
    """Queue a message ('success', 'info', 'warning', 'error') for the sidebar to show once."""
    st.session_state.setdefault(FLASH, []).append((level, text))


# ---------------------------------------------------------------- choosing


def select_model(key: str) -> None:
    """Make a registered model the active one; forget a slider origin of another latent size."""
    ss = st.session_state
    if key not in ss[MODELS]:
        return
    old_dim = _latent_dim_of(ss[MODEL_CHOICE])
    ss[MODEL_CHOICE] = key
    ss[MODEL_ERROR] = None
    if old_dim != _latent_dim_of(key):
        ss[SLIDER_ORIGIN] = None


def _latent_dim_of(key: str) -> int | None:
    """Latent size of a registered model (None when it cannot be loaded)."""
    entry = st.session_state[MODELS].get(key)
    if entry is None:
        return None
    return _checkpoint(model_key(key, entry), entry.payload).config.latent_dim


def follow_model_dataset() -> None:
    """When the active model was trained on a built-in dataset and the active one does not fit it, load that one."""
    model, dataset = active_model(), active_dataset()
    spec = str(model.loaded.summary.get("dataset_spec") or "").strip().lower()
    if not shapes_match(model, dataset) and spec.partition(":")[0] in BUILTIN_DATASETS:
        request_dataset(builtin_entry(spec) if spec in BUILTIN_DATASETS else DatasetEntry(spec, spec=spec))


def select_dataset(key: str) -> None:
    """Make a registered dataset the active one; map selections and endpoints (row indices) are reset."""
    ss = st.session_state
    if key not in ss[DATASETS]:
        return
    if key != ss[DATASET_CHOICE]:
        ss[SELECTION] = []
        ss[INTERP_START] = None
        ss[INTERP_END] = None
    ss[DATASET_CHOICE] = key
    ss[DATASET_ERROR] = None


def builtin_entry(name: str) -> DatasetEntry:
    """The DatasetEntry of a built-in dataset spec."""
    return DatasetEntry(BUILTIN_LABELS.get(name, name), spec=name)


def dataset_options() -> dict[str, DatasetEntry]:
    """Every dataset the menu offers: the built-ins (loaded or not) then anything registered, by cache key."""
    options = {dataset_key(builtin_entry(name)): builtin_entry(name) for name in BUILTIN_DATASETS}
    for key, entry in st.session_state[DATASETS].items():
        options.setdefault(key, entry)
    return options


def request_dataset(entry: DatasetEntry) -> None:
    """Ask for a dataset: already registered → selected now; else queued for the sidebar to load (with a spinner)."""
    key = dataset_key(entry)
    if key in st.session_state[DATASETS]:
        select_dataset(key)
    else:
        st.session_state[PENDING_DATASET] = entry


def model_payload(key: str | None = None) -> bytes:
    """The .safetensors bytes of a registered model (the shipped file for the default)."""
    ss = st.session_state
    entry = ss[MODELS][key or ss[MODEL_CHOICE]]
    return DEFAULT_MODEL_PATH.read_bytes() if entry.payload is None else entry.payload


# ---------------------------------------------------------------- shipped references (Overview page)


def shipped_model() -> ActiveModel:
    """The shipped default VAE, whatever the user picked."""
    return ActiveModel(DEFAULT_MODEL_KEY, "Shipped VAE", _checkpoint(DEFAULT_MODEL_KEY, None))


def shipped_autoencoder() -> ActiveModel | None:
    """The shipped plain autoencoder (β = 0), or None when its file is not there."""
    if not AE_MODEL_PATH.is_file():
        return None
    payload = AE_MODEL_PATH.read_bytes()
    key = content_key(payload)
    return ActiveModel(key, "Shipped plain autoencoder", _checkpoint(key, payload))


def builtin_dataset(name: str) -> ActiveDataset:
    """A built-in dataset by name (loaded and shared like any other), whatever the user picked."""
    entry = builtin_entry(name)
    key = dataset_key(entry)
    return ActiveDataset(key, entry.label, _dataset(key, entry.spec, None, None))


def digits_dataset() -> ActiveDataset:
    """scikit-learn's digits, the data both shipped models were trained on."""
    return builtin_dataset("digits")


def registered_models() -> list[ActiveModel]:
    """Every model registered in this session, loaded (cached), in menu order."""
    return [registered_model(key) for key in st.session_state.get(MODELS, {})]


# ---------------------------------------------------------------- cached computations per (model, dataset)


@st.cache_resource(max_entries=16, show_spinner=False)
def _pca(model_key: str, dataset_key: str, _latent_means: np.ndarray) -> PCAProjection:
    """PCA of the encoded dataset, cached per (model, dataset)."""
    return pca_2d(_latent_means)


def pca_projection(model: ActiveModel, dataset: ActiveDataset) -> PCAProjection:
    """PCA plane of the active dataset's latent means (with its basis, to map points back)."""
    return _pca(model.key, dataset.key, latents(model, dataset)[0])


class ProjectionStore:
    """A small LRU of computed arrays (encodings, scores, 2-D projections) shared by all sessions.

    Filled outside any cached function, so a slow t-SNE can report progress to the page that asked for it)."""

    def __init__(self, max_entries: int = 32) -> None:
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: tuple) -> np.ndarray | None:
        """The stored coords for key, or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple, coords: np.ndarray) -> None:
        """Store coords (read-only) under key, evicting the least recently used."""
        coords = np.asarray(coords, dtype=np.float32)
        coords.flags.writeable = False
        with self._lock:
            self._items[key] = coords
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def projection_store() -> ProjectionStore:
    """The one ProjectionStore of this server process."""
    return ProjectionStore()


TSNE_SEED = 0


def stored_tsne(model: ActiveModel, dataset: ActiveDataset) -> np.ndarray | None:
    """t-SNE coords of the active pair if someone already computed them, else None."""
    return projection_store().get((model.key, dataset.key, "tsne", TSNE_SEED))


def compute_tsne(
    model: ActiveModel, dataset: ActiveDataset, progress: Callable[[float, str], None] | None = None
) -> np.ndarray:
    """t-SNE of the latent means (progress(fraction, message) while it runs), stored for every session."""
    cached = stored_tsne(model, dataset)
    if cached is not None:
        return cached
    coords = tsne_2d(latents(model, dataset)[0], seed=TSNE_SEED, progress=progress)
    projection_store().put((model.key, dataset.key, "tsne", TSNE_SEED), coords)
    return stored_tsne(model, dataset)


@st.cache_data(max_entries=16, ttl=600, show_spinner="Timing a small t-SNE probe on this machine…")
def _tsne_estimate(model_key: str, dataset_key: str, _latent_means: np.ndarray) -> float:
    """Seconds a t-SNE should take, measured by a probe on this machine (kept 10 minutes: the load changes)."""
    return estimate_tsne_seconds(_latent_means)


def tsne_estimate(model: ActiveModel, dataset: ActiveDataset) -> float:
    """Seconds the active pair's t-SNE should take here (from a timed probe, not a constant)."""
    return _tsne_estimate(model.key, dataset.key, latents(model, dataset)[0])


@st.cache_resource(max_entries=8, show_spinner=False)
def _scoring_job(model_key: str, dataset_key: str, _model, _images: np.ndarray, _encoded) -> ScoringJob:
    """The one background scoring job per (model, dataset) of this server process, shared by every session."""
    return ScoringJob(_model, _images, _encoded).start()


def anomaly_scores_so_far(model: ActiveModel, dataset: ActiveDataset, wait_s: float = 0.0) -> ScoresSnapshot:
    """The active pair's per-image scores as far as they are computed: starts (or joins) the shared background
    job, waits up to wait_s under a progress bar, and stores the scores for every session once finished."""
    key = (model.key, dataset.key, "scores")
    store = projection_store()
    found = {part: store.get(key + (part,)) for part in SCORE_PARTS}
    n = len(dataset.data)
    if all(v is not None for v in found.values()):
        return ScoresSnapshot(np.arange(n), found, n, f"Scored {n:,} images")
    job = _scoring_job(model.key, dataset.key, model.model, dataset.data.images, latents(model, dataset))
    if wait_s > 0 and not job.wait(0.05):
        deadline = time.perf_counter() + wait_s

        def follow(report: Callable[[float, str], None]) -> None:
            while not job.wait(0.1) and time.perf_counter() < deadline:
                snap = job.snapshot()
                report(snap.done / snap.total, snap.message)
            snap = job.snapshot()
            report(snap.done / snap.total, snap.message)

        with_progress("Scoring every image…", follow)
    snap = job.snapshot()
    if snap.error:
        _scoring_job.clear()  # the next visit starts afresh
        snap = replace(
            snap, error=f"Scoring the images stopped ({snap.error}). Open the page again to retry."
        )
    elif snap.finished:
        for part, values in snap.full().items():
            store.put(key + (part,), values)
    return snap


def anomaly_scores(model: ActiveModel, dataset: ActiveDataset) -> dict[str, np.ndarray]:
    """Per-image 'recon', 'kl' and 'neg_elbo' (nats) of the active dataset under the active model, in image order
    (waits for the shared background job under a progress bar; stored for every session)."""
    snap = anomaly_scores_so_far(model, dataset, wait_s=float("inf"))
    if snap.error:
        raise LatentExplorerError(snap.error)
    return snap.full()


# ---------------------------------------------------------------- training runs


def start_training(run) -> None:
    """Keep a started vae_core.explore.TrainingRun as this session's job (its result is not registered yet)."""
    st.session_state[TRAIN_JOB] = run
    st.session_state[TRAIN_RESULT] = None


def finish_training() -> str | None:
    """If this session's run has finished and is not registered yet: register its checkpoint as a model and
    select it (returns the new key). Called by the sidebar on every page, so leaving the Train page is fine."""
    ss = st.session_state
    run = ss.get(TRAIN_JOB)
    if run is None or ss.get(TRAIN_RESULT) is not None:
        return None
    snap = run.snapshot()
    if snap.state != "done" or snap.checkpoint is None:
        return None
    ss[TRAINED_COUNT] = ss.get(TRAINED_COUNT, 0) + 1
    cfg = run.config
    summary = snap.summary or {}
    data_name = dataset_display_name(
        str(summary.get("dataset_spec") or ""),
        str(summary.get("dataset_name") or ""),
        summary.get("n_images"),
    )
    label = f"Trained #{ss[TRAINED_COUNT]}: {data_name} · {cfg.arch} z={cfg.latent_dim} β={cfg.beta:g}"
    # fit wrote the checkpoint: a CheckpointError here is a bug worth seeing
    key = try_load_model(label, snap.checkpoint, kind="trained")
    select_model(key)
    ss[TRAIN_RESULT] = key
    flash(
        "success", f"{label} is trained and selected (validation −ELBO {snap.summary['val_neg_elbo']:.2f})."
    )
    return key


# ---------------------------------------------------------------- decoder geometry (Geometry, Interpolate)


@st.cache_resource(max_entries=8, show_spinner="Measuring how the decoder stretches the map plane…")
def _magnification(model_key: str, dataset_key: str, side: int, _model, _pca: PCAProjection):
    """√det((JP)ᵀ(JP)) on a side × side grid over the PCA plane, cached per (model, dataset, side)."""
    from vae_core.geometry import magnification_grid

    return magnification_grid(_model, _pca, side)


def magnification_grid(model: ActiveModel, dataset: ActiveDataset, side: int = 64):
    """The magnification factor over the active pair's PCA map plane (a vae_core.geometry.PlaneGrid)."""
    return _magnification(model.key, dataset.key, int(side), model.model, pca_projection(model, dataset))


@st.cache_resource(max_entries=8, show_spinner=False)
def _off_data(model_key: str, dataset_key: str, _latent_means: np.ndarray, _latent_logvars: np.ndarray):
    """The off-data pixel std the geodesics' metric adds, cached per (model, dataset)."""
    from vae_core.geometry import off_data_scale

    return off_data_scale(_latent_means, _latent_logvars)


def off_data_scale(model: ActiveModel, dataset: ActiveDataset):
    """vae_core.geometry.OffDataScale of the active pair (built from its aggregate posterior)."""
    return _off_data(model.key, dataset.key, *latents(model, dataset))


@st.cache_resource(max_entries=32, show_spinner=False)
def _latent_health(model_key: str, dataset_key: str, _means, _logvars):
    """vae_core.health.latent_health of one (model, dataset) pair, cached (the sidebar shows it on every run)."""
    from vae_core.health import latent_health

    return latent_health(_means, _logvars)


def pair_health(model: ActiveModel, dataset: ActiveDataset):
    """vae_core.health.LatentHealth of the active pair (KL per dimension, active units), cached."""
    return _latent_health(model.key, dataset.key, *latents(model, dataset))


@st.cache_resource(max_entries=64, show_spinner="Finding the geodesic…")
def _geodesic(model_key: str, dataset_key: str, z_start: tuple, z_end: tuple, steps: int, _model, _off_data):
    """A geodesic between two codes, cached per (model, dataset, endpoints, steps), at the app's budget."""
    from vae_core.geometry import geodesic
    from vae_core.limits import APP_GEODESIC_EVALUATIONS

    start, end = np.asarray(z_start, np.float32), np.asarray(z_end, np.float32)
    return geodesic(_model, start, end, steps, off_data=_off_data, iterations=APP_GEODESIC_EVALUATIONS)


def geodesic_path(
    model: ActiveModel, dataset: ActiveDataset, z_start: np.ndarray, z_end: np.ndarray, steps: int
) -> np.ndarray:
    """The geodesic between two codes in the active pair's metric as `steps` codes (S, D): solved (and cached) on
    APP_GEODESIC_POINTS points whatever the frame count, then resampled along the solved path (so changing the
    frame count solves nothing new)."""
    from vae_core.geometry import resample_path
    from vae_core.limits import APP_GEODESIC_POINTS

    key = lambda z: tuple(float(v) for v in np.asarray(z, dtype=np.float32).reshape(-1))  # noqa: E731
    path = _geodesic(
        model.key,
        dataset.key,
        key(z_start),
        key(z_end),
        APP_GEODESIC_POINTS,
        model.model,
        off_data_scale(model, dataset),
    ).path
    return path if len(path) == int(steps) else resample_path(path, int(steps))


@st.cache_resource(max_entries=64, show_spinner=False)
def _path_stats(model_key: str, dataset_key: str, name: str, path_bytes: bytes, _model, _path, _off_data):
    """vae_core.geometry.path_stats of one path, cached per (model, dataset, path)."""
    from vae_core.geometry import path_stats

    return path_stats(_model, _path, name, _off_data)


def compare_paths(model: ActiveModel, dataset: ActiveDataset, paths: dict[str, np.ndarray]) -> list:
    """vae_core.geometry.PathStats of each named path in the active pair's metric (cached per path)."""
    off_data = off_data_scale(model, dataset)
    rows = []
    for name, path in paths.items():
        path = np.ascontiguousarray(path, dtype=np.float32)
        rows.append(_path_stats(model.key, dataset.key, name, path.tobytes(), model.model, path, off_data))
    return rows


@st.cache_resource(max_entries=8, show_spinner="Comparing the aggregate posterior with the prior…")
def _posterior_vs_prior(model_key: str, dataset_key: str, side: int, seed: int, _model, _pca, _mu, _logvar):
    """Per-dimension densities, plane density and the prior's holes, per (model, dataset, side, seed)."""
    from vae_core.geometry import dimension_densities, plane_density, prior_holes

    return (
        dimension_densities(_mu, _logvar),
        plane_density(_pca, _mu, _logvar, side),
        prior_holes(_model, _mu, _logvar, k=8, seed=seed),
    )


def posterior_vs_prior(model: ActiveModel, dataset: ActiveDataset, side: int = 64, seed: int = 0):
    """(DimensionDensities, plane PlaneGrid, PriorHoles) of the active pair (cached)."""
    mu, logvar = latents(model, dataset)
    return _posterior_vs_prior(
        model.key, dataset.key, int(side), int(seed), model.model, pca_projection(model, dataset), mu, logvar
    )


# ---------------------------------------------------------------- known factors (datasets that carry them)


@st.cache_resource(max_entries=16, show_spinner="Scoring the latent space against the known factors…")
def _factor_report(model_key: str, dataset_key: str, _model, _dataset: ImageDataset) -> dict:
    """vae_core.health.latent_report on the validation split (as `evaluate` does), cached per (model, dataset)."""
    _, val_rows = split_indices(len(_dataset))
    return latent_report(_model, _dataset, val_rows)


def factor_report(model: ActiveModel, dataset: ActiveDataset) -> dict | None:
    """MIG, DCI and latent health of the active pair on the validation split; None without factors or fit."""
    if dataset.data.factors is None or not shapes_match(model, dataset) or model.config.latent_dim < 2:
        return None
    return _factor_report(model.key, dataset.key, model.model, dataset.data)


@st.cache_resource(max_entries=16, show_spinner=False)
def _mutual_info(
    model_key: str, dataset_key: str, _latent_means: np.ndarray, _factors: np.ndarray
) -> MutualInformation:
    """Factor × dimension mutual information on the validation split, cached per (model, dataset)."""
    _, val_rows = split_indices(len(_factors))
    return mutual_information(_latent_means[val_rows], _factors[val_rows])


def factor_information(model: ActiveModel, dataset: ActiveDataset) -> MutualInformation | None:
    """The active pair's factor × dimension mutual information; None without factors or when shapes differ."""
    if dataset.data.factors is None or not shapes_match(model, dataset):
        return None
    return _mutual_info(model.key, dataset.key, latents(model, dataset)[0], dataset.data.factors)


# ---------------------------------------------------------------- directions, probes (Directions page)


@st.cache_resource(max_entries=16, show_spinner=False)
def _principal(model_key: str, dataset_key: str, _latent_means: np.ndarray):
    """Principal directions of the encoded dataset, cached per (model, dataset)."""
    from vae_core.directions import principal_directions

    return principal_directions(_latent_means)


def principal_directions_of(model: ActiveModel, dataset: ActiveDataset):
    """vae_core.directions.PrincipalDirections of the active dataset's latent means."""
    return _principal(model.key, dataset.key, latents(model, dataset)[0])


@st.cache_resource(max_entries=8, show_spinner="Fitting linear probes (a few seconds)…")
def _probes(
    model_key: str,
    dataset_key: str,
    twin_key: str | None,
    _model,
    _twin,
    _data: ImageDataset,
    _latent_means: np.ndarray,
) -> list:
    """The probe table (vae_core.probes.probe_report) for one (model, dataset), shared by all sessions."""
    from vae_core.probes import probe_report

    return probe_report(
        _model,
        _data.images,
        _data.labels,
        twin=_twin,
        latent_means=_latent_means,
        factors=getattr(_data, "factors", None),
        factor_names=getattr(_data, "factor_names", None),
    )


def probe_table(model: ActiveModel, dataset: ActiveDataset, twin: ActiveModel | None) -> list:
    """The probe table of the active pair (with the plain-AE twin when given), computed once per process."""
    twin_model = None if twin is None else twin.model
    twin_key = None if twin is None else twin.key
    latent_means = latents(model, dataset)[0]
    return _probes(model.key, dataset.key, twin_key, model.model, twin_model, dataset.data, latent_means)


# ---------------------------------------------------------------- precomputed latents (python -m vae_core encode)


@st.cache_resource(max_entries=6, show_spinner="Fingerprinting the dataset…")
def _dataset_fingerprint(dataset_key: str, _images: np.ndarray) -> str:
    """sha256-based fingerprint of a loaded dataset's images, computed once per dataset and process."""
    from vae_core.latents_file import dataset_fingerprint

    return dataset_fingerprint(_images)


def model_fingerprint_of(model: ActiveModel) -> str:
    """The fingerprint `python -m vae_core encode` writes for this model's checkpoint file (its content key)."""
    return content_key(DEFAULT_MODEL_PATH.read_bytes()) if model.key == DEFAULT_MODEL_KEY else model.key


def use_precomputed_latents(model: ActiveModel, dataset: ActiveDataset, payload: bytes, name: str) -> str:
    """Check a latents file written by `python -m vae_core encode`/`project` against the active model and dataset
    and store its arrays for every session (encoding, t-SNE and scoring are then skipped); returns what it held.
    Raises LatentsFileError when the file is malformed or belongs to another model or dataset."""
    from vae_core.latents_file import check_belongs, read_latents_file

    contents = read_latents_file(payload, name)
    check_belongs(
        contents,
        model_fingerprint_of(model),
        _dataset_fingerprint(dataset.key, dataset.data.images),
        len(dataset.data.images),
        model.config.latent_dim,
        name,
    )
    store, pair = projection_store(), (model.key, dataset.key)
    store.put(pair + ("encoded", "mu"), contents.latent_means)
    store.put(pair + ("encoded", "logvar"), contents.latent_logvars)
    held = ["μ and log σ²"]
    if "tsne" in contents.coords:
        store.put(pair + ("tsne", TSNE_SEED), contents.coords["tsne"])
        held.append("the t-SNE map")
    if set(contents.scores) == {"recon", "kl"}:
        recon, kl = contents.scores["recon"], contents.scores["kl"]
        for part, values in zip(SCORE_PARTS, (recon, kl, recon + kl)):
            store.put(pair + ("scores", part), values)
        held.append("anomaly scores")
    return f"{', '.join(held)} of {len(contents):,} images"
