"""The small computations the Lesson page shows: a point inside a posterior cloud, draws of that cloud,
draws from the decoder's likelihood p(x|z) (not just its mean), per-dimension KL and class directions."""

from __future__ import annotations

import numpy as np
import torch

from .errors import InputError
from .generate import _seeded_generator, decode_to_uint8
from .images import to_uint8
from .latent_input import as_latent, clamp_int
from .models import VAE, reparameterise

MAX_DRAWS = 1024  # posterior or likelihood draws per call


def reparameterised(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """z = μ + σ ⊙ ε for one posterior (each (D,)), with ε clamped like any latent input; float32 (D,)."""
    mu_t = torch.tensor(np.asarray(mu, dtype=np.float64).reshape(-1))  # a copy: stored latents are read-only
    logvar_t = torch.tensor(np.asarray(logvar, dtype=np.float64).reshape(-1))
    if logvar_t.shape != mu_t.shape:
        raise InputError(f"μ and log σ² must have the same size, got {mu_t.numel()} and {logvar_t.numel()}")
    eps_t = torch.as_tensor(as_latent(eps, mu_t.numel()), dtype=torch.float64)
    return reparameterise(mu_t, logvar_t, eps=eps_t).numpy().astype(np.float32)


def posterior_draws(mu: np.ndarray, logvar: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n draws z ~ N(μ, σ²) of one image's posterior (the cloud), shape (n, D) float32."""
    n = clamp_int(n, 1, MAX_DRAWS, "number of draws")
    mu_t = torch.tensor(
        np.asarray(mu, dtype=np.float32).reshape(1, -1)
    )  # a copy: stored latents are read-only
    logvar_t = torch.tensor(np.asarray(logvar, dtype=np.float32).reshape(1, -1))
    eps = torch.randn((n, mu_t.shape[1]), generator=_seeded_generator(seed))
    return reparameterise(mu_t, logvar_t, eps=eps).numpy()


@torch.inference_mode()
def likelihood_draws(model: VAE, z: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n images drawn from p(x|z) for one code z (Bernoulli pixels, or the mean plus Gaussian noise), uint8."""
    n = clamp_int(n, 1, MAX_DRAWS, "number of draws")
    code = torch.as_tensor(as_latent(z, model.config.latent_dim), dtype=torch.float32).unsqueeze(0)
    mean = model.decode(code.to(model.device)).cpu().expand(n, -1, -1, -1)
    generator = _seeded_generator(seed)
    if model.config.likelihood == "bernoulli":
        images = torch.bernoulli(mean, generator=generator)
    else:
        noise = torch.randn(mean.shape, generator=generator) * model.config.gaussian_sigma
        images = (mean + noise).clamp(0.0, 1.0)
    return to_uint8(images)


def decoded_mean(model: VAE, z: np.ndarray) -> np.ndarray:
    """The decoder's mean image E[p(x|z)] for one code z, uint8 (H, W[, 3])."""
    return decode_to_uint8(
        model, torch.as_tensor(as_latent(z, model.config.latent_dim), dtype=torch.float32)
    )[0]


def kl_terms(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(μ_i, σ_i²) || N(0, 1)) of each latent dimension in nats, same shape as μ."""
    mu = np.asarray(mu, dtype=np.float64)
    logvar = np.asarray(logvar, dtype=np.float64)
    return 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)


def class_direction(latent_means: np.ndarray, labels: np.ndarray, source: int, target: int) -> np.ndarray:
    """mean μ of class `target` − mean μ of class `source` (an attribute vector), float32 (D,)."""
    latent_means = np.asarray(latent_means, dtype=np.float32)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(latent_means):
        raise InputError(f"{len(labels)} labels for {len(latent_means)} latent means")
    centres = []
    for cls in (source, target):
        rows = labels == cls
        if not rows.any():
            raise InputError(f"no image has label {cls}")
        centres.append(latent_means[rows].mean(axis=0))
    return (centres[1] - centres[0]).astype(np.float32)


__all__ = [
    "MAX_DRAWS",
    "class_direction",
    "decoded_mean",
    "kl_terms",
    "likelihood_draws",
    "posterior_draws",
    "reparameterised",
]
