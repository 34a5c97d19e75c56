"""Builders for small dataset files (IDX, npz, PNG folders, zips) written into a test's tmp_path."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def random_images(count: int, height: int = 12, width: int = 12, seed: int = 0) -> np.ndarray:
    """(count, height, width) uint8 noise images, reproducible from seed."""
    return np.random.default_rng(seed).integers(0, 256, size=(count, height, width), dtype=np.uint8)


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An uint8 array encoded as an IDX file (big-endian header, then raw bytes)."""
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, magic: int, gz: bool) -> Path:
    """Write an IDX file, gzipped when gz (".gz" appended to the name)."""
    payload = idx_bytes(array, magic)
    if gz:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def write_idx_split(
    folder: Path, split: str, images: np.ndarray, labels: np.ndarray | None, gz: bool
) -> None:
    """Write <split>-images-idx3-ubyte (and labels-idx1 when given) into folder."""
    write_idx(folder / f"{split}-images-idx3-ubyte", images, IMAGES_MAGIC, gz)
    if labels is not None:
        write_idx(folder / f"{split}-labels-idx1-ubyte", labels, LABELS_MAGIC, gz)


def make_idx_folder(folder: Path, sizes: dict[str, int], gz: bool = True, side: int = 12) -> dict:
    """An IDX folder with the given split sizes; returns {split: (images, labels)} as written."""
    written = {}
    for seed, (split, count) in enumerate(sizes.items()):
        images = random_images(count, side, side, seed=seed)
        labels = (np.arange(count) % 10).astype(np.uint8)
        write_idx_split(folder, split, images, labels, gz)
        written[split] = (images, labels)
    return written


def place_torchvision_files(root: Path, class_folder: str, train: int = 6, test: int = 4) -> dict:
    """Uncompressed IDX files where torchvision expects them: root/<class_folder>/raw/."""
    return make_idx_folder(root / class_folder / "raw", {"train": train, "t10k": test}, gz=False, side=28)


def write_npz(path: Path, **arrays: np.ndarray) -> Path:
    """np.savez the arrays to path."""
    np.savez(path, **arrays)
    return path


def png_bytes(array: np.ndarray) -> bytes:
    """A uint8 (H, W) or (H, W, 3) array, or a uint16 (H, W) one, as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(array: np.ndarray) -> bytes:
    """A uint8 (H, W, 3) array as JPEG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG")
    return buffer.getvalue()


def labelled_pngs(
    classes: dict[str, int], height: int = 16, width: int = 16, rgb: bool = False
) -> dict[str, bytes]:
    """{"<class>/<i>.png": png} with every pixel of class k equal to 40 * (k + 1), so labels can be read back."""
    files = {}
    for k, (class_name, count) in enumerate(classes.items()):
        shape = (height, width, 3) if rgb else (height, width)
        for i in range(count):
            files[f"{class_name}/{i:03d}.png"] = png_bytes(np.full(shape, 40 * (k + 1), dtype=np.uint8))
    return files


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    """Write {relative path: bytes} under folder."""
    for name, payload in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    return folder


def zip_bytes(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive holding {member name: bytes}, names written as given (even hostile ones)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, payload in files.items():
            archive.writestr(zipfile.ZipInfo(name), payload, compress_type=compression)
    return buffer.getvalue()


def understate_sizes(archive: bytes, declared: int) -> bytes:
    """The zip with every member's uncompressed size rewritten to `declared` (a lying-header bomb)."""
    patched = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = patched.find(signature)
        while at >= 0:
            patched[at + offset : at + offset + 4] = declared.to_bytes(4, "little")
            at = patched.find(signature, at + 4)
    return bytes(patched)
