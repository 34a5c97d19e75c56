"""Precomputed latents: what `python -m vae_core encode`/`project` write and the app opens instead of encoding.

One `.npz` (plain arrays, never pickles) holds μ and log σ² of every image, optionally its 2-D map coordinates
(``coords_pca``, ``coords_tsne``) and anomaly scores (``score_recon``, ``score_kl``), plus two fingerprints:
the checkpoint's (sha256 of its bytes, the same key the app gives a loaded model) and the dataset's (sha256 of
its float32 images and their shape). A file is used only with the very model and dataset it was computed from;
anything else is refused with a message that says which one differs. Caps: vae_core.limits (LATENTS_*).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checkpoint import atomic_write_bytes
from .data.npz import _small_array
from .errors import ArchiveError, DatasetError, LatentExplorerError
from .limits import DEFAULT_LIMITS, LATENTS_MAX_BYTES, LATENTS_MAX_MEMBERS, MAX_LATENT_DIM
from .safe_archive import ReadBudget, checked_members, open_zip, read_member

FORMAT = "latent-explorer-latents/1"
COORD_METHODS = ("pca", "tsne")
SCORE_PARTS = ("recon", "kl")
_FLOAT_MEMBERS = (
    "latent_means",
    "latent_logvars",
    *(f"coords_{m}" for m in COORD_METHODS),
    *(f"score_{p}" for p in SCORE_PARTS),
)
_TEXT_MEMBERS = ("format", "model_fingerprint", "dataset_fingerprint")


class LatentsFileError(LatentExplorerError):
    """A precomputed-latents file that is malformed, too big, or belongs to another model or dataset."""


@dataclass(frozen=True)
class LatentsFile:
    """The arrays of one precomputed-latents file (float32, read-only) and the fingerprints it was made with."""

    model_fingerprint: str
    dataset_fingerprint: str
    latent_means: np.ndarray
    latent_logvars: np.ndarray
    coords: dict[str, np.ndarray] = field(default_factory=dict)  # method → (N, 2)
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # "recon", "kl" → (N,), nats
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.latent_means)


def model_fingerprint(checkpoint_bytes: bytes) -> str:
    """A checkpoint's fingerprint: the first 16 hex digits of sha256 of its bytes (the app's model key)."""
    return hashlib.sha256(checkpoint_bytes).hexdigest()[:16]


def dataset_fingerprint(images: np.ndarray) -> str:
    """A dataset's fingerprint: sha256 of its images as float32 (shape included), hashed in place, 16 hex digits."""
    images = np.asarray(images)
    digest = hashlib.sha256(f"{images.dtype.str}{images.shape}".encode())
    if images.dtype == np.float32 and images.flags.c_contiguous:
        digest.update(memoryview(images).cast("B"))
    else:
        for row in range(0, len(images), 4096):  # bounded temporaries for an unusual layout
            digest.update(np.ascontiguousarray(images[row : row + 4096], dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def latents_file_bytes(contents: LatentsFile) -> bytes:
    """The .npz bytes of a LatentsFile (plain arrays; write them with `write_latents_file`)."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "model_fingerprint": np.array(contents.model_fingerprint),
        "dataset_fingerprint": np.array(contents.dataset_fingerprint),
        "latent_means": np.asarray(contents.latent_means, np.float32),
        "latent_logvars": np.asarray(contents.latent_logvars, np.float32),
    }
    arrays.update({f"coords_{m}": np.asarray(c, np.float32) for m, c in contents.coords.items()})
    arrays.update({f"score_{p}": np.asarray(s, np.float32) for p, s in contents.scores.items()})
    if contents.labels is not None:
        arrays["labels"] = np.asarray(contents.labels, np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def write_latents_file(path: str | Path, contents: LatentsFile) -> None:
    """Write a LatentsFile as an .npz, atomically."""
    atomic_write_bytes(path, latents_file_bytes(contents))


def read_latents_file(source: str | Path | bytes, name: str = "latents file") -> LatentsFile:
    """Read and check a precomputed-latents .npz (path or bytes) against the caps; LatentsFileError if unusable."""
    try:
        with open_zip(
            source if isinstance(source, bytes) else Path(source), LATENTS_MAX_MEMBERS, LATENTS_MAX_BYTES
        ) as archive:
            members = {info.filename: info for info in checked_members(archive, LATENTS_MAX_BYTES)}
            budget = ReadBudget(LATENTS_MAX_BYTES)
            arrays = {
                key: _small_array(read_member(archive, members[f"{key}.npy"], budget), key, name)
                for key in (*_TEXT_MEMBERS, *_FLOAT_MEMBERS, "labels")
                if f"{key}.npy" in members
            }
    except (ArchiveError, DatasetError) as err:
        raise LatentsFileError(
            f"{name}: not a usable latents file ({err}). Write one with `python -m vae_core encode`."
        ) from err
    except OSError as err:
        raise LatentsFileError(f"{name}: cannot be read ({err.strerror or err})") from err
    return _checked(arrays, name)


def _text(arrays: dict[str, np.ndarray], key: str, name: str) -> str:
    """A short text member (format, fingerprints), refused when missing or not a short string."""
    value = arrays.get(key)
    if value is None or value.dtype.kind != "U" or value.size != 1 or value.dtype.itemsize > 4 * 64:
        raise LatentsFileError(
            f"{name}: no '{key}' in it; this is not a file written by `python -m vae_core encode` (or `project`). "
            "Write one with that command."
        )
    return str(value.reshape(()))


def _floats(array: np.ndarray, key: str, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A float member of exactly `shape`, finite, as read-only float32 (no copy when it is float32 already)."""
    if array.dtype.kind != "f" or array.shape != shape:
        raise LatentsFileError(
            f"{name}: '{key}' is {array.dtype} {array.shape}, expected float32 {shape}. Write the file again."
        )
    array = np.asarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise LatentsFileError(f"{name}: '{key}' holds NaN or infinite values. Write the file again.")
    array.flags.writeable = False
    return array


def _checked(arrays: dict[str, np.ndarray], name: str) -> LatentsFile:
    """A LatentsFile from raw members: format, fingerprints, shapes, dtypes and finiteness checked."""
    found = _text(arrays, "format", name)
    if found != FORMAT:
        raise LatentsFileError(f"{name}: format {found[:60]!r}, this app reads {FORMAT!r}. Write it again.")
    means = arrays.get("latent_means")
    if means is None or means.ndim != 2:
        raise LatentsFileError(f"{name}: no (N, D) 'latent_means' array. Write the file again.")
    n, d = means.shape
    if not 1 <= n <= DEFAULT_LIMITS.max_images or not 1 <= d <= MAX_LATENT_DIM:
        raise LatentsFileError(
            f"{name}: latents of {n:,} images × {d} dimensions; the app takes 1–{DEFAULT_LIMITS.max_images:,} "
            f"images and 1–{MAX_LATENT_DIM} dimensions."
        )
    if "latent_logvars" not in arrays:
        raise LatentsFileError(f"{name}: no 'latent_logvars' array. Write the file again.")
    labels = arrays.get("labels")
    if labels is not None and (labels.dtype.kind not in "iu" or labels.shape != (n,)):
        raise LatentsFileError(
            f"{name}: 'labels' is {labels.dtype} {labels.shape}, expected ({n},) integers."
        )
    return LatentsFile(
        model_fingerprint=_text(arrays, "model_fingerprint", name),
        dataset_fingerprint=_text(arrays, "dataset_fingerprint", name),
        latent_means=_floats(means, "latent_means", (n, d), name),
        latent_logvars=_floats(arrays["latent_logvars"], "latent_logvars", (n, d), name),
        coords={
            m: _floats(arrays[f"coords_{m}"], f"coords_{m}", (n, 2), name)
            for m in COORD_METHODS
            if f"coords_{m}" in arrays
        },
        scores={
            p: _floats(arrays[f"score_{p}"], f"score_{p}", (n,), name)
            for p in SCORE_PARTS
            if f"score_{p}" in arrays
        },
        labels=labels,
    )


def check_belongs(
    contents: LatentsFile, model_fp: str, dataset_fp: str, n_images: int, latent_dim: int, name: str
) -> None:
    """Refuse a file computed for another model or dataset (or of another size), saying which differs."""
    problems = []
    if contents.model_fingerprint != model_fp:
        problems.append(
            f"it was computed with another model (fingerprint {contents.model_fingerprint[:16]}, the selected "
            f"model's is {model_fp})"
        )
    if contents.dataset_fingerprint != dataset_fp:
        problems.append(
            f"it was computed on another dataset (fingerprint {contents.dataset_fingerprint[:16]}, the selected "
            f"dataset's is {dataset_fp})"
        )
    if len(contents) != n_images or contents.latent_means.shape[1] != latent_dim:
        problems.append(
            f"it holds {len(contents):,} codes of {contents.latent_means.shape[1]} dimensions, the selected pair "
            f"needs {n_images:,} of {latent_dim}"
        )
    if problems:
        raise LatentsFileError(
            f"{name} does not belong to the selected model and dataset: {'; '.join(problems)}. Select the "
            "model and dataset it was written for, or write it again with `python -m vae_core encode "
            "CHECKPOINT --dataset SPEC --out FILE.npz`."
        )
