"""How good a VAE is on held-out images: −ELBO, its two terms, KL per dimension, active units, IWAE NLL."""

from __future__ import annotations

import math

import numpy as np
import torch

from .errors import InputError
from .latents import batch_tensor
from .models import LOG_2PI, VAE, kl_per_dim, reparameterise

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al.: a unit is active when Cov_x(E_q[z_i]) exceeds this


@torch.inference_mode()
def evaluate(
    model: VAE, images: np.ndarray, batch_size: int = 500, iw_samples: int = 0, seed: int = 0
) -> dict:
    """Mean −ELBO, reconstruction and KL (nats per image), KL per dim, active units, and optionally IW-NLL."""
    n = len(images)
    if n == 0:
        raise InputError("no images to evaluate")
    gen = torch.Generator(device=model.device).manual_seed(int(seed))
    was_training = model.training
    model.eval()
    totals = {"recon": 0.0, "kl": 0.0, "iw_nll": 0.0}
    kl_dims = torch.zeros(model.config.latent_dim, dtype=torch.float64)
    mus = []
    for i in range(0, n, batch_size):
        x = batch_tensor(images[i : i + batch_size]).to(model.device)
        mu, logvar = model.encode(x)
        z = reparameterise(mu, logvar, gen)
        totals["recon"] += model.recon_nll(model.decode_logits(z), x).double().sum().item()
        kd = kl_per_dim(mu, logvar).double()
        kl_dims += kd.sum(0).cpu()
        totals["kl"] += kd.sum().item()
        mus.append(mu.cpu())
        if iw_samples > 0:
            totals["iw_nll"] += iw_nll(model, x, mu, logvar, iw_samples, gen).double().sum().item()
    model.train(was_training)
    mu_all = torch.cat(mus).double()
    unit_var = mu_all.var(0, unbiased=False) if n > 1 else torch.zeros(mu_all.shape[1], dtype=torch.float64)
    result = {
        "n": n,
        "neg_elbo": (totals["recon"] + totals["kl"]) / n,
        "recon": totals["recon"] / n,
        "kl": totals["kl"] / n,
        "kl_per_dim": (kl_dims / n).tolist(),
        "active_units": int((unit_var > ACTIVE_UNIT_THRESHOLD).sum().item()),
        "latent_dim": model.config.latent_dim,
    }
    if iw_samples > 0:
        result["iw_nll"] = totals["iw_nll"] / n
        result["iw_samples"] = int(iw_samples)
    return result


def iw_nll(
    model: VAE,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    k: int,
    gen: torch.Generator | None = None,
) -> torch.Tensor:
    """Importance-weighted estimate of −log p(x) with k posterior samples (Burda et al. 2016), shape (B,)."""
    b, d = mu.shape
    std = torch.exp(0.5 * logvar)
    log_ws = []
    for _ in range(k):  # one sample at a time keeps memory flat for large k
        eps = torch.randn(mu.shape, generator=gen, device=mu.device)
        z = mu + std * eps
        log_px_z = -model.recon_nll(model.decode_logits(z), x)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(1)
        log_qz = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(1)
        log_ws.append(log_px_z + log_pz - log_qz)
    log_w = torch.stack(log_ws, 0)  # (k, B)
    return -(torch.logsumexp(log_w, 0) - math.log(k))
