"""Dataset specs: parse `digits`, `mnist`, `idx:DIR`, `npz:FILE`, `images:DIR|FILE.zip` and uploads.

A new format is one reader module in this package plus one entry in PATH_LOADERS (and its caps in
vae_core.limits). Typed paths are resolved, links followed, inside the spec root before a byte is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DatasetError
from ..limits import DEFAULT_LIMITS, SPEC_ROOT_ENV, DataLimits
from .builtin import TORCHVISION, load_digits, load_torchvision
from .dataset import ImageDataset
from .idx import load_idx
from .images import load_images, zip_dataset
from .npz import load_npz, npz_dataset

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

PATH_LOADERS = {"idx": load_idx, "npz": load_npz, "images": load_images}
_MAX_SPEC_CHARS = 4096


def spec_root_from_env() -> Path | None:
    """The folder that path specs must stay inside: $LATENT_EXPLORER_SPEC_ROOT, or None (no restriction)."""
    configured = os.environ.get(SPEC_ROOT_ENV, "").strip()
    return Path(configured).expanduser() if configured else None


def within_root(location: str, root: Path) -> Path:
    """`location` resolved (links followed; relative means relative to root), refused when it leaves root."""
    base = root.resolve()
    path = Path(location).expanduser()
    resolved = (path if path.is_absolute() else base / path).resolve()
    if not resolved.is_relative_to(base):
        raise DatasetError(
            f"{location[:200]!r} is outside the data folder this server allows ({base}). "
            f"Name a path inside it (relative paths start there), or upload the file instead."
        )
    return resolved


def load_dataset(
    spec: str,
    cache_dir: str | Path | None = None,
    download: bool = True,
    limits: DataLimits = DEFAULT_LIMITS,
    spec_root: str | Path | None = None,
) -> ImageDataset:
    """Load the dataset a spec names (see DATASET_SPECS_HELP); cache_dir/download only affect downloads.

    With `spec_root`, the idx:/npz:/images: paths, and every file read inside those folders, must resolve
    (links followed) inside that folder.
    """
    if not isinstance(spec, str) or "\x00" in spec:
        raise DatasetError(
            f"a dataset spec must be text without NUL characters. Valid specs:\n{DATASET_SPECS_HELP}"
        )
    if len(spec) > _MAX_SPEC_CHARS:
        raise DatasetError(
            f"cannot read a spec of {len(spec):,} characters (the limit is {_MAX_SPEC_CHARS:,}). "
            "Give a shorter path, or upload the file instead."
        )
    key = spec.strip().lower()
    if key == "shapes" or key.startswith("shapes:"):
        from ..shapes import load_shapes_spec  # shapes imports this package

        return load_shapes_spec(spec, limits)
    if key == "digits":
        return load_digits(spec, limits)
    if key in TORCHVISION:
        return load_torchvision(key, spec, cache_dir, download, limits)
    prefix, colon, location = spec.strip().partition(":")
    loader = PATH_LOADERS.get(prefix.lower())
    if colon and loader and location.strip():
        try:
            root = Path(spec_root).expanduser() if spec_root is not None else None
            path = Path(location.strip()).expanduser()
            if root is not None:
                path = within_root(location.strip(), root)
            return loader(path, spec, limits, root)
        except (OSError, RuntimeError) as exc:  # a name too long, a folder we may not read, a symlink loop
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)[:200]
            raise DatasetError(
                f"cannot read {location.strip()[:200]!r}: {reason}. "
                "Check the path, or upload the file instead."
            ) from exc
    raise DatasetError(f"unknown dataset spec {spec[:200]!r}. Valid specs:\n{DATASET_SPECS_HELP}")


def load_uploaded(filename: str, payload: bytes, limits: DataLimits = DEFAULT_LIMITS) -> ImageDataset:
    """Load an uploaded .npz (arrays) or .zip (PNG/JPEG images) held in memory."""
    if not isinstance(filename, str) or not isinstance(payload, (bytes, bytearray)):
        raise DatasetError("an upload needs a file name and its bytes.")
    filename = filename[:200]
    if len(payload) > limits.max_upload_bytes:
        raise DatasetError(
            f"{filename}: {len(payload):,} bytes is over the upload limit of {limits.max_upload_bytes:,}. "
            "Load it from disk with npz:FILE or images:FILE.zip instead."
        )
    stem, suffix = Path(filename).stem, Path(filename).suffix.lower()
    spec = f"upload:{filename}"
    if suffix == ".npz":
        return npz_dataset(bytes(payload), stem, filename, spec, limits)
    if suffix == ".zip":
        return zip_dataset(bytes(payload), stem, filename, spec, limits)
    raise DatasetError(f"{filename}: upload a .npz (arrays) or a .zip of PNG/JPEG images.")
