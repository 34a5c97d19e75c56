"""Models for the pad-decoder tests: one per decoder family and image kind, with weights spread out so the
decoded images have contrast (a fresh init draws a nearly flat grey, where any decoder 'agrees')."""

from __future__ import annotations

import torch

from vae_core.config import VAEConfig
from vae_core.models import VAE, build_vae

# (name, config): every decoder family vae_core.models builds, grey and RGB (issue 12's agreement list)
AGREEMENT_CONFIGS = {
    "mlp_gray": VAEConfig(input_shape=(1, 28, 28), arch="mlp", latent_dim=16),
    "mlp_rgb": VAEConfig(input_shape=(3, 16, 16), arch="mlp", latent_dim=6, hidden=(64, 32)),
    "conv_gray": VAEConfig(input_shape=(1, 28, 28), arch="conv", latent_dim=16),  # the MNIST default
    "conv_rgb_32": VAEConfig(
        input_shape=(3, 32, 32), arch="conv", latent_dim=8, channels=(16, 32), hidden=(64,)
    ),
    "resconv": VAEConfig(
        input_shape=(1, 28, 28), arch="resconv", latent_dim=8, channels=(16, 32), hidden=(64,)
    ),
    "conv_odd_side": VAEConfig(
        input_shape=(1, 13, 11), arch="resconv", latent_dim=4, channels=(8, 8, 8), hidden=(16,)
    ),  # output_padding ≠ 0 and three stages
}

# Every architecture at a spread of shapes and widths: each must emit only layer kinds pad.js reads.
ALL_ARCH_CONFIGS = [
    VAEConfig(input_shape=shape, arch=arch, latent_dim=latent, channels=channels, hidden=hidden)
    for arch in ("mlp", "conv", "resconv")
    for shape, latent, channels, hidden in (
        ((1, 8, 8), 2, (8,), (16,)),
        ((1, 28, 28), 16, (32, 64), (512, 256)),
        ((3, 32, 32), 8, (16, 32, 64), (64,)),
        ((3, 17, 9), 3, (4, 4), (8, 8)),
    )
]


def contrasty_model(config: VAEConfig, seed: int = 0) -> VAE:
    """This config's model in eval mode, decoder weights spread out (×2.5), output bias random."""
    torch.manual_seed(seed)
    model = build_vae(config).eval()
    with torch.no_grad():
        for name, param in model.decoder.named_parameters():
            if name == "pixel_bias" or name.endswith(f"{len(list(model.decoder.body)) - 1}.bias"):
                param.normal_(0.0, 2.0)
            else:
                param.mul_(2.5)
    return model
