"""Latent sliders: which dimensions the model uses (KL per dim), starting vectors, one decoded frame, traversal strips.

Everything the sliders page computes lives here as plain functions over arrays, so it is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .generate import LATENT_LIMIT, clamped_vector, decode_to_uint8, sample_latents, traverse
from .images import image_grid
from .models import VAE

SLIDER_LIMIT = 4.0  # slider range ±4: the N(0, 1) prior puts 99.99 % of its mass inside
SLIDER_STEP = 0.05  # 160 positions across the range: smooth to drag, and each arrow key press visibly moves the image
STRIP_VALUES = np.linspace(-3.0, 3.0, 7)  # traversal strip: the dimension set to −3, −2, …, +3
MAX_STRIP_DIMS = 64  # strips for the first 64 dimensions in display order; more would flood the page
STARTS = ("origin", "point", "random")


def kl_per_dim_from_latents(latent_means: np.ndarray, latent_logvars: np.ndarray) -> np.ndarray:
    """Mean over the data of KL(N(μ, σ²) ‖ N(0, 1)) per dimension, shape (D,), in nats."""
    mu = np.asarray(latent_means, dtype=np.float64)
    logvar = np.asarray(latent_logvars, dtype=np.float64)
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise ValueError(f"latent means and log-variances must both be (N, D), got {mu.shape} and {logvar.shape}")
    if len(mu) == 0:
        return np.zeros(mu.shape[1])
    return (0.5 * (mu ** 2 + np.exp(logvar) - 1.0 - logvar)).mean(axis=0)


def order_by_kl(kl: np.ndarray | Sequence[float]) -> np.ndarray:
    """Dimension indices by KL, largest first; ties (and NaN, put last) keep index order."""
    kl = np.asarray(kl, dtype=np.float64).reshape(-1)
    key = np.where(np.isfinite(kl), -kl, np.inf)
    return np.argsort(key, kind="stable")


def starting_vector(start: str, latent_dim: int, point: Sequence[float] | np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """The vector the sliders start from: the origin, a data point's μ, or a draw from N(0, I); float64, clamped."""
    if start == "origin":
        return np.zeros(latent_dim)
    if start == "point":
        if point is None:
            raise ValueError("no point chosen: pick one on the latent map first")
        return clamp_vector(point, latent_dim)
    if start == "random":
        return clamp_vector(sample_latents(1, latent_dim, seed=seed)[0].numpy(), latent_dim)
    raise ValueError(f"start must be one of {STARTS}, got {start!r}")


def point_fits(point: Sequence[float] | np.ndarray | None, latent_dim: int) -> bool:
    """Whether a chosen point is a usable starting vector for a model with `latent_dim` dimensions."""
    if point is None:
        return False
    try:
        arr = np.asarray(point, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return False
    return arr.size == latent_dim and bool(np.all(np.isfinite(arr)))


def clamp_vector(values: Sequence[float] | np.ndarray, latent_dim: int, limit: float = SLIDER_LIMIT) -> np.ndarray:
    """A (latent_dim,) float64 vector from untrusted input, clamped to ±limit; ValueError on wrong size, NaN or inf."""
    return clamped_vector(values, latent_dim, min(float(limit), LATENT_LIMIT))


def decode_vector(model: VAE, z: np.ndarray) -> np.ndarray:
    """One latent vector (D,) → its decoded uint8 image (H, W) or (H, W, 3)."""
    return decode_to_uint8(model, torch.as_tensor(np.asarray(z, dtype=np.float32)).unsqueeze(0))[0]


def traversal_strips(model: VAE, z: np.ndarray, dims: Sequence[int], values: np.ndarray = STRIP_VALUES) -> np.ndarray:
    """For each dim in `dims`: z with that dim set to each of `values`, decoded; uint8 (len(dims), len(values), H, W[, 3])."""
    z_t = torch.as_tensor(np.asarray(z, dtype=np.float32)).flatten()
    dims = [int(d) for d in dims]
    if not dims:
        return np.zeros((0, len(values), *decode_vector(model, z).shape), np.uint8)
    batch = torch.cat([traverse(z_t, d, values) for d in dims])  # (len(dims) · S, D)
    frames = decode_to_uint8(model, batch)
    return frames.reshape(len(dims), len(values), *frames.shape[1:])


def strip_image(frames: np.ndarray, pad: int = 1) -> np.ndarray:
    """One row of frames (S, H, W[, 3]) tiled left to right with `pad` white pixels between them."""
    return image_grid(frames, ncols=len(frames), pad=pad)

