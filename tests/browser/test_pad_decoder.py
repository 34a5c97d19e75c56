"""pad.js's decoder in Chromium draws the pixels vae_core draws: for every decoder family (MLP grey and RGB,
conv grey and RGB at 32×32, residual conv), the browser's uint8 image of a z equals vae_core's decode within
one grey level. pad.js runs in a blank page (no app), fed the layer list protocol.py emits."""

from __future__ import annotations

import numpy as np
import pytest

from app_drivers.pad_decoder import browser_decode, load_pad_module
from app_drivers.pad_models import AGREEMENT_CONFIGS, contrasty_model
from explorer_ui.latent_pad_frontend.protocol import LAYER_KINDS, PadAxes, decoder_spec
from vae_core.config import VAEConfig
from vae_core.sliders import decode_vector

pytestmark = [pytest.mark.browser]

# Widths that are not multiples of four and odd tile counts: the leftover rows and pixels of pad.js's blocked
# loops (four channels × two pixels; Winograd's 2×2 tiles), which the agreement list's widths never reach.
ODD_WIDTH_CONFIGS = {
    "resconv_rgb_odd_widths": VAEConfig(
        input_shape=(3, 20, 18), arch="resconv", latent_dim=3, channels=(6, 10), hidden=(9,)
    ),
    "conv_three_odd_stages": VAEConfig(
        input_shape=(1, 9, 15), arch="conv", latent_dim=5, channels=(5, 7, 3), hidden=(11,)
    ),
}


@pytest.fixture(scope="module")
def blank(browser):
    """One blank page with pad.js loaded as a module."""
    context = browser.new_context()
    page = context.new_page()
    kinds = load_pad_module(page)
    assert set(kinds) == set(LAYER_KINDS)  # the reader table the browser actually built
    yield page
    context.close()


@pytest.mark.parametrize("name", [*AGREEMENT_CONFIGS, *ODD_WIDTH_CONFIGS])
def test_browser_pixels_equal_vae_core_within_one_grey_level(blank, name):
    model = contrasty_model({**AGREEMENT_CONFIGS, **ODD_WIDTH_CONFIGS}[name])
    spec = decoder_spec(model)
    assert spec is not None, f"{name} should decode in the browser"
    rng = np.random.default_rng(7)
    vectors = [np.zeros(spec["latent_dim"]), *(rng.normal(size=spec["latent_dim"]) * 1.5 for _ in range(3))]
    decoded = browser_decode(blank, spec, [v.tolist() for v in vectors])
    for z, ours in zip(vectors, decoded):
        expected = decode_vector(model, z).astype(int)
        assert expected.std() > 20, "a flat test image would agree with anything"
        got = np.array(ours["pixels"]).reshape(expected.shape)
        assert np.abs(got - expected).max() <= 1, f"{name}: browser and vae_core differ at z = {z}"


def test_the_browser_maps_slider_values_through_the_axes(blank):
    model = contrasty_model(AGREEMENT_CONFIGS["conv_rgb_32"])
    spec = decoder_spec(model)
    rng = np.random.default_rng(3)
    axes = PadAxes(
        spec["latent_dim"],
        origin=rng.normal(size=spec["latent_dim"]),
        basis=rng.normal(size=(2, spec["latent_dim"])),
    )
    values = np.array([0.7, -1.2])
    ours = browser_decode(blank, spec, [values.tolist()], axes=axes.payload())[0]
    expected = decode_vector(model, axes.latent(values)).astype(int)
    assert np.abs(np.array(ours["pixels"]).reshape(expected.shape) - expected).max() <= 1


def test_an_inconsistent_spec_is_refused_not_drawn(blank):
    spec = decoder_spec(contrasty_model(AGREEMENT_CONFIGS["mlp_rgb"]))
    spec["layers"][0]["out"] += 1  # weights no longer match the sizes
    with pytest.raises(Exception, match="weights"):
        browser_decode(blank, spec, [[0.0] * spec["latent_dim"]])
    spec = decoder_spec(contrasty_model(AGREEMENT_CONFIGS["mlp_rgb"]))
    spec["layers"].insert(1, {"kind": "gelu"})
    with pytest.raises(Exception, match="no reader"):
        browser_decode(blank, spec, [[0.0] * spec["latent_dim"]])
