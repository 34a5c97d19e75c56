"""vae_core.explore: what the app pages compute, checked without Streamlit (invariants, not magic numbers)."""

import numpy as np
import pytest
import torch

from explorer_ui.model_card import model_card
from explorer_ui.selection import selected_indices
from explorer_ui.train_choices import app_train_config
from vae_core.checkpoint import checkpoint_from_bytes
from vae_core.config import VAEConfig
from vae_core.explore import (
    ManifoldGrid,
    TrainingRun,
    interpolation,
    manifold_grid,
    n_parameters,
    rank_worst,
    samples_with_nearest,
    side_by_side,
    to_plane,
)
from vae_core.latents import encode
from vae_core.projection import pca_2d
from vae_core.training import TrainSettings

# ---------------------------------------------------------------- model card


def test_model_card_names_every_field_the_sidebar_promises(small_model):
    summary = {
        "dataset_name": "Digits (1,797 images)",
        "val_neg_elbo": 24.5,
        "epochs_run": 8,
        "train_time_s": 3.2,
        "status": "completed",
    }
    rows = dict(model_card(small_model.config, summary, n_parameters(small_model)))
    for field in (
        "Architecture",
        "Latent size",
        "β (KL weight)",
        "Likelihood",
        "Training data",
        "Validation −ELBO",
        "Parameters",
    ):
        assert field in rows
    assert rows["Latent size"] == "4"
    assert rows["Training data"] == "Digits (1,797 images)"
    assert "24.50" in rows["Validation −ELBO"]
    assert rows["Parameters"] == f"{sum(p.numel() for p in small_model.parameters()):,}"


def test_model_card_copes_with_an_empty_summary_and_conv_models():
    cfg = VAEConfig(input_shape=(1, 16, 16), arch="resconv", latent_dim=3, beta=0.0)
    rows = dict(model_card(cfg, {}, 10))
    assert "residual" in rows["Architecture"]
    assert rows["Validation −ELBO"] == "not recorded"
    assert "plain autoencoder" in rows["β (KL weight)"]


# ---------------------------------------------------------------- selections


def _event(points, point_indices=()):
    return {"selection": {"points": points, "point_indices": list(point_indices), "box": [], "lasso": []}}


def test_selection_reads_customdata_scalars_and_lists_in_order_without_duplicates():
    event = _event([{"customdata": 7}, {"customdata": [3]}, {"customdata": 7}, {"customdata": "12"}])
    assert selected_indices(event, 100) == [7, 3, 12]


def test_selection_drops_out_of_range_and_junk_ids():
    event = _event(
        [
            {"customdata": -1},
            {"customdata": 100},
            {"customdata": None},
            {"customdata": "x"},
            {"customdata": 99},
        ]
    )
    assert selected_indices(event, 100) == [99]


def test_selection_falls_back_to_point_indices_and_accepts_the_inner_dict():
    event = _event([{"point_index": 4}], point_indices=[4, 2])
    assert selected_indices(event, 10) == [4, 2]
    assert selected_indices(event["selection"], 10) == [4, 2]


@pytest.mark.parametrize("empty", [None, {}, {"selection": {}}, _event([]), {"selection": None}])
def test_selection_of_nothing_is_empty(empty):
    assert selected_indices(empty, 10) == []


# ---------------------------------------------------------------- PCA plane and manifold grids


def test_to_plane_matches_the_projection_coords(small_model, digits):
    mu, _ = encode(small_model, digits.images)
    pca = pca_2d(mu)
    np.testing.assert_allclose(to_plane(pca, mu), pca.coords, atol=1e-4)


def test_manifold_grid_over_the_pca_plane_maps_back_onto_its_own_grid(small_model, digits):
    mu, _ = encode(small_model, digits.images)
    pca = pca_2d(mu)
    grid = manifold_grid(pca, pca.coords, 6, small_model.config.latent_dim)
    assert isinstance(grid, ManifoldGrid)
    assert grid.latents.shape == (36, 4)
    plane = to_plane(pca, grid.latents).reshape(6, 6, 2)
    np.testing.assert_allclose(plane[0, :, 0], grid.xs, atol=1e-4)  # left → right along the top row
    np.testing.assert_allclose(plane[:, 0, 1], grid.ys, atol=1e-4)  # top → bottom down the first column
    assert grid.ys[0] > grid.ys[-1] and grid.xs[0] < grid.xs[-1]
    lo, hi = np.percentile(pca.coords, [1, 99], axis=0)
    np.testing.assert_allclose([grid.xs[0], grid.xs[-1]], [lo[0], hi[0]], rtol=1e-5)


def test_manifold_grid_of_a_2d_latent_space_is_the_latent_plane_itself():
    latents = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32) @ np.array(
        [[2, 1], [0, 1]], np.float32
    )
    pca = pca_2d(latents)
    grid = manifold_grid(pca, pca.coords, 5, 2)
    assert grid.axes == ("z₁", "z₂")
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    np.testing.assert_allclose(grid.latents, np.stack([gx.ravel(), gy.ravel()], 1))
    np.testing.assert_allclose(grid.xs, -grid.xs[::-1], atol=1e-6)  # symmetric N(0, 1) quantiles
    assert grid.xs[-1] == pytest.approx(1.6449, abs=1e-3)  # the 95 % quantile


def test_manifold_grid_side_is_clamped():
    pca = pca_2d(np.random.default_rng(1).normal(size=(50, 3)))
    assert manifold_grid(pca, pca.coords, 1, 3).latents.shape == (4, 3)
    assert manifold_grid(pca, pca.coords, 10_000, 3).latents.shape == (30 * 30, 3)


# ---------------------------------------------------------------- samples and interpolation


def test_samples_are_seeded_and_their_nearest_image_really_is_nearest(small_model, digits):
    mu, _ = encode(small_model, digits.images)
    a = samples_with_nearest(small_model, 12, 1.0, 5, mu)
    b = samples_with_nearest(small_model, 12, 1.0, 5, mu)
    c = samples_with_nearest(small_model, 12, 1.0, 6, mu)
    assert a.images.shape == (12, 8, 8) and a.images.dtype == np.uint8
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    brute = np.linalg.norm(a.latents[:, None, :] - mu[None], axis=2)
    np.testing.assert_array_equal(a.nearest, brute.argmin(1))
    np.testing.assert_allclose(a.nearest_distance, brute.min(1), rtol=1e-3, atol=1e-4)


def test_samples_without_training_latents_have_no_neighbours(small_model):
    s = samples_with_nearest(small_model, 3, 0.0, 0)
    assert s.nearest is None and s.nearest_distance is None
    assert np.all(s.latents == 0)  # temperature 0: every draw is the prior's mean


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolation_starts_and_ends_on_the_endpoints(small_model, method):
    z0, z1 = np.array([1.0, 0, 0, 0], np.float32), np.array([0, 2.0, 0, 1.0], np.float32)
    walk = interpolation(small_model, z0, z1, 7, method)
    assert walk.path.shape == (7, 4) and walk.frames.shape == (7, 8, 8)
    np.testing.assert_allclose(walk.path[0], z0, atol=1e-6)
    np.testing.assert_allclose(walk.path[-1], z1, atol=1e-6)


def test_interpolation_steps_are_clamped(small_model):
    z = np.zeros(4, np.float32)
    assert len(interpolation(small_model, z, z, 0).frames) == 2
    assert len(interpolation(small_model, z, z, 10**6).frames) == 256


# ---------------------------------------------------------------- rankings and pictures


def test_rank_worst_orders_by_score_and_clamps_k():
    scores = np.array([3.0, 9.0, 1.0, 9.0, 5.0])
    np.testing.assert_array_equal(rank_worst(scores, 3), [1, 3, 4])  # ties keep file order
    np.testing.assert_array_equal(rank_worst(scores, 2, worst_first=False), [2, 0])
    assert len(rank_worst(scores, 100)) == 5 and len(rank_worst(scores, -1)) == 0


def test_side_by_side_joins_pairs_with_a_gap():
    left = np.zeros((3, 4, 5), np.uint8)
    right = np.full((3, 4, 5), 9, np.uint8)
    pairs = side_by_side(left, right, gap=2)
    assert pairs.shape == (3, 4, 12)
    assert np.all(pairs[:, :, :5] == 0) and np.all(pairs[:, :, 5:7] == 255) and np.all(pairs[:, :, 7:] == 9)
    assert side_by_side(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 3))).shape == (2, 4, 9, 3)
    with pytest.raises(ValueError):
        side_by_side(left, right[:2])


# ---------------------------------------------------------------- training in the background


def test_app_train_config_builds_every_architecture_for_digits():
    for arch in ("mlp", "conv", "resconv"):
        cfg = app_train_config((1, 8, 8), arch, 2, 0.5)
        assert cfg.arch == arch and cfg.latent_dim == 2 and cfg.beta == 0.5


@pytest.mark.slow
def test_training_run_finishes_with_a_loadable_checkpoint_and_throttled_progress(digits):
    cfg = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=2, hidden=(32,))
    run = TrainingRun(cfg, digits, TrainSettings(epochs=3, batch_size=64), step_interval_s=0.05).start()
    assert run.join(timeout=120)
    snap = run.snapshot()
    assert snap.state == "done" and snap.error is None and snap.fraction == 1.0
    assert [e["epoch"] for e in snap.epochs] == [1, 2, 3]
    steps_run = snap.summary["steps"]
    assert 0 < len(snap.steps) <= steps_run
    assert all(0 < s["epoch"] <= 3 for s in snap.steps)
    loaded = checkpoint_from_bytes(snap.checkpoint)
    assert loaded.config == cfg
    assert loaded.summary["val_neg_elbo"] == pytest.approx(min(e["val_neg_elbo"] for e in snap.epochs))
    for a, b in zip(loaded.model.state_dict().values(), run.result.model.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_stopping_a_run_keeps_its_best_weights(digits):
    cfg = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=2, hidden=(32,))
    run = TrainingRun(cfg, digits, TrainSettings(epochs=10_000, patience=None))
    run.stop()  # before it starts: the first step sees the request
    run.start()
    assert run.join(timeout=120)
    snap = run.snapshot()
    assert snap.state == "done" and snap.stop_requested
    assert snap.summary["status"] == "stopped by user" and snap.summary["epochs_run"] == 1
    assert checkpoint_from_bytes(snap.checkpoint).config == cfg


def test_a_failing_run_reports_why(digits):
    cfg = VAEConfig(input_shape=(1, 16, 16), arch="mlp", latent_dim=2, hidden=(8,))  # does not fit 8×8 digits
    run = TrainingRun(cfg, digits, TrainSettings(epochs=1)).start()
    assert run.join(timeout=60)
    snap = run.snapshot()
    assert snap.state == "failed" and "expects" in snap.error and snap.checkpoint is None


def test_bad_settings_are_refused_before_a_thread_starts(digits):
    cfg = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=2, hidden=(8,))
    with pytest.raises(ValueError, match="epochs"):
        TrainingRun(cfg, digits, TrainSettings(epochs=0))
