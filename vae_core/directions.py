"""Directions in latent space: principal axes of the encoded means, attribute vectors and analogies.

Principal directions follow GANSpace (Härkönen et al. 2020): PCA of the posterior means μ gives orthonormal
axes ordered by how much of the data's spread each explains. Attribute vectors follow White 2016 ("Sampling
Generative Networks"): the difference between two groups' mean codes. All functions are pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import LatentExplorerError
from .generate import ENDPOINT_LIMIT, MAX_SAMPLES
from .latents import nearest_neighbours


class DirectionError(LatentExplorerError):
    """A direction that cannot be computed from what was given; the message says what to pick instead."""


@dataclass(frozen=True)
class PrincipalDirections:
    """Principal axes of a set of latent means, largest explained variance first."""

    mean: np.ndarray  # (D,) mean of the latent means
    axes: np.ndarray  # (K, D) orthonormal rows, one per axis, by explained variance descending
    explained_variance: np.ndarray  # (K,) variance of the data along each axis
    explained_variance_ratio: np.ndarray  # (K,) that variance over the total variance (sums to ≤ 1)

    @property
    def std(self) -> np.ndarray:
        """Standard deviation of the data along each axis, (K,)."""
        return np.sqrt(np.maximum(self.explained_variance, 0.0))

    def basis(self, scaled: bool = True) -> np.ndarray:
        """(K, D) rows to move along: the axes times their std (so 1 = one σ), or the unit axes."""
        return self.axes * self.std[:, None] if scaled else self.axes.copy()


def _latent_matrix(latent_means: np.ndarray, name: str = "latent means") -> np.ndarray:
    """A finite (N, D) float64 array; DirectionError otherwise."""
    arr = np.asarray(latent_means, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise DirectionError(f"{name} must be an (N, D) array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DirectionError(f"{name} contain NaN or infinite values")
    return arr


def principal_directions(latent_means: np.ndarray, n_components: int | None = None) -> PrincipalDirections:
    """PCA of the latent means: orthonormal axes by explained variance (sign: largest entry positive)."""
    mu = _latent_matrix(latent_means)
    n, d = mu.shape
    if n < 2:
        raise DirectionError(f"principal directions need at least 2 encoded images, got {n}")
    k = d if n_components is None else max(1, min(int(n_components), d))
    mean = mu.mean(axis=0)
    centred = mu - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=True)  # vt: (D, D), rows orthonormal
    variance = np.zeros(d)
    variance[: len(singular)] = singular**2 / (n - 1)
    axes = vt[:k].copy()
    signs = np.sign(axes[np.arange(k), np.argmax(np.abs(axes), axis=1)])
    axes *= np.where(signs == 0, 1.0, signs)[:, None]
    total = float(variance.sum())
    ratio = variance[:k] / total if total > 0 else np.zeros(k)
    return PrincipalDirections(
        mean=mean, axes=axes, explained_variance=variance[:k], explained_variance_ratio=ratio
    )


def _vector(values, latent_dim: int, name: str) -> np.ndarray:
    """A finite (latent_dim,) float64 vector within ±ENDPOINT_LIMIT; DirectionError otherwise."""
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DirectionError(f"{name} must be a list of numbers, got {values!r:.80}") from exc
    if arr.size != latent_dim:
        raise DirectionError(f"{name} must have {latent_dim} values, got {arr.size}")
    if not np.all(np.isfinite(arr)) or np.abs(arr).max(initial=0.0) > ENDPOINT_LIMIT:
        raise DirectionError(f"{name} must hold finite values within ±{ENDPOINT_LIMIT:g}")
    return arr


def move_along(
    start: np.ndarray, basis: np.ndarray, coefficients: np.ndarray | Sequence[float]
) -> np.ndarray:
    """start + Σ cᵢ·basisᵢ for one coefficient vector (K,) → (D,), or for each row of (N, K) → (N, D)."""
    basis = _latent_matrix(basis, "basis")
    start = _vector(start, basis.shape[1], "start point")
    coef = np.asarray(coefficients, dtype=np.float64)
    if coef.shape[-1:] != (basis.shape[0],) or coef.ndim > 2:
        raise DirectionError(f"need {basis.shape[0]} coefficients per point, got shape {coef.shape}")
    if not np.all(np.isfinite(coef)):
        raise DirectionError("coefficients contain NaN or infinite values")
    return start + coef @ basis


def steps_along(
    start: np.ndarray, direction: np.ndarray, amounts: np.ndarray | Sequence[float]
) -> np.ndarray:
    """Points start + t·direction for each t in `amounts`: (S, D) float64 (t = 1 is one whole direction)."""
    direction = np.asarray(direction, dtype=np.float64).reshape(-1)
    amounts = np.asarray(amounts, dtype=np.float64).reshape(-1)
    if amounts.size > MAX_SAMPLES:
        raise DirectionError(f"at most {MAX_SAMPLES} steps, got {amounts.size}")
    return move_along(start, direction[None, :], amounts[:, None])


def axis_strips(start: np.ndarray, basis: np.ndarray, values: np.ndarray | Sequence[float]) -> np.ndarray:
    """For each basis row k: start moved by v·basisₖ for every v in `values`; (K, S, D) float64."""
    basis = _latent_matrix(basis, "basis")
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    start = _vector(start, basis.shape[1], "start point")
    return start[None, None, :] + values[None, :, None] * basis[:, None, :]


@dataclass(frozen=True)
class AttributeVector:
    """The direction from group A's mean code to group B's: A's mean plus the whole vector is B's."""

    source_mean: np.ndarray  # (D,) mean μ of group A
    target_mean: np.ndarray  # (D,) mean μ of group B
    vector: np.ndarray  # (D,) target_mean − source_mean
    source_count: int
    target_count: int

    @property
    def length(self) -> float:
        """Euclidean length of the vector."""
        return float(np.linalg.norm(self.vector))


def _group(indices, n: int, name: str) -> np.ndarray:
    """Unique valid row indices; DirectionError when empty or out of range."""
    try:
        idx = np.unique(np.asarray(indices, dtype=np.int64).reshape(-1))
    except (TypeError, ValueError, OverflowError) as exc:
        raise DirectionError(f"{name} must be a list of image indices, got {indices!r:.80}") from exc
    if idx.size == 0:
        raise DirectionError(f"{name} is empty: pick at least one image (a class, or a selection on the map)")
    if idx[0] < 0 or idx[-1] >= n:
        raise DirectionError(f"{name} has indices outside the dataset (0..{n - 1})")
    return idx


def group_vector(latent_means: np.ndarray, group_a, group_b) -> AttributeVector:
    """Attribute vector from the mean μ of the images in group A to the mean μ of those in group B."""
    mu = _latent_matrix(latent_means)
    a, b = _group(group_a, len(mu), "group A"), _group(group_b, len(mu), "group B")
    source, target = mu[a].mean(axis=0), mu[b].mean(axis=0)
    return AttributeVector(source, target, target - source, int(a.size), int(b.size))


def class_vector(
    latent_means: np.ndarray, labels: np.ndarray | None, class_a: int, class_b: int
) -> AttributeVector:
    """Attribute vector from class A's mean code to class B's (labels are class indices)."""
    if labels is None:
        raise DirectionError("this dataset has no labels: pick two groups of images on the map instead")
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(latent_means):
        raise DirectionError(f"{len(labels)} labels for {len(latent_means)} latent means")
    members = {}
    for name, cls in (("class A", class_a), ("class B", class_b)):
        rows = np.flatnonzero(labels == int(cls))
        if rows.size == 0:
            raise DirectionError(f"{name} ({cls}) has no images in this dataset")
        members[name] = rows
    return group_vector(latent_means, members["class A"], members["class B"])


@dataclass(frozen=True)
class Analogy:
    """a − b + c in latent space, with the data images whose codes lie nearest to the result."""

    latent: np.ndarray  # (D,) the result a − b + c
    nearest: np.ndarray  # (k,) int64 dataset indices, nearest first (a, b and c themselves left out)
    nearest_distance: np.ndarray  # (k,) Euclidean latent distances


def analogy_latent(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The analogy point a − b + c ("a is to b as ? is to c"), float64 (D,)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    d = a.size
    a, b, c = (_vector(v, d, name) for v, name in ((a, "a"), (b, "b"), (c, "c")))
    return a - b + c


def analogy(latent_means: np.ndarray, a: int, b: int, c: int, k: int = 8) -> Analogy:
    """a − b + c over the codes of three dataset images, and the k data images nearest to the result."""
    mu = _latent_matrix(latent_means)
    _group([a, b, c], len(mu), "analogy images")  # range check; a, b and c may repeat
    result = analogy_latent(mu[int(a)], mu[int(b)], mu[int(c)])
    k = max(1, min(int(k), 64))
    idx, dist = nearest_neighbours(mu, result, k=k + 3)
    keep = ~np.isin(idx, [int(a), int(b), int(c)])
    return Analogy(result, idx[keep][:k], dist[keep][:k])
