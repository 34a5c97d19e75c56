"""Walking the latent space: sampling the prior, interpolating, traversing one dimension, decoding to pictures."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from .errors import InputError
from .images import to_uint8
from .latent_input import ENDPOINT_LIMIT, LATENT_LIMIT, clamp_int, latent_tensor  # noqa: F401 (limits re-exported)
from .models import VAE

MAX_SAMPLES = 1024
MAX_STEPS = 256
MAX_TEMPERATURE = 5.0
INTERPOLATIONS = ("linear", "spherical")


def _seeded_generator(seed: int | None) -> torch.Generator | None:
    """A CPU generator seeded with `seed` (None: the global RNG); ValueError for what torch cannot take."""
    if seed is None:
        return None
    try:
        s = int(seed)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"seed must be a whole number, got {seed!r}") from exc
    if not -(2**63) <= s < 2**64:
        raise InputError(f"seed must be a whole number below 2**64, got {s}")
    return torch.Generator().manual_seed(s)


def sample_latents(n: int, latent_dim: int, temperature: float = 1.0, seed: int | None = 0) -> torch.Tensor:
    """n draws of z ~ N(0, T²I), shape (n, latent_dim); the same seed gives the same draws.

    n is clamped to 1..MAX_SAMPLES and T to at most MAX_TEMPERATURE; a non-finite or negative T, or a
    seed torch cannot take, is a ValueError."""
    n = clamp_int(n, 1, MAX_SAMPLES, "sample count")
    latent_dim = int(latent_dim)
    if latent_dim < 1:
        raise InputError(f"latent size must be at least 1, got {latent_dim}")
    try:
        t = float(temperature)
    except (TypeError, ValueError) as exc:
        raise InputError(f"temperature must be a finite number ≥ 0, got {temperature!r}") from exc
    if not np.isfinite(t) or t < 0:
        raise InputError(f"temperature must be a finite number ≥ 0, got {temperature!r}")
    t = min(t, MAX_TEMPERATURE)
    return torch.randn(n, latent_dim, generator=_seeded_generator(seed)) * t


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "linear") -> torch.Tensor:
    """`steps` points from z0 to z1 (both included): straight line, or spherical (angle slerped, norm lerped)."""
    steps = clamp_int(steps, 2, MAX_STEPS, "steps")
    if method not in INTERPOLATIONS:
        raise InputError(f"interpolation must be one of {INTERPOLATIONS}, got {method!r}")
    z0 = latent_tensor(z0, limit=ENDPOINT_LIMIT, beyond="refuse", name="start point")
    z1 = latent_tensor(z1, limit=ENDPOINT_LIMIT, beyond="refuse", name="end point")
    if z0.numel() != z1.numel():
        raise InputError(f"start and end points must have the same size, got {z0.numel()} and {z1.numel()}")
    t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)  # (S, 1)
    if method == "linear":
        return (1 - t) * z0 + t * z1
    n0, n1 = z0.norm(), z1.norm()
    if n0 < 1e-8 or n1 < 1e-8:
        return (1 - t) * z0 + t * z1
    u0, u1 = z0 / n0, z1 / n1
    omega = torch.arccos(torch.clamp((u0 * u1).sum(), -1.0, 1.0))
    if omega < 1e-4:  # nearly parallel: directions agree, only the norm changes
        direction = (1 - t) * u0 + t * u1
        direction = direction / direction.norm(dim=1, keepdim=True)
    elif (
        torch.pi - omega < 1e-4
    ):  # opposite directions: any great circle works; take one through a fixed axis
        axis = torch.zeros_like(u0)
        axis[int(torch.argmin(u0.abs()))] = 1.0
        perp = axis - (axis * u0).sum() * u0
        perp = perp / perp.norm()
        direction = torch.cos(t * torch.pi) * u0 + torch.sin(t * torch.pi) * perp
    else:
        direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
    out = ((1 - t) * n0 + t * n1) * direction
    out[0], out[-1] = z0, z1
    return out


def traverse(z: torch.Tensor, dim: int, values: np.ndarray | list[float]) -> torch.Tensor:
    """Copies of z with dimension `dim` set to each value in turn, shape (len(values), D)."""
    z = latent_tensor(z, limit=ENDPOINT_LIMIT, beyond="refuse")
    dim = clamp_int(dim, -1, z.numel(), "latent dimension")
    if not 0 <= dim < z.numel():
        raise InputError(f"latent dimension must be 0..{z.numel() - 1}, got {dim}")
    if len(values) == 0:
        return z.new_zeros((0, z.numel()))
    vals = latent_tensor(values, name="traversal values")  # clamped to ±LATENT_LIMIT
    if vals.numel() > MAX_SAMPLES:
        raise InputError(f"at most {MAX_SAMPLES} traversal values, got {vals.numel()}")
    out = z.repeat(len(vals), 1)
    out[:, dim] = vals
    return out


@torch.inference_mode()
def decode_to_uint8(
    model: VAE,
    z: torch.Tensor,
    batch_size: int = 1024,
    progress: Callable[[float, str], None] | None = None,
) -> np.ndarray:
    """Decode latents (N, D) to uint8 images (N, H, W) or (N, H, W, 3); ValueError for the wrong D, NaN or inf.

    ``progress(fraction, message)`` is called after each batch with a time-left estimate from the speed so far."""
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.ndim == 1:
        z = z.unsqueeze(0)
    latent_dim = model.config.latent_dim
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise InputError(f"latents must have shape (N, {latent_dim}) for this model, got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise InputError("latents contain NaN or infinite values")
    batch_size = clamp_int(batch_size, 1, 65_536, "batch size")
    device = model.device
    parts, total, started = [], len(z), time.perf_counter()
    for i in range(0, total, batch_size):
        parts.append(model.decode(z[i : i + batch_size].to(device)))
        if progress is not None:
            done = min(total, i + batch_size)
            left = (time.perf_counter() - started) / done * (total - done)
            tail = f" · ~{left:.0f} s left" if done < total else ""
            progress(done / total, f"Decoding {done:,} / {total:,} pictures{tail}")
    return to_uint8(torch.cat(parts))
