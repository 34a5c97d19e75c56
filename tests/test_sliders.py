"""Latent sliders' pure functions: KL per dim and its ordering, starting vectors, clamping, the pad's message, strips."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core import DEFAULT_MODEL_PATH
from vae_core.checkpoint import load_checkpoint
from vae_core.generate import decode_to_uint8
from vae_core.latents import encode
from vae_core.metrics import evaluate
from vae_core.models import kl_per_dim
from vae_core.sliders import (
    SLIDER_LIMIT,
    STRIP_VALUES,
    clamp_vector,
    decode_vector,
    kl_per_dim_from_latents,
    order_by_kl,
    png_data_url,
    point_fits,
    starting_vector,
    strip_image,
    traversal_strips,
    vector_from_pad_state,
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
    assert np.allclose(kl_per_dim_from_latents(means, logvars), evaluate(shipped, images)["kl_per_dim"], atol=1e-4)


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


@pytest.mark.parametrize("point, fits", [
    ([0.0, 1.0, 2.0], True), ([0.0, 1.0], False), (None, False), ([0.0, float("nan"), 1.0], False),
    (["a", "b", "c"], False), (np.ones(3), True),
])
def test_point_fits(point, fits):
    assert point_fits(point, 3) is fits


# ---------------------------------------------------------------- clamping untrusted values
def test_clamp_keeps_values_in_the_slider_range():
    out = clamp_vector([0.25, 1e9, -1e9], 3)
    assert out.tolist() == [0.25, SLIDER_LIMIT, -SLIDER_LIMIT]
    assert clamp_vector([5.0], 1, limit=2.0).tolist() == [2.0]


@pytest.mark.parametrize("bad, match", [
    ([1.0, float("nan")], "NaN"), ([1.0, float("inf")], "NaN"), ([1.0], "2 values"), (["x", "y"], "numbers"),
    (None, "numbers"),
])
def test_clamp_refuses_malformed_vectors(bad, match):
    with pytest.raises(ValueError, match=match):
        clamp_vector(bad, 2)


# ---------------------------------------------------------------- the browser pad's message → the vector to decode
def test_pad_state_of_the_current_generation_is_used_clamped():
    z, seq, dragging = vector_from_pad_state(
        {"generation": 2, "seq": 7, "values": [1.0, 99.0], "dragging": True}, 2, np.zeros(2))
    assert z.tolist() == [1.0, SLIDER_LIMIT] and seq == 7 and dragging is True


def test_pad_state_of_an_older_generation_is_ignored_but_its_seq_echoed():
    fallback = np.array([0.5, 0.5])
    z, seq, dragging = vector_from_pad_state({"generation": 1, "seq": 9, "values": [3.0, 3.0]}, 2, fallback)
    assert z.tolist() == [0.5, 0.5] and seq == 9 and dragging is False


@pytest.mark.parametrize("state", [
    None, "junk", {}, {"generation": 2, "seq": "x", "values": [1.0]},
    {"generation": 2, "seq": 3, "values": [float("nan"), 0.0]}, {"generation": 2, "seq": 3, "values": "ab"},
])
def test_malformed_pad_state_falls_back(state):
    z, seq, _ = vector_from_pad_state(state, 2, np.array([0.1, 0.2]))
    assert z.tolist() == [0.1, 0.2]
    assert seq >= 0


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


def test_png_data_url_round_trips():
    image = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    url = png_data_url(image)
    assert url.startswith("data:image/png;base64,")
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(back, image)


# ---------------------------------------------------------------- the decoder the browser runs
def decode_like_the_browser(spec: dict, z: np.ndarray) -> np.ndarray:
    """What pad.js computes from the JSON: Linear, SiLU, …, Linear, sigmoid, then round(clip(x)·255), as (H, W[, 3])."""
    x = np.asarray(z, dtype=np.float64)
    for i, layer in enumerate(spec["layers"]):
        w = np.frombuffer(base64.b64decode(layer["weight"]), "<f4").reshape(layer["rows"], layer["cols"])
        b = np.frombuffer(base64.b64decode(layer["bias"]), "<f4")
        x = w @ x + b
        x = x / (1 + np.exp(-x)) if i < len(spec["layers"]) - 1 else 1 / (1 + np.exp(-x))
    c, h, w_ = spec["shape"]
    pixels = np.round(np.clip(x, 0, 1) * 255).reshape(c, h, w_)
    return pixels[0] if c == 1 else pixels.transpose(1, 2, 0)


def test_the_browser_decoder_draws_the_same_image_as_the_model(shipped):
    from vae_core.sliders import browser_decoder

    spec = browser_decoder(shipped)
    assert spec["shape"] == [1, 8, 8] and spec["activation"] == "silu" and spec["output"] == "sigmoid"
    assert [layer["cols"] for layer in spec["layers"]][0] == 8 and spec["layers"][-1]["rows"] == 64
    for z in starting_vector("random", 8, seed=3), np.linspace(-3, 3, 8), np.zeros(8):
        ours = decode_like_the_browser(spec, z)
        assert np.abs(ours - decode_vector(shipped, z).astype(float)).max() <= 1  # float64 vs float32 rounding


def test_only_small_mlp_decoders_go_to_the_browser(shipped):
    from vae_core.config import VAEConfig
    from vae_core.models import build_vae
    from vae_core.sliders import browser_decoder

    assert browser_decoder(build_vae(VAEConfig(input_shape=(1, 28, 28), arch="conv"))) is None
    assert browser_decoder(shipped, max_weights=1000) is None  # too big to send
    rgb = build_vae(VAEConfig(input_shape=(3, 16, 16), arch="mlp", latent_dim=3, hidden=(32,))).eval()
    spec = browser_decoder(rgb)
    z = np.array([0.5, -1.0, 2.0])
    assert np.abs(decode_like_the_browser(spec, z) - decode_vector(rgb, z).astype(float)).max() <= 1
