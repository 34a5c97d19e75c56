"""npz:FILE and uploaded .npz — 'images' streamed from its .npy header in bounded chunks, never unpickled."""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import ArchiveError, DatasetError
from ..limits import Budget, DataLimits, size_text
from ..safe_archive import MemberStream, ReadBudget, checked_members, open_zip, read_member
from .convert import UnitImageWriter, as_nchw, integer_labels, label_classes, nchw_layout
from .dataset import ImageDataset, make_dataset

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_HEADER_ERRORS = (ValueError, SyntaxError, RecursionError, TypeError, OverflowError, EOFError, MemoryError)


def _npy_header(stream, name: str, source: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from a .npy header; object dtypes (pickles) and odd headers refused."""
    try:
        version = np.lib.format.read_magic(stream)
        if version not in _HEADER_READERS:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, fortran_order, dtype = _HEADER_READERS[version](stream)
    except ArchiveError:
        raise
    except _HEADER_ERRORS as err:
        raise DatasetError(
            f"{source}: '{name}' is not a .npy array ({str(err)[:200]}); pickled data and other formats "
            "are never loaded. Save plain numeric arrays with np.savez."
        ) from err
    if dtype.hasobject:
        raise DatasetError(
            f"{source}: '{name}' holds Python objects (pickled data), which are never loaded. "
            "Save plain numeric arrays (uint8 or float) with np.savez."
        )
    if dtype.fields is not None or dtype.subdtype is not None:
        raise DatasetError(f"{source}: '{name}' has a structured dtype {dtype}; save a plain numeric array.")
    return tuple(int(v) for v in shape), bool(fortran_order), dtype


def _small_array(payload: bytes, name: str, source: str) -> np.ndarray:
    """A small .npy member (labels, class names) read whole after its header is checked against its size."""
    stream = io.BytesIO(payload)
    shape, fortran_order, dtype = _npy_header(stream, name, source)
    if len(shape) > 2 or any(side > 2**31 for side in shape):
        raise DatasetError(f"{source}: '{name}' has shape {shape}; expected one value per image or class.")
    declared = math.prod(shape) * dtype.itemsize
    if declared > len(payload):
        raise DatasetError(
            f"{source}: '{name}' declares shape {shape} ({size_text(declared)}) but holds "
            f"{size_text(len(payload))}; the file is corrupt. Save it again."
        )
    data = stream.read(declared)
    if len(data) != declared:
        raise DatasetError(
            f"{source}: '{name}' ends before the {size_text(declared)} its header declares; "
            "the file is corrupt. Save it again."
        )
    array = np.frombuffer(data, dtype=dtype, count=math.prod(shape)) if declared else np.empty(0, dtype)
    return array.reshape(shape, order="F" if fortran_order else "C")


def _stream_images(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    label: str,
    limits: DataLimits,
    notes: list[str],
    budget: Budget,
) -> np.ndarray:
    """The 'images' member converted chunk by chunk into the final float32 array."""
    stream = MemberStream(archive, info)
    try:
        shape, fortran_order, dtype = _npy_header(stream, "images", label)
        if not shape:
            raise DatasetError(
                f"{label}: 'images' is a single number, not an array of images. Save (N, H, W) images."
            )
        if math.prod(shape) == 0:
            raise DatasetError(f"{label}: the 'images' array is empty (shape {shape}). Save some images.")
        item_values = math.prod(shape[1:])
        declared = shape[0] * item_values * dtype.itemsize
        if declared > info.file_size:
            raise DatasetError(
                f"{label}: 'images' declares shape {shape} ({size_text(declared)}) but holds "
                f"{size_text(info.file_size)}; the file is corrupt. Save it again."
            )
        nchw, transpose = nchw_layout(shape, label)
        if fortran_order and len(shape) > 1:
            raise DatasetError(
                f"{label}: 'images' is stored in Fortran order; save np.ascontiguousarray(images)."
            )
        writer = UnitImageWriter(nchw, dtype, label, limits, notes, budget)
        for start in range(0, shape[0], writer.rows_per_chunk):
            rows = min(writer.rows_per_chunk, shape[0] - start)
            data = stream.read(rows * item_values * dtype.itemsize)
            if len(data) != rows * item_values * dtype.itemsize:
                raise DatasetError(f"{label}: 'images' ends early; the file is corrupt. Save it again.")
            chunk = np.frombuffer(data, dtype=dtype).reshape(rows, *shape[1:])
            writer.add(as_nchw(chunk, transpose))
        return writer.finish()
    finally:
        stream.close()


def _class_names(names: np.ndarray, labels: np.ndarray, label: str, limits: DataLimits) -> list[str]:
    """The 'class_names' as strings, refusing a wrong shape, too many or too long names, or missing ones."""
    if names.ndim != 1 or names.dtype.kind not in "US":
        raise DatasetError(
            f"{label}: 'class_names' must be a 1-D array of strings, got {names.dtype} {names.shape}."
        )
    if len(names) > limits.max_classes:
        raise DatasetError(
            f"{label}: {len(names):,} class names, over the limit of {limits.max_classes:,} classes."
        )
    if labels.min() < 0 or labels.max() >= len(names):
        raise DatasetError(
            f"{label}: 'class_names' must be a 1-D string array with a name for every label "
            f"0..{labels.max()}."
        )
    try:
        text = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names.tolist()]
    except UnicodeDecodeError as err:
        raise DatasetError(f"{label}: 'class_names' are not UTF-8 text ({err}).") from err
    if any(len(name) > limits.max_class_name_chars for name in text):
        raise DatasetError(
            f"{label}: a class name is over {limits.max_class_name_chars} characters; shorten it."
        )
    return text


def npz_dataset(source: Path | bytes, title: str, label: str, spec: str, limits: DataLimits) -> ImageDataset:
    """An ImageDataset from an .npz (path or bytes): small arrays checked first, then images streamed."""
    notes: list[str] = []
    budget = Budget(label, limits)
    try:
        with open_zip(source, limits.max_zip_members, limits.max_uncompressed_bytes) as archive:
            members = {
                info.filename: info for info in checked_members(archive, limits.max_uncompressed_bytes)
            }
            if "images.npy" not in members:
                found = ", ".join(name.removesuffix(".npy") for name in members)[:300] or "nothing"
                raise DatasetError(
                    f"{label}: no 'images' array (found: {found}). Save with np.savez(path, images=..., "
                    "labels=...)."
                )
            small = {}
            for key in ("labels", "class_names", "factors", "factor_names"):
                info = members.get(f"{key}.npy")
                if info is None:
                    continue
                if info.file_size > limits.max_file_bytes:
                    raise DatasetError(
                        f"{label}: '{key}' unpacks to {size_text(info.file_size)}, over the "
                        f"{size_text(limits.max_file_bytes)} limit for it."
                    )
                payload = read_member(archive, info, ReadBudget(limits.max_file_bytes))
                small[key] = _small_array(payload, key, label)
            count = _peek_count(archive, members["images.npy"], label)
            labels, class_names = _labels(
                small, count, label, limits, notes
            )  # checked before any pixel is read
            images = _stream_images(archive, members["images.npy"], label, limits, notes, budget)
    except ArchiveError as err:
        raise DatasetError(f"{label}: not a usable .npz: {err}. Save it again with np.savez.") from err
    dataset = make_dataset(title, images, labels, class_names, spec, notes)
    extra = _npz_factors(small, len(dataset), label, limits)
    return replace(dataset, **extra) if extra else dataset


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
        raise DatasetError(
            f"{label}: 'factors' has shape {raw.shape} but there are {count:,} images; "
            "save one row of factor values per image, shape (N, F)."
        )
    if raw.dtype.kind not in "biuf":
        raise DatasetError(
            f"{label}: 'factors' has dtype {raw.dtype}; store numbers (encode categories as 0, 1, …)."
        )
    if not 1 <= raw.shape[1] <= limits.max_factors:
        raise DatasetError(
            f"{label}: {raw.shape[1]:,} factor columns; between 1 and {limits.max_factors} are allowed."
        )
    with np.errstate(over="ignore", invalid="ignore"):  # values past float32 become inf, refused just below
        factors = raw.astype(np.float32)
    if not np.isfinite(factors).all():
        raise DatasetError(
            f"{label}: 'factors' contains NaN or infinite values (or values too large for float32). "
            "Replace them before saving."
        )
    names = arrays.get("factor_names")
    if names is None:
        return {"factors": factors, "factor_names": tuple(f"factor {i}" for i in range(factors.shape[1]))}
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) != factors.shape[1]:
        raise DatasetError(
            f"{label}: 'factor_names' must be a 1-D string array with one name per factor column "
            f"({factors.shape[1]}), got shape {names.shape} {names.dtype}."
        )
    clean = tuple(str(n).strip()[:40] or f"factor {i}" for i, n in enumerate(names.tolist()))
    return {"factors": factors, "factor_names": clean}


def _peek_count(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> int:
    """The number of images the 'images' header declares (its first axis), read without its data."""
    stream = MemberStream(archive, info)
    try:
        shape, _, _ = _npy_header(stream, "images", label)
    finally:
        stream.close()
    return shape[0] if shape else 0


def _labels(
    small: dict[str, np.ndarray], count: int, label: str, limits: DataLimits, notes: list[str]
) -> tuple[np.ndarray | None, list[str]]:
    """(labels, class names) from the optional 'labels' and 'class_names'; (None, []) without labels."""
    if "labels" not in small:
        return None, []
    if "class_names" not in small:
        return label_classes(small["labels"], count, label, limits, notes)
    labels = integer_labels(small["labels"], count, label)
    return labels, _class_names(small["class_names"], labels, label, limits)


def load_npz(path: Path, spec: str, limits: DataLimits, root: Path | None = None) -> ImageDataset:
    """An .npz file on disk (its path already confined by the spec layer)."""
    if not path.is_file():
        raise DatasetError(f"npz: file not found: {path}.")
    return npz_dataset(path, path.stem, str(path), spec, limits)
