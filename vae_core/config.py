"""VAEConfig: the one description of a model, saved inside every checkpoint."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

ARCHITECTURES = ("mlp", "conv", "resconv")
LIKELIHOODS = ("bernoulli", "gaussian")

# Bounds that keep a config (possibly read from an untrusted file) buildable on a laptop.
MIN_SIDE, MAX_SIDE = 8, 64
MAX_LATENT_DIM = 512
MAX_HIDDEN = 4096
MAX_CHANNELS = 512


class ConfigError(ValueError):
    """A VAEConfig that cannot describe a model we can build."""


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a VAE: shape, architecture, latent size, likelihood, β."""

    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of the images, C in {1, 3}
    arch: str = "conv"  # "mlp", "conv" (strided convs + hidden layer) or "resconv" (conv + a residual block per stage)
    latent_dim: int = 16  # size of z
    hidden: tuple[int, ...] = (512, 256)  # MLP widths, encoder order (decoder mirrors); conv archs use the last
    channels: tuple[int, ...] = (32, 64)  # conv widths per stride-2 stage, encoder order (decoder mirrors)
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (BCE on [0,1] pixels) or "gaussian"
    beta: float = 1.0  # weight on KL; 1 is the VAE, >1 a β-VAE
    gaussian_sigma: float = 0.1  # fixed pixel std of the Gaussian likelihood (in [0,1] units)
    dropout: float = 0.0  # encoder dropout, a regulariser for small datasets

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        object.__setattr__(self, "hidden", tuple(int(v) for v in self.hidden))
        object.__setattr__(self, "channels", tuple(int(v) for v in self.channels))
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError when any field is outside what we can build."""
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W), got {self.input_shape}")
        c, h, w = self.input_shape
        if c not in (1, 3):
            raise ConfigError(f"images must have 1 or 3 channels, got {c}")
        for side in (h, w):
            if not MIN_SIDE <= side <= MAX_SIDE:
                raise ConfigError(f"image sides must be {MIN_SIDE}..{MAX_SIDE} pixels, got {h}×{w}")
        if self.arch not in ARCHITECTURES:
            raise ConfigError(f"arch must be one of {ARCHITECTURES}, got {self.arch!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ConfigError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if not 1 <= int(self.latent_dim) <= MAX_LATENT_DIM:
            raise ConfigError(f"latent_dim must be 1..{MAX_LATENT_DIM}, got {self.latent_dim}")
        if not self.hidden or any(not 1 <= v <= MAX_HIDDEN for v in self.hidden) or len(self.hidden) > 6:
            raise ConfigError(f"hidden must be 1-6 widths in 1..{MAX_HIDDEN}, got {self.hidden}")
        if not self.channels or any(not 1 <= v <= MAX_CHANNELS for v in self.channels) or len(self.channels) > 4:
            raise ConfigError(f"channels must be 1-4 widths in 1..{MAX_CHANNELS}, got {self.channels}")
        if not (0.0 <= float(self.beta) <= 1000.0):
            raise ConfigError(f"beta must be in [0, 1000], got {self.beta}")
        if not (1e-3 <= float(self.gaussian_sigma) <= 10.0):
            raise ConfigError(f"gaussian_sigma must be in [0.001, 10], got {self.gaussian_sigma}")
        if not (0.0 <= float(self.dropout) < 1.0):
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def n_pixels(self) -> int:
        """Number of scalar values in one image (C·H·W)."""
        c, h, w = self.input_shape
        return c * h * w

    def to_json(self) -> str:
        """Serialise to a JSON string (lists for tuples)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "VAEConfig":
        """Build from a dict, refusing unknown keys and wrong types with a ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError("config must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config keys: {unknown}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"invalid config: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> "VAEConfig":
        """Parse a JSON string written by to_json."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def default_config_for(input_shape: tuple[int, int, int], **overrides: Any) -> VAEConfig:
    """A sensible config for images of this shape (small sides get an MLP-friendly setup)."""
    return VAEConfig(input_shape=tuple(input_shape), **overrides)


__all__ = ["VAEConfig", "ConfigError", "ARCHITECTURES", "LIKELIHOODS", "default_config_for"]
