"""Latent health: how much each latent dimension is used (KL per dim, active units) and posterior collapse."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .disentangle import disentanglement_scores
from .latents import encode
from .metrics import ACTIVE_UNIT_THRESHOLD
from .models import VAE
from .sliders import kl_per_dim_from_latents

COLLAPSE_FRACTION = 0.5  # warn when more than half the dimensions are inactive


@dataclass(frozen=True)
class LatentHealth:
    """Per-dimension usage of a model's latent space on one dataset."""

    kl_per_dim: np.ndarray  # (D,) nats, mean over images of KL(q(z_i|x) ‖ N(0, 1))
    mean_variance: np.ndarray  # (D,) Cov_x(E[z_i | x]): how much the posterior mean moves across images
    active: np.ndarray  # (D,) bool: mean_variance > ACTIVE_UNIT_THRESHOLD (Burda et al. 2016)

    @property
    def active_units(self) -> int:
        """How many dimensions are active."""
        return int(self.active.sum())

    @property
    def latent_dim(self) -> int:
        """How many dimensions there are."""
        return int(self.active.size)

    @property
    def collapsed(self) -> bool:
        """Whether most dimensions are inactive (the posterior collapsed onto the prior there)."""
        return self.latent_dim - self.active_units > COLLAPSE_FRACTION * self.latent_dim


def latent_health(latent_means: np.ndarray, latent_logvars: np.ndarray) -> LatentHealth:
    """KL per dimension and active units from the encoded dataset's posterior means and log-variances."""
    kl = kl_per_dim_from_latents(latent_means, latent_logvars)
    mu = np.asarray(latent_means, dtype=np.float64)
    variance = mu.var(axis=0) if len(mu) > 1 else np.zeros(mu.shape[1])
    return LatentHealth(kl, variance, variance > ACTIVE_UNIT_THRESHOLD)


def collapse_warning(health: LatentHealth) -> str | None:
    """A plain-language warning when most dimensions are inactive, else None."""
    if not health.collapsed:
        return None
    idle = health.latent_dim - health.active_units
    return (
        f"Posterior collapse: {idle} of {health.latent_dim} latent dimensions are inactive (their encoding "
        f"barely changes from image to image, so they carry almost no information and their sliders do "
        f"little). The KL term pushed them onto the prior: a large β, a decoder strong enough to ignore z, "
        f"or a latent size larger than the data needs all cause this. Try a smaller β, KL warm-up, or a "
        f"smaller latent size."
    )


def latent_report(model: VAE, dataset, rows: np.ndarray | None = None, seed: int = 0) -> dict:
    """Active units, KL per dim, a collapse warning on `rows` of a dataset; MIG and DCI if it has factors."""
    rows = np.arange(len(dataset)) if rows is None else np.asarray(rows)
    mu, logvar = encode(model, dataset.images[rows])
    health = latent_health(mu, logvar)
    report = {
        "active_units": health.active_units,
        "kl_per_dim": [round(float(v), 5) for v in health.kl_per_dim],
        "collapse_warning": collapse_warning(health),
    }
    if dataset.factors is not None and len(rows) >= 2 and mu.shape[1] >= 2:
        report.update(disentanglement_scores(mu, dataset.factors[rows], seed=seed))
        report["factor_names"] = list(dataset.factor_names)
    return report
