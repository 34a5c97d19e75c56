"""Untrusted numbers in, safe ones out: the one latent-vector validator and the one integer clamp.

Every latent vector that comes from a user, a file, a URL or the browser goes through `as_latent`; every whole
number a user chooses (counts, steps, indices) goes through `clamp_int`. The library, the pages and the pad
use these, so a value is checked the same way wherever it enters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .errors import InputError

LATENT_LIMIT = 10.0  # |z_i| beyond this is far outside the N(0, I) prior; values are clamped to it
ENDPOINT_LIMIT = (
    1e4  # interpolation endpoints beyond ±this are refused (norms of such points overflow float32)
)


def clamp_int(value: Any, low: int, high: int, name: str) -> int:
    """Clamp a whole number into [low, high]; ValueError naming `name` when it is not a finite number."""
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: int(float("inf"))
        raise InputError(f"{name} must be a whole number, got {value!r}") from exc
    return max(low, min(high, v))


def as_latent(
    values: Any,
    dim: int | None = None,
    *,
    limit: float = LATENT_LIMIT,
    beyond: str = "clamp",
    name: str = "latent vector",
) -> np.ndarray:
    """A flat float64 vector from untrusted input: finite numbers, exactly `dim` of them when given.

    Values beyond ±limit are clamped to it (beyond="clamp") or refused (beyond="refuse"). Anything else
    (None, strings, ragged lists, NaN, ±inf, the wrong size, nothing at all) is a ValueError naming `name`.
    """
    try:
        if values is None:
            raise TypeError("None")
        if isinstance(values, torch.Tensor):
            values = values.detach().to("cpu", torch.float64).numpy()
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a list of numbers, got {values!r:.80}") from exc
    if dim is not None and arr.size != dim:
        raise InputError(f"{name} must have {dim} values, got {arr.size}")
    if arr.size == 0:
        raise InputError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    if beyond == "refuse":
        if np.abs(arr).max() > limit:
            raise InputError(f"{name} has values beyond ±{limit:g}, far outside any latent space; refused")
        return arr
    if beyond != "clamp":
        raise InputError(f"beyond must be 'clamp' or 'refuse', got {beyond!r}")
    return np.clip(arr, -limit, limit)


def latent_fits(values: Any, dim: int) -> bool:
    """Whether `values` would pass as_latent(values, dim): a usable starting point for a model of size dim."""
    try:
        as_latent(values, dim, limit=np.inf)
    except ValueError:
        return False
    return True


def latent_tensor(values: Any, dim: int | None = None, **kwargs: Any) -> torch.Tensor:
    """as_latent as a flat float32 CPU tensor (what the decoder takes)."""
    return torch.from_numpy(as_latent(values, dim, **kwargs).astype(np.float32))
