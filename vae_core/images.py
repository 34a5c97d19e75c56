"""Turning decoder output into pictures: uint8 arrays, nearest-neighbour upscaling, grids, PNG and GIF bytes."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from .errors import InputError


def to_uint8(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] → (N, H, W) uint8 for C = 1, (N, H, W, 3) for C = 3."""
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if arr.ndim != 4:
        raise InputError(f"expected (N, C, H, W) images, got shape {arr.shape}")
    arr = np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0)
    out = np.rint(arr * 255.0).astype(np.uint8)
    return out[:, 0] if out.shape[1] == 1 else np.ascontiguousarray(out.transpose(0, 2, 3, 1))


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscale of one (H, W) or (H, W, 3) image so pixels stay crisp."""
    factor = max(1, int(factor))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def fit_scale(side: int, target: int = 112) -> int:
    """Integer upscale factor that brings an image side close to `target` pixels."""
    return max(1, round(target / max(1, side)))


def image_grid(images: np.ndarray, ncols: int, pad: int = 1, pad_value: int = 255) -> np.ndarray:
    """Tile (N, H, W[, 3]) uint8 images row-major into one image with `pad` pixels between cells."""
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise InputError("no images to tile")
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    h, w = images.shape[1:3]
    extra = images.shape[3:]
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, *extra), pad_value, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = img
    return grid


def png_bytes(image: np.ndarray) -> bytes:
    """Encode one uint8 (H, W) or (H, W, 3) image as PNG."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(frames: np.ndarray, frame_ms: int = 120, scale: int = 4, boomerang: bool = True) -> bytes:
    """An animated, looping GIF of (N, H, W[, 3]) uint8 frames; `boomerang` plays it forth and back."""
    frames = np.asarray(frames)
    if len(frames) == 0:
        raise InputError("no frames for the GIF")
    seq = list(frames) + (list(frames[-2:0:-1]) if boomerang and len(frames) > 2 else [])
    pil = [Image.fromarray(upscale(f, scale)) for f in seq]
    buf = io.BytesIO()
    pil[0].save(
        buf, format="GIF", save_all=True, append_images=pil[1:], duration=max(20, int(frame_ms)), loop=0
    )
    return buf.getvalue()
