"""Shared app state: the chosen model and dataset, cached loads and encodings, the map selection and endpoints.

Everything heavy is cached with st.cache_resource under small explicit keys (a content hash), so
all sessions share one read-only copy; everything a user made lives in st.session_state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from vae_core import DEFAULT_DATASET_SPEC, DEFAULT_MODEL_PATH
from vae_core.checkpoint import LoadedCheckpoint, checkpoint_from_bytes
from vae_core.data import ImageDataset, load_dataset, load_uploaded
from vae_core.latents import encode

# session_state keys (one place, so pages never spell them twice)
MODELS = "models"  # dict key -> ModelEntry, in menu order
MODEL_CHOICE = "model_choice"  # key into MODELS
DATASETS = "datasets"  # dict key -> DatasetEntry
DATASET_CHOICE = "dataset_choice"  # key into DATASETS
SELECTION = "selection"  # list[int]: dataset indices picked on the map
INTERP_START = "interp_start"  # int dataset index or None
INTERP_END = "interp_end"
SLIDER_ORIGIN = "slider_origin"  # list[float] latent vector the sliders start from, or None
FLASH = "flash"  # list[(level, text)] messages shown once by the sidebar

DEFAULT_MODEL_KEY = "default"
BUILTIN_DATASETS = ("digits", "mnist", "fashion-mnist", "kmnist")


@dataclass(frozen=True)
class ModelEntry:
    """A model the user can pick: its menu label and its checkpoint bytes (None for the shipped default)."""

    label: str
    payload: bytes | None = None


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset the user can pick: a vae_core spec, or an uploaded file's name and bytes."""

    label: str
    spec: str | None = None
    filename: str | None = None
    payload: bytes | None = None


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


@st.cache_resource(max_entries=8, show_spinner="Loading dataset…")
def _dataset(key: str, spec: str | None, filename: str | None, _payload: bytes | None) -> ImageDataset:
    """Load (and share) a dataset by spec or upload content key."""
    if spec is not None:
        return load_dataset(spec)
    return load_uploaded(filename or "upload", _payload or b"")


@st.cache_resource(max_entries=16, show_spinner="Encoding the dataset…")
def _encoded(model_key: str, dataset_key: str, _model, _images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior μ and log σ² of every image, cached per (model, dataset)."""
    return encode(_model, _images)


def init_state() -> None:
    """Fill session_state with defaults on a session's first run."""
    ss = st.session_state
    ss.setdefault(MODELS, {DEFAULT_MODEL_KEY: ModelEntry("Shipped default (digits, MLP)")})
    ss.setdefault(MODEL_CHOICE, DEFAULT_MODEL_KEY)
    default_entry = DatasetEntry("digits (scikit-learn, 8×8)", spec=DEFAULT_DATASET_SPEC)
    ss.setdefault(DATASETS, {dataset_key(default_entry): default_entry})
    ss.setdefault(DATASET_CHOICE, dataset_key(default_entry))
    ss.setdefault(SELECTION, [])
    ss.setdefault(INTERP_START, None)
    ss.setdefault(INTERP_END, None)
    ss.setdefault(SLIDER_ORIGIN, None)
    ss.setdefault(FLASH, [])


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


def try_load_model(label: str, payload: bytes) -> str:
    """Validate checkpoint bytes and register them as a selectable model; returns its key (raises CheckpointError)."""
    key = content_key(payload)
    _checkpoint(key, payload)  # raises before anything is registered
    st.session_state[MODELS][key] = ModelEntry(label, payload)
    return key


def try_load_dataset(entry: DatasetEntry) -> str:
    """Validate a dataset and register it as selectable; returns its key (raises DatasetError)."""
    key = dataset_key(entry)
    _dataset(key, entry.spec, entry.filename, entry.payload)  # raises before anything is registered
    st.session_state[DATASETS][key] = entry
    return key


def flash(level: str, text: str) -> None:
    """Queue a message ('success', 'info', 'warning', 'error') for the sidebar to show once."""
    st.session_state.setdefault(FLASH, []).append((level, text))
