"""Raw arrays → float32 images in [0, 1]: size checks, layouts, labels, and the chunked writer readers use.

The writer allocates the final (N, C, h, w) array once, after its size is checked, and fills it a bounded
chunk at a time (limits.chunk_bytes of float32 temporaries), so no reader holds more than the result.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DatasetError
from ..limits import Budget, DataLimits, size_text

_EXACT_FLOAT_INT = 2**53  # larger float labels are not whole numbers we can trust
_INT64_MAX = np.iinfo(np.int64).max


def fit_within(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) scaled down, aspect kept, so the longer side is at most max_side."""
    longest = max(height, width)
    if longest <= max_side:
        return height, width
    scale = max_side / longest
    return max(1, round(height * scale)), max(1, round(width * scale))


def check_sides(height: int, width: int, source: str, limits: DataLimits) -> tuple[int, int]:
    """The (height, width) images will have after downscaling, refusing tiny or absurd sources."""
    if min(height, width) < limits.min_side:
        raise DatasetError(
            f"{source}: images are {height}×{width}; each side needs at least {limits.min_side} pixels. "
            "Use larger images."
        )
    if max(height, width) > limits.max_source_side:
        raise DatasetError(
            f"{source}: images are {height}×{width}, over the {limits.max_source_side}-pixel limit per side. "
            f"Shrink them (to {limits.max_side} pixels or less) before loading."
        )
    fitted = fit_within(height, width, limits.max_side)
    if min(fitted) < limits.min_side:
        raise DatasetError(
            f"{source}: {height}×{width} images shrunk to fit {limits.max_side} pixels would be "
            f"{fitted[0]}×{fitted[1]}, under {limits.min_side} pixels a side. Crop them closer to square."
        )
    return fitted


def check_size(count: int, channels: int, height: int, width: int, source: str, limits: DataLimits) -> None:
    """Refuse empty datasets and ones over the image-count or memory caps."""
    if count == 0:
        raise DatasetError(f"{source}: there are no images. Provide at least one.")
    if count > limits.max_images:
        raise DatasetError(
            f"{source}: {count:,} images is over the limit of {limits.max_images:,}. Use a subset."
        )
    array_bytes = count * channels * height * width * 4
    if array_bytes > limits.max_array_bytes:
        raise DatasetError(
            f"{source}: {count:,} images of {channels}×{height}×{width} need {size_text(array_bytes)}, "
            f"over the {size_text(limits.max_array_bytes)} limit. Use fewer or smaller images."
        )


def resize(batch: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float (N, C, H, W) batch to size=(H, W) with antialiased bilinear filtering."""
    if batch.shape[2:] == size:
        return batch
    tensor = torch.from_numpy(np.ascontiguousarray(batch))
    resized = F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized.numpy()


def nchw_layout(
    shape: tuple[int, ...], source: str
) -> tuple[tuple[int, int, int, int], tuple[int, ...] | None]:
    """((N, C, H, W), a chunk's transpose axes or None) for (N, H, W), (N, H, W, C) or (N, C, H, W) arrays."""
    if len(shape) == 3:
        return (shape[0], 1, shape[1], shape[2]), None
    if len(shape) == 4 and shape[1] in (1, 3) and shape[3] not in (1, 3):
        return (shape[0], shape[1], shape[2], shape[3]), None
    if len(shape) == 4 and shape[3] in (1, 3):
        return (shape[0], shape[3], shape[1], shape[2]), (0, 3, 1, 2)
    if len(shape) == 4:
        raise DatasetError(
            f"{source}: images have shape {shape}; a channel axis (second or last) must have 1 or 3 entries."
        )
    raise DatasetError(
        f"{source}: images have shape {shape} ({len(shape)} dimensions); expected (N, H, W), "
        "(N, H, W, C) or (N, C, H, W). Reshape flat vectors to (N, H, W)."
    )


def as_nchw(chunk: np.ndarray, transpose: tuple[int, ...] | None) -> np.ndarray:
    """A chunk of images as (n, C, H, W) given the layout's transpose."""
    if chunk.ndim == 3:
        return chunk[:, None]
    return chunk.transpose(transpose) if transpose else chunk


class UnitImageWriter:
    """The final (N, C, h, w) float32 array, checked against the caps, then filled chunk by chunk."""

    def __init__(
        self,
        nchw: tuple[int, int, int, int],
        dtype: np.dtype,
        source: str,
        limits: DataLimits,
        notes: list[str],
        budget: Budget,
    ) -> None:
        count, channels, height, width = nchw
        if dtype.kind not in "biuf":
            raise DatasetError(
                f"{source}: images have dtype {dtype}; store them as uint8 (0..255) or float ([0, 1])."
            )
        if channels not in (1, 3):
            raise DatasetError(
                f"{source}: images have {channels} channels; 1 (gray) or 3 (RGB) are supported."
            )
        self.fitted = check_sides(height, width, source, limits)
        check_size(count, channels, *self.fitted, source, limits)
        budget.spend_pixels(count * height * width)
        if self.fitted != (height, width):
            notes.append(f"downscaled {height}×{width} → {self.fitted[0]}×{self.fitted[1]}")
        self.source, self.notes, self.budget, self.dtype = source, notes, budget, dtype
        self.images = np.empty((count, channels, *self.fitted), dtype=np.float32)
        self.filled = 0
        self.low, self.high = np.inf, -np.inf
        # bool and uint8 have a known scale; other dtypes are written as they are and scaled at the end
        self.scale: float | None = 1.0 if dtype.kind == "b" else 1 / 255 if dtype == np.uint8 else None
        self.rows_per_chunk = max(1, limits.chunk_bytes // max(1, channels * height * width * 4))

    def add(self, raw: np.ndarray) -> None:
        """Convert and store the next (n, C, H, W) chunk of raw images."""
        self.budget.check_time()
        if self.scale is None:
            self._track_range(raw)
        chunk = raw.astype(np.float32)
        if self.scale is not None:
            chunk *= np.float32(self.scale)
        resized = resize(chunk, self.fitted)
        if self.scale is not None:
            np.clip(resized, 0.0, 1.0, out=resized)
        self.images[self.filled : self.filled + len(raw)] = resized
        self.filled += len(raw)

    def _track_range(self, raw: np.ndarray) -> None:
        """Refuse non-finite or impossible values as soon as a chunk shows them; remember the range."""
        if raw.dtype.kind == "f" and not np.isfinite(raw).all():
            raise DatasetError(
                f"{self.source}: images contain NaN or infinite values. Replace them before saving."
            )
        low, high = float(raw.min()), float(raw.max())
        self.low, self.high = min(self.low, low), max(self.high, high)
        if self.low < 0 or self.high > 255:
            raise DatasetError(
                f"{self.source}: pixel values range from {self.low:g} to {self.high:g}; expected [0, 1] or "
                "0..255. Rescale them."
            )

    def finish(self) -> np.ndarray:
        """The filled images, scaled into [0, 1] (0..255 floats and integers divided by 255)."""
        if self.filled != len(self.images):
            raise DatasetError(
                f"{self.source}: only {self.filled:,} of {len(self.images):,} images were read."
            )
        if self.scale is None:
            scale = 1.0 if self.dtype.kind == "f" and self.high <= 1 + 1e-6 else 1 / 255
            if self.dtype.kind == "f" and scale != 1.0:
                self.notes.append("pixel values were in 0..255; divided by 255")
            for start in range(0, len(self.images), self.rows_per_chunk):
                block = self.images[start : start + self.rows_per_chunk]
                if scale != 1.0:
                    np.multiply(block, np.float32(scale), out=block)
                np.clip(block, 0.0, 1.0, out=block)
        return self.images


def to_unit_images(
    raw: np.ndarray, source: str, limits: DataLimits, notes: list[str], budget: Budget
) -> np.ndarray:
    """An in-memory numeric (N, C, H, W) array as float32 images in [0, 1], downscaled to fit max_side."""
    writer = UnitImageWriter(tuple(int(v) for v in raw.shape), raw.dtype, source, limits, notes, budget)
    for start in range(0, len(raw), writer.rows_per_chunk):
        writer.add(raw[start : start + writer.rows_per_chunk])
    return writer.finish()


def integer_labels(raw: np.ndarray, count: int, source: str) -> np.ndarray:
    """Labels as an int64 (N,) array, refusing the wrong shape, non-integers and values int64 cannot hold."""
    if raw.shape != (count,):
        raise DatasetError(
            f"{source}: labels have shape {raw.shape} but there are {count:,} images; need one label per "
            "image."
        )
    if raw.dtype.kind == "b":
        return raw.astype(np.int64)
    if raw.dtype.kind in "iu":
        if raw.dtype.kind == "u" and raw.size and int(raw.max()) > _INT64_MAX:
            raise DatasetError(
                f"{source}: label {int(raw.max())} is too large to keep exactly; use labels below 2**63."
            )
        return raw.astype(np.int64)
    if raw.dtype.kind == "f" and np.isfinite(raw).all() and (raw == np.round(raw)).all():
        if raw.size and float(np.abs(raw).max()) > _EXACT_FLOAT_INT:
            raise DatasetError(
                f"{source}: float labels beyond ±2**53 are not exact whole numbers; store integers."
            )
        return raw.astype(np.int64)
    raise DatasetError(f"{source}: labels have dtype {raw.dtype} or non-integer values; store whole numbers.")


def label_classes(
    raw: np.ndarray, count: int, source: str, limits: DataLimits, notes: list[str]
) -> tuple[np.ndarray, list[str]]:
    """(labels as indices 0..K-1, class names): str of each label value present, in sorted order."""
    values = integer_labels(raw, count, source)
    present, indices = np.unique(values, return_inverse=True)
    if len(present) > limits.max_classes:
        raise DatasetError(
            f"{source}: {len(present):,} distinct labels, over the limit of {limits.max_classes:,} classes."
        )
    if not np.array_equal(present, np.arange(len(present))):
        notes.append(f"labels renumbered 0..{len(present) - 1}; class_names keeps the original values")
    return indices.astype(np.int64).reshape(count), [str(v) for v in present]
