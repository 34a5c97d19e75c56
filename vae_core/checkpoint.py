"""Checkpoints: one .safetensors file holding the weights, the VAEConfig and a training summary.

Nothing here ever unpickles. Account before you spend (vae_core.limits): a file is read as bytes, its JSON
header parsed under a size cap, the config it carries type-checked, and the tensor names, shapes and bytes
the config implies derived on the `meta` device (no memory) and compared with the header, with the
parameter count capped, before any real module is built or any tensor copied.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .config import VAEConfig
from .errors import CheckpointError, ConfigError
from .limits import (
    DEFAULT_LIMITS,
    MAX_CHECKPOINT_BYTES,
    MAX_HEADER_BYTES,
    MAX_PARAMETERS,
    MAX_SUMMARY_TEXT,
    size_text,
)
from .models import VAE, build_vae

FORMAT = "latent-explorer/1"
ALLOWED_DTYPES = {"F32": torch.float32}
# Training-summary fields the app reads, with the type each must have (others are kept as they are).
SUMMARY_FIELDS: dict[str, type] = {
    "dataset_spec": str,
    "dataset_name": str,
    "status": str,
    "n_images": int,
    "epochs_run": int,
    "best_epoch": int,
    "steps": int,
    "train_time_s": float,
    "val_neg_elbo": float,
    "val_recon": float,
    "val_kl": float,
    "class_names": list,
    "settings": dict,
}

__all__ = [
    "FORMAT",
    "MAX_CHECKPOINT_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_PARAMETERS",
    "CheckpointError",
    "LoadedCheckpoint",
    "atomic_write_bytes",
    "checkpoint_bytes",
    "save_checkpoint",
    "parse_header",
    "expected_tensors",
    "checkpoint_from_bytes",
    "load_checkpoint",
    "model_fingerprint",
]


@dataclass
class LoadedCheckpoint:
    """A rebuilt model (CPU, eval mode) with the config and training summary it was saved with."""

    model: VAE
    config: VAEConfig
    summary: dict


def atomic_write_bytes(path: str | Path, payload: bytes) -> None:
    """Write `payload` to `path` via a temp file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def checkpoint_bytes(model: VAE, summary: dict | None = None) -> bytes:
    """Serialise weights + config + summary into safetensors bytes."""
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": model.config.to_json(), "summary": json.dumps(summary or {})}
    return st_save(tensors, metadata=metadata)


def save_checkpoint(model: VAE, path: str | Path, summary: dict | None = None) -> Path:
    """Save atomically to `path` (.safetensors); returns the path."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"checkpoint files must end in .safetensors, got {path.name!r}")
    atomic_write_bytes(path, checkpoint_bytes(model, summary))
    return path


def _sniff(payload: bytes) -> str | None:
    """Name what a non-safetensors payload looks like, for the error message (None: it may be safetensors)."""
    if len(payload) >= 9 and payload[8:9] == b"{":
        return None  # an 8-byte length then a JSON header: safetensors framing, checked next
    if payload[:2] == b"PK":
        return "a ZIP archive, as written by torch.save (a pickled .pt/.pth checkpoint)"
    if payload[:1] == b"\x80" and len(payload) > 1 and payload[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    if payload[:2] == b"\x1f\x8b":
        return "a gzip file"
    return None


def parse_header(payload: bytes) -> tuple[dict, dict]:
    """Validate the safetensors framing of `payload`: (tensor entries, metadata), or a CheckpointError."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise CheckpointError(f"a checkpoint must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    kind = _sniff(payload)
    if kind is not None:
        raise CheckpointError(
            f"this file is {kind}, not a safetensors checkpoint. Latent Explorer never unpickles files "
            "(a pickle can run code). Re-save the weights with safetensors, or train a model here."
        )
    if len(payload) < 8:
        raise CheckpointError("file is too short to be a safetensors checkpoint (truncated or empty)")
    (header_len,) = struct.unpack("<Q", payload[:8])
    if header_len > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"safetensors header claims {header_len:,} bytes (limit {MAX_HEADER_BYTES:,}): malformed or "
            "hostile file"
        )
    if 8 + header_len > len(payload):
        raise CheckpointError("file ends inside its header: it is truncated or not a safetensors file")
    try:
        header = json.loads(payload[8 : 8 + header_len].decode("utf-8"))
    except (
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ) as exc:  # bad JSON, over-long integers, deep nesting
        raise CheckpointError(
            f"safetensors header is not valid JSON ({str(exc)[:200]}); the file is corrupt"
        ) from exc
    if not isinstance(header, dict):
        raise CheckpointError("safetensors header is not a JSON object; the file is corrupt")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError("safetensors metadata must map names to strings; the file is corrupt")
    data_len = len(payload) - 8 - header_len
    for name, entry in header.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
            raise CheckpointError(f"tensor entry {name[:100]!r} is malformed")
        offsets = entry["data_offsets"]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(v) is int for v in offsets)):
            raise CheckpointError(f"tensor {name[:100]!r} has malformed data offsets; the file is corrupt")
        start, end = offsets
        if not 0 <= start <= end <= data_len:
            raise CheckpointError(f"tensor {name[:100]!r} points outside the file (truncated file?)")
    return header, metadata


def expected_tensors(config: VAEConfig) -> dict[str, tuple[int, ...]]:
    """Name → shape of every tensor a model of this config holds, from the meta device (nothing allocated)."""
    with torch.device("meta"):
        skeleton = build_vae(config)
    return {name: tuple(tensor.shape) for name, tensor in skeleton.state_dict().items()}


def _config_of(metadata: dict, source: str) -> VAEConfig:
    """The VAEConfig in a checkpoint's metadata, refused (CheckpointError) when absent or unusable."""
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise CheckpointError(
            f"{source} is a safetensors file but not a Latent Explorer checkpoint (no '{FORMAT}' config in "
            "its metadata). Train a model with `python -m vae_core train` or in the app's Train page."
        )
    try:
        return VAEConfig.from_json(metadata["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{source} carries an unusable config: {exc}") from exc


def _summary_value_ok(value: Any, kind: type) -> bool:
    """True when a summary value has the type the app expects of its field."""
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int) and 0 <= value <= 10**12
    if kind is float:
        return isinstance(value, (int, float)) and not math.isnan(value)
    if kind is str:
        return isinstance(value, str) and len(value) <= MAX_SUMMARY_TEXT
    if kind is list:
        return (
            isinstance(value, list)
            and len(value) <= DEFAULT_LIMITS.max_classes
            and all(isinstance(v, str) and len(v) <= DEFAULT_LIMITS.max_class_name_chars for v in value)
        )
    return isinstance(value, kind)


def _summary_of(metadata: dict, source: str) -> dict:
    """The training summary, every field the app reads type-checked."""
    try:
        summary = json.loads(metadata.get("summary", "{}"))
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{source} has a corrupt training summary: {str(exc)[:200]}") from exc
    if not isinstance(summary, dict):
        raise CheckpointError(f"{source} has a training summary that is not a JSON object")
    for name, kind in SUMMARY_FIELDS.items():
        if name in summary and summary[name] is not None and not _summary_value_ok(summary[name], kind):
            raise CheckpointError(
                f"{source}: training summary field {name!r} should be {kind.__name__}, got "
                f"{summary[name]!r:.60}. "
                "The file was edited or damaged; save it again from the app or the CLI."
            )
    return summary


def _check_tensors(header: dict, config: VAEConfig, data_len: int, source: str) -> None:
    """Compare the header's tensors with the config's: names, dtypes, shapes, bytes, and the parameter cap."""
    expected = expected_tensors(config)
    n_params = sum(math.prod(shape) for shape in expected.values())
    if n_params > MAX_PARAMETERS:
        raise CheckpointError(
            f"{source}: its config describes a model of {n_params:,} parameters, over the limit of "
            f"{MAX_PARAMETERS:,}. Train a smaller model (fewer or narrower layers)."
        )
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{source}: weights do not match its config (missing {missing[:5]}, unexpected "
            f"{[e[:60] for e in extra[:5]]})"
        )
    spans = []
    for name, shape in expected.items():
        entry = header[name]
        if entry["dtype"] not in ALLOWED_DTYPES:
            raise CheckpointError(
                f"{source}: tensor {name!r} has dtype {entry['dtype']!r:.30}; only float32 is accepted"
            )
        if entry["shape"] != list(shape):
            raise CheckpointError(
                f"{source}: tensor {name!r} has shape {entry['shape']!r:.80}, its config implies "
                f"{list(shape)}"
            )
        start, end = entry["data_offsets"]
        if end - start != math.prod(shape) * 4:
            raise CheckpointError(
                f"{source}: tensor {name!r} holds {end - start} bytes, expected {math.prod(shape) * 4}"
            )
        spans.append((start, end))
    position = 0
    for start, end in sorted(spans):
        if start != position:
            raise CheckpointError(f"{source}: its tensors overlap or leave gaps; the file is corrupt")
        position = end
    if position != data_len:
        raise CheckpointError(
            f"{source}: {data_len - position:,} bytes follow the last tensor; the file is corrupt"
        )


def checkpoint_from_bytes(payload: bytes, source: str = "checkpoint") -> LoadedCheckpoint:
    """Rebuild a model from safetensors bytes, everything checked against its saved config before building."""
    if isinstance(payload, (bytes, bytearray, memoryview)) and len(payload) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{source} is {size_text(len(payload))}; the limit is {size_text(MAX_CHECKPOINT_BYTES)}"
        )
    header, metadata = parse_header(payload)
    config = _config_of(metadata, source)
    summary = _summary_of(metadata, source)
    header_len = struct.unpack("<Q", payload[:8])[0]
    _check_tensors(header, config, len(payload) - 8 - header_len, source)
    try:
        tensors = st_load(bytes(payload))
    except SafetensorError as exc:
        raise CheckpointError(f"{source} could not be read by safetensors: {exc}") from exc
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{source}: tensor {name!r} contains NaN or infinite values")
    with torch.device("meta"):
        model = build_vae(config)
    model.load_state_dict(tensors, strict=True, assign=True)  # the loaded tensors become the weights: no copy
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedCheckpoint(model=model, config=config, summary=summary)


def load_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Load a .safetensors checkpoint from disk, refusing anything else with a CheckpointError."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError(f"no checkpoint at {path}: not a regular file")
        if info.st_size > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(
                f"{path.name} is {size_text(info.st_size)}; the limit is {size_text(MAX_CHECKPOINT_BYTES)}"
            )
        with open(path, "rb") as handle:
            payload = handle.read(MAX_CHECKPOINT_BYTES + 1)  # a file that grew meanwhile is still capped
    except FileNotFoundError as exc:
        raise CheckpointError(f"no checkpoint at {path}") from exc
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return checkpoint_from_bytes(payload, source=path.name)


def model_fingerprint(model: VAE) -> str:
    """A short stable hash of config + weights, used as a cache key."""
    import hashlib

    h = hashlib.sha256(model.config.to_json().encode())
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(np.ascontiguousarray(v.detach().cpu().numpy()).tobytes())
    return h.hexdigest()[:16]
