"""The latent pad's protocol: everything that crosses between Python and pad.js, in one place beside pad.js.

Python → browser (the component's `data`, built by `pad_data`):
  generation, seq   Python's generation of the values (bumped when Python, not the user, sets them) and the
                    sequence number of the pad message this frame answers
  values            the slider values v now shown (K numbers)
  axes              how slider values map to a latent vector: z = origin + Σᵢ vᵢ·basisᵢ, as
                    {"origin": [D] | None (zeros), "basis": [[D] × K] | None (identity: K = D, v = z)}.
                    Coordinate sliders are the identity basis; principal-direction or attribute sliders pass
                    their directions as the rows of `basis` and their starting point as `origin`. The pad
                    decodes z (in the browser or on the server) and knows nothing else of what v means.
  order, labels, kl display order of the K sliders, their names, KL per slider (or None)
  limit, step       slider range ±limit and step
  image, strips     the decoded image for `values` as a PNG data URL; one traversal strip per slider (or None)
  strips_stale      the strips are the previous values' (the image went out first): the pad asks again
  decoder_key       the model key whose decoder the browser may run, or None (every frame from the server)
  decoder           once per model and tab: the decoder as a layer list (`decoder_spec`), see below
Browser → Python (component state):
  "z"        {generation, seq, values, dragging}: the slider values (read by `values_from_pad_state`)
  "decoder"  the model key whose decoder the browser holds ("" = please send it again)

The decoder spec: {"format": 1, "latent_dim", "shape": [C, H, W], "weights", "macs", "layers": [...]}, each
layer a dict with a "kind" from LAYER_KINDS; weights are base64 little-endian float32 in PyTorch's row-major
layout. `decoder_layers` walks the decoder's module tree with one emitter per module type (EMITTERS); a module
it does not know raises UnsupportedLayer, so the pad decodes that model on the server instead of drawing
something else. pad.js has one reader per kind (its LAYERS table). tests/test_pad_protocol.py fails when a
kind lacks a reader or a model `vae_core.models` builds emits an unknown module;
tests/browser/test_pad_decoder.py checks the browser's pixels against vae_core's. A new layer: its emitter
here, its reader in pad.js's LAYERS, a row in LAYER_KINDS, a model in app_drivers/pad_models.py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_core.images import png_bytes
from vae_core.latent_input import as_latent
from vae_core.models import VAE, ConvDecoder, MLPDecoder, ResBlock
from vae_core.sliders import SLIDER_LIMIT, SLIDER_STEP

SPEC_FORMAT = 1
# Caps on what goes to the browser, from measurements in headless Chromium on 2 cores (README "Dragging"):
# the MNIST default conv decoder has 0.85 M weights (3.4 MB of float32, 4.5 MB of base64 JSON, sent once) and
# 4.1 M multiply-adds a frame. The caps leave room for about 2× its weights and 5× its work (the residual
# conv at 28×28: 0.94 M weights, 11.4 M multiply-adds; a 3×64×64 conv, 4.3 M weights, stays on the server).
MAX_BROWSER_WEIGHTS = 2_000_000  # 8 MB of float32: sent once per model and tab
MAX_BROWSER_MACS = 20_000_000  # multiply-adds per frame

# Every layer kind the emitters produce, and what pad.js computes for it.
LAYER_KINDS = {
    "linear": "y = W x + b (W: out × in)",
    "conv2d": "2-D convolution, zero padding (W: out × in × kh × kw)",
    "conv_transpose2d": "2-D transposed convolution (W: in × out × kh × kw), with output_padding",
    "silu": "y = x · sigmoid(x)",
    "sigmoid": "y = 1 / (1 + e^(−x)): the Bernoulli mean, and the Gaussian mean (both sigmoid(logits))",
    "reshape": "the flat vector viewed as (C, H, W)",
    "add_bias": "y = x + b, b of the current shape (the conv decoder's per-pixel output bias)",
    "residual": "y = x + body(x), body a layer list",
}


class UnsupportedLayer(ValueError):
    """A decoder module the browser has no reader for: the pad decodes that model on the server."""


def _b64_float32(tensor: torch.Tensor) -> str:
    """Little-endian float32 bytes of a tensor (row-major), base64."""
    array = tensor.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4")
    return base64.b64encode(array.tobytes()).decode("ascii")


def _pair(value: int | Sequence[int]) -> list[int]:
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * 2


def _plain_conv(module: nn.Module) -> None:
    """Refuse conv settings pad.js does not compute (dilation, groups, non-zero padding modes)."""
    if _pair(module.dilation) != [1, 1] or module.groups != 1 or module.padding_mode != "zeros":
        raise UnsupportedLayer(
            f"{module!r}: only dilation 1, groups 1 and zero padding decode in the browser"
        )
    if isinstance(module.padding, str):
        raise UnsupportedLayer(f"{module!r}: string padding does not decode in the browser")


def _linear(module: nn.Linear) -> list[dict]:
    if module.bias is None:
        raise UnsupportedLayer("a Linear layer without bias")
    return [
        {
            "kind": "linear",
            "in": module.in_features,
            "out": module.out_features,
            "weight": _b64_float32(module.weight),
            "bias": _b64_float32(module.bias),
        }
    ]


def _conv(module: nn.Conv2d | nn.ConvTranspose2d) -> list[dict]:
    _plain_conv(module)
    if module.bias is None:
        raise UnsupportedLayer("a convolution without bias")
    layer = {
        "kind": "conv2d",
        "in": module.in_channels,
        "out": module.out_channels,
        "kernel": _pair(module.kernel_size),
        "stride": _pair(module.stride),
        "padding": _pair(module.padding),
        "weight": _b64_float32(module.weight),
        "bias": _b64_float32(module.bias),
    }
    if isinstance(module, nn.ConvTranspose2d):
        layer["kind"] = "conv_transpose2d"
        layer["output_padding"] = _pair(module.output_padding)
    return [layer]


def _sequential(module: nn.Sequential) -> list[dict]:
    return [layer for child in module for layer in decoder_layers(child)]


def _resblock(module: ResBlock) -> list[dict]:
    # ResBlock.forward: x + conv2(silu(conv1(silu(x))))
    body = [{"kind": "silu"}, *_conv(module.conv1), {"kind": "silu"}, *_conv(module.conv2)]
    return [{"kind": "residual", "body": body}]


def _mlp_decoder(module: MLPDecoder) -> list[dict]:
    # MLPDecoder.forward: body(z).view(C, H, W)
    return [*_sequential(module.body), {"kind": "reshape", "shape": [int(v) for v in module.shape]}]


def _conv_decoder(module: ConvDecoder) -> list[dict]:
    # ConvDecoder.forward: body(fc(z).view(start)) + pixel_bias
    return [
        *_sequential(module.fc),
        {"kind": "reshape", "shape": [int(v) for v in module.start]},
        *_sequential(module.body),
        {
            "kind": "add_bias",
            "shape": [int(v) for v in module.pixel_bias.shape],
            "bias": _b64_float32(module.pixel_bias),
        },
    ]


# One emitter per module type, matched on the exact type (a subclass may compute something else).
EMITTERS: dict[type, Callable[[nn.Module], list[dict]]] = {
    nn.Linear: _linear,
    nn.Conv2d: _conv,
    nn.ConvTranspose2d: _conv,
    nn.SiLU: lambda module: [{"kind": "silu"}],
    nn.Sigmoid: lambda module: [{"kind": "sigmoid"}],
    nn.Sequential: _sequential,
    ResBlock: _resblock,
    MLPDecoder: _mlp_decoder,
    ConvDecoder: _conv_decoder,
}


def decoder_layers(module: nn.Module) -> list[dict]:
    """The layer list pad.js computes `module`'s forward pass with; UnsupportedLayer for an unknown module."""
    emitter = EMITTERS.get(type(module))
    if emitter is None:
        raise UnsupportedLayer(
            f"no browser reader for {type(module).__name__}: add an emitter here and a reader "
            "in pad.js (see this module's docstring)"
        )
    return emitter(module)


def layer_kinds(layers: Sequence[dict]) -> set[str]:
    """Every kind in a layer list, residual bodies included."""
    kinds: set[str] = set()
    for layer in layers:
        kinds.add(layer["kind"])
        if layer["kind"] == "residual":
            kinds |= layer_kinds(layer["body"])
    return kinds


def _walk_sizes(layers: Sequence[dict], shape: list[int]) -> tuple[list[int], int, int]:
    """(output shape, weights, multiply-adds) of a layer list applied to `shape` (flat [n] or [C, H, W])."""
    weights = macs = 0
    for layer in layers:
        kind = layer["kind"]
        if kind == "linear":
            weights += layer["out"] * (layer["in"] + 1)
            macs += layer["out"] * layer["in"]
            shape = [layer["out"]]
        elif kind in ("conv2d", "conv_transpose2d"):
            (kh, kw), (sh, sw), (ph, pw) = layer["kernel"], layer["stride"], layer["padding"]
            _, h, w = shape
            if kind == "conv2d":
                h, w = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
                macs += layer["out"] * h * w * layer["in"] * kh * kw
            else:
                oh, ow = layer["output_padding"]
                macs += layer["in"] * shape[1] * shape[2] * layer["out"] * kh * kw
                h, w = (h - 1) * sh - 2 * ph + kh + oh, (w - 1) * sw - 2 * pw + kw + ow
            weights += layer["out"] * (layer["in"] * kh * kw + 1)
            shape = [layer["out"], h, w]
        elif kind == "reshape":
            shape = list(layer["shape"])
        elif kind == "add_bias":
            weights += int(np.prod(layer["shape"]))
        elif kind == "residual":
            _, body_weights, body_macs = _walk_sizes(layer["body"], shape)
            weights, macs = weights + body_weights, macs + body_macs
    return shape, weights, macs


def decoder_spec(
    model: VAE, max_weights: int = MAX_BROWSER_WEIGHTS, max_macs: int = MAX_BROWSER_MACS
) -> dict | None:
    """The model's decode() as a layer list for pad.js; None past the caps or with a module it can't read."""
    try:
        layers = [*decoder_layers(model.decoder), {"kind": "sigmoid"}]  # VAE.decode = sigmoid(decoder(z))
    except UnsupportedLayer:
        return None
    latent_dim = int(model.config.latent_dim)
    _, weights, macs = _walk_sizes(layers, [latent_dim])
    if weights > max_weights or macs > max_macs:
        return None
    return {
        "format": SPEC_FORMAT,
        "latent_dim": latent_dim,
        "shape": [int(v) for v in model.config.input_shape],
        "weights": weights,
        "macs": macs,
        "layers": layers,
    }


# ---------------------------------------------------------------- the sliders' axes: slider values v → z
@dataclass(frozen=True)
class PadAxes:
    """K slider values → a latent vector: z = origin + Σᵢ vᵢ·basis[i] (basis None: identity, K = D)."""

    latent_dim: int
    origin: np.ndarray | None = None  # (D,) or None for zeros
    basis: np.ndarray | None = None  # (K, D) or None for the identity

    @property
    def count(self) -> int:
        """Number of sliders K."""
        return self.latent_dim if self.basis is None else int(self.basis.shape[0])

    def latent(self, values: np.ndarray) -> np.ndarray:
        """The latent vector z (D,) for slider values v (K,), float64."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        z = values.copy() if self.basis is None else values @ np.asarray(self.basis, dtype=np.float64)
        return z if self.origin is None else z + np.asarray(self.origin, dtype=np.float64)

    def payload(self) -> dict:
        """The JSON the pad reads (origin/basis None stand for zeros/identity)."""
        return {
            "origin": None
            if self.origin is None
            else [float(v) for v in np.asarray(self.origin).reshape(-1)],
            "basis": None if self.basis is None else np.asarray(self.basis, dtype=np.float64).tolist(),
        }


def coordinate_axes(latent_dim: int) -> PadAxes:
    """One slider per latent coordinate: the identity basis at the origin (slider values are z)."""
    return PadAxes(int(latent_dim))


# ---------------------------------------------------------------- browser → Python, Python → browser
def values_from_pad_state(
    state: Mapping | None, generation: int, fallback: np.ndarray
) -> tuple[np.ndarray, int, bool]:
    """What the browser's slider pad reports → (slider values, sequence number to echo, dragging).

    `state` is the component's value {"generation", "seq", "values", "dragging"}. Values from an older
    generation (sent before a reset or a new start) or malformed ones are ignored in favour of `fallback`;
    the sequence number is echoed either way so the browser knows its message arrived.
    """
    fallback = np.asarray(fallback, dtype=np.float64)
    if not isinstance(state, Mapping):
        return fallback, 0, False
    try:
        seq = max(0, int(state.get("seq", 0)))
    except (TypeError, ValueError, OverflowError):  # JSON from the browser may hold Infinity/NaN
        seq = 0
    dragging = bool(state.get("dragging", False))
    if state.get("generation") != generation:
        return fallback, seq, False
    try:
        return as_latent(state.get("values"), fallback.size, limit=SLIDER_LIMIT), seq, dragging
    except ValueError:
        return fallback, seq, False


def png_data_url(image: np.ndarray) -> str:
    """A uint8 image as a `data:image/png;base64,…` URL a browser can show without another request."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def pad_data(
    *,
    image: np.ndarray,
    values: np.ndarray,
    order: Sequence[int],
    labels: Sequence[str],
    kl: np.ndarray | None,
    strips: list[str | None],
    strip_values: Sequence[float],
    seq: int,
    generation: int,
    axes: PadAxes,
    image_px: int,
    strip_px: int,
    throttle_ms: int,
    caption: str = "",
) -> dict:
    """The JSON the component gets for one frame (module docstring); the caller adds the decoder."""
    return {
        "generation": int(generation),
        "seq": int(seq),
        "values": [round(float(v), 4) for v in values],
        "axes": axes.payload(),
        "order": [int(d) for d in order],
        "labels": list(labels),
        "kl": None if kl is None else [round(float(v), 4) for v in kl],
        "limit": SLIDER_LIMIT,
        "step": SLIDER_STEP,
        "image": png_data_url(image),
        "image_px": int(image_px),
        "strips": strips,
        "strip": {"values": [float(v) for v in strip_values], "cell": int(image.shape[1]), "pad": 1},
        "strip_px": int(strip_px),
        "throttle_ms": int(throttle_ms),
        "caption": caption,
    }
