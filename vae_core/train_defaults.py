"""Training defaults that fit a dataset's image shape (what the Train page starts from)."""

from __future__ import annotations

from dataclasses import dataclass

SMALL_SIDE = 12  # images this small (scikit-learn's 8×8 digits) train best and fastest with the MLP


@dataclass(frozen=True)
class TrainDefaults:
    """Starting values for a training run on images of one shape, with the reason for them."""

    arch: str  # "mlp" or "conv"
    latent_dim: int
    time_budget_s: int  # 0 = none
    epochs: int
    reason: str  # one sentence for the page


def default_train_settings_for(image_shape: tuple[int, int, int]) -> TrainDefaults:
    """Small images (≤ 12 px a side): the MLP, z = 8, 30 s. Larger (e.g. 28×28 MNIST): the default conv, z = 16 and
    a 180 s budget (plain VAEs on 8,000 MNIST images reach their best validation −ELBO in about that time on a
    2-core CPU; a 60 s conv run stopped at 105.8 nats after 7 epochs)."""
    _, height, width = (int(v) for v in image_shape)
    if max(height, width) <= SMALL_SIDE:
        return TrainDefaults(
            "mlp",
            8,
            30,
            100,
            f"{height}×{width} images are small: the MLP trains a good model in about 10 s.",
        )
    return TrainDefaults(
        "conv",
        16,
        180,
        200,
        f"{height}×{width} images: the convolutional model with a 16-D "
        "code; about 3 minutes on a 2-core CPU reaches its best score.",
    )
