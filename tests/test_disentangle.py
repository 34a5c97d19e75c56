"""Disentanglement scores against known factors: MIG and DCI reward a latent that copies each factor into
its own dimension, give ~0 to noise and to mixtures, and do not care about the order of the dimensions."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.disentangle import best_factor_per_dim, dci, mig, mutual_information
from vae_core.health import collapse_warning, latent_health
from vae_core.shapes import sample_factors


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    return sample_factors(4000, seed=0)


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_mig_is_one_for_a_latent_copying_each_factor(factors, rng):
    copy = factors + rng.normal(0, 1e-3, factors.shape)  # a monotone copy per dimension
    assert mig(copy, factors) > 0.97


def test_mig_is_near_zero_for_noise_and_low_for_a_rotated_mixture(factors, rng):
    assert mig(rng.normal(size=(len(factors), 10)), factors) < 0.03
    standardised = (factors - factors.mean(0)) / factors.std(0)
    rotation = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    assert mig(standardised @ rotation, factors) < 0.3  # every factor spread over several dimensions


def test_mig_ignores_the_order_of_latent_dimensions(factors, rng):
    latents = np.concatenate([factors, rng.normal(size=(len(factors), 3))], axis=1) @ np.diag(np.arange(1, 9))
    permuted = latents[:, rng.permutation(8)]
    assert mig(permuted, factors) == pytest.approx(mig(latents, factors))


def test_mutual_information_matrix_names_the_factor_each_dimension_carries(factors, rng):
    order = np.array([3, 0, 4, 1, 2])
    latents = np.concatenate([factors[:, order], rng.normal(size=(len(factors), 2))], axis=1)
    info = mutual_information(latents, factors)
    assert info.mi.shape == (5, 7) and info.normalized.max() <= 1.0 + 1e-9
    best, strength = best_factor_per_dim(info)
    np.testing.assert_array_equal(best[:5], order)
    assert (strength[:5] > 0.95).all() and (strength[5:] < 0.05).all()


def test_dci_rewards_one_factor_per_dimension(factors, rng):
    copy = dci(np.concatenate([factors, rng.normal(size=(len(factors), 3))], axis=1), factors)
    assert copy.disentanglement > 0.9 and copy.completeness > 0.9
    assert copy.importance.shape == (8, 5)
    standardised = (factors - factors.mean(0)) / factors.std(0)
    mixed = dci(standardised @ np.linalg.qr(rng.normal(size=(5, 5)))[0], factors)
    assert mixed.disentanglement < 0.5


def test_scores_refuse_mismatched_or_non_finite_input(factors):
    with pytest.raises(ValueError):
        mig(np.zeros((10, 3)), factors)
    with pytest.raises(ValueError):
        mig(np.full((len(factors), 3), np.nan), factors)


def test_latent_health_counts_active_units_and_warns_on_collapse(rng):
    n = 500
    means = np.zeros((n, 6))
    means[:, 0] = rng.normal(size=n)  # one dimension moves with the image; five sit on the prior
    logvars = np.zeros((n, 6))
    logvars[:, 0] = -4.0
    health = latent_health(means, logvars)
    assert health.active_units == 1 and health.collapsed
    assert health.kl_per_dim[0] > 1.0 and np.allclose(health.kl_per_dim[1:], 0.0)
    assert "5 of 6" in collapse_warning(health)
    means[:, 1:4] = rng.normal(size=(n, 3))
    assert (
        latent_health(means, logvars).active_units == 4
        and collapse_warning(latent_health(means, logvars)) is None
    )


@pytest.mark.slow
def test_cli_evaluate_reports_health_and_scores_on_shapes(cli, tmp_path):
    trained = cli.run(
        "train",
        "--dataset",
        "shapes:600",
        "--arch",
        "mlp",
        "--hidden",
        "64,32",
        "--latent-dim",
        "4",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        "m.safetensors",
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr
    result = cli.json("evaluate", "m.safetensors", "--dataset", "shapes:600", "--json", cwd=tmp_path)
    assert len(result["kl_per_dim"]) == 4 and 0 <= result["active_units"] <= 4
    assert 0.0 <= result["mig"] <= 1.0 and 0.0 <= result["dci_disentanglement"] <= 1.0
    assert result["factor_names"] == ["shape", "scale", "rotation", "x position", "y position"]
    digits = cli.run("evaluate", "m.safetensors", "--dataset", "digits", "--json", cwd=tmp_path)
    assert digits.returncode == 2 and "shape" in digits.stderr  # 8×8 digits do not fit a 32×32 model
    bad = cli.run(
        "train", "--dataset", "shapes:600", "--hidden", "64,x", "--out", "n.safetensors", cwd=tmp_path
    )
    assert bad.returncode == 2 and "--hidden" in bad.stderr
