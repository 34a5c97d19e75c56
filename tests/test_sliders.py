"""Latent sliders' pure functions: KL per dim and its ordering, starting vectors, clamping, strips.
(The pad's protocol, its messages and the browser decoder: tests/test_pad_protocol.py.)"""

import numpy as np
import pytest
import torch

from vae_core import DEFAULT_MODEL_PATH
from vae_core.checkpoint import load_checkpoint
from vae_core.generate import decode_to_uint8
from vae_core.latent_input import as_latent, latent_fits
from vae_core.latents import encode
from vae_core.metrics import evaluate
from vae_core.models import kl_per_dim
from vae_core.sliders import (
    SLIDER_LIMIT,
    STRIP_VALUES,
    decode_vector,
    kl_per_dim_from_latents,
    order_by_kl,
    starting_vector,
    strip_image,
    traversal_strips,
)


@pytest.fixture(scope="module")
def shipped():
    """The shipped default model (MLP, z = 8, 8×8 digits): loads in milliseconds, no training."""
    return load_checkpoint(DEFAULT_MODEL_PATH).model


# ---------------------------------------------------------------- KL per dimension and the order it gives
def test_kl_per_dim_is_the_mean_of_the_models_own_formula():
    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, 6, generator=gen), torch.randn(50, 6, generator=gen)
    expected = kl_per_dim(mu, logvar).double().mean(0).numpy()
    assert np.allclose(kl_per_dim_from_latents(mu.numpy(), logvar.numpy()), expected)


def test_kl_is_zero_exactly_at_the_prior_and_positive_elsewhere():
    assert np.allclose(kl_per_dim_from_latents(np.zeros((10, 3)), np.zeros((10, 3))), 0.0)
    assert np.all(kl_per_dim_from_latents(np.full((4, 3), 0.5), np.full((4, 3), -1.0)) > 0)
    assert kl_per_dim_from_latents(np.zeros((0, 5)), np.zeros((0, 5))).shape == (5,)
    with pytest.raises(ValueError, match="both be"):
        kl_per_dim_from_latents(np.zeros((4, 3)), np.zeros((4, 2)))


def test_kl_from_cached_latents_matches_metrics_evaluate(shipped, digits):
    images = digits.images[:300]
    means, logvars = encode(shipped, images)
    assert np.allclose(
        kl_per_dim_from_latents(means, logvars), evaluate(shipped, images)["kl_per_dim"], atol=1e-4
    )


def test_order_is_by_kl_descending_with_ties_in_index_order_and_nan_last():
    assert order_by_kl([0.1, 2.0, 0.5, 2.0, float("nan"), 0.0]).tolist() == [1, 3, 2, 0, 5, 4]
    kl = np.random.default_rng(0).random(32)
    order = order_by_kl(kl)
    assert sorted(order.tolist()) == list(range(32))
    assert np.all(np.diff(kl[order]) <= 0)


# ---------------------------------------------------------------- where the sliders start
def test_origin_start_is_zero():
    assert np.array_equal(starting_vector("origin", 5), np.zeros(5))


def test_point_start_is_the_point_clamped_and_needs_a_point():
    point = [0.5, -1.0, 9.0, -9.0]
    assert starting_vector("point", 4, point=point).tolist() == [0.5, -1.0, SLIDER_LIMIT, -SLIDER_LIMIT]
    with pytest.raises(ValueError, match="no point"):
        starting_vector("point", 4)
    with pytest.raises(ValueError, match="4 values"):
        starting_vector("point", 4, point=[1.0, 2.0])


def test_random_start_follows_its_seed():
    a = starting_vector("random", 16, seed=3)
    assert a.shape == (16,)
    assert np.array_equal(a, starting_vector("random", 16, seed=3))
    assert not np.array_equal(a, starting_vector("random", 16, seed=4))
    assert np.all(np.abs(a) <= SLIDER_LIMIT)


def test_unknown_start_is_refused():
    with pytest.raises(ValueError, match="start must be"):
        starting_vector("somewhere", 3)


@pytest.mark.parametrize(
    "point, fits",
    [
        ([0.0, 1.0, 2.0], True),
        ([0.0, 1.0], False),
        (None, False),
        ([0.0, float("nan"), 1.0], False),
        (["a", "b", "c"], False),
        (np.ones(3), True),
    ],
)
def test_latent_fits(point, fits):
    assert latent_fits(point, 3) is fits


# ---------------------------------------------------------------- clamping untrusted values
def test_clamp_keeps_values_in_the_slider_range():
    out = as_latent([0.25, 1e9, -1e9], 3, limit=SLIDER_LIMIT)
    assert out.tolist() == [0.25, SLIDER_LIMIT, -SLIDER_LIMIT]
    assert as_latent([5.0], 1, limit=2.0).tolist() == [2.0]


@pytest.mark.parametrize(
    "bad, match",
    [
        ([1.0, float("nan")], "NaN"),
        ([1.0, float("inf")], "NaN"),
        ([1.0], "2 values"),
        (["x", "y"], "numbers"),
        (None, "numbers"),
    ],
)
def test_clamp_refuses_malformed_vectors(bad, match):
    with pytest.raises(ValueError, match=match):
        as_latent(bad, 2, limit=SLIDER_LIMIT)


# ---------------------------------------------------------------- decoding a frame and the traversal strips
def test_decode_vector_is_one_uint8_image(shipped, digits):
    image = decode_vector(shipped, np.zeros(8))
    assert image.shape == digits.image_shape[1:] and image.dtype == np.uint8


def test_strip_shape_and_each_cell_is_that_dimension_set_to_its_value(shipped):
    z = np.array([0.3, -0.2, 1.0, 0.0, 0.5, -0.5, 0.0, 2.0])
    strips = traversal_strips(shipped, z, [2, 0])
    assert strips.shape == (2, len(STRIP_VALUES), 8, 8) and strips.dtype == np.uint8
    for row, dim in enumerate([2, 0]):
        for col, value in enumerate(STRIP_VALUES):
            moved = torch.tensor(z, dtype=torch.float32)
            moved[dim] = float(value)
            assert np.array_equal(strips[row, col], decode_to_uint8(shipped, moved)[0])
    assert traversal_strips(shipped, z, []).shape == (0, len(STRIP_VALUES), 8, 8)


def test_strip_image_tiles_one_row_with_gaps():
    frames = np.zeros((7, 8, 8), np.uint8)
    assert strip_image(frames).shape == (10, 7 * 9 + 1)
