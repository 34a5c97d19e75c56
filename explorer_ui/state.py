"""Shared app state: the chosen model and dataset, cached loads and encodings, the map selection and endpoints.

Everything heavy is cached with st.cache_resource under small explicit keys (a content hash), so
all sessions share one read-only copy; everything a user made lives in st.session_state.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import streamlit as st
import torch

from vae_core import ASSETS_DIR, DEFAULT_DATASET_SPEC, DEFAULT_MODEL_PATH
from vae_core.checkpoint import LoadedCheckpoint, checkpoint_from_bytes
from vae_core.data import UPLOAD_LIMITS, ImageDataset, load_dataset, load_uploaded, spec_root_from_env
from vae_core.latents import encode, image_scores
from vae_core.projection import PCAProjection, pca_2d, tsne_2d

DEFAULT_MODEL_KEY = "default"
BUILTIN_DATASETS = ("digits", "mnist", "fashion-mnist", "kmnist")
BUILTIN_LABELS = {
    "digits": "digits (scikit-learn, 8×8)",
    "mnist": "mnist (70k, 28×28; downloads once)",
    "fashion-mnist": "fashion-mnist (70k, 28×28; downloads once)",
    "kmnist": "kmnist (70k, 28×28; downloads once)",
}
AE_MODEL_PATH = ASSETS_DIR / "models" / "digits_ae.safetensors"  # the shipped plain autoencoder (β = 0)


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


MODELS = _key("models", "dict key -> ModelEntry, in menu order",
              lambda: {DEFAULT_MODEL_KEY: ModelEntry("Shipped default (digits, MLP)", kind="shipped")})
MODEL_CHOICE = _key("model_choice", "key into MODELS", lambda: DEFAULT_MODEL_KEY)
DATASETS = _key("datasets", "dict key -> DatasetEntry", lambda: {dataset_key(_default_dataset()): _default_dataset()})
DATASET_CHOICE = _key("dataset_choice", "key into DATASETS", lambda: dataset_key(_default_dataset()))
SELECTION = _key("selection", "list[int]: dataset indices picked on the map", list)
INTERP_START = _key("interp_start", "int dataset index or None")
INTERP_END = _key("interp_end", "int dataset index or None")
SLIDER_ORIGIN = _key("slider_origin", "list[float] latent vector the sliders start from, or None")
FLASH = _key("flash", "list[(level, text)] messages shown once by the sidebar", list)
MODEL_ERROR = _key("model_error", "str or None: why the last model load failed (shown until dismissed)")
DATASET_ERROR = _key("dataset_error", "str or None: why the last dataset load failed")
PENDING_DATASET = _key("pending_dataset", "DatasetEntry asked for, not loaded yet (the sidebar loads it)")
TRAIN_JOB = _key("train_job", "vae_core.explore.TrainingRun of this session, or None")
TRAINED_COUNT = _key("trained_count", "how many models this session has trained (numbers their labels)", int)
TRAIN_RESULT = _key("train_result", "model key of TRAIN_JOB's registered checkpoint, None until registered")


def configure_torch() -> None:
    """One intra-op thread: many small decodes from concurrent sessions beat one big parallel one."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def content_key(payload: bytes) -> str:
    """Short sha256 of some bytes, used as a cache key."""
    return hashlib.sha256(payload).hexdigest()[:16]


@st.cache_resource(max_entries=32, show_spinner=False)
def _checkpoint(key: str, _payload: bytes | None) -> LoadedCheckpoint:
    """Load (and share) a checkpoint by content key; the default is read from assets/."""
    payload = DEFAULT_MODEL_PATH.read_bytes() if _payload is None else _payload
    return checkpoint_from_bytes(payload, source="the shipped model" if _payload is None else "uploaded checkpoint")


KEEP_UPLOADS = 4  # uploads kept per session and registry (the oldest unselected ones are dropped)


@st.cache_resource(max_entries=6, show_spinner="Loading dataset…")
def _dataset(key: str, spec: str | None, filename: str | None, _payload: bytes | None) -> ImageDataset:
    """Load (and share) a dataset by spec or upload content key."""
    if spec is not None:
        return load_dataset(spec, spec_root=spec_root_from_env())
    return load_uploaded(filename or "upload", _payload or b"", limits=UPLOAD_LIMITS)


@st.cache_resource(max_entries=16, show_spinner="Encoding the dataset…")
def _encoded(model_key: str, dataset_key: str, _model, _images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior μ and log σ² of every image, cached per (model, dataset)."""
    return encode(_model, _images)


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


def active_dataset() -> ActiveDataset:
    """The chosen dataset, loaded (cached)."""
    init_state()
    entry = st.session_state[DATASETS][st.session_state[DATASET_CHOICE]]
    dkey = dataset_key(entry)
    return ActiveDataset(dkey, entry.label, _dataset(dkey, entry.spec, entry.filename, entry.payload))


def shapes_match(model: ActiveModel, dataset: ActiveDataset) -> bool:
    """Whether the dataset's images have the shape the model was built for."""
    return tuple(model.config.input_shape) == tuple(dataset.data.image_shape)


def latents(model: ActiveModel, dataset: ActiveDataset) -> tuple[np.ndarray, np.ndarray]:
    """Encoded μ, log σ² of the active dataset under the active model (cached)."""
    return _encoded(model.key, dataset.key, model.model, dataset.data.images)


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
    _dataset(key, entry.spec, entry.filename, entry.payload)  # raises before anything is registered
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


def digits_dataset() -> ActiveDataset:
    """scikit-learn's digits, the data both shipped models were trained on."""
    entry = builtin_entry("digits")
    key = dataset_key(entry)
    return ActiveDataset(key, entry.label, _dataset(key, entry.spec, None, None))


# ---------------------------------------------------------------- cached computations per (model, dataset)


@st.cache_resource(max_entries=16, show_spinner=False)
def _pca(model_key: str, dataset_key: str, _latent_means: np.ndarray) -> PCAProjection:
    """PCA of the encoded dataset, cached per (model, dataset)."""
    return pca_2d(_latent_means)


def pca_projection(model: ActiveModel, dataset: ActiveDataset) -> PCAProjection:
    """PCA plane of the active dataset's latent means (with its basis, to map points back)."""
    return _pca(model.key, dataset.key, latents(model, dataset)[0])


class ProjectionStore:
    """A small LRU of computed 2-D projections shared by all sessions (filled outside any cached function,
    so a slow t-SNE can report progress to the page that asked for it)."""

    def __init__(self, max_entries: int = 8) -> None:
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


def compute_tsne(model: ActiveModel, dataset: ActiveDataset,
                 progress: Callable[[float, str], None] | None = None) -> np.ndarray:
    """t-SNE of the latent means (progress(fraction, message) while it runs), stored for every session."""
    cached = stored_tsne(model, dataset)
    if cached is not None:
        return cached
    coords = tsne_2d(latents(model, dataset)[0], seed=TSNE_SEED, progress=progress)
    projection_store().put((model.key, dataset.key, "tsne", TSNE_SEED), coords)
    return stored_tsne(model, dataset)


@st.cache_resource(max_entries=8, show_spinner="Scoring every image…")
def _scores(model_key: str, dataset_key: str, _model, _images: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image reconstruction error, KL and −ELBO, cached per (model, dataset)."""
    return image_scores(_model, _images)


def anomaly_scores(model: ActiveModel, dataset: ActiveDataset) -> dict[str, np.ndarray]:
    """Per-image 'recon', 'kl' and 'neg_elbo' (nats) of the active dataset under the active model."""
    return _scores(model.key, dataset.key, model.model, dataset.data.images)


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
    data_name = (snap.summary or {}).get("dataset_name") or "dataset"
    label = f"Trained #{ss[TRAINED_COUNT]}: {data_name} · {cfg.arch} z={cfg.latent_dim} β={cfg.beta:g}"
    key = try_load_model(label, snap.checkpoint, kind="trained")  # fit wrote it; a CheckpointError here is a bug worth seeing
    select_model(key)
    ss[TRAIN_RESULT] = key
    flash("success", f"{label} is trained and selected (validation −ELBO {snap.summary['val_neg_elbo']:.2f}).")
    return key
