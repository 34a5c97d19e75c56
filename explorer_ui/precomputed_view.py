"""The sidebar's "Precomputed latents" uploader: open what `python -m vae_core encode`/`project` wrote."""

from __future__ import annotations

import streamlit as st

from vae_core.errors import LatentExplorerError

from . import state

W_LATENTS_UPLOAD = "sb_latents_upload"


def _on_latents_upload() -> None:
    """Check the uploaded file against the active pair and store it; a refusal is shown as a flash message."""
    upload = st.session_state.get(W_LATENTS_UPLOAD)
    if upload is None:
        return
    try:
        held = state.use_precomputed_latents(
            state.active_model(), state.active_dataset(), upload.getvalue(), upload.name
        )
    except LatentExplorerError as exc:
        state.flash("error", str(exc))
        return
    state.flash("success", f"Using the precomputed {held} from {upload.name}: no encoding needed.")


def precomputed_latents_uploader() -> None:
    """A collapsed uploader for a latents .npz of the active model and dataset."""
    with st.expander("Precomputed latents"):
        st.file_uploader(
            "Latents file (.npz)",
            type=["npz"],
            key=W_LATENTS_UPLOAD,
            on_change=_on_latents_upload,
            help="Written by `python -m vae_core encode CHECKPOINT --dataset SPEC --scores --out FILE.npz` "
            "(or `project … --method tsne --out FILE.npz`), e.g. on a GPU machine. It is used only with the "
            "model and dataset it was written for; the map, Anomalies and t-SNE then skip their computing.",
        )
