"""VAEConfig: the one description of a model, saved inside every checkpoint."""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import ConfigError
from .limits import (
    MAX_CHANNELS,
    MAX_CONV_STAGES,
    MAX_HIDDEN,
    MAX_HIDDEN_LAYERS,
    MAX_LATENT_DIM,
    MAX_SIDE,
    MIN_SIDE,
)

ARCHITECTURES = ("mlp", "conv", "resconv")
LIKELIHOODS = ("bernoulli", "gaussian")


def _whole(name: str, value: Any) -> int:
    """`value` as a Python int; booleans, strings and fractions are refused (typed, not coerced)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be a whole number, got {value!r:.60}")
    return int(value)


def _real(name: str, value: Any) -> float:
    """`value` as a finite Python float; booleans and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r:.60}")
    result = float(value)
    if not math.isfinite(result):
        raise ConfigError(f"{name} must be finite, got {value!r:.60}")
    return result


def _widths(name: str, value: Any, max_count: int) -> tuple[int, ...]:
    """A list/tuple of whole numbers (at most max_count of them) as a tuple of ints."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name} must be a list of whole numbers, got {value!r:.60}")
    if len(value) > max_count:
        raise ConfigError(f"{name} may list at most {max_count} numbers, got {len(value)}")
    return tuple(_whole(f"{name}[{i}]", v) for i, v in enumerate(value))


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    """A string among options."""
    if not isinstance(value, str) or value not in options:
        raise ConfigError(f"{name} must be one of {options}, got {value!r:.60}")
    return value


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a VAE: shape, architecture, latent size, likelihood, β."""

    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of the images, C in {1, 3}
    arch: str = "conv"  # "mlp", "conv" (strided convs + hidden layer), "resconv" (+ residual blocks)
    latent_dim: int = 16  # size of z
    hidden: tuple[int, ...] = (
        512,
        256,
    )  # MLP widths, encoder order (decoder mirrors); conv archs use the last
    channels: tuple[int, ...] = (32, 64)  # conv widths per stride-2 stage, encoder order (decoder mirrors)
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (BCE on [0,1] pixels) or "gaussian"
    beta: float = 1.0  # weight on KL; 1 is the VAE, >1 a β-VAE
    gaussian_sigma: float = 0.1  # fixed pixel std of the Gaussian likelihood (in [0,1] units)
    dropout: float = 0.0  # encoder dropout, a regulariser for small datasets

    def __post_init__(self) -> None:
        typed = {
            "input_shape": _widths("input_shape", self.input_shape, 3),
            "arch": _choice("arch", self.arch, ARCHITECTURES),
            "latent_dim": _whole("latent_dim", self.latent_dim),
            "hidden": _widths("hidden", self.hidden, MAX_HIDDEN_LAYERS),
            "channels": _widths("channels", self.channels, MAX_CONV_STAGES),
            "likelihood": _choice("likelihood", self.likelihood, LIKELIHOODS),
            "beta": _real("beta", self.beta),
            "gaussian_sigma": _real("gaussian_sigma", self.gaussian_sigma),
            "dropout": _real("dropout", self.dropout),
        }
        for name, value in typed.items():
            object.__setattr__(self, name, value)
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
        if not self.hidden or any(not 1 <= v <= MAX_HIDDEN for v in self.hidden):
            raise ConfigError(
                f"hidden must be 1-{MAX_HIDDEN_LAYERS} widths in 1..{MAX_HIDDEN}, got {self.hidden}"
            )
        if not self.channels or any(not 1 <= v <= MAX_CHANNELS for v in self.channels):
            raise ConfigError(
                f"channels must be 1-{MAX_CONV_STAGES} widths in 1..{MAX_CHANNELS}, got {self.channels}"
            )
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
    def from_dict(cls, data: dict[str, Any]) -> VAEConfig:
        """Build from a dict, refusing unknown keys and wrong types with a ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError("config must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config keys: {unknown}")
        return cls(**data)  # every field is type-checked in __post_init__

    @classmethod
    def from_json(cls, text: str) -> VAEConfig:
        """Parse a JSON string written by to_json."""
        if not isinstance(text, str):
            raise ConfigError("config must be a JSON string")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, over-long integers, deep nesting
            raise ConfigError(f"config is not valid JSON: {str(exc)[:200]}") from exc
        return cls.from_dict(data)


__all__ = [
    "VAEConfig",
    "ConfigError",
    "ARCHITECTURES",
    "LIKELIHOODS",
    "MIN_SIDE",
    "MAX_SIDE",
]
