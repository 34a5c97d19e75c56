"""Augmentation around q(z|x): decode K draws z = μ + T·σ·ε from each chosen image's posterior; export .npz.

Each new image is the decoder's mean for a code the encoder considers plausible for the original, so it is a
small variation of it that keeps its label. The export holds `images` (uint8) and `labels` (and
`class_names`), the arrays `npz:FILE` loads back as a dataset.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .checkpoint import atomic_write_bytes
from .errors import LatentExplorerError
from .generate import MAX_TEMPERATURE, _seeded_generator
from .images import to_uint8
from .latents import encode
from .models import VAE, reparameterise

MAX_PER_IMAGE = 64  # draws per chosen image
MAX_AUGMENTED = 20_000  # images one augmentation may create in all (chosen × per image)
MAX_AUGMENTED_BYTES = 256 * 2**20  # and at most this much as float32 (20,000 RGB 64×64 images would be 1 GB)


class AugmentError(LatentExplorerError):
    """An augmentation request that cannot be met; the message says what to change."""


@dataclass(frozen=True)
class AugmentedSet:
    """New images drawn around chosen originals: row r comes from original source_index[r]."""

    images: np.ndarray  # (M, C, H, W) float32 in [0, 1], the decoder's mean for each draw
    latents: np.ndarray  # (M, D) float32 codes z = μ + T·σ·ε
    source_index: np.ndarray  # (M,) int64 dataset row of each draw's original
    labels: np.ndarray | None  # (M,) int64 labels copied from the originals, or None
    temperature: float


def chosen_indices(indices, n: int) -> np.ndarray:
    """Unique dataset rows in the order first given; AugmentError when empty or out of range."""
    try:
        raw = np.asarray(indices, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError, OverflowError) as exc:
        raise AugmentError(f"images to augment must be a list of indices, got {indices!r:.80}") from exc
    if raw.size == 0:
        raise AugmentError("no images chosen: pick a class or a selection on the map")
    if raw.min() < 0 or raw.max() >= n:
        raise AugmentError(f"image indices must lie in 0..{n - 1}")
    _, first = np.unique(raw, return_index=True)
    return raw[np.sort(first)]


def _checked(per_image: int, temperature: float, n_chosen: int) -> tuple[int, float]:
    """Validated (draws per image, temperature)."""
    try:
        k, t = int(per_image), float(temperature)
    except (TypeError, ValueError, OverflowError) as exc:
        raise AugmentError(
            f"draws per image and temperature must be numbers, got {per_image!r}, {temperature!r}"
        ) from exc
    if not 1 <= k <= MAX_PER_IMAGE:
        raise AugmentError(f"draws per image must be 1..{MAX_PER_IMAGE}, got {k}")
    if not np.isfinite(t) or not 0.0 <= t <= MAX_TEMPERATURE:
        raise AugmentError(f"temperature must be between 0 and {MAX_TEMPERATURE:g}, got {temperature!r}")
    if k * n_chosen > MAX_AUGMENTED:
        raise AugmentError(
            f"{n_chosen} images × {k} draws is {n_chosen * k:,} new images; at most "
            f"{MAX_AUGMENTED:,} at once. Pick fewer images or fewer draws."
        )
    return k, t


def posterior_draws(
    latent_means: np.ndarray,
    latent_logvars: np.ndarray,
    per_image: int,
    temperature: float,
    seed: int | None = 0,
) -> np.ndarray:
    """K draws z = μ + T·σ·ε (ε ~ N(0, I)) per posterior, (N, K, D) float32; a seed repeats its draws."""
    mu = torch.as_tensor(np.asarray(latent_means, dtype=np.float32))
    logvar = torch.as_tensor(np.asarray(latent_logvars, dtype=np.float32))
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise AugmentError(
            f"μ and log σ² must both be (N, D), got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )
    k, t = _checked(per_image, temperature, len(mu))
    eps = torch.randn(len(mu), k, mu.shape[1], generator=_seeded_generator(seed))
    return reparameterise(mu[:, None, :], logvar[:, None, :], eps=t * eps).numpy()


@torch.inference_mode()
def augment(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray | None,
    indices,
    per_image: int,
    temperature: float = 1.0,
    seed: int | None = 0,
) -> AugmentedSet:
    """Decode `per_image` posterior draws at `temperature` around each chosen image (grouped by original)."""
    rows = chosen_indices(indices, len(images))
    k, t = _checked(per_image, temperature, len(rows))
    n_bytes = len(rows) * k * int(np.prod(images.shape[1:])) * 4
    if n_bytes > MAX_AUGMENTED_BYTES:
        raise AugmentError(
            f"{len(rows) * k:,} new images of {images.shape[1:]} would take {n_bytes / 2**20:,.0f} MiB; "
            f"at most {MAX_AUGMENTED_BYTES // 2**20} MiB at once. Pick fewer images or fewer draws."
        )
    mu, logvar = encode(model, images[rows])
    z = posterior_draws(mu, logvar, k, t, seed).reshape(-1, mu.shape[1])
    device = model.device
    decoded = torch.cat(
        [model.decode(torch.from_numpy(z[i : i + 1024]).to(device)).cpu() for i in range(0, len(z), 1024)]
    ).numpy()
    source = np.repeat(rows, k)
    new_labels = None if labels is None else np.asarray(labels, dtype=np.int64)[source]
    return AugmentedSet(
        decoded.astype(np.float32), z.astype(np.float32), source.astype(np.int64), new_labels, t
    )


def npz_bytes(images: np.ndarray, labels: np.ndarray | None, class_names: list[str] | None = None) -> bytes:
    """A compressed .npz: `images` (uint8 (N, H, W) or (N, H, W, 3)), `labels`, `class_names` when given."""
    images = np.asarray(images)
    pictures = images if images.dtype == np.uint8 else to_uint8(images)
    arrays: dict[str, np.ndarray] = {"images": pictures}
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(labels) != len(pictures):
            raise AugmentError(f"{len(labels)} labels for {len(pictures)} images")
        arrays["labels"] = labels
        if class_names:
            arrays["class_names"] = np.asarray([str(n) for n in class_names])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def export_npz(
    path: str | Path, images: np.ndarray, labels: np.ndarray | None, class_names: list[str] | None = None
) -> Path:
    """Write the .npz atomically (a temp file, then a rename); `npz:PATH` loads it back as a dataset."""
    path = Path(path)
    if path.suffix != ".npz":
        raise AugmentError(f"the export must end in .npz, got {path.name!r}")
    atomic_write_bytes(path, npz_bytes(images, labels, class_names))
    return path


def with_originals(
    augmented: AugmentedSet, images: np.ndarray, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The chosen originals followed by their augmented draws: (images (M', C, H, W), labels or None)."""
    _, first = np.unique(augmented.source_index, return_index=True)
    rows = augmented.source_index[np.sort(first)]  # the originals in the order they were chosen
    combined = np.concatenate([np.asarray(images, dtype=np.float32)[rows], augmented.images])
    if labels is None or augmented.labels is None:
        return combined, None
    return combined, np.concatenate([np.asarray(labels, dtype=np.int64)[rows], augmented.labels])
