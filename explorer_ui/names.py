"""Names a user reads: a dataset's display name and a checkpoint's download file name (no Streamlit)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from vae_core.config import VAEConfig
from vae_core.spec_guess import readable_name

_PATH_KINDS = ("idx", "npz", "images", "upload")  # specs that name a file or folder (shown by its basename)
_SLUG_MAX = 40


def dataset_display_name(spec: str, name: str = "", n_images: int | None = None) -> str:
    """How the app names a dataset everywhere: 'mnist (IDX files, 10,000 images)' for a folder, 'faces.npz
    (300 images)' for a file or upload, the loader's own name ('Digits (1,797 images)') for a built-in."""
    prefix = (spec or "").strip().partition(":")[0].lower()
    if ":" in (spec or "") and prefix in _PATH_KINDS:
        return readable_name(spec, n_images)
    return (name or "").strip() or (spec or "").strip() or "dataset"


def _slug(text: str) -> str:
    """Lower-case letters, digits, '-' and '_' only (others become '_'), at most _SLUG_MAX characters."""
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text.lower()).strip("_")
    return slug[:_SLUG_MAX].strip("_")


def _dataset_slug(summary: Mapping[str, Any]) -> str:
    """'mnist' for idx:/data/mnist, 'faces' for an .npz, 'digits' for a built-in, from a checkpoint's summary."""
    spec = str(summary.get("dataset_spec") or "").strip()
    prefix, colon, location = spec.partition(":")
    if colon and prefix.lower() in _PATH_KINDS:
        path = PurePath(location.strip().rstrip("/\\"))
        return _slug(path.stem if path.suffix.lower() in (".npz", ".zip") else path.name)
    if spec:
        return _slug(prefix)  # 'digits', 'mnist', 'shapes' (without its size)
    return _slug(str(summary.get("dataset_name") or "").split(" (")[0])


def checkpoint_file_name(config: VAEConfig, summary: Mapping[str, Any]) -> str:
    """The one file name both download buttons give a checkpoint: 'vae_conv_z16_mnist.safetensors' (β shown
    when it is not 1: 'vae_mlp_z8_beta0_digits.safetensors')."""
    parts = [f"vae_{config.arch}_z{config.latent_dim}"]
    if config.beta != 1.0:
        parts.append(_slug(f"beta{config.beta:g}"))
    if dataset := _dataset_slug(summary):
        parts.append(dataset)
    return "_".join(parts) + ".safetensors"
