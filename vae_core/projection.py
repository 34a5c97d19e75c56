"""2-D projections of latent vectors (PCA, t-SNE), fast enough for an interactive app.

PCA keeps its basis (`PCAProjection.components`, `.mean`) so a point picked on the PCA plane
maps back to latent space: ``z = mean + xy @ components``. t-SNE has no inverse; it is the
map for looking at neighbourhoods and clusters.

Why our t-SNE settings (openTSNE backend) beat scikit-learn's defaults by several times at
the same trustworthiness (see ``benchmarks/bench_tsne.py`` for the measured numbers):

* Exact neighbours by brute force (``NearestNeighbors(algorithm="brute")``). Latents are
  low-dimensional (2–64), where a BLAS distance matrix is far cheaper than an approximate
  index: 10k×16 takes ~0.3 s brute vs ~4 s with openTSNE's default Annoy index, and 40k
  ~3 s vs ~17 s. Past ``_EXACT_KNN_MAX_POINTS`` the O(N²) cost loses and we use Annoy.
* FFT-interpolated repulsion (FIt-SNE, Linderman et al. 2019): O(N) per iteration instead of
  Barnes–Hut's O(N log N). The FFT grid has a fixed minimum size, so Barnes–Hut is cheaper
  on small sets. Measured here, the two cost the same at ~2k points and FFT is ~2× cheaper
  at 5k, so we switch at 2k (openTSNE's own "auto" switches only at 10k).
* Far fewer iterations (``_EARLY_EXAGGERATION_ITER`` + ``_N_ITER`` = 200 vs sklearn's 1000)
  thanks to the learning rate N/exaggeration (Belkina et al. 2019) with momentum 0.8 in both
  phases: the exaggerated KL divergence plateaus within ~50 iterations on 10k MNIST-like
  latents, and 100 free iterations bring trustworthiness (k=10) within ~0.001 of sklearn's
  1000-iteration result. Later iterations are also the most expensive ones (the embedding
  expands, so the FFT grid grows), so stopping earlier saves more than its share.
* PCA initialisation (scaled to std 1e-4, plus 1% seeded jitter), which preserves global
  layout (Kobak & Linderman 2021); with exact neighbours the result is a pure function of
  (latents, seed).

Visually (MNIST, 10k) the layout matches sklearn's 1000-iteration one; 10-NN label purity in
2-D was 0.910 vs sklearn's 0.912.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.manifold import trustworthiness

from .errors import InputError

PROJECTION_METHODS = ("pca", "tsne")
TSNE_BACKENDS = ("auto", "sklearn")

ProgressFn = Callable[[float, str], None]

# Fewer points than this cannot carry a meaningful t-SNE neighbourhood: return PCA coords.
MIN_TSNE_POINTS = 5
_EARLY_EXAGGERATION = 12.0  # the standard value; pulls clusters apart early
_EARLY_EXAGGERATION_ITER = 100  # KL(exaggerated) plateaus by ~50 on 10k points
_N_ITER = 100  # free iterations after exaggeration
_MOMENTUM = 0.8
_EXACT_KNN_MAX_POINTS = 100_000  # brute-force kNN up to here, Annoy beyond
_FFT_MIN_POINTS = 2_000  # FFT repulsion from here, Barnes–Hut below
_PROGRESS_EVERY_ITERS = 10
# Below this, an iteration is shorter than a thread hand-off is worth: on a busy 2-core box a
# 300-point t-SNE took 2-6 s with 2 OpenMP threads and 0.6-0.8 s with one. Run single-threaded.
_PARALLEL_MIN_POINTS = 1_000
_INIT_STD = 1e-4  # initial embedding scale used by both openTSNE and sklearn
# sklearn fallback: its early exaggeration phase is fixed at 250 iterations; we add 250 free
# ones (half its default 1000) to keep the fallback interactive.
_SKLEARN_MAX_ITER = 500


@dataclass(frozen=True)
class PCAProjection:
    """Top-2 principal-component projection of latents, with the basis to map back."""

    coords: np.ndarray  # (N, 2) float32: (latents - mean) @ components.T
    components: np.ndarray  # (2, D) float32: orthonormal rows (a row is zero when D == 1)
    mean: np.ndarray  # (D,) float32: latent mean
    explained_variance_ratio: np.ndarray  # (2,) float32: share of total variance per axis

    def to_latent(self, xy: np.ndarray) -> np.ndarray:
        """Map plane points (..., 2) back to latent space (..., D): mean + xy @ components."""
        return (self.mean + np.asarray(xy, dtype=np.float32) @ self.components).astype(np.float32)


def _n_jobs(n_points: int) -> int:
    """Threads for a t-SNE of n_points: all cores, except on sets too small to share out."""
    return (os.cpu_count() or 1) if n_points >= _PARALLEL_MIN_POINTS else 1


def _validated(latents: np.ndarray) -> np.ndarray:
    """Latents as a finite (N, D) float64 array with N, D >= 1, else ValueError."""
    array = np.asarray(latents, dtype=np.float64)
    if array.ndim != 2:
        raise InputError(f"latents must be a 2-D array (N, D), got shape {array.shape}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InputError(f"latents must have at least one row and one column, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InputError("latents contain NaN or infinite values")
    return array


def pca_2d(latents: np.ndarray) -> PCAProjection:
    """Project latents (N, D) onto their top two principal components."""
    data = _validated(latents)
    n_dims = data.shape[1]
    mean = data.mean(axis=0)
    centered = data - mean
    # Eigen-decomposition of the D×D scatter matrix: cheap for latents (D small, N large)
    # and never builds an N×N factor. Eigenvalues come back ascending.
    scatter = centered.T @ centered
    eigenvalues, eigenvectors = np.linalg.eigh(scatter)
    order = np.argsort(eigenvalues)[::-1][:2]
    components = np.zeros((2, n_dims))
    variances = np.zeros(2)
    components[: len(order)] = eigenvectors[:, order].T
    variances[: len(order)] = np.clip(eigenvalues[order], 0.0, None)
    # Fix each axis' sign (largest-magnitude loading positive) so results do not flip between
    # LAPACK builds or nearby inputs.
    for row in components:
        if row.any() and row[np.argmax(np.abs(row))] < 0:
            row *= -1
    total_variance = float(np.clip(eigenvalues, 0.0, None).sum())
    ratio = variances / total_variance if total_variance > 0 else np.zeros(2)
    coords = centered @ components.T
    return PCAProjection(
        coords=coords.astype(np.float32),
        components=components.astype(np.float32),
        mean=mean.astype(np.float32),
        explained_variance_ratio=ratio.astype(np.float32),
    )


def _initial_embedding(data: np.ndarray, seed: int) -> np.ndarray:
    """PCA coords scaled to std 1e-4 plus 1% seeded jitter (separates duplicate points and is
    what the seed varies); a flat axis (D == 1, collinear data) is filled with jitter."""
    coords = pca_2d(data).coords.astype(np.float64)
    rng = np.random.default_rng(seed)
    for axis in range(2):
        std = coords[:, axis].std()
        if std > 0:
            coords[:, axis] *= _INIT_STD / std
            coords[:, axis] += rng.normal(0.0, 0.01 * _INIT_STD, size=len(coords))
        else:
            coords[:, axis] = rng.normal(0.0, _INIT_STD, size=len(coords))
    return coords


def _tsne_opentsne(data: np.ndarray, seed: int, perplexity: float, report: ProgressFn) -> np.ndarray:
    from openTSNE import TSNEEmbedding, affinity
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    n_points = len(data)
    n_jobs = _n_jobs(n_points)
    k_neighbours = min(n_points - 1, int(3 * perplexity))
    if n_points <= _EXACT_KNN_MAX_POINTS:
        neighbours, distances = exact_neighbours(data, k_neighbours, lambda f, m: report(0.09 * f, m))
        affinities = affinity.PerplexityBasedNN(
            perplexity=perplexity,
            symmetrize=True,
            n_jobs=n_jobs,
            random_state=seed,
            knn_index=PrecomputedNeighbors(neighbours, distances),
        )
    else:
        report(0.0, f"Finding nearest neighbours of {n_points:,} points (approximate index)")
        affinities = affinity.PerplexityBasedNN(
            data, perplexity=perplexity, method="annoy", n_jobs=n_jobs, random_state=seed
        )
    start_fraction = 0.1
    report(start_fraction, "Optimising layout")

    total_iters = _EARLY_EXAGGERATION_ITER + _N_ITER
    phase_offset = 0
    started = time.perf_counter()

    def on_iteration(iteration: int, error: float, embedding: np.ndarray) -> bool:
        done = phase_offset + iteration
        per_iter = (time.perf_counter() - started) / max(done, 1)
        # Stay below 1.0 here: 1.0 is reported once the result is ready.
        report(
            start_fraction + 0.85 * done / total_iters,
            f"t-SNE iteration {done}/{total_iters} · ~{per_iter * (total_iters - done):.0f} s left",
        )
        return False  # never stop early

    embedding = TSNEEmbedding(
        _initial_embedding(data, seed),
        affinities,
        negative_gradient_method="fft" if n_points >= _FFT_MIN_POINTS else "bh",
        n_jobs=n_jobs,
        random_state=seed,
    )
    embedding = embedding.optimize(
        _EARLY_EXAGGERATION_ITER,
        exaggeration=_EARLY_EXAGGERATION,
        momentum=_MOMENTUM,
        callbacks=on_iteration,
        callbacks_every_iters=_PROGRESS_EVERY_ITERS,
    )
    phase_offset = _EARLY_EXAGGERATION_ITER
    embedding = embedding.optimize(
        _N_ITER,
        momentum=_MOMENTUM,
        callbacks=on_iteration,
        callbacks_every_iters=_PROGRESS_EVERY_ITERS,
    )
    return np.asarray(embedding)


def exact_neighbours(
    data: np.ndarray, k: int, progress: ProgressFn | None = None, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows by brute force (BLAS distances in chunks of queries, so memory stays at
    chunk × N), with progress(fraction, message) and a time-left estimate from the speed so far."""
    points = np.asarray(data, dtype=np.float32)
    n = len(points)
    k = max(1, min(int(k), n - 1))
    squared = np.sum(points**2, axis=1)
    indices, distances = np.empty((n, k), np.int64), np.empty((n, k), np.float32)
    started = time.perf_counter()
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        d2 = squared[start:stop, None] - 2 * points[start:stop] @ points.T + squared[None, :]
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not your own neighbour
        near = np.argpartition(d2, k - 1, axis=1)[:, :k]
        near_d2 = np.take_along_axis(d2, near, axis=1)
        order = np.argsort(near_d2, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(near, order, axis=1)
        distances[start:stop] = np.sqrt(np.maximum(np.take_along_axis(near_d2, order, axis=1), 0.0))
        if progress is not None:
            left = (time.perf_counter() - started) / stop * (n - stop)
            progress(stop / n, f"Finding nearest neighbours: {stop:,} / {n:,} points · ~{left:.0f} s left")
    return indices, distances


def estimate_tsne_seconds(latents: np.ndarray, probe_points: int = 3_000) -> float:
    """Seconds a t-SNE of these latents should take here, from timing small probes on this machine now: one chunk
    of the neighbour search (scaled by N² / chunk) and a few layout iterations on a subset (scaled by N)."""
    data = _validated(latents).astype(np.float32)
    n_points = len(data)
    if n_points < MIN_TSNE_POINTS:
        return 0.0
    rng = np.random.default_rng(0)
    chunk = min(n_points, 256)
    started = time.perf_counter()
    squared = np.sum(data**2, axis=1)
    d2 = squared[:chunk, None] - 2 * data[:chunk] @ data.T + squared[None, :]
    np.argpartition(d2, min(n_points - 1, 90) - 1, axis=1)
    knn_seconds = (time.perf_counter() - started) * n_points / chunk
    subset = data[rng.choice(n_points, size=min(n_points, probe_points), replace=False)]
    try:
        from openTSNE import TSNEEmbedding, affinity
        from openTSNE.nearest_neighbors import PrecomputedNeighbors
    except ImportError:
        return (
            knn_seconds + 2.5e-3 * n_points
        )  # scikit-learn fallback: no probe hook; its own speed is slower
    perplexity = min(30.0, (len(subset) - 1) / 3)
    neighbours, distances = exact_neighbours(subset, int(3 * perplexity))
    probe_iters = 10
    n_jobs = _n_jobs(n_points)
    affinities = affinity.PerplexityBasedNN(
        perplexity=perplexity, n_jobs=n_jobs, knn_index=PrecomputedNeighbors(neighbours, distances)
    )
    embedding = TSNEEmbedding(
        _initial_embedding(subset, 0),
        affinities,
        n_jobs=n_jobs,
        negative_gradient_method="fft" if n_points >= _FFT_MIN_POINTS else "bh",
    )
    started = time.perf_counter()
    embedding.optimize(probe_iters, exaggeration=_EARLY_EXAGGERATION, momentum=_MOMENTUM)
    per_point_iter = (time.perf_counter() - started) / (probe_iters * len(subset))
    total_iters = _EARLY_EXAGGERATION_ITER + _N_ITER
    return knn_seconds + per_point_iter * total_iters * n_points


def _tsne_sklearn(data: np.ndarray, seed: int, perplexity: float, report: ProgressFn) -> np.ndarray:
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    # scikit-learn exposes no per-iteration hook, so progress is only start and end.
    report(0.0, "Running scikit-learn t-SNE")
    n_jobs = _n_jobs(len(data))
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init=_initial_embedding(data, seed),
        learning_rate="auto",
        max_iter=_SKLEARN_MAX_ITER,
        random_state=seed,
        n_jobs=n_jobs,  # the neighbour search
    )
    with threadpool_limits(limits=n_jobs, user_api="openmp"):  # the Barnes–Hut gradient
        return tsne.fit_transform(data)


def tsne_2d(
    latents: np.ndarray,
    seed: int = 0,
    perplexity: float = 30.0,
    progress: ProgressFn | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """t-SNE of latents (N, D) to (N, 2) float32, deterministic for a seed.

    backend "auto" uses openTSNE with our fast settings (falls back to scikit-learn when
    openTSNE cannot be imported); "sklearn" forces scikit-learn. ``progress(fraction, message)``
    is called with increasing fractions in [0, 1], the last one 1.0. Perplexity is clamped to
    (N - 1) / 3; fewer than ``MIN_TSNE_POINTS`` points (or identical points) get PCA coords.
    """
    if backend not in TSNE_BACKENDS:
        raise InputError(f"Unknown t-SNE backend {backend!r}; valid: {', '.join(TSNE_BACKENDS)}")
    if not perplexity > 0:
        raise InputError(f"perplexity must be positive, got {perplexity}")
    data = _validated(latents)
    report: ProgressFn = progress if progress is not None else (lambda fraction, message: None)

    n_points = len(data)
    if n_points < MIN_TSNE_POINTS or np.ptp(data, axis=0).max() == 0:
        report(1.0, "Too few distinct points for t-SNE; showing PCA")
        return pca_2d(data).coords
    perplexity = min(float(perplexity), (n_points - 1) / 3)

    run = _tsne_sklearn
    if backend == "auto":
        try:
            import openTSNE  # noqa: F401
        except ImportError:
            pass  # keep the scikit-learn fallback
        else:
            run = _tsne_opentsne
    coords = run(data, seed, perplexity, report)
    report(1.0, "Done")
    return np.ascontiguousarray(coords, dtype=np.float32)


def project(
    latents: np.ndarray, method: str, seed: int = 0, progress: ProgressFn | None = None
) -> np.ndarray:
    """2-D coords (N, 2) float32 of latents by ``method`` (one of PROJECTION_METHODS)."""
    if method == "pca":
        coords = pca_2d(latents).coords
        if progress is not None:
            progress(1.0, "Done")
        return coords
    if method == "tsne":
        return tsne_2d(latents, seed=seed, progress=progress)
    raise InputError(f"Unknown projection method {method!r}; valid: {', '.join(PROJECTION_METHODS)}")


def trustworthiness_k(latents: np.ndarray, coords: np.ndarray, k: int = 10) -> float:
    """How well coords keep each point's k nearest latent neighbours (1.0 = perfectly)."""
    return float(trustworthiness(np.asarray(latents), np.asarray(coords), n_neighbors=k))
