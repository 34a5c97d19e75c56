"""The VAE: encoder/decoder pairs (MLP, conv, residual conv), the ELBO and the reparameterisation trick."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .config import VAEConfig
from .errors import InputError

LOG_2PI = math.log(2 * math.pi)


@dataclass
class VAEOutput:
    """One forward pass: per-batch mean loss, its two terms, and the posterior parameters."""

    loss: torch.Tensor  # scalar: mean over the batch of recon + β·KL
    recon: torch.Tensor  # scalar: mean −log p(x|z) per image, nats
    kl: torch.Tensor  # scalar: mean KL(q(z|x) || N(0, I)) per image, nats
    mu: torch.Tensor  # (B, D)
    logvar: torch.Tensor  # (B, D)
    x_logits: torch.Tensor  # (B, C, H, W) decoder output before the sigmoid


def reparameterise(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    eps: torch.Tensor | None = None,
) -> torch.Tensor:
    """z = μ + σ ⊙ ε, ε ~ N(0, I) drawn from `generator` unless given: a sample gradients can flow through."""
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) || N(0, 1)) for each latent dimension, shape (B, D)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def image_shape_fits(shape: Sequence[int], expected: Sequence[int]) -> bool:
    """Whether images of `shape` (C, H, W) are what a model built for `expected` takes."""
    return tuple(int(v) for v in shape) == tuple(int(v) for v in expected)


def check_image_shape(shape: Sequence[int], expected: Sequence[int], what: str = "images") -> None:
    """Raise ValueError naming both shapes when images of `shape` (C, H, W) do not fit a model's `expected`."""
    if not image_shape_fits(shape, expected):
        raise InputError(f"{what} are {tuple(shape)}, the model expects {tuple(expected)}")


def _conv_sizes(side: int, stages: int) -> list[int]:
    """Spatial side after each stride-2 (k=4, p=1) conv: side, side//2, ..."""
    sizes = [side]
    for _ in range(stages):
        sizes.append(max(1, sizes[-1] // 2))
    return sizes


class ResBlock(nn.Module):
    """x + conv(act(conv(act(x)))): a 3×3 residual block that keeps shape."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual update."""
        return x + self.conv2(F.silu(self.conv1(F.silu(x))))


class MLPEncoder(nn.Module):
    """Flatten → hidden layers → (μ, log σ²)."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = cfg.n_pixels
        for h in cfg.hidden:
            layers += [nn.Linear(width, h), nn.SiLU()]
            if cfg.dropout > 0:
                layers.append(nn.Dropout(cfg.dropout))
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 2 * cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) → μ, log σ², each (B, D)."""
        mu, logvar = self.head(self.body(x)).chunk(2, dim=1)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z → hidden layers (mirrored) → pixel logits."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = cfg.latent_dim
        for h in reversed(cfg.hidden):
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, cfg.n_pixels))
        self.body = nn.Sequential(*layers)
        self.shape = cfg.input_shape

    def init_output_bias(self, logits: torch.Tensor) -> None:
        """Start the output layer's bias at per-pixel logits (C, H, W)."""
        with torch.no_grad():
            self.body[-1].bias.copy_(logits.reshape(-1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) → logits (B, C, H, W)."""
        return self.body(z).view(-1, *self.shape)


class ConvEncoder(nn.Module):
    """Stride-2 convolutions (each followed by a residual block for "resconv") → a hidden layer → (μ, log σ²)."""

    def __init__(self, cfg: VAEConfig, residual: bool) -> None:
        super().__init__()
        c, h, w = cfg.input_shape
        layers: list[nn.Module] = []
        in_ch = c
        for out_ch in cfg.channels:
            layers += [nn.Conv2d(in_ch, out_ch, 4, stride=2, padding=1), nn.SiLU()]
            if residual:
                layers.append(ResBlock(out_ch))
            in_ch = out_ch
        self.body = nn.Sequential(*layers, nn.Flatten())
        hs, ws = _conv_sizes(h, len(cfg.channels))[-1], _conv_sizes(w, len(cfg.channels))[-1]
        hidden = cfg.hidden[-1]
        self.fc = nn.Sequential(nn.Linear(in_ch * hs * ws, hidden), nn.SiLU())
        self.dropout = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        self.head = nn.Linear(hidden, 2 * cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) → μ, log σ², each (B, D)."""
        mu, logvar = self.head(self.dropout(self.fc(self.body(x)))).chunk(2, dim=1)
        return mu, logvar


class ConvDecoder(nn.Module):
    """Two linear layers → a small feature map → transposed convolutions back to exactly (C, H, W).

    The widths mirror the encoder's and halve once more at full resolution (64 → 32 → 16 for channels
    (32, 64)), where every channel costs the most; a per-pixel bias, started at the mean training image,
    is added to the output logits.
    """

    def __init__(self, cfg: VAEConfig, residual: bool) -> None:
        super().__init__()
        c, h, w = cfg.input_shape
        stages = len(cfg.channels)
        h_sizes, w_sizes = _conv_sizes(h, stages), _conv_sizes(w, stages)
        widths = list(reversed(cfg.channels)) + [max(1, cfg.channels[0] // 2)]  # (64, 32, 16) for (32, 64)
        self.start = (widths[0], h_sizes[-1], w_sizes[-1])
        hidden = cfg.hidden[-1]
        self.fc = nn.Sequential(
            nn.Linear(cfg.latent_dim, hidden),
            nn.SiLU(),
            nn.Linear(hidden, widths[0] * h_sizes[-1] * w_sizes[-1]),
            nn.SiLU(),
        )
        layers: list[nn.Module] = []
        for i in range(stages):
            if residual:
                layers.append(ResBlock(widths[i]))
            # ConvTranspose2d(k=4, s=2, p=1) maps n → 2n + output_padding; pick padding to hit the encoder's size.
            target_h, target_w = h_sizes[stages - i - 1], w_sizes[stages - i - 1]
            src_h, src_w = h_sizes[stages - i], w_sizes[stages - i]
            pad = (target_h - 2 * src_h, target_w - 2 * src_w)
            layers += [
                nn.ConvTranspose2d(widths[i], widths[i + 1], 4, stride=2, padding=1, output_padding=pad),
                nn.SiLU(),
            ]
        layers.append(nn.Conv2d(widths[-1], c, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.pixel_bias = nn.Parameter(
            torch.zeros(c, h, w)
        )  # per-pixel output offset (a conv bias is per channel)

    def init_output_bias(self, logits: torch.Tensor) -> None:
        """Start the per-pixel output offset at logits (C, H, W)."""
        with torch.no_grad():
            self.pixel_bias.copy_(logits)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) → logits (B, C, H, W)."""
        return self.body(self.fc(z).view(-1, *self.start)) + self.pixel_bias


class VAE(nn.Module):
    """A variational autoencoder with a N(0, I) prior, built from one VAEConfig."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        if config.arch == "mlp":
            self.encoder: nn.Module = MLPEncoder(config)
            self.decoder: nn.Module = MLPDecoder(config)
        else:
            residual = config.arch == "resconv"
            self.encoder = ConvEncoder(config, residual)
            self.decoder = ConvDecoder(config, residual)

    @property
    def device(self) -> torch.device:
        """The device the weights live on."""
        return next(self.parameters()).device

    def init_output_bias(self, mean_image: torch.Tensor) -> None:
        """Make the untrained decoder output the mean training image (C, H, W in [0, 1]): a faster start."""
        p = mean_image.to(self.device, torch.float32).clamp(1e-3, 1 - 1e-3)
        self.decoder.init_output_bias(torch.log(p) - torch.log1p(-p))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters μ, log σ² for images x in [0, 1], each (B, D)."""
        mu, logvar = self.encoder(x)
        return mu, logvar.clamp(-30.0, 20.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output before the sigmoid, (B, C, H, W)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean image in [0, 1] for each latent z, (B, C, H, W)."""
        return torch.sigmoid(self.decoder(z))

    def recon_nll(self, x_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """−log p(x|z) per image in nats, summed over pixels, shape (B,)."""
        if self.config.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none")
        else:
            sigma = self.config.gaussian_sigma
            mean = torch.sigmoid(x_logits)
            nll = 0.5 * ((x - mean) / sigma) ** 2 + math.log(sigma) + 0.5 * LOG_2PI
        return nll.flatten(1).sum(1)

    def forward(self, x: torch.Tensor, beta: float | None = None) -> VAEOutput:
        """One stochastic ELBO evaluation: loss = recon + β·KL, averaged over the batch."""
        mu, logvar = self.encode(x)
        z = reparameterise(mu, logvar)
        x_logits = self.decode_logits(z)
        recon = self.recon_nll(x_logits, x).mean()
        kl = kl_per_dim(mu, logvar).sum(1).mean()
        b = self.config.beta if beta is None else beta
        return VAEOutput(loss=recon + b * kl, recon=recon, kl=kl, mu=mu, logvar=logvar, x_logits=x_logits)


def build_vae(config: VAEConfig) -> VAE:
    """A freshly initialised VAE for this config."""
    return VAE(config)
