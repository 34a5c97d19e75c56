"""Named datasets: scikit-learn's digits (bundled) and the MNIST family (downloaded once by torchvision)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..limits import Budget, DataLimits
from .convert import to_unit_images
from .dataset import ImageDataset, default_cache_dir, make_dataset
from .idx import IDX_SPLITS, all_idx_files_present, find_idx_file, read_idx_folder


def load_digits(spec: str, limits: DataLimits) -> ImageDataset:
    """scikit-learn's bundled 8×8 digits (values 0..16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    notes: list[str] = []
    images = to_unit_images(digits.images[:, None] / 16.0, "digits", limits, notes, Budget("digits", limits))
    return make_dataset(
        "Digits", images, digits.target.astype(np.int64), [str(d) for d in range(10)], spec, notes
    )


@dataclass(frozen=True)
class TorchvisionSource:
    """A torchvision IDX dataset: its title, class (also its folder under the cache) and class names."""

    title: str
    class_name: str
    class_names: tuple[str, ...]


TORCHVISION = {
    "mnist": TorchvisionSource("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "fashion-mnist": TorchvisionSource(
        "Fashion-MNIST",
        "FashionMNIST",
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    "kmnist": TorchvisionSource(
        "KMNIST", "KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
    ),
}


def download_torchvision(source: TorchvisionSource, root: Path) -> Exception | None:
    """Download all four IDX files with torchvision into root/<class>/raw; the error when that fails."""
    import torchvision.datasets

    dataset_class = getattr(torchvision.datasets, source.class_name)
    try:
        dataset_class(root=str(root), train=False, download=True)
    except (
        OSError,
        RuntimeError,
    ) as err:  # URLError is an OSError; torchvision raises RuntimeError on bad files
        return err
    return None


def load_torchvision(
    key: str, spec: str, cache_dir: str | Path | None, download: bool, limits: DataLimits
) -> ImageDataset:
    """MNIST, Fashion-MNIST or KMNIST, train then test, from the cache (downloaded there when allowed)."""
    source = TORCHVISION[key]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    raw_folder = root / source.class_name / "raw"
    download_error = None
    if download and not all_idx_files_present(raw_folder):
        download_error = download_torchvision(source, root)
    if not any(find_idx_file(raw_folder, split, "images") for split in IDX_SPLITS):
        reason = f"downloading failed ({download_error})" if download_error else "downloading is off"
        raise DatasetError(
            f"{source.title} is not in {raw_folder} and {reason}. Put train-images-idx3-ubyte, "
            f"train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end in "
            f".gz) into {raw_folder}, or load any folder of IDX files with idx:DIR."
        )
    notes: list[str] = []
    images, raw_labels = read_idx_folder(raw_folder, limits, notes, None, Budget(str(raw_folder), limits))
    if download_error:
        notes.append(f"download failed ({download_error}); using the files already in {raw_folder}")
    if raw_labels is not None and raw_labels.max() >= len(source.class_names):
        raise DatasetError(
            f"{raw_folder}: labels go up to {raw_labels.max()}, but {source.title} has "
            f"{len(source.class_names)} classes. Replace the label files."
        )
    labels = raw_labels.astype(np.int64) if raw_labels is not None else None
    return make_dataset(source.title, images, labels, list(source.class_names), spec, notes)
