"""Augmentation around q(z|x): draws come from the right posterior, keep their labels, export loads back."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core import DEFAULT_MODEL_PATH
from vae_core.augment import (
    MAX_AUGMENTED,
    AugmentError,
    augment,
    export_npz,
    npz_bytes,
    posterior_draws,
    with_originals,
)


@pytest.fixture(scope="module")
def shipped():
    from vae_core.checkpoint import load_checkpoint

    return load_checkpoint(DEFAULT_MODEL_PATH)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_draws_have_the_posterior_mean_and_temperature_scaled_spread(temperature):
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(3, 5)).astype(np.float32)
    logvar = rng.uniform(-3, 0.5, size=(3, 5)).astype(np.float32)
    draws = posterior_draws(mu, logvar, per_image=64, temperature=temperature, seed=1)
    assert draws.shape == (3, 64, 5)
    many = np.concatenate([posterior_draws(mu, logvar, 64, temperature, seed=s) for s in range(40)], axis=1)
    sigma = np.exp(0.5 * logvar)
    # 2,560 draws per image: the standard error of the mean is σ·T/50, of the std about 1.4 %
    np.testing.assert_allclose(many.mean(axis=1), mu, atol=float(4 * sigma.max() * temperature / 50))
    np.testing.assert_allclose(many.std(axis=1), temperature * sigma, rtol=0.07)
    np.testing.assert_array_equal(draws, posterior_draws(mu, logvar, 64, temperature, seed=1))


def test_temperature_zero_decodes_the_reconstruction(shipped, digits):
    from vae_core.latents import reconstruct

    out = augment(shipped.model, digits.images, digits.labels, [4, 7], per_image=3, temperature=0.0)
    recon = reconstruct(shipped.model, digits.images[[4, 7]])
    np.testing.assert_allclose(out.images[:3], np.repeat(recon[:1], 3, axis=0), atol=1e-6)
    np.testing.assert_allclose(out.images[3:], np.repeat(recon[1:], 3, axis=0), atol=1e-6)


def test_augmented_images_come_from_their_originals_posterior(shipped, digits):
    from vae_core.latents import encode

    rows = [5, 1, 5, 30]
    out = augment(shipped.model, digits.images, digits.labels, rows, per_image=64, temperature=1.0, seed=3)
    np.testing.assert_array_equal(out.source_index, np.repeat([5, 1, 30], 64))
    np.testing.assert_array_equal(out.labels, digits.labels[out.source_index])
    mu, logvar = encode(shipped.model, digits.images[[5, 1, 30]])
    z = out.latents.reshape(3, 64, -1)
    sigma = np.exp(0.5 * logvar)
    np.testing.assert_allclose(z.mean(axis=1), mu, atol=float(5 * sigma.max() / 8))
    np.testing.assert_allclose(z.std(axis=1), sigma, rtol=0.35)
    # and they look like their originals more than like the other picks
    flat = out.images.reshape(3, 64, -1).mean(axis=1)
    originals = digits.images[[5, 1, 30]].reshape(3, -1)
    distances = np.linalg.norm(flat[:, None] - originals[None], axis=2)
    np.testing.assert_array_equal(np.argmin(distances, axis=1), [0, 1, 2])


def test_export_loads_back_as_an_npz_dataset(shipped, digits, tmp_path):
    from vae_core.data import load_dataset

    out = augment(shipped.model, digits.images, digits.labels, [0, 1, 2], per_image=4, temperature=0.8)
    images, labels = with_originals(out, digits.images, digits.labels)
    path = export_npz(tmp_path / "augmented.npz", images, labels, digits.class_names)
    assert not list(tmp_path.glob(".*tmp"))  # written through a temp file, renamed
    loaded = load_dataset(f"npz:{path}")
    assert loaded.image_shape == digits.image_shape and len(loaded) == 3 + 12
    np.testing.assert_array_equal(loaded.labels, labels)
    assert loaded.class_names == digits.class_names
    np.testing.assert_allclose(loaded.images, images, atol=0.5 / 255 + 1e-6)


def test_unlabelled_export_and_refusals(shipped, digits, tmp_path):
    from vae_core.data import load_dataset

    path = tmp_path / "plain.npz"
    path.write_bytes(npz_bytes(digits.images[:5], None))
    assert load_dataset(f"npz:{path}").labels is None
    with pytest.raises(AugmentError, match="no images chosen"):
        augment(shipped.model, digits.images, None, [], per_image=2)
    with pytest.raises(AugmentError, match="0..1796"):
        augment(shipped.model, digits.images, None, [1797], per_image=2)
    with pytest.raises(AugmentError, match="draws per image"):
        augment(shipped.model, digits.images, None, [0], per_image=0)
    with pytest.raises(AugmentError, match="temperature"):
        augment(shipped.model, digits.images, None, [0], per_image=2, temperature=float("nan"))
    with pytest.raises(AugmentError, match=f"{MAX_AUGMENTED:,}"):
        augment(shipped.model, digits.images, None, np.arange(1797), per_image=64)
    big = np.zeros((400, 3, 64, 64), np.float32)  # 400 × 64 draws fit the count cap but not the memory cap
    with pytest.raises(AugmentError, match="MiB"):
        augment(shipped.model, big, None, np.arange(300), per_image=64)
    with pytest.raises(AugmentError, match=".npz"):
        export_npz(tmp_path / "x.csv", digits.images[:2], None)
