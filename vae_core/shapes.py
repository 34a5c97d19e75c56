"""Sprites with known factors (in the spirit of dSprites, Matthey et al. 2017), drawn by the project's code.

Every image shows one white shape on black. Five factors are drawn independently and uniformly from a grid of
levels, so any two are uncorrelated by construction:

    shape       square, ellipse, heart, triangle (a category, also the image's label)
    scale       0.5 … 1.0 (6 levels), the sprite's size relative to the largest
    rotation    0° … 81° (10 levels of 9°): one quarter turn, so that no shape looks the same at two levels
                (a square repeats every 90°, an ellipse every 180°, the triangle every 120°)
    x position  0 … 1 (16 levels), left → right edge of the range the sprite's centre may take
    y position  0 … 1 (16 levels), top → bottom

Shapes are rasterised with numpy by testing pixel sub-samples against each outline (anti-aliased by averaging
SUPERSAMPLE² points per pixel); nothing is downloaded and a seed fixes every image.
"""

from __future__ import annotations

import numpy as np

from .data import DEFAULT_LIMITS, DataLimits, DatasetError, ImageDataset
from .errors import InputError

SHAPE_NAMES = ("square", "ellipse", "heart", "triangle")
FACTOR_NAMES = ("shape", "scale", "rotation", "x position", "y position")
SCALE_LEVELS = np.linspace(0.5, 1.0, 6)
ROTATION_LEVELS_DEG = np.arange(10) * 9.0
POSITION_LEVELS = np.linspace(0.0, 1.0, 16)
DEFAULT_COUNT = 10_000  # trains a small MLP in a few CPU minutes
DEFAULT_SIDE = 32
MIN_SIDE, MAX_SIDE = 16, 64
MAX_COUNT = 50_000  # generation stays within seconds; more would also strain a laptop's memory at 64×64
SUPERSAMPLE = 4  # sub-samples per pixel side (anti-aliasing); 2 at 64×64 (same grid density, half the time)
RADIUS = 0.16  # outline radius at scale 1, as a fraction of the image side
MARGIN = 0.245  # sprite centres stay this far (fraction of the side) from every edge: a rotated square fits
SPEC_HELP = (
    "shapes[:N[:SIDE]]  sprites with known factors (shape, scale, rotation, x, y); N images, SIDE 16..64"
)
_CHUNK = 256  # images rasterised per step (bounds temporary memory)


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points (u right, v up, in units of the sprite's radius) lie inside one shape's outline."""
    if shape == 0:  # square, half-side 0.85 so its area is near the others'
        return np.maximum(np.abs(u), np.abs(v)) <= 0.85
    if shape == 1:  # ellipse, 2:1, so rotation shows
        return u * u + (v / 0.5) ** 2 <= 1.0
    if shape == 2:  # heart: (x² + y² − 1)³ − x² y³ ≤ 0, centred and scaled to radius ~1
        x, y = u * 1.15, v * 1.15 + 0.15
        return (x * x + y * y - 1.0) ** 3 - x * x * y**3 <= 0.0
    # equilateral triangle, vertex up, centroid at the origin, circumradius 1
    root3 = np.sqrt(3.0)
    return (v >= -0.5) & (root3 * u + v <= 1.0) & (-root3 * u + v <= 1.0)


def render_sprites(factors: np.ndarray, side: int = DEFAULT_SIDE) -> np.ndarray:
    """One sprite per factor row (shape index, scale, rotation °, x, y in [0, 1]): (N, 1, side, side)."""
    factors = np.asarray(factors, dtype=np.float64)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise InputError(f"factors must be (N, {len(FACTOR_NAMES)}), got {factors.shape}")
    ss = SUPERSAMPLE if side <= 32 else 2
    # Each sprite is drawn in a window around its centre (no outline reaches 1.25 radii), then pasted:
    # ~5× less work than the whole frame.
    window = min(side, int(np.ceil(2 * 1.25 * RADIUS * side)) + 3)
    grid = (np.arange(window * ss, dtype=np.float32) + 0.5) / ss  # sub-sample centres, window pixel units
    images = np.zeros((len(factors), 1, side, side), dtype=np.float32)
    for start in range(0, len(factors), _CHUNK):
        chunk = factors[start : start + _CHUNK]
        cx = (MARGIN + chunk[:, 3] * (1 - 2 * MARGIN)) * side
        cy = (MARGIN + chunk[:, 4] * (1 - 2 * MARGIN)) * side
        left = np.clip(np.floor(cx).astype(int) - window // 2, 0, side - window)
        top = np.clip(np.floor(cy).astype(int) - window // 2, 0, side - window)
        radius = chunk[:, 1] * RADIUS * side
        theta = np.deg2rad(chunk[:, 2])
        dx = grid[None, None, :] - (cx - left).astype(np.float32)[:, None, None]  # (B, 1, S)
        dy = grid[None, :, None] - (cy - top).astype(np.float32)[:, None, None]  # (B, S, 1)
        cos = (np.cos(theta) / radius).astype(np.float32)[:, None, None]
        sin = (np.sin(theta) / radius).astype(np.float32)[:, None, None]
        u = dx * cos - dy * sin  # rotate by −θ into the sprite's frame (image y points down, v points up)
        v = -(dx * sin + dy * cos)
        mask = np.zeros(u.shape, dtype=np.float32)
        for shape in range(len(SHAPE_NAMES)):
            rows = np.flatnonzero(chunk[:, 0] == shape)
            if len(rows):
                mask[rows] = _inside(shape, u[rows], v[rows])
        pooled = mask.reshape(len(chunk), window, ss, window, ss).mean(axis=(2, 4))
        for i, (x0, y0) in enumerate(zip(left, top)):
            images[start + i, 0, y0 : y0 + window, x0 : x0 + window] = pooled[i]
    return images


def sample_factors(n: int, seed: int = 0) -> np.ndarray:
    """n rows of independently, uniformly drawn factor levels: (n, 5) float64 (see FACTOR_NAMES)."""
    rng = np.random.default_rng(seed)
    columns = [
        rng.integers(0, len(SHAPE_NAMES), n).astype(np.float64),
        rng.choice(SCALE_LEVELS, n),
        rng.choice(ROTATION_LEVELS_DEG, n),
        rng.choice(POSITION_LEVELS, n),
        rng.choice(POSITION_LEVELS, n),
    ]
    return np.stack(columns, axis=1)


def generate_shapes(n: int = DEFAULT_COUNT, side: int = DEFAULT_SIDE, seed: int = 0) -> ImageDataset:
    """The shapes dataset: n sprites of side×side pixels, labelled by shape, with their five factors."""
    n, side = int(n), int(side)
    if not 1 <= n <= MAX_COUNT:
        raise DatasetError(
            f"shapes: {n:,} images asked for; choose 1..{MAX_COUNT:,} (e.g. shapes:{DEFAULT_COUNT})."
        )
    if not MIN_SIDE <= side <= MAX_SIDE:
        raise DatasetError(
            f"shapes: side {side} is outside {MIN_SIDE}..{MAX_SIDE} pixels (e.g. shapes:{n}:32)."
        )
    factors = sample_factors(n, seed)
    images = render_sprites(factors, side)
    labels = factors[:, 0].astype(np.int64)
    return ImageDataset(
        images,
        labels,
        list(SHAPE_NAMES),
        f"Shapes ({n:,} images, {side}×{side})",
        spec=f"shapes:{n}:{side}",
        factors=factors.astype(np.float32),
        factor_names=FACTOR_NAMES,
    )


def load_shapes_spec(spec: str, limits: DataLimits = DEFAULT_LIMITS) -> ImageDataset:
    """Parse 'shapes', 'shapes:N' or 'shapes:N:SIDE' and generate that dataset (seed 0)."""
    parts = [p.strip() for p in spec.strip().split(":")]
    if parts[0].lower() != "shapes" or len(parts) > 3 or not all(p.isdigit() for p in parts[1:]):
        raise DatasetError(
            f"{spec[:100]!r}: write shapes, shapes:N or shapes:N:SIDE (whole numbers). {SPEC_HELP}"
        )
    n = int(parts[1]) if len(parts) > 1 else DEFAULT_COUNT
    side = int(parts[2]) if len(parts) > 2 else DEFAULT_SIDE
    if n > limits.max_images:
        raise DatasetError(f"shapes: {n:,} images is over the limit of {limits.max_images:,}. Ask for fewer.")
    dataset = generate_shapes(n, side)
    dataset.spec = spec
    return dataset
