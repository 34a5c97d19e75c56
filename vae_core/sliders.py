"""Latent sliders: which dimensions the model uses (KL per dim), starting vectors, one decoded frame, traversal strips.

Everything the sliders page computes lives here as plain functions over arrays, so it is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .errors import InputError
from .generate import decode_to_uint8, sample_latents, traverse
from .images import image_grid
from .latent_input import as_latent
from .models import VAE, kl_per_dim

SLIDER_LIMIT = 4.0  # slider range ±4: the N(0, 1) prior puts 99.99 % of its mass inside
SLIDER_STEP = (
    0.05  # 160 positions across the range: smooth to drag, and each arrow key press visibly moves the image
)
STRIP_VALUES = np.linspace(-3.0, 3.0, 7)  # traversal strip: the dimension set to −3, −2, …, +3
MAX_STRIP_DIMS = 64  # strips for the first 64 dimensions in display order; more would flood the page
STARTS = ("origin", "point", "random")


def kl_per_dim_from_latents(latent_means: np.ndarray, latent_logvars: np.ndarray) -> np.ndarray:
    """Mean over the data of KL(N(μ, σ²) ‖ N(0, 1)) per dimension, shape (D,), in nats."""
    mu = np.asarray(latent_means, dtype=np.float64)
    logvar = np.asarray(latent_logvars, dtype=np.float64)
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise InputError(
            f"latent means and log-variances must both be (N, D), got {mu.shape} and {logvar.shape}"
        )
    if len(mu) == 0:
        return np.zeros(mu.shape[1])
    return kl_per_dim(torch.from_numpy(mu), torch.from_numpy(logvar)).mean(0).numpy()


def order_by_kl(kl: np.ndarray | Sequence[float]) -> np.ndarray:
    """Dimension indices by KL, largest first; ties (and NaN, put last) keep index order."""
    kl = np.asarray(kl, dtype=np.float64).reshape(-1)
    key = np.where(np.isfinite(kl), -kl, np.inf)
    return np.argsort(key, kind="stable")


def starting_vector(
    start: str, latent_dim: int, point: Sequence[float] | np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """The vector the sliders start from: the origin, a data point's μ, or a draw from N(0, I); float64, clamped."""
    if start == "origin":
        return np.zeros(latent_dim)
    if start == "point":
        if point is None:
            raise InputError("no point chosen: pick one on the latent map first")
        return as_latent(point, latent_dim, limit=SLIDER_LIMIT)
    if start == "random":
        return as_latent(sample_latents(1, latent_dim, seed=seed)[0], latent_dim, limit=SLIDER_LIMIT)
    raise InputError(f"start must be one of {STARTS}, got {start!r}")


def decode_vector(model: VAE, z: np.ndarray) -> np.ndarray:
    """One latent vector (D,) → its decoded uint8 image (H, W) or (H, W, 3)."""
    return decode_to_uint8(model, torch.as_tensor(np.asarray(z, dtype=np.float32)).unsqueeze(0))[0]


def traversal_strips(
    model: VAE, z: np.ndarray, dims: Sequence[int], values: np.ndarray = STRIP_VALUES
) -> np.ndarray:
    """For each dim in `dims`: z with that dim set to each of `values`, decoded; uint8 (dims, values, H, W[, 3])."""
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
