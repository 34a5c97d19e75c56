"""vae_core.projection: PCA / t-SNE invariants, determinism, progress, edge cases."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from vae_core.projection import (
    MIN_TSNE_POINTS,
    PROJECTION_METHODS,
    PCAProjection,
    pca_2d,
    project,
    trustworthiness_k,
    tsne_2d,
)

BACKENDS = ("auto", "sklearn")


def _blobs(n_per_blob: int = 100, n_dims: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian blobs: (3 * n_per_blob, n_dims) float32 and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 10.0, size=(3, n_dims))
    labels = np.repeat(np.arange(3), n_per_blob)
    points = centres[labels] + rng.normal(0.0, 1.0, size=(len(labels), n_dims))
    return points.astype(np.float32), labels


def _knn_purity(coords: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest 2-D neighbours that carry its label."""
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords)
    return float((labels[neighbours[:, 1:]] == labels[:, None]).mean())


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return _blobs()


# --- PCA -------------------------------------------------------------------------------------


def test_pca_shapes_and_dtypes():
    latents = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    result = pca_2d(latents)
    assert isinstance(result, PCAProjection)
    assert result.coords.shape == (50, 2) and result.coords.dtype == np.float32
    assert result.components.shape == (2, 6)
    assert result.mean.shape == (6,)
    assert result.explained_variance_ratio.shape == (2,)
    np.testing.assert_allclose(result.components @ result.components.T, np.eye(2), atol=1e-5)


def test_pca_first_component_follows_the_stretched_direction():
    rng = np.random.default_rng(1)
    direction = rng.normal(size=10)
    direction /= np.linalg.norm(direction)
    latents = rng.normal(size=(500, 10)) + 10.0 * rng.normal(size=(500, 1)) * direction + 3.0
    result = pca_2d(latents)
    assert abs(result.components[0] @ direction) > 0.99
    ratio = result.explained_variance_ratio
    assert ratio[0] > 0.8 and ratio[0] >= ratio[1] >= 0 and ratio.sum() <= 1 + 1e-6
    np.testing.assert_allclose(result.mean, latents.mean(axis=0), atol=1e-4)


def test_pca_round_trip_is_the_projection_onto_the_plane():
    rng = np.random.default_rng(2)
    latents = rng.normal(size=(200, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1]) + 2.0
    result = pca_2d(latents)
    reconstructed = result.mean + result.coords @ result.components
    # Independent oracle: scikit-learn's PCA reconstruction from 2 components.
    sklearn_pca = PCA(n_components=2).fit(latents)
    expected = sklearn_pca.inverse_transform(sklearn_pca.transform(latents))
    np.testing.assert_allclose(reconstructed, expected, atol=1e-4)
    # The residual is orthogonal to the plane, and to_latent is the same map.
    np.testing.assert_allclose((latents - reconstructed) @ result.components.T, 0.0, atol=1e-3)
    np.testing.assert_allclose(result.to_latent(result.coords), reconstructed, atol=1e-5)
    np.testing.assert_allclose(
        result.explained_variance_ratio, sklearn_pca.explained_variance_ratio_, atol=1e-5
    )


def test_pca_of_one_dimensional_latents_has_zero_second_coordinate():
    latents = np.arange(7, dtype=np.float32).reshape(-1, 1)
    result = pca_2d(latents)
    assert result.coords.shape == (7, 2)
    np.testing.assert_array_equal(result.coords[:, 1], 0.0)
    np.testing.assert_allclose(np.abs(result.coords[:, 0]), np.abs(latents[:, 0] - 3.0))
    np.testing.assert_allclose(result.explained_variance_ratio, [1.0, 0.0])
    np.testing.assert_allclose(result.to_latent(result.coords), latents, atol=1e-6)


@pytest.mark.parametrize("n_points", [1, 2, 4])
def test_pca_of_tiny_sets_is_finite(n_points):
    latents = np.random.default_rng(3).normal(size=(n_points, 3))
    result = pca_2d(latents)
    assert result.coords.shape == (n_points, 2)
    for array in (result.coords, result.components, result.mean, result.explained_variance_ratio):
        assert np.isfinite(array).all()


# --- t-SNE -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_tsne_keeps_clusters_separate(blobs, backend):
    latents, labels = blobs
    coords = tsne_2d(latents, seed=0, backend=backend)
    assert coords.shape == (len(latents), 2) and coords.dtype == np.float32
    assert np.isfinite(coords).all()
    assert _knn_purity(coords, labels) > 0.98
    assert trustworthiness_k(latents, coords, k=10) > 0.9


@pytest.mark.parametrize("backend", BACKENDS)
def test_tsne_is_deterministic_for_a_seed(backend):
    latents, _ = _blobs(n_per_blob=40, seed=4)
    first = tsne_2d(latents, seed=7, backend=backend)
    again = tsne_2d(latents, seed=7, backend=backend)
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tsne_progress_increases_to_one(backend):
    latents, _ = _blobs(n_per_blob=40, seed=5)
    calls: list[tuple[float, str]] = []
    tsne_2d(latents, progress=lambda fraction, message: calls.append((fraction, message)), backend=backend)
    fractions = [fraction for fraction, _ in calls]
    assert len(fractions) >= 2
    assert all(isinstance(message, str) and message for _, message in calls)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert all(later > earlier for earlier, later in zip(fractions, fractions[1:]))
    assert fractions[-1] == 1.0
    if backend == "auto":  # openTSNE reports during optimisation, not just start and end
        assert len(fractions) >= 10


def test_tsne_falls_back_to_sklearn_when_opentsne_is_missing(monkeypatch):
    latents, _ = _blobs(n_per_blob=20, seed=6)
    expected = tsne_2d(latents, seed=0, backend="sklearn")
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # makes `import openTSNE` raise ImportError
    np.testing.assert_array_equal(tsne_2d(latents, seed=0, backend="auto"), expected)


@pytest.mark.parametrize("n_points", range(1, MIN_TSNE_POINTS))
def test_tsne_of_tiny_sets_returns_pca_coords(n_points):
    latents = np.random.default_rng(7).normal(size=(n_points, 4))
    calls = []
    coords = tsne_2d(latents, progress=lambda fraction, message: calls.append(fraction))
    np.testing.assert_array_equal(coords, pca_2d(latents).coords)
    assert calls[-1] == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(MIN_TSNE_POINTS, 3), (12, 1), (60, 1)])
def test_tsne_handles_small_n_and_one_dimensional_latents(backend, shape):
    # Default perplexity 30 exceeds N here: it must be clamped, not raise.
    latents = np.random.default_rng(8).normal(size=shape)
    coords = tsne_2d(latents, backend=backend)
    assert coords.shape == (shape[0], 2) and coords.dtype == np.float32
    assert np.isfinite(coords).all()
    assert np.ptp(coords[:, 0]) > 0


def test_tsne_of_one_dimensional_latents_keeps_their_order_locally():
    latents = np.linspace(0.0, 1.0, 60).reshape(-1, 1)
    coords = tsne_2d(latents)
    assert trustworthiness_k(latents, coords, k=5) > 0.9


@pytest.mark.parametrize("backend", BACKENDS)
def test_tsne_of_duplicated_and_identical_points_is_finite(backend):
    rng = np.random.default_rng(9)
    duplicated = np.concatenate([np.zeros((30, 4)), rng.normal(size=(30, 4))])
    assert np.isfinite(tsne_2d(duplicated, backend=backend)).all()
    identical = np.ones((20, 4))
    np.testing.assert_array_equal(tsne_2d(identical, backend=backend), np.zeros((20, 2), np.float32))


# --- validation, dispatch, metric ------------------------------------------------------------


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
@pytest.mark.parametrize("method", PROJECTION_METHODS)
def test_non_finite_latents_raise(bad_value, method):
    latents = np.random.default_rng(10).normal(size=(20, 3))
    latents[4, 1] = bad_value
    with pytest.raises(ValueError, match="NaN or infinite"):
        project(latents, method)


@pytest.mark.parametrize("shape", [(10,), (0, 3), (4, 0), (2, 3, 4)])
def test_badly_shaped_latents_raise(shape):
    with pytest.raises(ValueError):
        pca_2d(np.zeros(shape))
    with pytest.raises(ValueError):
        tsne_2d(np.zeros(shape))


def test_project_dispatches_and_reports_progress(blobs):
    latents, _ = blobs
    calls = []
    coords = project(latents, "pca", progress=lambda fraction, message: calls.append(fraction))
    np.testing.assert_array_equal(coords, pca_2d(latents).coords)
    assert coords.dtype == np.float32 and calls == [1.0]
    small = latents[::10]
    np.testing.assert_array_equal(project(small, "tsne", seed=3), tsne_2d(small, seed=3))


def test_project_rejects_unknown_method_listing_valid_ones():
    with pytest.raises(ValueError, match="umap") as error:
        project(np.zeros((10, 2)), "umap")
    for method in PROJECTION_METHODS:
        assert method in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"backend": "cuml"}, "auto"), ({"perplexity": 0.0}, "perplexity")]
)
def test_tsne_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tsne_2d(np.zeros((10, 2)), **kwargs)


def test_trustworthiness_is_one_for_an_isometry_and_lower_for_noise():
    rng = np.random.default_rng(11)
    latents = rng.normal(size=(100, 2))
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    assert trustworthiness_k(latents, latents @ rotation, k=5) == pytest.approx(1.0)
    assert trustworthiness_k(latents, rng.normal(size=(100, 2)), k=5) < 0.8
