"""What the app's Train page builds: its model sizes are app choices, not library defaults."""

from __future__ import annotations

from vae_core.config import VAEConfig
from vae_core.train_defaults import SMALL_SIDE

APP_HIDDEN = (256, 128)  # MLP widths the app trains with: digits reach the shipped model's −ELBO in ~10 s


def app_train_config(
    input_shape: tuple[int, int, int],
    arch: str = "mlp",
    latent_dim: int = 8,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
) -> VAEConfig:
    """The VAEConfig the app trains: small MLP widths (fast on a CPU), or the library's default conv stages and
    hidden layer for the convolutional models (the MLP widths would shrink the conv's hidden layer)."""
    return VAEConfig(
        input_shape=tuple(input_shape),
        arch=arch,
        latent_dim=int(latent_dim),
        hidden=APP_HIDDEN if arch == "mlp" else VAEConfig.hidden,
        beta=float(beta),
        likelihood=likelihood,
    )


def architecture_note(arch: str, image_shape: tuple[int, int, int]) -> str:
    """One sentence under the Train form describing the architecture picked, for images of this shape."""
    config = app_train_config(image_shape, arch)
    _, height, width = (int(v) for v in image_shape)
    small = max(height, width) <= SMALL_SIDE
    if arch == "mlp":
        return f"MLP widths {'-'.join(map(str, config.hidden))} (mirrored in the decoder); " + (
            f"on {height}×{width} images it trains a model as good as the shipped one in about 10 s on a "
            "laptop CPU."
            if small
            else f"on {height}×{width} images a convolutional model draws sharper pictures for the same time "
            "(the MLP does not know which pixels are neighbours)."
        )
    channels = " and ".join(str(c) for c in config.channels)
    return (
        f"Stride-2 convolutions ({channels} channels), a {config.hidden[-1]}-wide hidden layer, transposed "
        "convolutions back"
        + (", residual blocks at each stage" if arch == "resconv" else "")
        + (
            f"; on {height}×{width} images the MLP is the quicker choice."
            if small
            else f"; on {height}×{width} images give it a few minutes (a 60 s run stops well short of its best)."
        )
    )
