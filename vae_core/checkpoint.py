"""Checkpoints: one .safetensors file holding the weights, the VAEConfig and a training summary.

Nothing here ever unpickles: a file is read as bytes, its JSON header is checked against the
config it carries, and only then are the tensors handed to safetensors.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .config import ConfigError, VAEConfig
from .models import VAE, build_vae

FORMAT = "latent-explorer/1"
MAX_CHECKPOINT_BYTES = 200 * 1024 * 1024  # 200 MB: far above any model the app builds
MAX_HEADER_BYTES = 1024 * 1024  # safetensors JSON header
ALLOWED_DTYPES = {"F32": torch.float32}


class CheckpointError(ValueError):
    """A file that is not a Latent Explorer checkpoint we can load; the message says why and what to do."""


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
    """Validate the safetensors framing of `payload`; return (tensor entries, metadata) or raise CheckpointError."""
    kind = _sniff(payload)
    if kind is not None:
        raise CheckpointError(
            f"this file is {kind}, not a safetensors checkpoint. Latent Explorer never unpickles files "
            "(a pickle can run code). Re-save the weights with safetensors, or train a model here.")
    if len(payload) < 8:
        raise CheckpointError("file is too short to be a safetensors checkpoint (truncated or empty)")
    (header_len,) = struct.unpack("<Q", payload[:8])
    if header_len > MAX_HEADER_BYTES:
        raise CheckpointError(f"safetensors header claims {header_len:,} bytes (limit {MAX_HEADER_BYTES:,}): malformed or hostile file")
    if 8 + header_len > len(payload):
        raise CheckpointError("file ends inside its header: it is truncated or not a safetensors file")
    try:
        header = json.loads(payload[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"safetensors header is not valid JSON ({exc}); the file is corrupt") from exc
    if not isinstance(header, dict):
        raise CheckpointError("safetensors header is not a JSON object; the file is corrupt")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError("safetensors metadata must map names to strings; the file is corrupt")
    data_len = len(payload) - 8 - header_len
    for name, entry in header.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
            raise CheckpointError(f"tensor entry {name!r} is malformed")
        start, end = entry["data_offsets"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= data_len):
            raise CheckpointError(f"tensor {name!r} points outside the file (truncated file?)")
    return header, metadata


def checkpoint_from_bytes(payload: bytes, source: str = "checkpoint") -> LoadedCheckpoint:
    """Rebuild a model from safetensors bytes, checking every tensor against the saved config."""
    if len(payload) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{source} is {len(payload) / 1e6:.0f} MB; the limit is {MAX_CHECKPOINT_BYTES / 1e6:.0f} MB")
    header, metadata = parse_header(payload)
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise CheckpointError(
            f"{source} is a safetensors file but not a Latent Explorer checkpoint (no '{FORMAT}' config in its "
            "metadata). Train a model with `python -m vae_core train` or in the app's Train page.")
    try:
        config = VAEConfig.from_json(metadata["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{source} carries an unusable config: {exc}") from exc
    try:
        summary = json.loads(metadata.get("summary", "{}"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{source} has a corrupt training summary: {exc}") from exc
    if not isinstance(summary, dict):
        raise CheckpointError(f"{source} has a training summary that is not a JSON object")
    model = build_vae(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{source}: weights do not match its config (missing {missing[:5]}, unexpected {extra[:5]})")
    for name, ref in expected.items():
        entry = header[name]
        if entry["dtype"] not in ALLOWED_DTYPES:
            raise CheckpointError(f"{source}: tensor {name!r} has dtype {entry['dtype']}; only float32 is accepted")
        if list(entry["shape"]) != list(ref.shape):
            raise CheckpointError(f"{source}: tensor {name!r} has shape {entry['shape']}, its config implies {list(ref.shape)}")
        start, end = entry["data_offsets"]
        if end - start != ref.numel() * 4:
            raise CheckpointError(f"{source}: tensor {name!r} holds {end - start} bytes, expected {ref.numel() * 4}")
    try:
        tensors = st_load(payload)
    except Exception as exc:  # safetensors raises its own SafetensorError for any framing problem
        raise CheckpointError(f"{source} could not be read by safetensors: {exc}") from exc
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{source}: tensor {name!r} contains NaN or infinite values")
    model.load_state_dict(tensors, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedCheckpoint(model=model, config=config, summary=summary)


def load_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Load a .safetensors checkpoint from disk, refusing anything else with a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path.name} is {size / 1e6:.0f} MB; the limit is {MAX_CHECKPOINT_BYTES / 1e6:.0f} MB")
    return checkpoint_from_bytes(path.read_bytes(), source=path.name)


def model_fingerprint(model: VAE) -> str:
    """A short stable hash of config + weights, used as a cache key."""
    import hashlib

    h = hashlib.sha256(model.config.to_json().encode())
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(np.ascontiguousarray(v.detach().cpu().numpy()).tobytes())
    return h.hexdigest()[:16]
