"""images:DIR, images:FILE.zip and uploaded .zip — PNG/JPEG files, labelled by their folder.

Two passes, so memory holds one file at a time: the first reads every header (size, mode) and accounts
the decoded pixels against the budget; only then does the second decode, one image at a time, into the
final array. Files in a folder are confined to the spec root, must be regular files and are size-capped.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ArchiveError, DatasetError
from ..limits import Budget, DataLimits
from ..safe_archive import ReadBudget, checked_members, open_zip, read_member, read_regular, regular_file_size
from .convert import check_sides, check_size, resize
from .dataset import ImageDataset, make_dataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L")
_PIL_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    OverflowError,
    EOFError,
    RuntimeError,
    ZeroDivisionError,
    AttributeError,
)  # what corrupt files raise


@dataclass
class ImageFile:
    """One image file: its name relative to the folder or archive, and how to read its bytes (again)."""

    name: str
    read: Callable[[], bytes]


@dataclass
class _Header:
    """What an image's header says, read without decoding its pixels."""

    file: ImageFile
    height: int
    width: int
    mode: str


def is_image_name(relative: str) -> bool:
    """True for a PNG/JPEG name that is not hidden or macOS metadata."""
    parts = PurePosixPath(relative).parts
    hidden = any(part.startswith(".") or part == "__MACOSX" for part in parts)
    return not hidden and relative.lower().endswith(IMAGE_SUFFIXES)


def folder_files(folder: Path, limits: DataLimits, root: Path | None) -> tuple[list[ImageFile], list[str]]:
    """Every image under folder (sorted; confined, regular, size-checked) and the other files' paths."""
    images: list[ImageFile] = []
    others: list[str] = []
    remaining = limits.max_uncompressed_bytes
    for walk_root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d != "__MACOSX"
        )  # walk order; skip metadata
        for name in sorted(files):
            if len(images) + len(others) >= limits.max_zip_members:
                raise DatasetError(
                    f"{folder}: more than {limits.max_zip_members:,} files. Use a smaller folder."
                )
            path = Path(walk_root) / name
            relative = path.relative_to(folder).as_posix()
            if not is_image_name(relative):
                others.append(relative)
                continue
            try:
                remaining -= regular_file_size(path, root, limits.max_file_bytes)
            except ArchiveError as err:
                raise DatasetError(
                    f"{folder}: {relative}: {err}. Remove it or replace it with an image."
                ) from err
            if remaining < 0:
                raise DatasetError(
                    f"{folder}: image files add up to more than {limits.max_uncompressed_bytes:,} bytes. "
                    "Use fewer or smaller images."
                )
            images.append(ImageFile(relative, partial(read_regular, path, root, limits.max_file_bytes)))
    return images, others


def zip_files(archive: zipfile.ZipFile, limits: DataLimits) -> tuple[list[ImageFile], list[str]]:
    """Every image member (sorted, each size-checked) and the other members' names."""
    images: list[ImageFile] = []
    others: list[str] = []
    for info in sorted(checked_members(archive, limits.max_uncompressed_bytes), key=lambda i: i.filename):
        if not is_image_name(info.filename):
            others.append(info.filename)
            continue
        if info.file_size > limits.max_file_bytes:
            raise ArchiveError(
                f"member {info.filename!r} unpacks to {info.file_size:,} bytes, over the "
                f"{limits.max_file_bytes:,}-byte limit for one image"
            )
        images.append(ImageFile(info.filename, partial(_read_member_again, archive, info)))
    return _strip_common_folder(images), others


def _read_member_again(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes, stopped past its declared size (a fresh allowance for each of the two passes)."""
    return read_member(archive, info, ReadBudget(info.file_size))


def _strip_common_folder(files: list[ImageFile]) -> list[ImageFile]:
    """Drop one top folder shared by every file (zipping a folder usually wraps it in one)."""
    parts = [PurePosixPath(f.name).parts for f in files]
    tops = {p[0] for p in parts if len(p) > 1}
    if len(tops) != 1 or any(len(p) == 1 for p in parts):
        return files
    return [ImageFile(PurePosixPath(*p[1:]).as_posix(), f.read) for f, p in zip(files, parts, strict=True)]


def interleave_by_class(labels: list[int]) -> list[int]:
    """Order indices so each class is spread evenly; any tail (the validation split) keeps proportions."""
    counts = Counter(labels)
    seen: Counter[int] = Counter()
    keys = []
    for index, label in enumerate(labels):
        keys.append(((seen[label] + 0.5) / counts[label], label, index))
        seen[label] += 1
    return [index for *_, index in sorted(keys)]


def _read(file: ImageFile, label: str) -> bytes:
    """A file's bytes; archive and file-system problems become a DatasetError naming it."""
    try:
        return file.read()
    except ArchiveError as err:
        raise DatasetError(f"{label}: {file.name}: {err}.") from err
    except OSError as err:
        raise DatasetError(f"{label}: cannot read {file.name}: {err.strerror or err}.") from err


def _open_image(payload: bytes, source: str) -> Image.Image | None:
    """The PNG/JPEG image (header read, pixels not yet decoded), or None when it is not one."""
    try:
        return Image.open(io.BytesIO(payload), formats=("PNG", "JPEG"))
    except Image.DecompressionBombError as err:
        raise DatasetError(f"{source}: {err} Shrink the image before loading.") from err
    except _PIL_ERRORS:
        return None


def _header(file: ImageFile, label: str) -> _Header | None:
    """The image's size and mode from its header, or None when it is not a readable PNG/JPEG."""
    image = _open_image(_read(file, label), f"{label}: {file.name}")
    if image is None:
        return None
    with image:
        return _Header(file, int(image.height), int(image.width), str(image.mode))


def _decode(payload: bytes, channels: int, source: str) -> np.ndarray | None:
    """Pixels as float32 (C, H, W) in [0, 1] (alpha dropped), or None when the file is corrupt."""
    image = _open_image(payload, source)
    if image is None:
        return None
    try:
        with image:
            if image.mode in _SIXTEEN_BIT_MODES:
                gray = np.asarray(image, dtype=np.float32) / 65535.0
                pixels = np.repeat(gray[None], channels, axis=0)
            elif channels == 1:
                pixels = np.asarray(image.convert("L"), dtype=np.float32)[None] / 255.0
            else:
                pixels = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    except (*_PIL_ERRORS, Image.DecompressionBombError):
        return None
    return np.clip(pixels, 0.0, 1.0)


def image_labels(
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
        raise DatasetError(
            f"{label}: {len(class_names):,} class folders, over the limit of {limits.max_classes:,}."
        )
    if any(len(name) > limits.max_class_name_chars for name in class_names):
        raise DatasetError(f"{label}: a class folder name is over {limits.max_class_name_chars} characters.")
    index = {name: i for i, name in enumerate(class_names)}
    return [index[folder] for folder in folders], class_names


def images_dataset(
    files: list[ImageFile], others: list[str], title: str, label: str, spec: str, limits: DataLimits
) -> ImageDataset:
    """An ImageDataset from image files: labels from folders, one size, gray or RGB, downscaled to fit."""
    notes: list[str] = []
    budget = Budget(label, limits)
    if others:
        notes.append(f"skipped {len(others):,} non-image files (e.g. {others[0][:100]})")
    readable: list[_Header] = []
    unreadable: list[str] = []
    for file in files:  # pass 1: headers only
        budget.check_time()
        header = _header(file, label)
        if header is None:
            unreadable.append(file.name)
            continue
        check_sides(header.height, header.width, f"{label}: {file.name}", limits)
        readable.append(header)
    if not readable:
        skipped = (
            f"; skipped {len(others) + len(unreadable):,} other or unreadable files"
            if others or unreadable
            else ""
        )
        raise DatasetError(f"{label}: no readable PNG or JPEG images{skipped}. Add .png/.jpg files.")
    label_of, class_names = image_labels([h.file.name for h in readable], label, limits, notes)
    order = interleave_by_class(label_of) if label_of is not None else list(range(len(readable)))
    channels = 1 if all(h.mode in _GRAY_MODES for h in readable) else 3
    size_counts = Counter((h.height, h.width) for h in readable)
    common = max(size_counts, key=lambda size: size_counts[size])  # ties: the first size seen
    fitted = check_sides(*common, label, limits)
    check_size(len(readable), channels, *fitted, label, limits)
    budget.spend_pixels(
        sum(h.height * h.width for h in readable)
    )  # every decode is paid for before the first
    if len(size_counts) > 1:
        others_count = len(readable) - size_counts[common]
        notes.append(f"resized {others_count:,} images to {common[0]}×{common[1]}, the most common size")
    if fitted != common:
        notes.append(f"downscaled {common[0]}×{common[1]} → {fitted[0]}×{fitted[1]}")
    images = np.empty((len(readable), channels, *fitted), dtype=np.float32)
    kept: list[int] = []
    for position in order:  # pass 2: one image decoded at a time
        budget.check_time()
        header = readable[position]
        pixels = _decode(_read(header.file, label), channels, f"{label}: {header.file.name}")
        if pixels is None or pixels.shape[1:] != (header.height, header.width):
            unreadable.append(header.file.name)
            continue
        images[len(kept)] = np.clip(resize(pixels[None], fitted)[0], 0.0, 1.0)
        kept.append(position)
    if unreadable:
        notes.append(f"skipped {len(unreadable):,} unreadable image files (e.g. {unreadable[0][:100]})")
    if not kept:
        raise DatasetError(f"{label}: none of the images could be decoded; the files are corrupt.")
    labels = np.array([label_of[p] for p in kept], dtype=np.int64) if label_of is not None else None
    return make_dataset(title, images[: len(kept)], labels, class_names, spec, notes)


def zip_dataset(source: Path | bytes, title: str, label: str, spec: str, limits: DataLimits) -> ImageDataset:
    """A .zip of PNG/JPEG images, on disk or in memory."""
    try:
        with open_zip(source, limits.max_zip_members, limits.max_uncompressed_bytes) as archive:
            files, others = zip_files(archive, limits)
            return images_dataset(files, others, title, label, spec, limits)
    except ArchiveError as err:
        raise DatasetError(f"{label}: the zip is refused: {err}.") from err


def load_images(path: Path, spec: str, limits: DataLimits, root: Path | None = None) -> ImageDataset:
    """A folder or .zip of PNG/JPEG images."""
    if path.is_dir():
        files, others = folder_files(path, limits, root)
        return images_dataset(files, others, path.name, str(path), spec, limits)
    if path.is_file():
        return zip_dataset(path, path.stem, str(path), spec, limits)
    raise DatasetError(f"images: no folder or .zip file at {path}.")
