"""idx:DIR — MNIST-format IDX files (train-/t10k-, raw or .gz), streamed into the final array."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

from ..errors import ArchiveError, DatasetError
from ..limits import Budget, DataLimits
from ..safe_archive import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxStream, ReadBudget, open_regular
from .convert import UnitImageWriter, label_classes
from .dataset import ImageDataset, make_dataset

IDX_SPLITS = ("train", "t10k")  # file order: train first, then test


def find_idx_file(folder: Path, split: str, kind: str) -> Path | None:
    """The split's images or labels file in folder (dash or dot naming, raw preferred over .gz)."""
    dims = 3 if kind == "images" else 1
    for stem in (f"{split}-{kind}-idx{dims}-ubyte", f"{split}-{kind}.idx{dims}-ubyte"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def all_idx_files_present(folder: Path) -> bool:
    """True when images and labels of both splits are in folder."""
    return all(find_idx_file(folder, split, kind) for split in IDX_SPLITS for kind in ("images", "labels"))


def _open_idx(
    stack: ExitStack, path: Path, magic: int, limits: DataLimits, root: Path | None, read_budget: ReadBudget
) -> IdxStream:
    """An IDX file opened (confined, regular, size-capped) with its header checked; errors name the file."""
    try:
        handle = stack.enter_context(open_regular(path, root, limits.max_uncompressed_bytes))
        return IdxStream(handle, magic, limits.max_images, limits.max_source_side, read_budget)
    except ArchiveError as err:
        raise DatasetError(f"{path}: {err}. Replace it with an intact MNIST-format IDX file.") from err


def _read_labels(stream: IdxStream, path: Path) -> np.ndarray:
    """A whole (small) IDX label file as uint8 (N,)."""
    try:
        labels = stream.read(stream.dims[0])
        stream.finish()
    except ArchiveError as err:
        raise DatasetError(f"{path}: {err}. Replace it with an intact MNIST-format IDX file.") from err
    return labels


def read_idx_folder(
    folder: Path, limits: DataLimits, notes: list[str], root: Path | None, budget: Budget
) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, 1, h, w) float32 images in [0, 1] and (N,) uint8 labels or None: train then t10k files."""
    read_budget = ReadBudget(limits.max_uncompressed_bytes)
    with ExitStack() as stack:
        parts: list[tuple[Path, IdxStream]] = []
        label_parts: list[np.ndarray | None] = []
        for split in IDX_SPLITS:
            image_path = find_idx_file(folder, split, "images")
            if image_path is None:
                continue
            images = _open_idx(stack, image_path, IDX_IMAGES_MAGIC, limits, root, read_budget)
            if parts and images.dims[1:] != parts[0][1].dims[1:]:
                raise DatasetError(
                    f"{folder}: train and t10k images differ in size; keep one size per folder."
                )
            label_path = find_idx_file(folder, split, "labels")
            labels = None
            if label_path is not None:
                with ExitStack() as label_stack:
                    label_stream = _open_idx(
                        label_stack, label_path, IDX_LABELS_MAGIC, limits, root, read_budget
                    )
                    labels = _read_labels(label_stream, label_path)
                if len(labels) != images.dims[0]:
                    raise DatasetError(
                        f"{label_path}: {len(labels):,} labels for {images.dims[0]:,} images in "
                        f"{image_path.name}. "
                        "Use the label file that belongs to these images."
                    )
            parts.append((image_path, images))
            label_parts.append(labels)
        if not parts:
            raise DatasetError(
                f"{folder}: no IDX image files. Expected train-images-idx3-ubyte and/or "
                "t10k-images-idx3-ubyte (optionally .gz), with matching *-labels-idx1-ubyte files."
            )
        if len(parts) < len(IDX_SPLITS):
            notes.append(f"only the {parts[0][0].name.split('-')[0]} split was found in {folder}")
        dims = parts[0][1].dims
        if len(dims) != 3:
            raise DatasetError(
                f"{parts[0][0]}: IDX images need 3 dimensions (N, rows, cols), got {len(dims)}."
            )
        total = sum(stream.dims[0] for _, stream in parts)
        writer = UnitImageWriter(
            (total, 1, dims[1], dims[2]), np.dtype(np.uint8), str(folder), limits, notes, budget
        )
        for path, stream in parts:
            try:
                while stream.items_left:
                    writer.add(stream.read(writer.rows_per_chunk)[:, None])
                stream.finish()
            except ArchiveError as err:
                raise DatasetError(
                    f"{path}: {err}. Replace it with an intact MNIST-format IDX file."
                ) from err
        images = writer.finish()
    if any(labels is None for labels in label_parts):
        if any(labels is not None for labels in label_parts):
            notes.append("one split has no label file, so labels were dropped")
        return images, None
    return images, np.concatenate(label_parts)


def load_idx(folder: Path, spec: str, limits: DataLimits, root: Path | None = None) -> ImageDataset:
    """MNIST-format IDX files in a folder, train split first."""
    if not folder.is_dir():
        raise DatasetError(f"idx: folder not found: {folder}. Give the folder that holds the IDX files.")
    notes: list[str] = []
    images, raw_labels = read_idx_folder(folder, limits, notes, root, Budget(str(folder), limits))
    labels, class_names = (
        (None, [])
        if raw_labels is None
        else label_classes(raw_labels, len(images), str(folder), limits, notes)
    )
    return make_dataset(folder.name, images, labels, class_names, spec, notes)
