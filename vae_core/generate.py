"""Walking the latent space: sampling the prior, interpolating, traversing one dimension, decoding to pictures."""

from __future__ import annotations

import numpy as np
import torch

from .images import to_uint8
from .models import VAE

MAX_SAMPLES = 1024
MAX_STEPS = 256
MAX_TEMPERATURE = 5.0
LATENT_LIMIT = 10.0  # |z_i| beyond this is far outside the N(0, I) prior; values are clamped to it
INTERPOLATIONS = ("linear", "spherical")


def clamp_int(value: int, low: int, high: int, name: str) -> int:
    """Clamp an integer parameter into [low, high]; raise ValueError when it is not a number."""
    try:
        v = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from exc
    return max(low, min(high, v))


def sample_latents(n: int, latent_dim: int, temperature: float = 1.0, seed: int | None = 0) -> torch.Tensor:
    """n draws of z ~ N(0, T²I), shape (n, latent_dim); the same seed gives the same draws."""
    n = clamp_int(n, 1, MAX_SAMPLES, "sample count")
    t = float(temperature)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"temperature must be a finite number ≥ 0, got {temperature!r}")
    t = min(t, MAX_TEMPERATURE)
    gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    return torch.randn(n, latent_dim, generator=gen) * t


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "linear") -> torch.Tensor:
    """`steps` points from z0 to z1 (both included): straight line, or spherical (angle slerped, norm lerped)."""
    steps = clamp_int(steps, 2, MAX_STEPS, "steps")
    if method not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {method!r}")
    z0, z1 = torch.as_tensor(z0, dtype=torch.float32).flatten(), torch.as_tensor(z1, dtype=torch.float32).flatten()
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
    elif torch.pi - omega < 1e-4:  # opposite directions: any great circle works; take one through a fixed axis
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
    z = torch.as_tensor(z, dtype=torch.float32).flatten()
    if not 0 <= int(dim) < z.numel():
        raise ValueError(f"latent dimension must be 0..{z.numel() - 1}, got {dim}")
    vals = torch.as_tensor(np.asarray(values, dtype=np.float32)).clamp(-LATENT_LIMIT, LATENT_LIMIT)
    out = z.repeat(len(vals), 1)
    out[:, int(dim)] = vals
    return out


def clean_latent(z: np.ndarray | list[float] | torch.Tensor, latent_dim: int) -> torch.Tensor:
    """A (latent_dim,) float32 tensor from user input: finite values clamped to ±LATENT_LIMIT, else ValueError."""
    arr = np.asarray(z, dtype=np.float64).reshape(-1)
    if arr.size != latent_dim:
        raise ValueError(f"latent vector must have {latent_dim} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("latent vector contains NaN or infinite values")
    return torch.from_numpy(np.clip(arr, -LATENT_LIMIT, LATENT_LIMIT).astype(np.float32))


@torch.inference_mode()
def decode_to_uint8(model: VAE, z: torch.Tensor, batch_size: int = 1024) -> np.ndarray:
    """Decode latents (N, D) to uint8 images (N, H, W) or (N, H, W, 3)."""
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.ndim == 1:
        z = z.unsqueeze(0)
    device = model.device
    parts = [model.decode(z[i:i + batch_size].to(device)) for i in range(0, len(z), batch_size)]
    return to_uint8(torch.cat(parts))
