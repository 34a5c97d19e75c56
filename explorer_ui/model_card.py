"""The sidebar's model card: what a checkpoint is, in words a student reads (display only, no Streamlit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vae_core.config import VAEConfig

from .names import dataset_display_name


def model_card(config: VAEConfig, summary: Mapping[str, Any], n_params: int) -> list[tuple[str, str]]:
    """(field, value) rows describing a checkpoint: architecture, size, β, likelihood, data, −ELBO, params."""
    c, h, w = config.input_shape
    if config.arch == "mlp":
        body = "MLP " + "-".join(str(v) for v in (c * h * w, *config.hidden, config.latent_dim))
    else:
        kind = "conv + residual blocks" if config.arch == "resconv" else "conv"
        body = f"{kind}, channels {'-'.join(str(v) for v in config.channels)}, fc {config.hidden[-1]}"
    likelihood = (
        config.likelihood if config.likelihood == "bernoulli" else f"gaussian (σ = {config.gaussian_sigma:g})"
    )
    val = summary.get("val_neg_elbo")
    rows = [
        ("Architecture", body),
        ("Input", f"{c}×{h}×{w}"),
        ("Latent size", str(config.latent_dim)),
        ("β (KL weight)", f"{config.beta:g}" + ("  (plain autoencoder)" if config.beta == 0 else "")),
        ("Likelihood", likelihood),
        (
            "Training data",
            dataset_display_name(
                str(summary.get("dataset_spec") or ""),
                str(summary.get("dataset_name") or ""),
                summary.get("n_images"),
            )
            if summary.get("dataset_spec") or summary.get("dataset_name")
            else "unknown",
        ),
        (
            "Validation −ELBO",
            f"{float(val):.2f} nats/image" if isinstance(val, (int, float)) else "not recorded",
        ),
        ("Parameters", f"{n_params:,}"),
    ]
    if summary.get("epochs_run"):
        rows.append(
            (
                "Trained",
                f"{summary['epochs_run']} epochs, {summary.get('train_time_s', 0):.0f} s"
                + (f" ({summary['status']})" if summary.get("status") else ""),
            )
        )
    return rows
