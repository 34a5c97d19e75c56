"""The latent pad's protocol (explorer_ui/latent_pad_frontend/protocol.py): the decoder layer list every model
emits and pad.js reads, its caps, the axes that map slider values to z, and the browser's messages.

The pixel agreement of pad.js itself is tested in Chromium (tests/browser/test_pad_decoder.py); here a NumPy
reader of the same layer list checks the emitters against the model's own decode, without a browser.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from app_drivers.pad_models import AGREEMENT_CONFIGS, ALL_ARCH_CONFIGS, contrasty_model
from explorer_ui.latent_pad_frontend import protocol
from explorer_ui.latent_pad_frontend.protocol import (
    LAYER_KINDS,
    PadAxes,
    UnsupportedLayer,
    coordinate_axes,
    decoder_layers,
    decoder_spec,
    layer_kinds,
    png_data_url,
    values_from_pad_state,
)
from vae_core import DEFAULT_MODEL_PATH
from vae_core.checkpoint import load_checkpoint
from vae_core.config import VAEConfig
from vae_core.models import build_vae
from vae_core.sliders import SLIDER_LIMIT, decode_vector

PAD_JS = protocol.__file__.replace("protocol.py", "pad.js")


def _floats(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f4").astype(np.float64)


def numpy_forward(layers: list[dict], x: np.ndarray) -> np.ndarray:
    """A second reader of the layer list (NumPy, float64), written from LAYER_KINDS' definitions."""
    for layer in layers:
        kind = layer["kind"]
        if kind == "linear":
            x = _floats(layer["weight"]).reshape(layer["out"], layer["in"]) @ x.reshape(-1) + _floats(
                layer["bias"]
            )
        elif kind in ("conv2d", "conv_transpose2d"):
            t = torch.as_tensor(x[None], dtype=torch.float64)
            if kind == "conv2d":
                w = torch.as_tensor(
                    _floats(layer["weight"]).reshape(layer["out"], layer["in"], *layer["kernel"])
                )
                t = nn.functional.conv2d(
                    t,
                    w,
                    torch.as_tensor(_floats(layer["bias"])),
                    stride=layer["stride"],
                    padding=layer["padding"],
                )
            else:
                w = torch.as_tensor(
                    _floats(layer["weight"]).reshape(layer["in"], layer["out"], *layer["kernel"])
                )
                t = nn.functional.conv_transpose2d(
                    t,
                    w,
                    torch.as_tensor(_floats(layer["bias"])),
                    stride=layer["stride"],
                    padding=layer["padding"],
                    output_padding=layer["output_padding"],
                )
            x = t[0].numpy()
        elif kind == "silu":
            x = x / (1 + np.exp(-x))
        elif kind == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif kind == "reshape":
            x = x.reshape(layer["shape"])
        elif kind == "add_bias":
            x = x + _floats(layer["bias"]).reshape(layer["shape"])
        elif kind == "residual":
            x = x + numpy_forward(layer["body"], x)
        else:
            raise AssertionError(f"the test reader lacks kind {kind}")
    return x


def as_uint8(x: np.ndarray, shape: list[int]) -> np.ndarray:
    """round(clip(x)·255) as (H, W) or (H, W, C), like vae_core's to_uint8 and pad.js's toPixels."""
    pixels = np.round(np.clip(x.reshape(shape), 0, 1) * 255)
    return pixels[0] if shape[0] == 1 else pixels.transpose(1, 2, 0)


# ---------------------------------------------------------------- the emitted layer list
@pytest.mark.parametrize("name", list(AGREEMENT_CONFIGS))
def test_the_layer_list_decodes_like_the_model(name):
    model = contrasty_model(AGREEMENT_CONFIGS[name])
    spec = decoder_spec(model)
    assert spec is not None and spec["shape"] == list(model.config.input_shape)
    rng = np.random.default_rng(1)
    for z in (np.zeros(spec["latent_dim"]), rng.normal(size=spec["latent_dim"]) * 1.5):
        expected = decode_vector(model, z).astype(int)
        assert expected.std() > 20, "the test model draws a flat image: agreement would mean nothing"
        ours = as_uint8(numpy_forward(spec["layers"], z), spec["shape"])
        assert np.abs(ours - expected).max() <= 1


@pytest.mark.parametrize(
    "config", ALL_ARCH_CONFIGS, ids=lambda c: f"{c.arch}-{'x'.join(map(str, c.input_shape))}"
)
def test_every_architecture_emits_only_kinds_pad_js_reads(config):
    layers = decoder_layers(
        build_vae(config).decoder
    )  # raises UnsupportedLayer for a module without an emitter
    assert layer_kinds(layers) <= set(LAYER_KINDS)


def test_pad_js_has_a_reader_for_every_kind_and_no_other():
    source = Path(PAD_JS).read_text(encoding="utf-8")
    table = source[source.index("export const LAYERS = {") :]
    table = table[: table.index("\n};\n")]
    readers = set(re.findall(r"^  (\w+): ", table, flags=re.MULTILINE))
    assert readers == set(LAYER_KINDS), f"pad.js reads {sorted(readers)}, Python emits {sorted(LAYER_KINDS)}"


def test_a_module_without_an_emitter_falls_back_to_the_server():
    model = build_vae(VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=2, hidden=(4,))).eval()
    model.decoder.body[1] = nn.GELU()  # a new activation in models.py, with no reader in pad.js
    with pytest.raises(UnsupportedLayer, match="GELU"):
        decoder_layers(model.decoder)
    assert decoder_spec(model) is None
    conv = build_vae(VAEConfig(input_shape=(1, 8, 8), arch="conv", latent_dim=2, channels=(4,), hidden=(8,)))
    conv.decoder.body[-1] = nn.Conv2d(4, 1, 3, padding=2, dilation=2)  # a setting the JS loops do not compute
    assert decoder_spec(conv) is None


def test_the_mnist_default_conv_fits_the_caps_and_bigger_decoders_stay_on_the_server():
    spec = decoder_spec(build_vae(VAEConfig()))
    assert spec is not None
    assert spec["weights"] == sum(p.numel() for p in build_vae(VAEConfig()).decoder.parameters())
    assert spec["weights"] <= protocol.MAX_BROWSER_WEIGHTS and spec["macs"] <= protocol.MAX_BROWSER_MACS
    assert decoder_spec(build_vae(VAEConfig(input_shape=(3, 64, 64)))) is None  # 4.3 M weights
    assert decoder_spec(build_vae(VAEConfig()), max_macs=1_000_000) is None
    assert decoder_spec(load_checkpoint(DEFAULT_MODEL_PATH).model, max_weights=1000) is None


# ---------------------------------------------------------------- the axes: slider values → z
def test_coordinate_axes_are_the_identity():
    axes = coordinate_axes(3)
    assert axes.count == 3 and axes.latent(np.array([1.0, -2.0, 0.5])).tolist() == [1.0, -2.0, 0.5]
    assert axes.payload() == {"origin": None, "basis": None}


def test_axes_map_values_to_origin_plus_weighted_basis():
    basis = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    axes = PadAxes(3, origin=np.array([0.5, 0.5, 0.5]), basis=basis)
    assert axes.count == 2
    assert axes.latent(np.array([2.0, -1.0])).tolist() == [2.5, -1.5, 2.5]
    assert axes.payload()["basis"] == basis.tolist()


# ---------------------------------------------------------------- the pad's message → the values to decode
def test_pad_state_of_the_current_generation_is_used_clamped():
    z, seq, dragging = values_from_pad_state(
        {"generation": 2, "seq": 7, "values": [1.0, 99.0], "dragging": True}, 2, np.zeros(2)
    )
    assert z.tolist() == [1.0, SLIDER_LIMIT] and seq == 7 and dragging is True


def test_pad_state_of_an_older_generation_is_ignored_but_its_seq_echoed():
    fallback = np.array([0.5, 0.5])
    z, seq, dragging = values_from_pad_state({"generation": 1, "seq": 9, "values": [3.0, 3.0]}, 2, fallback)
    assert z.tolist() == [0.5, 0.5] and seq == 9 and dragging is False


@pytest.mark.parametrize(
    "state",
    [
        None,
        "junk",
        {},
        {"generation": 2, "seq": "x", "values": [1.0]},
        {"generation": 2, "seq": 3, "values": [float("nan"), 0.0]},
        {"generation": 2, "seq": 3, "values": "ab"},
    ],
)
def test_malformed_pad_state_falls_back(state):
    z, seq, _ = values_from_pad_state(state, 2, np.array([0.1, 0.2]))
    assert z.tolist() == [0.1, 0.2]
    assert seq >= 0


def test_png_data_url_round_trips():
    image = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    url = png_data_url(image)
    assert url.startswith("data:image/png;base64,")
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(back, image)
