"""Dataset loading: every source becomes (N, C, H, W) float32 images in [0, 1] with optional labels.

Sources are named by a spec string (see DATASET_SPECS_HELP). Files are untrusted: archives are read
in memory under size caps (vae_core.safe_archive), arrays never unpickle, and every refusal is a
DatasetError whose message says what is wrong and what to do.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from .safe_archive import (
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    ArchiveError,
    ReadBudget,
    checked_members,
    open_zip,
    read_idx,
    read_member,
)

DATASET_SPECS_HELP = """\
digits            scikit-learn's 8x8 handwritten digits (1,797 images, no download)
mnist             MNIST digits, 70,000 at 28x28 (downloaded once into the cache folder)
fashion-mnist     Fashion-MNIST clothing, 70,000 at 28x28 (downloaded once)
kmnist            Kuzushiji-MNIST characters, 70,000 at 28x28 (downloaded once)
idx:DIR           MNIST-format IDX files in DIR: train-/t10k-images-idx3-ubyte[.gz], labels-idx1 optional
npz:FILE          .npz with 'images' (N,H,W), (N,H,W,C) or (N,C,H,W), C 1 or 3; optional 'labels' (N,)
images:DIR        PNG/JPEG files; each image's subfolder name is its class label
images:FILE.zip   the same, inside a zip archive
shapes[:N[:SIDE]] sprites with known factors (shape, scale, rotation, x, y), generated offline; default 10,000
                  at 32x32; npz files may add 'factors' (N,F) and 'factor_names' (F,) for their own ground truth"""

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_IDX_SPLITS = ("train", "t10k")  # file order: train first, then test
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L")
_CHUNK = 4096  # images converted/resized per step, to bound temporary memory


class DatasetError(ValueError):
    """A dataset that cannot be loaded; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class DataLimits:
    """Caps that keep an oversized or hostile source from exhausting memory or time."""

    max_images: int = 70_000 * 2  # two MNISTs; more is refused
    max_side: int = 64  # larger images are downscaled to fit (aspect kept), with a note
    min_side: int = 8  # smaller sides are refused (the models need 8 pixels a side; config.MIN_SIDE)
    max_source_side: int = 4096  # larger images are refused before decoding
    max_upload_bytes: int = 200 * 2**20  # one .npz/.zip uploaded through the app
    max_zip_members: int = 200_000  # entries in one zip; also files scanned in an images: folder
    max_uncompressed_bytes: int = 2**30  # bytes read out of one zip, npz or images: folder
    max_classes: int = 1_000  # distinct labels / class folders
    max_array_bytes: int = 2**31  # the float32 image array handed back
    max_factors: int = 64  # columns of a 'factors' array (known generative factors per image)


DEFAULT_LIMITS = DataLimits()


@dataclass
class ImageDataset:
    """Images (N, C, H, W) float32 in [0, 1] with optional int64 labels and their class names."""

    images: np.ndarray  # (N, C, H, W) float32 in [0, 1], C in {1, 3}
    labels: np.ndarray | None  # (N,) int64, each an index into class_names; None when unlabelled
    class_names: list[str]  # index → name ([] when labels is None)
    name: str  # display name, e.g. "MNIST (10,000 images)"
    spec: str  # the spec it was loaded from
    notes: list[str] = field(default_factory=list)  # user-facing messages about what loading changed
    factors: np.ndarray | None = None  # (N, F) float32 known generative factors per image (shapes, npz), or None
    factor_names: tuple[str, ...] = ()  # one name per factor column (() when factors is None)

    def __post_init__(self) -> None:
        shape = self.images.shape
        if self.images.ndim != 4 or shape[1] not in (1, 3) or self.images.dtype != np.float32:
            raise DatasetError(f"images must be (N, C, H, W) float32 with C 1 or 3, got {shape} {self.images.dtype}")
        if self.labels is not None and self.labels.shape != (shape[0],):
            raise DatasetError(f"labels must have shape ({shape[0]},), got {self.labels.shape}")
        if self.factors is not None:
            if self.factors.ndim != 2 or self.factors.shape[0] != shape[0] or not np.isfinite(self.factors).all():
                raise DatasetError(f"factors must be finite (N, F) with N = {shape[0]}, got {self.factors.shape}")
            if len(self.factor_names) != self.factors.shape[1]:
                raise DatasetError(f"{self.factors.shape[1]} factors need as many names, got {len(self.factor_names)}")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        channels, height, width = self.images.shape[1:]
        return int(channels), int(height), int(width)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def default_cache_dir() -> Path:
    """Where downloaded datasets live: $LATENT_EXPLORER_DATA, else ~/.cache/latent-explorer/datasets."""
    configured = os.environ.get("LATENT_EXPLORER_DATA")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "latent-explorer" / "datasets"


def split_indices(n: int, val_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices: the last val_fraction of images, in file order, are validation."""
    if n < 0 or not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"need n >= 0 and 0 <= val_fraction < 1, got n={n}, val_fraction={val_fraction}")
    n_val = int(n * val_fraction + 0.5)
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)  # both parts non-empty
    return np.arange(n - n_val, dtype=np.int64), np.arange(n - n_val, n, dtype=np.int64)


# ---------------------------------------------------------------- arrays → images


def _fit_within(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) scaled down, aspect kept, so the longer side is at most max_side."""
    longest = max(height, width)
    if longest <= max_side:
        return height, width
    scale = max_side / longest
    return max(1, round(height * scale)), max(1, round(width * scale))


def _check_sides(height: int, width: int, source: str, limits: DataLimits) -> tuple[int, int]:
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
    fitted = _fit_within(height, width, limits.max_side)
    if min(fitted) < limits.min_side:
        raise DatasetError(
            f"{source}: {height}×{width} images shrunk to fit {limits.max_side} pixels would be "
            f"{fitted[0]}×{fitted[1]}, under {limits.min_side} pixels a side. Crop them closer to square."
        )
    return fitted


def _check_size(count: int, channels: int, height: int, width: int, source: str, limits: DataLimits) -> None:
    """Refuse empty datasets and ones over the image-count or memory caps."""
    if count == 0:
        raise DatasetError(f"{source}: there are no images. Provide at least one.")
    if count > limits.max_images:
        raise DatasetError(f"{source}: {count:,} images is over the limit of {limits.max_images:,}. Use a subset.")
    array_bytes = count * channels * height * width * 4
    if array_bytes > limits.max_array_bytes:
        raise DatasetError(
            f"{source}: {count:,} images of {channels}×{height}×{width} need {_size_text(array_bytes)}, "
            f"over the {_size_text(limits.max_array_bytes)} limit. Use fewer or smaller images."
        )


def _size_text(n_bytes: int) -> str:
    """A byte count for messages: '900 bytes', '12.5 MiB', '2.0 GiB'."""
    if n_bytes < 2**20:
        return f"{n_bytes:,} bytes"
    return f"{n_bytes / 2**20:.1f} MiB" if n_bytes < 2**30 else f"{n_bytes / 2**30:.1f} GiB"


def _resize(batch: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float (N, C, H, W) batch to size=(H, W) with antialiased bilinear filtering."""
    if batch.shape[2:] == size:
        return batch
    tensor = torch.from_numpy(np.ascontiguousarray(batch))
    resized = F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized.numpy()


def _pixel_scale(raw: np.ndarray, source: str, notes: list[str]) -> float:
    """The factor that maps raw pixel values into [0, 1], refusing non-finite or out-of-range values."""
    if raw.dtype == np.bool_:
        return 1.0
    if raw.dtype == np.uint8:
        return 1 / 255
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise DatasetError(f"{source}: images contain NaN or infinite values. Replace them before saving.")
    low, high = float(raw.min()), float(raw.max())
    if raw.dtype.kind == "f" and low >= 0 and high <= 1 + 1e-6:
        return 1.0
    if low >= 0 and high <= 255:
        if raw.dtype.kind == "f":
            notes.append("pixel values were in 0..255; divided by 255")
        return 1 / 255
    raise DatasetError(
        f"{source}: pixel values range from {low:g} to {high:g}; expected [0, 1] or 0..255. Rescale them."
    )


def _to_unit_images(raw: np.ndarray, source: str, limits: DataLimits, notes: list[str]) -> np.ndarray:
    """Turn a numeric (N, C, H, W) array into float32 images in [0, 1], downscaled to fit max_side."""
    if raw.dtype.kind not in "biuf":
        raise DatasetError(f"{source}: images have dtype {raw.dtype}; store them as uint8 (0..255) or float ([0, 1]).")
    count, channels, height, width = raw.shape
    if channels not in (1, 3):
        raise DatasetError(f"{source}: images have {channels} channels; 1 (gray) or 3 (RGB) are supported.")
    fitted = _check_sides(height, width, source, limits)
    _check_size(count, channels, *fitted, source, limits)
    scale = _pixel_scale(raw, source, notes)
    if fitted != (height, width):
        notes.append(f"downscaled {height}×{width} → {fitted[0]}×{fitted[1]}")
    images = np.empty((count, channels, *fitted), dtype=np.float32)
    for start in range(0, count, _CHUNK):
        chunk = raw[start : start + _CHUNK].astype(np.float32) * np.float32(scale)
        images[start : start + _CHUNK] = np.clip(_resize(chunk, fitted), 0.0, 1.0)
    return images


def _as_nchw(raw: np.ndarray, source: str) -> np.ndarray:
    """A view of (N, H, W), (N, H, W, C) or (N, C, H, W) images as (N, C, H, W), C in {1, 3}."""
    if raw.ndim == 3:
        return raw[:, None]
    if raw.ndim == 4 and raw.shape[1] in (1, 3) and raw.shape[3] not in (1, 3):
        return raw
    if raw.ndim == 4 and raw.shape[3] in (1, 3):
        return raw.transpose(0, 3, 1, 2)
    if raw.ndim == 4:
        raise DatasetError(
            f"{source}: images have shape {raw.shape}; a channel axis (second or last) must have 1 or 3 entries."
        )
    raise DatasetError(
        f"{source}: images have shape {raw.shape} ({raw.ndim} dimensions); expected (N, H, W), "
        "(N, H, W, C) or (N, C, H, W). Reshape flat vectors to (N, H, W)."
    )


def _integer_labels(raw: np.ndarray, count: int, source: str) -> np.ndarray:
    """Labels as an int64 (N,) array, refusing the wrong shape or non-integer values."""
    if raw.shape != (count,):
        raise DatasetError(
            f"{source}: labels have shape {raw.shape} but there are {count:,} images; need one label per image."
        )
    if raw.dtype.kind in "biu":
        return raw.astype(np.int64)
    if raw.dtype.kind == "f" and np.isfinite(raw).all() and (raw == np.round(raw)).all():
        return raw.astype(np.int64)
    raise DatasetError(f"{source}: labels have dtype {raw.dtype} or non-integer values; store whole numbers.")


def _label_classes(
    raw: np.ndarray, count: int, source: str, limits: DataLimits, notes: list[str]
) -> tuple[np.ndarray, list[str]]:
    """(labels as indices 0..K-1, class names): str of each label value present, in sorted order."""
    values = _integer_labels(raw, count, source)
    present, indices = np.unique(values, return_inverse=True)
    if len(present) > limits.max_classes:
        raise DatasetError(
            f"{source}: {len(present):,} distinct labels, over the limit of {limits.max_classes:,} classes."
        )
    if not np.array_equal(present, np.arange(len(present))):
        notes.append(f"labels renumbered 0..{len(present) - 1}; class_names keeps the original values")
    return indices.astype(np.int64).reshape(count), [str(v) for v in present]


def _dataset(
    title: str, images: np.ndarray, labels: np.ndarray | None, class_names: list[str], spec: str, notes: list[str]
) -> ImageDataset:
    """An ImageDataset with a display name that counts its images."""
    names = class_names if labels is not None else []
    return ImageDataset(images, labels, names, f"{title} ({len(images):,} images)", spec, notes)


# ---------------------------------------------------------------- digits and torchvision datasets


def _load_digits(spec: str, limits: DataLimits) -> ImageDataset:
    """scikit-learn's bundled 8×8 digits (values 0..16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    notes: list[str] = []
    images = _to_unit_images(digits.images[:, None] / 16.0, "digits", limits, notes)
    return _dataset("Digits", images, digits.target.astype(np.int64), [str(d) for d in range(10)], spec, notes)


@dataclass(frozen=True)
class _TorchvisionSource:
    """A torchvision IDX dataset: its title, class (also its folder under the cache) and class names."""

    title: str
    class_name: str
    class_names: tuple[str, ...]


_TORCHVISION = {
    "mnist": _TorchvisionSource("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "fashion-mnist": _TorchvisionSource(
        "Fashion-MNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "kmnist": _TorchvisionSource("KMNIST", "KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


def _download_torchvision(source: _TorchvisionSource, root: Path) -> Exception | None:
    """Download all four IDX files with torchvision into root/<class>/raw; the error when that fails."""
    import torchvision.datasets

    dataset_class = getattr(torchvision.datasets, source.class_name)
    try:
        dataset_class(root=str(root), train=False, download=True)
    except (OSError, RuntimeError) as err:  # URLError is an OSError; torchvision raises RuntimeError on bad files
        return err
    return None


def _load_torchvision(
    key: str, spec: str, cache_dir: str | Path | None, download: bool, limits: DataLimits
) -> ImageDataset:
    """MNIST, Fashion-MNIST or KMNIST, train then test, from the cache (downloaded there when allowed)."""
    source = _TORCHVISION[key]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    raw_folder = root / source.class_name / "raw"
    download_error = None
    if download and not _all_idx_files_present(raw_folder):
        download_error = _download_torchvision(source, root)
    if not any(_find_idx_file(raw_folder, split, "images") for split in _IDX_SPLITS):
        reason = f"downloading failed ({download_error})" if download_error else "downloading is off"
        raise DatasetError(
            f"{source.title} is not in {raw_folder} and {reason}. Put train-images-idx3-ubyte, "
            f"train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end in .gz) "
            f"into {raw_folder}, or load any folder of IDX files with idx:DIR."
        )
    notes: list[str] = []
    raw_images, raw_labels = _read_idx_folder(raw_folder, limits, notes)
    if download_error:
        notes.append(f"download failed ({download_error}); using the files already in {raw_folder}")
    if raw_labels is not None and raw_labels.max() >= len(source.class_names):
        raise DatasetError(
            f"{raw_folder}: labels go up to {raw_labels.max()}, but {source.title} has "
            f"{len(source.class_names)} classes. Replace the label files."
        )
    images = _to_unit_images(raw_images[:, None], str(raw_folder), limits, notes)
    labels = raw_labels.astype(np.int64) if raw_labels is not None else None
    return _dataset(source.title, images, labels, list(source.class_names), spec, notes)


# ---------------------------------------------------------------- idx:DIR


def _find_idx_file(folder: Path, split: str, kind: str) -> Path | None:
    """The split's images or labels file in folder (dash or dot naming, raw preferred over .gz)."""
    dims = 3 if kind == "images" else 1
    for stem in (f"{split}-{kind}-idx{dims}-ubyte", f"{split}-{kind}.idx{dims}-ubyte"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def _all_idx_files_present(folder: Path) -> bool:
    """True when images and labels of both splits are in folder."""
    return all(_find_idx_file(folder, split, kind) for split in _IDX_SPLITS for kind in ("images", "labels"))


def _read_idx_file(path: Path, magic: int, limits: DataLimits) -> np.ndarray:
    """One IDX file's uint8 array, with format problems turned into DatasetError."""
    try:
        return read_idx(path, magic, limits.max_images, limits.max_source_side, limits.max_uncompressed_bytes)
    except ArchiveError as err:
        raise DatasetError(f"{path}: {err}. Replace it with an intact MNIST-format IDX file.") from err


def _read_idx_folder(folder: Path, limits: DataLimits, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, H, W) uint8 images and (N,) uint8 labels or None from a folder's train then t10k IDX files."""
    image_parts, label_parts, splits_found = [], [], []
    for split in _IDX_SPLITS:
        image_path = _find_idx_file(folder, split, "images")
        if image_path is None:
            continue
        splits_found.append(split)
        images = _read_idx_file(image_path, IDX_IMAGES_MAGIC, limits)
        label_path = _find_idx_file(folder, split, "labels")
        labels = _read_idx_file(label_path, IDX_LABELS_MAGIC, limits) if label_path else None
        if labels is not None and len(labels) != len(images):
            raise DatasetError(
                f"{label_path}: {len(labels):,} labels for {len(images):,} images in {image_path.name}. "
                "Use the label file that belongs to these images."
            )
        if image_parts and images.shape[1:] != image_parts[0].shape[1:]:
            raise DatasetError(f"{folder}: train and t10k images differ in size; keep one size per folder.")
        image_parts.append(images)
        label_parts.append(labels)
    if not image_parts:
        raise DatasetError(
            f"{folder}: no IDX image files. Expected train-images-idx3-ubyte and/or t10k-images-idx3-ubyte "
            "(optionally .gz), with matching *-labels-idx1-ubyte files."
        )
    if len(splits_found) < len(_IDX_SPLITS):
        notes.append(f"only the {splits_found[0]} split was found in {folder}")
    if any(labels is None for labels in label_parts):
        if any(labels is not None for labels in label_parts):
            notes.append("one split has no label file, so labels were dropped")
        return np.concatenate(image_parts), None
    return np.concatenate(image_parts), np.concatenate(label_parts)


def _load_idx(folder: Path, spec: str, limits: DataLimits) -> ImageDataset:
    """MNIST-format IDX files in a folder, train split first."""
    if not folder.is_dir():
        raise DatasetError(f"idx: folder not found: {folder}. Give the folder that holds the IDX files.")
    notes: list[str] = []
    raw_images, raw_labels = _read_idx_folder(folder, limits, notes)
    images = _to_unit_images(raw_images[:, None], str(folder), limits, notes)
    labels, class_names = (
        (None, []) if raw_labels is None else _label_classes(raw_labels, len(images), str(folder), limits, notes)
    )
    return _dataset(folder.name, images, labels, class_names, spec, notes)


# ---------------------------------------------------------------- npz:FILE


def _load_npy(payload: bytes, name: str, source: str) -> np.ndarray:
    """One .npy member as an array, its header checked first: object dtypes and lying shapes are refused."""
    stream = io.BytesIO(payload)
    header_readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(stream)
        if version not in header_readers:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, _, dtype = header_readers[version](stream)
    except ValueError as err:
        raise DatasetError(
            f"{source}: '{name}' is not a .npy array ({err}); pickled data and other formats are never loaded. "
            "Save plain numeric arrays with np.savez."
        ) from err
    if dtype.hasobject:
        raise DatasetError(
            f"{source}: '{name}' holds Python objects (pickled data), which are never loaded. "
            "Save plain numeric arrays (uint8 or float) with np.savez."
        )
    declared_bytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared_bytes > len(payload):
        raise DatasetError(
            f"{source}: '{name}' declares shape {shape} ({_size_text(declared_bytes)}) but holds "
            f"{_size_text(len(payload))}; the file is corrupt. Save it again."
        )
    stream.seek(0)
    try:
        return np.load(stream, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DatasetError(f"{source}: '{name}' is not a valid .npy array ({err}). Save it again.") from err


def _read_npz_arrays(source: Path | bytes, label: str, limits: DataLimits) -> dict[str, np.ndarray]:
    """The 'images', 'labels' and 'class_names' arrays of an .npz, read in memory under the limits."""
    try:
        with open_zip(source, limits.max_zip_members) as archive:
            members = {info.filename: info for info in checked_members(archive, limits.max_uncompressed_bytes)}
            if "images.npy" not in members:
                found = ", ".join(name.removesuffix(".npy") for name in members) or "nothing"
                raise DatasetError(
                    f"{label}: no 'images' array (found: {found}). Save with np.savez(path, images=..., labels=...)."
                )
            budget = ReadBudget(limits.max_uncompressed_bytes)
            return {
                key: _load_npy(read_member(archive, members[f"{key}.npy"], budget), key, label)
                for key in ("images", "labels", "class_names", "factors", "factor_names")
                if f"{key}.npy" in members
            }
    except ArchiveError as err:
        raise DatasetError(f"{label}: not a usable .npz: {err}. Save it again with np.savez.") from err


def _npz_factors(arrays: dict[str, np.ndarray], count: int, label: str, limits: DataLimits) -> dict:
    """The optional 'factors' (N, F) and 'factor_names' (F,) of an .npz as ImageDataset fields, checked."""
    if "factors" not in arrays:
        if "factor_names" in arrays:
            raise DatasetError(f"{label}: 'factor_names' without a 'factors' array. Save both, or neither.")
        return {}
    raw = arrays["factors"]
    if raw.ndim == 1:
        raw = raw[:, None]
    if raw.ndim != 2 or raw.shape[0] != count:
        raise DatasetError(f"{label}: 'factors' has shape {raw.shape} but there are {count:,} images; "
                           "save one row of factor values per image, shape (N, F).")
    if raw.dtype.kind not in "biuf":
        raise DatasetError(f"{label}: 'factors' has dtype {raw.dtype}; store numbers (encode categories as 0, 1, …).")
    if not 1 <= raw.shape[1] <= limits.max_factors:
        raise DatasetError(f"{label}: {raw.shape[1]:,} factor columns; between 1 and {limits.max_factors} are allowed.")
    with np.errstate(over="ignore", invalid="ignore"):  # values past float32 become inf, refused just below
        factors = raw.astype(np.float32)
    if not np.isfinite(factors).all():
        raise DatasetError(f"{label}: 'factors' contains NaN or infinite values (or values too large for float32). "
                           "Replace them before saving.")
    names = arrays.get("factor_names")
    if names is None:
        return {"factors": factors, "factor_names": tuple(f"factor {i}" for i in range(factors.shape[1]))}
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) != factors.shape[1]:
        raise DatasetError(f"{label}: 'factor_names' must be a 1-D string array with one name per factor column "
                           f"({factors.shape[1]}), got shape {names.shape} {names.dtype}.")
    clean = tuple(str(n).strip()[:40] or f"factor {i}" for i, n in enumerate(names.tolist()))
    return {"factors": factors, "factor_names": clean}


def _npz_dataset(arrays: dict[str, np.ndarray], title: str, label: str, spec: str, limits: DataLimits) -> ImageDataset:
    """An ImageDataset from an .npz's arrays, checking every one."""
    dataset = _npz_images_labels(arrays, title, label, spec, limits)
    extra = _npz_factors(arrays, len(dataset), label, limits)
    return replace(dataset, **extra) if extra else dataset


def _npz_images_labels(arrays: dict[str, np.ndarray], title: str, label: str, spec: str,
                       limits: DataLimits) -> ImageDataset:
    """An ImageDataset from an .npz's images and labels, checking every one."""
    notes: list[str] = []
    if arrays["images"].size == 0:
        raise DatasetError(f"{label}: the 'images' array is empty (shape {arrays['images'].shape}). Save some images.")
    images = _to_unit_images(_as_nchw(arrays["images"], label), label, limits, notes)
    if "labels" not in arrays:
        return _dataset(title, images, None, [], spec, notes)
    if "class_names" not in arrays:
        labels, class_names = _label_classes(arrays["labels"], len(images), label, limits, notes)
        return _dataset(title, images, labels, class_names, spec, notes)
    labels = _integer_labels(arrays["labels"], len(images), label)
    names = arrays["class_names"]
    if names.ndim != 1 or names.dtype.kind not in "US" or labels.min() < 0 or labels.max() >= len(names):
        raise DatasetError(
            f"{label}: 'class_names' must be a 1-D string array with a name for every label 0..{labels.max()}."
        )
    return _dataset(title, images, labels, [str(n) for n in names.tolist()], spec, notes)


def _load_npz(path: Path, spec: str, limits: DataLimits) -> ImageDataset:
    """An .npz file on disk."""
    if not path.is_file():
        raise DatasetError(f"npz: file not found: {path}.")
    return _npz_dataset(_read_npz_arrays(path, str(path), limits), path.stem, str(path), spec, limits)


# ---------------------------------------------------------------- images:DIR and images:FILE.zip


def _is_image_name(relative: str) -> bool:
    """True for a PNG/JPEG name that is not hidden or macOS metadata."""
    parts = PurePosixPath(relative).parts
    hidden = any(part.startswith(".") or part == "__MACOSX" for part in parts)
    return not hidden and relative.lower().endswith(_IMAGE_SUFFIXES)


def _folder_files(folder: Path, limits: DataLimits) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(relative path, bytes) of every image under folder, in sorted order, and the other files' paths."""
    images: list[tuple[str, bytes]] = []
    others: list[str] = []
    remaining = limits.max_uncompressed_bytes
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")  # walk order; skip metadata
        for name in sorted(files):
            if len(images) + len(others) >= limits.max_zip_members:
                raise DatasetError(f"{folder}: more than {limits.max_zip_members:,} files. Use a smaller folder.")
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            if not _is_image_name(relative):
                others.append(relative)
                continue
            remaining -= path.stat().st_size
            if remaining < 0:
                raise DatasetError(
                    f"{folder}: image files add up to more than {limits.max_uncompressed_bytes:,} bytes. "
                    "Use fewer or smaller images."
                )
            images.append((relative, path.read_bytes()))
    return images, others


def _zip_files(source: Path | bytes, label: str, limits: DataLimits) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(member name, bytes) of every image in a zip, in sorted order, and the other members' names."""
    images: list[tuple[str, bytes]] = []
    others: list[str] = []
    try:
        with open_zip(source, limits.max_zip_members) as archive:
            budget = ReadBudget(limits.max_uncompressed_bytes)
            for info in sorted(checked_members(archive, limits.max_uncompressed_bytes), key=lambda i: i.filename):
                if _is_image_name(info.filename):
                    images.append((info.filename, read_member(archive, info, budget)))
                else:
                    others.append(info.filename)
    except ArchiveError as err:
        raise DatasetError(f"{label}: the zip is refused: {err}.") from err
    return _strip_common_folder(images), others


def _strip_common_folder(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Drop one top folder shared by every file (zipping a folder usually wraps it in one)."""
    tops = {PurePosixPath(name).parts[0] for name, _ in files if len(PurePosixPath(name).parts) > 1}
    if len(tops) != 1 or any(len(PurePosixPath(name).parts) == 1 for name, _ in files):
        return files
    return [(PurePosixPath(*PurePosixPath(name).parts[1:]).as_posix(), payload) for name, payload in files]


def _interleave_by_class(labels: list[int]) -> list[int]:
    """Order indices so each class is spread evenly; any tail (the validation split) keeps class proportions."""
    counts = Counter(labels)
    seen: Counter[int] = Counter()
    keys = []
    for index, label in enumerate(labels):
        keys.append(((seen[label] + 0.5) / counts[label], label, index))
        seen[label] += 1
    return [index for *_, index in sorted(keys)]


def _open_image(payload: bytes, source: str) -> Image.Image | None:
    """The PNG/JPEG image (header read, pixels not yet decoded), or None when it is not one."""
    try:
        return Image.open(io.BytesIO(payload), formats=("PNG", "JPEG"))
    except Image.DecompressionBombError as err:
        raise DatasetError(f"{source}: {err} Shrink the image before loading.") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def _decode(image: Image.Image, channels: int) -> np.ndarray | None:
    """Pixels as float32 (C, H, W) in [0, 1] (alpha dropped), or None when the file is corrupt."""
    try:
        if image.mode in _SIXTEEN_BIT_MODES:
            gray = np.asarray(image, dtype=np.float32) / 65535.0
            pixels = np.repeat(gray[None], channels, axis=0)
        elif channels == 1:
            pixels = np.asarray(image.convert("L"), dtype=np.float32)[None] / 255.0
        else:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return np.clip(pixels, 0.0, 1.0)


def _image_labels(
    names: list[str], label: str, limits: DataLimits, notes: list[str]
) -> tuple[list[int] | None, list[str]]:
    """(label index per file, sorted class names) from each file's top folder; (None, []) if any lacks one."""
    folders = [PurePosixPath(name).parts[0] if len(PurePosixPath(name).parts) > 1 else None for name in names]
    if all(folder is None for folder in folders):
        return None, []
    if any(folder is None for folder in folders):
        notes.append("some images are not inside a class folder, so no labels were used")
        return None, []
    class_names = sorted(set(folders))
    if len(class_names) > limits.max_classes:
        raise DatasetError(f"{label}: {len(class_names):,} class folders, over the limit of {limits.max_classes:,}.")
    index = {name: i for i, name in enumerate(class_names)}
    return [index[folder] for folder in folders], class_names


def _images_dataset(
    files: list[tuple[str, bytes]], others: list[str], title: str, label: str, spec: str, limits: DataLimits
) -> ImageDataset:
    """An ImageDataset from image files: labels from folders, one size, gray or RGB, downscaled to fit."""
    notes: list[str] = []
    if others:
        notes.append(f"skipped {len(others):,} non-image files (e.g. {others[0]})")
    opened = [(name, _open_image(payload, f"{label}: {name}")) for name, payload in files]
    unreadable = [name for name, image in opened if image is None]
    readable = [(name, image) for name, image in opened if image is not None]
    if not readable:
        skipped = (
            f"; skipped {len(others) + len(unreadable):,} other or unreadable files" if others or unreadable else ""
        )
        raise DatasetError(f"{label}: no readable PNG or JPEG images{skipped}. Add .png/.jpg files.")
    for name, image in readable:
        _check_sides(image.height, image.width, f"{label}: {name}", limits)
    label_of, class_names = _image_labels([name for name, _ in readable], label, limits, notes)
    order = _interleave_by_class(label_of) if label_of is not None else list(range(len(readable)))
    channels = 1 if all(image.mode in _GRAY_MODES for _, image in readable) else 3
    size_counts = Counter((image.height, image.width) for _, image in readable)
    common = max(size_counts, key=lambda size: size_counts[size])  # ties: the first size seen
    fitted = _check_sides(*common, label, limits)
    _check_size(len(readable), channels, *fitted, label, limits)
    if len(size_counts) > 1:
        others_count = len(readable) - size_counts[common]
        notes.append(f"resized {others_count:,} images to {common[0]}×{common[1]}, the most common size")
    if fitted != common:
        notes.append(f"downscaled {common[0]}×{common[1]} → {fitted[0]}×{fitted[1]}")
    images = np.empty((len(readable), channels, *fitted), dtype=np.float32)
    kept: list[int] = []
    for position in order:
        name, image = readable[position]
        pixels = _decode(image, channels)
        image.close()  # frees the decoded pixels: only one full-size image is held at a time
        if pixels is None:
            unreadable.append(name)
            continue
        images[len(kept)] = np.clip(_resize(pixels[None], fitted)[0], 0.0, 1.0)
        kept.append(position)
    if unreadable:
        notes.append(f"skipped {len(unreadable):,} unreadable image files (e.g. {unreadable[0]})")
    if not kept:
        raise DatasetError(f"{label}: none of the images could be decoded; the files are corrupt.")
    labels = np.array([label_of[p] for p in kept], dtype=np.int64) if label_of is not None else None
    return _dataset(title, images[: len(kept)], labels, class_names, spec, notes)


def _load_images(path: Path, spec: str, limits: DataLimits) -> ImageDataset:
    """A folder or .zip of PNG/JPEG images."""
    if path.is_dir():
        files, others = _folder_files(path, limits)
    elif path.is_file():
        files, others = _zip_files(path, str(path), limits)
    else:
        raise DatasetError(f"images: no folder or .zip file at {path}.")
    return _images_dataset(files, others, path.stem if path.is_file() else path.name, str(path), spec, limits)


# ---------------------------------------------------------------- public entry points

_PATH_LOADERS = {"idx": _load_idx, "npz": _load_npz, "images": _load_images}


def spec_root_from_env() -> Path | None:
    """The folder that path specs must stay inside: $LATENT_EXPLORER_SPEC_ROOT, or None (no restriction)."""
    configured = os.environ.get("LATENT_EXPLORER_SPEC_ROOT", "").strip()
    return Path(configured).expanduser() if configured else None


def _within_root(location: str, root: Path) -> Path:
    """`location` resolved (links followed; relative means relative to root), refused when it leaves root."""
    base = root.resolve()
    path = Path(location).expanduser()
    resolved = (path if path.is_absolute() else base / path).resolve()
    if not resolved.is_relative_to(base):
        raise DatasetError(f"{location[:200]!r} is outside the data folder this server allows ({base}). "
                           f"Name a path inside it (relative paths start there), or upload the file instead.")
    return resolved


def load_dataset(
    spec: str,
    cache_dir: str | Path | None = None,
    download: bool = True,
    limits: DataLimits = DEFAULT_LIMITS,
    spec_root: str | Path | None = None,
) -> ImageDataset:
    """Load the dataset a spec names (see DATASET_SPECS_HELP); cache_dir/download only affect downloads.

    With `spec_root`, the idx:/npz:/images: paths must resolve (links followed) inside that folder.
    """
    key = spec.strip().lower()
    if key == "shapes" or key.startswith("shapes:"):
        from .shapes import load_shapes_spec  # shapes imports this module

        return load_shapes_spec(spec, limits)
    if key == "digits":
        return _load_digits(spec, limits)
    if key in _TORCHVISION:
        return _load_torchvision(key, spec, cache_dir, download, limits)
    prefix, colon, location = spec.strip().partition(":")
    loader = _PATH_LOADERS.get(prefix.lower())
    if colon and loader and location.strip():
        try:
            path = Path(location.strip()).expanduser()
            if spec_root is not None:
                path = _within_root(location.strip(), Path(spec_root))
            return loader(path, spec, limits)
        except OSError as exc:  # e.g. a name too long, a folder we may not read
            raise DatasetError(f"cannot read {location.strip()[:200]!r}: {exc.strerror or exc}. "
                               "Check the path, or upload the file instead.") from exc
    raise DatasetError(f"unknown dataset spec {spec!r}. Valid specs:\n{DATASET_SPECS_HELP}")


def load_uploaded(filename: str, payload: bytes, limits: DataLimits = DEFAULT_LIMITS) -> ImageDataset:
    """Load an uploaded .npz (arrays) or .zip (PNG/JPEG images) held in memory."""
    if len(payload) > limits.max_upload_bytes:
        raise DatasetError(
            f"{filename}: {len(payload):,} bytes is over the upload limit of {limits.max_upload_bytes:,}. "
            "Load it from disk with npz:FILE or images:FILE.zip instead."
        )
    stem, suffix = Path(filename).stem, Path(filename).suffix.lower()
    spec = f"upload:{filename}"
    if suffix == ".npz":
        return _npz_dataset(_read_npz_arrays(payload, filename, limits), stem, filename, spec, limits)
    if suffix == ".zip":
        files, others = _zip_files(payload, filename, limits)
        return _images_dataset(files, others, stem, filename, spec, limits)
    raise DatasetError(f"{filename}: upload a .npz (arrays) or a .zip of PNG/JPEG images.")
