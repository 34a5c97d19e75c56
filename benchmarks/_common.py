"""What several benchmarks share: the JSON line they print, the shared MNIST files, and the MNIST model they
measure (an existing checkpoint, or VAEConfig()'s default conv VAE trained here under a time budget).

A private module (leading underscore): benchmarks/run_all.py does not run it as a benchmark. Scripts import it
as `benchmarks._common` after putting the repository root on sys.path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vae_core.checkpoint import load_checkpoint
from vae_core.config import VAEConfig
from vae_core.data import ImageDataset, load_dataset
from vae_core.models import VAE
from vae_core.training import TrainSettings, fit

REPO = Path(__file__).resolve().parents[1]

MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"  # the 10,000 MNIST test images, IDX files
TRAIN_BUDGET_S = 120.0  # default seconds to train the MNIST model a benchmark measures
QUICK_TRAIN_BUDGET_S = 20.0


def emit(name: str, value: float, unit: str, **extra) -> None:
    """Print one benchmark line: a JSON object with name, value (rounded to 4 places), unit and any extras."""
    print(json.dumps({"name": name, "value": round(float(value), 4), "unit": unit, **extra}), flush=True)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model FILE and --train-budget S: which MNIST model a benchmark measures (see mnist_model)."""
    parser.add_argument("--model", default=None, help="an MNIST-shaped checkpoint (default: train one here)")
    parser.add_argument(
        "--train-budget",
        type=float,
        default=TRAIN_BUDGET_S,
        help="training seconds when no --model (default: %(default)s)",
    )


def shared_mnist() -> ImageDataset:
    """The shared MNIST test set (10,000 images with labels); exits with a message when it is not there."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"MNIST files not found in {MNIST_DIR}")
    return load_dataset(f"idx:{MNIST_DIR}")


def mnist_model(mnist: ImageDataset, train_budget_s: float, model_path: str | None = None) -> tuple[VAE, str]:
    """(model in eval mode, how it was made): `model_path` loaded, or VAEConfig()'s default conv VAE trained
    with vae_core.training's defaults (shifts of 1 pixel, seed 0) for `train_budget_s` seconds on the first
    80 % of `mnist` (the rest is its validation split: pixels only, never labels)."""
    if model_path:
        return load_checkpoint(model_path).model.eval(), f"checkpoint {Path(model_path).name}"
    settings = TrainSettings(epochs=None, time_budget_s=train_budget_s, augment_shift=1, seed=0)
    result = fit(VAEConfig(input_shape=mnist.image_shape), mnist, settings)
    source = (
        f"trained here: VAEConfig() defaults, {result.summary['epochs_run']} epochs in "
        f"{train_budget_s:g} s, val −ELBO {result.summary['val_neg_elbo']:.1f}"
    )
    return result.model.eval(), source
