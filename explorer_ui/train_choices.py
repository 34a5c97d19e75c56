"""What the app's Train page builds: its model sizes are app choices, not library defaults."""

from __future__ import annotations

from vae_core.config import VAEConfig

APP_HIDDEN = (256, 128)  # MLP widths the app trains with: digits reach the shipped model's −ELBO in ~10 s


def app_train_config(
    input_shape: tuple[int, int, int],
    arch: str = "mlp",
    latent_dim: int = 8,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
) -> VAEConfig:
    """The VAEConfig the app trains: small MLP widths (fast on a CPU) or the default conv stages."""
    return VAEConfig(
        input_shape=tuple(input_shape),
        arch=arch,
        latent_dim=int(latent_dim),
        hidden=APP_HIDDEN,
        beta=float(beta),
        likelihood=likelihood,
    )
