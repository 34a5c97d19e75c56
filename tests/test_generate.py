"""Sampling, interpolation and traversal: endpoints, norms, seeds, clamping, decoded pictures."""

import numpy as np
import pytest
import torch

from vae_core.generate import (
    LATENT_LIMIT,
    MAX_SAMPLES,
    decode_to_uint8,
    interpolate,
    sample_latents,
    traverse,
)
from vae_core.latent_input import latent_tensor


def test_sample_shape_seed_and_temperature():
    a = sample_latents(500, 6, temperature=1.0, seed=3)
    assert a.shape == (500, 6)
    assert torch.equal(a, sample_latents(500, 6, temperature=1.0, seed=3))
    assert not torch.equal(a, sample_latents(500, 6, temperature=1.0, seed=4))
    cold = sample_latents(500, 6, temperature=0.5, seed=3)
    assert torch.allclose(cold, 0.5 * a)
    assert torch.count_nonzero(sample_latents(4, 6, temperature=0.0, seed=1)) == 0


def test_sample_clamps_counts_and_refuses_bad_temperature():
    assert len(sample_latents(10**9, 2)) == MAX_SAMPLES
    assert len(sample_latents(-5, 2)) == 1
    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(ValueError, match="temperature"):
            sample_latents(4, 2, temperature=bad)


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolation_hits_both_endpoints(method):
    z0, z1 = torch.randn(8), torch.randn(8) * 3
    path = interpolate(z0, z1, 7, method)
    assert path.shape == (7, 8)
    assert torch.allclose(path[0], z0) and torch.allclose(path[-1], z1)


def test_spherical_interpolation_keeps_norms_between_the_endpoints():
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        z0, z1 = torch.randn(16, generator=gen), 2 * torch.randn(16, generator=gen)
        norms = interpolate(z0, z1, 25, "spherical").norm(dim=1)
        lo, hi = min(z0.norm(), z1.norm()), max(z0.norm(), z1.norm())
        assert (norms >= lo - 1e-4).all() and (norms <= hi + 1e-4).all()
    # linear interpolation between opposite points passes through the origin: the "gap" slerp avoids
    z = torch.ones(16)
    assert interpolate(z, -z, 3, "linear")[1].norm() < 1e-6
    assert interpolate(z, -z, 3, "spherical")[1].norm() > 3.9


def test_interpolation_refuses_unknown_method_and_clamps_steps():
    with pytest.raises(ValueError, match="interpolation"):
        interpolate(torch.zeros(2), torch.ones(2), 5, "cubic")
    assert len(interpolate(torch.zeros(2), torch.ones(2), 1)) == 2
    assert len(interpolate(torch.zeros(2), torch.ones(2), 10**6)) == 256


def test_traverse_changes_only_one_dimension():
    z = torch.randn(5)
    out = traverse(z, 2, [-3, 0, 3])
    assert out.shape == (3, 5)
    assert torch.equal(out[:, 2], torch.tensor([-3.0, 0.0, 3.0]))
    assert torch.equal(out[:, [0, 1, 3, 4]], z[[0, 1, 3, 4]].repeat(3, 1))
    with pytest.raises(ValueError):
        traverse(z, 5, [0.0])


def test_latent_tensor_clamps_and_refuses():
    z = latent_tensor([1e9, -1e9, 0.5], 3)
    assert z.tolist() == [LATENT_LIMIT, -LATENT_LIMIT, 0.5]
    with pytest.raises(ValueError, match="NaN"):
        latent_tensor([float("nan"), 0, 0], 3)
    with pytest.raises(ValueError, match="3 values"):
        latent_tensor([0, 0], 3)


def test_decoded_images_are_uint8_pictures(small_model):
    imgs = decode_to_uint8(small_model, sample_latents(5, 4, seed=0))
    assert imgs.dtype == np.uint8 and imgs.shape == (5, 8, 8)
    assert imgs.max() > imgs.min()  # not a blank canvas


def test_decoding_in_batches_reports_progress_with_time_left_and_decodes_the_same(small_model):
    z = sample_latents(50, 4, seed=0)
    calls = []
    pictures = decode_to_uint8(small_model, z, batch_size=12, progress=lambda f, m: calls.append((f, m)))
    assert np.array_equal(pictures, decode_to_uint8(small_model, z))
    fractions = [f for f, _ in calls]
    assert len(calls) == 5 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert calls[0][1].startswith("Decoding 12 / 50 pictures · ~") and calls[0][1].endswith("s left")
    assert calls[-1][1] == "Decoding 50 / 50 pictures"
