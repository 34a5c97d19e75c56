"""Reading what a user typed in the dataset box: a bare path recognised as a spec, and readable dataset names."""

from __future__ import annotations

import itertools
from pathlib import Path

_IDX_MARKERS = ("-idx3-ubyte", "-idx1-ubyte")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_SCAN_MAX = 2_000  # directory entries looked at before giving up (a huge folder is not scanned)
_KNOWN_PREFIXES = ("idx:", "npz:", "images:")
_KINDS = {"idx": "IDX files", "npz": ".npz", "images": "images"}


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


def readable_name(spec: str) -> str:
    """A short name for a dataset spec: 'mnist (IDX files)' for 'idx:/srv/data/mnist', 'faces.npz' for an .npz."""
    prefix, colon, location = (spec or "").strip().partition(":")
    if not colon or prefix.lower() not in _KINDS:
        return (spec or "").strip() or "dataset"
    name = Path(location.strip().rstrip("/\\")).name or location.strip()
    if prefix.lower() == "npz":
        return name
    return f"{name} ({_KINDS[prefix.lower()]})"
