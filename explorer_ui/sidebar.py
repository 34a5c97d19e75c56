"""The shared sidebar: pick or upload a model, pick or load a dataset, the model card, the shape check.

Widgets here use their own keys (prefixed `sb_`) and write the app's choices (state.MODEL_CHOICE,
state.DATASET_CHOICE) in callbacks, so a page may change a choice later in the same run (e.g. the
Train page selecting a model it just trained) without touching a widget that is already drawn.
A failed load leaves the previous choice in place and shows why.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from vae_core.data import DATASET_SPECS_HELP, spec_root_from_env
from vae_core.errors import LatentExplorerError
from vae_core.explore import n_parameters

from . import factors_view, state
from .model_card import model_card
from .precomputed_view import precomputed_latents_uploader
from .presenter import presenter_controls
from .state import (
    DATASET_CHOICE,
    DATASET_ERROR,
    FLASH,
    MODEL_CHOICE,
    MODEL_ERROR,
    MODELS,
    PENDING_DATASET,
    DatasetEntry,
    active_dataset,
    active_model,
    dataset_key,
    dataset_options,
    request_dataset,
    select_dataset,
    select_model,
    shapes_match,
    try_load_dataset,
    try_load_model,
)
from .widgets import mismatch_notice, pixel_art_style, shape_text

W_MODEL = "sb_model"
W_MODEL_UPLOAD = "sb_model_upload"
W_DATASET = "sb_dataset"
W_DATASET_SPEC = "sb_dataset_spec"
W_DATASET_UPLOAD = "sb_dataset_upload"
MODEL_UPLOAD_TYPES = [
    "safetensors",
    "pt",
    "pth",
    "ckpt",
    "bin",
]  # the others are refused with a reason, not hidden


def _on_model_pick() -> None:
    select_model(st.session_state[W_MODEL])
    state.follow_model_dataset()  # e.g. a shapes model picked while digits are loaded: load shapes


def _on_model_upload() -> None:
    """Validate an uploaded checkpoint; on success register and select it, else keep the current model."""
    upload = st.session_state.get(W_MODEL_UPLOAD)
    if upload is None:
        return
    try:
        key = try_load_model(f"Uploaded: {upload.name}", upload.getvalue(), kind="uploaded")
    except LatentExplorerError as exc:  # any refusal of the library, with its message
        current = st.session_state[MODELS][st.session_state[MODEL_CHOICE]].label
        st.session_state[MODEL_ERROR] = f"Could not load **{upload.name}**: {exc}\n\nStill using *{current}*."
        return
    select_model(key)
    state.flash("success", f"Loaded {upload.name}.")


def _on_dataset_pick() -> None:
    options = dataset_options()
    key = st.session_state[W_DATASET]
    if key in options:
        request_dataset(options[key])


def _on_dataset_spec() -> None:
    spec = (st.session_state.get(W_DATASET_SPEC) or "").strip()
    if spec:
        request_dataset(DatasetEntry(spec, spec=spec))


def _on_dataset_upload() -> None:
    upload = st.session_state.get(W_DATASET_UPLOAD)
    if upload is not None:
        request_dataset(
            DatasetEntry(f"Uploaded: {upload.name}", filename=upload.name, payload=upload.getvalue())
        )


def _load_pending_dataset() -> None:
    """Load a dataset asked for in a callback (slow ones show a spinner); on failure keep the current one."""
    entry = st.session_state.get(PENDING_DATASET)
    if entry is None:
        return
    st.session_state[PENDING_DATASET] = None
    with st.spinner(f"Loading {entry.label}…"):
        try:
            key = try_load_dataset(entry)
        except LatentExplorerError as exc:
            current = st.session_state[state.DATASETS][st.session_state[DATASET_CHOICE]].label
            st.session_state[DATASET_ERROR] = (
                f"Could not load **{entry.label}**: {exc}\n\nStill using *{current}*."
            )
            return
    select_dataset(key)
    state.flash("success", f"Loaded {entry.label}.")


def _show_error(key: str) -> None:
    """A sticky error with a dismiss button."""
    message = st.session_state.get(key)
    if message:
        st.error(message, icon=":material/error:")
        if st.button("Dismiss", key=f"sb_dismiss_{key}", type="tertiary"):
            st.session_state[key] = None
            st.rerun()


def _show_flash() -> None:
    for level, text in st.session_state.get(FLASH, []):
        getattr(st, level, st.info)(text)
    st.session_state[FLASH] = []


def _model_picker() -> None:
    ss = st.session_state
    models = ss[MODELS]
    ss[W_MODEL] = ss[MODEL_CHOICE]  # set before the widget is drawn: the widget mirrors the app's choice
    st.selectbox(
        "Model",
        options=list(models),
        format_func=lambda k: models[k].label,
        key=W_MODEL,
        on_change=_on_model_pick,
        help="The shipped model, models trained in this session, or uploads.",
    )
    st.file_uploader(
        "Upload a checkpoint (.safetensors)",
        type=MODEL_UPLOAD_TYPES,
        key=W_MODEL_UPLOAD,
        on_change=_on_model_upload,
        help="A Latent Explorer checkpoint: weights plus the config that rebuilds the model. "
        "Pickled .pt files are refused (they can run code).",
    )
    _show_error(MODEL_ERROR)


def _dataset_picker() -> None:
    ss = st.session_state
    options = dataset_options()
    ss[W_DATASET] = ss[DATASET_CHOICE]
    st.selectbox(
        "Dataset",
        options=list(options),
        format_func=lambda k: options[k].label,
        key=W_DATASET,
        on_change=_on_dataset_pick,
    )
    with st.expander("Load another dataset"):
        st.text_input(
            "Dataset spec",
            key=W_DATASET_SPEC,
            placeholder="idx:/path/to/mnist  ·  npz:file.npz",
            on_change=_on_dataset_spec,
            help=f"```\n{DATASET_SPECS_HELP}\n```",
        )
        st.button("Load spec", on_click=_on_dataset_spec, key="sb_dataset_spec_go")
        if (root := spec_root_from_env()) is not None:
            st.caption(f"This server reads dataset paths only inside `{root}`; relative paths start there.")
        st.file_uploader(
            "…or upload a .npz or a .zip of images",
            type=["npz", "zip"],
            key=W_DATASET_UPLOAD,
            on_change=_on_dataset_upload,
        )
    _show_error(DATASET_ERROR)


def _model_card() -> None:
    model = active_model()
    with st.expander("Model card", expanded=True):
        rows = model_card(model.config, model.loaded.summary, n_parameters(model.model))
        st.markdown("\n".join(f"- **{name}:** {value}" for name, value in rows))
        # the dataset may have gone away: the dataset section below says so and falls back
        with contextlib.suppress(LatentExplorerError):
            factors_view.render_latent_health(model, active_dataset())
        payload = state.model_payload()
        st.download_button(
            "Download this checkpoint",
            payload,
            file_name=_file_name(model.label),
            mime="application/octet-stream",
            on_click="ignore",
            key="sb_download_model",
            icon=":material/download:",
        )


def _file_name(label: str) -> str:
    """A safe .safetensors file name from a model label."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label.lower()).strip("_")
    return f"{stem[:60] or 'model'}.safetensors"


def render_sidebar() -> None:
    """Draw the sidebar on every page."""
    state.init_state()
    state.finish_training()
    pixel_art_style()
    with st.sidebar:
        _load_pending_dataset()  # before the messages, so its outcome shows in this run
        _show_flash()
        presenter_controls()
        st.subheader("Model")
        _model_picker()
        _model_card()
        st.subheader("Dataset")
        _dataset_picker()
        try:
            dataset = active_dataset()
        except LatentExplorerError as exc:  # a registered path that went away since it was loaded
            st.session_state[DATASET_ERROR] = (
                f"The active dataset could not be reloaded: {exc}. Back to digits."
            )
            select_dataset(dataset_key(state.builtin_entry("digits")))
            st.rerun()
        st.caption(
            f"{dataset.data.name} · {shape_text(dataset.data.image_shape)}"
            + (
                f" · {len(dataset.data.class_names)} classes"
                if dataset.data.labels is not None
                else " · unlabelled"
            )
        )
        for note in dataset.data.notes:
            st.caption(f"ℹ️ {note}")
        model = active_model()
        if not shapes_match(model, dataset):
            mismatch_notice(model, dataset, key="sb_mismatch_train")
        else:
            precomputed_latents_uploader()
