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
from vae_core.spec_guess import readable_name, suggest_spec

from . import factors_view, state
from .model_card import model_card
from .names import checkpoint_file_name
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
    SPEC_SUGGESTION,
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
from .widgets import mismatch_notice, page_style, shape_text

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


SUGGESTION_KINDS = {"idx": "holds MNIST-format IDX files", "npz": "is an .npz file", "images": "holds images"}


def _on_dataset_spec() -> None:
    """Load the typed spec; a bare path we recognise is answered with the spec it likely means instead."""
    spec = (st.session_state.get(W_DATASET_SPEC) or "").strip()
    st.session_state[SPEC_SUGGESTION] = None
    if not spec:
        return
    suggestion = suggest_spec(spec, spec_root_from_env())
    if suggestion is not None:
        st.session_state[SPEC_SUGGESTION] = (spec, suggestion)
        st.session_state[DATASET_ERROR] = None
        return
    request_dataset(DatasetEntry(readable_name(spec), spec=spec))


def _on_use_suggestion() -> None:
    """Load the suggested spec (and show it in the box, so the user sees what the path needed)."""
    found = st.session_state.get(SPEC_SUGGESTION)
    st.session_state[SPEC_SUGGESTION] = None
    if found:
        st.session_state[W_DATASET_SPEC] = found[1]
        request_dataset(DatasetEntry(readable_name(found[1]), spec=found[1]))


def spec_help_markdown(help_text: str = DATASET_SPECS_HELP) -> str:
    """The library's fixed-width spec list as a markdown list: one item per spec, the spec in code."""
    items: list[list[str]] = []
    for line in help_text.splitlines():
        if line[:1].isspace() and items:  # a continuation of the previous description
            items[-1][1] += " " + line.strip()
        elif line.strip():
            form, _, text = line.partition(" ")
            items.append([form, text.strip()])
    return "\n".join(f"- `{form}`: {text}" for form, text in items)


def _short_reason(exc: LatentExplorerError) -> str:
    """The refusal without the full spec list appended to it (the list is one click away in the box)."""
    text = str(exc)
    if DATASET_SPECS_HELP in text:
        text = text.split(DATASET_SPECS_HELP)[0].rstrip().removesuffix("Valid specs:").rstrip()
        text += (
            " A path needs its kind in front (idx:, npz: or images:); see *Valid dataset specs* in the box."
        )
    return text


def _on_dataset_upload() -> None:
    upload = st.session_state.get(W_DATASET_UPLOAD)
    if upload is not None:
        request_dataset(
            DatasetEntry(
                readable_name(f"upload:{upload.name}"), filename=upload.name, payload=upload.getvalue()
            )
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
                f"Could not load **{entry.label}**: {_short_reason(exc)}\n\nStill using *{current}*."
            )
            return
    select_dataset(key)
    state.flash("success", f"Loaded {st.session_state[state.DATASETS][key].label}.")


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
            help="A built-in name, or a path with its kind: idx:DIR, npz:FILE, images:DIR or images:FILE.zip. "
            "A bare path is recognised when it holds IDX files, an .npz or images.",
        )
        left, right = st.columns([1, 1], vertical_alignment="center")
        left.button("Load spec", on_click=_on_dataset_spec, key="sb_dataset_spec_go")
        with right.popover("Valid dataset specs", width="stretch"):
            st.markdown(spec_help_markdown())
        if (root := spec_root_from_env()) is not None:
            st.caption(f"This server reads dataset paths only inside `{root}`; relative paths start there.")
        st.file_uploader(
            "…or upload a .npz or a .zip of images",
            type=["npz", "zip"],
            key=W_DATASET_UPLOAD,
            on_change=_on_dataset_upload,
        )
    _show_suggestion()
    _show_error(DATASET_ERROR)


def _show_suggestion() -> None:
    """'Did you mean idx:…?' under the spec box, with a button that loads it."""
    found = st.session_state.get(SPEC_SUGGESTION)
    if not found:
        return
    typed, suggestion = found
    kind = SUGGESTION_KINDS.get(suggestion.partition(":")[0], "is a dataset")
    st.info(f"`{typed}` {kind}. Did you mean `{suggestion}`?", icon=":material/lightbulb:")
    st.button(
        f"Load {readable_name(suggestion)}",
        on_click=_on_use_suggestion,
        key="sb_use_suggestion",
        type="primary",
        icon=":material/check:",
    )


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
            file_name=checkpoint_file_name(model.config, model.loaded.summary),
            mime="application/octet-stream",
            on_click="ignore",
            key="sb_download_model",
            icon=":material/download:",
        )


def render_sidebar() -> None:
    """Draw the sidebar on every page."""
    state.init_state()
    state.finish_training()
    page_style()
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
            f"{dataset.display_name} · {shape_text(dataset.data.image_shape)}"
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
