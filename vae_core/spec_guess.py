"""Reading what a user typed in the dataset box: a bare path recognised as a spec, and readable dataset names."""

from __future__ import annotations

import itertools
from pathlib import Path

_IDX_MARKERS = ("-idx3-ubyte", "-idx1-ubyte")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_SCAN_MAX = 2_000  # directory entries looked at before giving up (a huge folder is not scanned)
_KNOWN_PREFIXES = ("idx:", "npz:", "images:")
_KINDS = {"idx": "IDX files", "npz": "", "images": "images", "upload": "uploaded"}  # "" : the name says it
_NAME_MAX = 48  # characters of a file or folder name shown before "…"


def _inside(path: Path, root: Path | None) -> bool:
    """Whether path (resolved) stays inside root (always true without a root)."""
    return root is None or path.resolve().is_relative_to(Path(root).resolve())


def _folder_kind(folder: Path) -> str | None:
    """'idx' for a folder of IDX files, 'images' for one holding PNG/JPEG files (here or one level down)."""
    entries = list(itertools.islice(folder.iterdir(), _SCAN_MAX))
    if any(any(m in e.name for m in _IDX_MARKERS) for e in entries if e.is_file()):
        return "idx"
    if any(e.suffix.lower() in _IMAGE_SUFFIXES for e in entries if e.is_file()):
        return "images"
    for sub in (e for e in entries if e.is_dir()):
        if any(
            f.suffix.lower() in _IMAGE_SUFFIXES for f in itertools.islice(sub.iterdir(), 50) if f.is_file()
        ):
            return "images"
    return None


def suggest_spec(text: str, root: str | Path | None = None) -> str | None:
    """The spec a bare path most likely means ('idx:…', 'npz:…', 'images:…'), or None when the text is already a
    spec, names nothing we recognise, or (with `root`) lies outside the folder the server allows."""
    typed = (text or "").strip()
    if not typed or typed.lower().startswith(_KNOWN_PREFIXES) or ":" in typed.split("/")[0].split("\\")[0]:
        return None
    path = Path(typed).expanduser()
    if root is not None and not path.is_absolute():
        path = Path(root).expanduser() / path
    try:
        if not _inside(path, Path(root).expanduser() if root is not None else None):
            return None
        if path.is_dir():
            kind = _folder_kind(path)
            return f"{kind}:{typed}" if kind else None
        if path.is_file():
            suffix = path.suffix.lower()
            if suffix == ".npz":
                return f"npz:{typed}"
            if suffix == ".zip":
                return f"images:{typed}"
            if any(m in path.name for m in _IDX_MARKERS):
                parent = str(Path(typed).parent)
                return f"idx:{parent}"
    except OSError:
        return None
    return None


def readable_name(spec: str, n_images: int | None = None) -> str:
    """A short name for a dataset spec: 'mnist (IDX files)' for 'idx:/srv/data/mnist', 'faces.npz' for an .npz,
    with the image count when given ('mnist (IDX files, 10,000 images)'); other specs are returned as typed."""
    prefix, colon, location = (spec or "").strip().partition(":")
    if not colon or prefix.lower() not in _KINDS:
        return (spec or "").strip() or "dataset"
    location = location.strip()
    name = Path(location.rstrip("/\\")).name
    if name in ("", ".", ".."):
        name = location or "dataset"
    if len(name) > _NAME_MAX:
        name = name[: _NAME_MAX - 1] + "…"
    kind = _KINDS[prefix.lower()]
    if n_images is not None:  # "pets.zip (1,200 images)", not "(images, 1,200 images)"
        kind = "" if kind == "images" else kind
    details = [d for d in (kind, f"{int(n_images):,} images" if n_images is not None else "") if d]
    return f"{name} ({', '.join(details)})" if details else name
