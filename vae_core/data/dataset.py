"""ImageDataset, the one thing every reader returns, and the helpers every caller shares."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..limits import DATA_CACHE_ENV


@dataclass
class ImageDataset:
    """Images (N, C, H, W) float32 in [0, 1] with optional int64 labels and their class names."""

    images: np.ndarray  # (N, C, H, W) float32 in [0, 1], C in {1, 3}
    labels: np.ndarray | None  # (N,) int64, each an index into class_names; None when unlabelled
    class_names: list[str]  # index → name ([] when labels is None)
    name: str  # display name, e.g. "MNIST (10,000 images)"
    spec: str  # the spec it was loaded from
    notes: list[str] = field(default_factory=list)  # user-facing messages about what loading changed
    factors: np.ndarray | None = (
        None  # (N, F) float32 known generative factors per image (shapes, npz), or None
    )
    factor_names: tuple[str, ...] = ()  # one name per factor column (() when factors is None)

    def __post_init__(self) -> None:
        shape = self.images.shape
        if self.images.ndim != 4 or shape[1] not in (1, 3) or self.images.dtype != np.float32:
            raise DatasetError(
                f"images must be (N, C, H, W) float32 with C 1 or 3, got {shape} {self.images.dtype}"
            )
        if self.labels is not None and self.labels.shape != (shape[0],):
            raise DatasetError(f"labels must have shape ({shape[0]},), got {self.labels.shape}")
        if self.factors is not None:
            if (
                self.factors.ndim != 2
                or self.factors.shape[0] != shape[0]
                or not np.isfinite(self.factors).all()
            ):
                raise DatasetError(
                    f"factors must be finite (N, F) with N = {shape[0]}, got {self.factors.shape}"
                )
            if len(self.factor_names) != self.factors.shape[1]:
                raise DatasetError(
                    f"{self.factors.shape[1]} factors need as many names, got {len(self.factor_names)}"
                )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        channels, height, width = self.images.shape[1:]
        return int(channels), int(height), int(width)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def make_dataset(
    title: str,
    images: np.ndarray,
    labels: np.ndarray | None,
    class_names: list[str],
    spec: str,
    notes: list[str],
) -> ImageDataset:
    """An ImageDataset with a display name that counts its images."""
    names = class_names if labels is not None else []
    return ImageDataset(images, labels, names, f"{title} ({len(images):,} images)", spec, notes)


def default_cache_dir() -> Path:
    """Where downloaded datasets live: $LATENT_EXPLORER_DATA, else ~/.cache/latent-explorer/datasets."""
    configured = os.environ.get(DATA_CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "latent-explorer" / "datasets"


def split_indices(n: int, val_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: the last val_fraction of images, in file order, are validation."""
    if n < 0 or not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"need n >= 0 and 0 <= val_fraction < 1, got n={n}, val_fraction={val_fraction}")
    n_val = int(n * val_fraction + 0.5)
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)  # both parts non-empty
    return np.arange(n - n_val, dtype=np.int64), np.arange(n - n_val, n, dtype=np.int64)
