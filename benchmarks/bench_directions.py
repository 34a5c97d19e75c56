"""What the latent space knows and whether augmentation around q(z|x) helps, on real MNIST (JSON lines).

1. Trains a VAE (default conv architecture, z = 16) on the first 8,000 of the 10,000 shared MNIST test images
   for --time-budget seconds (default 90; the last 2,000 are its validation split, pixels only, never labels).
2. Linear probe (vae_core.probes: logistic regression on standardised features) trained on the first 8,000
   images' μ, scored on the last 2,000: `probe_accuracy_latent_mnist`; the same probe on raw pixels, same
   split: `probe_accuracy_pixels_mnist`; and on an untrained encoder of the same architecture.
3. Augmentation: a logistic regression on raw pixels trained on n labelled images (n = 100, 300; drawn with a
   seed from the first 8,000) vs the same n plus K = 10 decoded posterior draws per image at T = 1
   (vae_core.augment), accuracy on the last 2,000, mean over --seeds seeds. Printed as they come out.

Usage (repo root): python benchmarks/bench_directions.py [--time-budget S] [--seeds N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from vae_core.augment import augment  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.data import load_dataset  # noqa: E402
from vae_core.latents import encode  # noqa: E402
from vae_core.probes import classification_probe, untrained_encoder  # noqa: E402
from vae_core.training import TrainSettings, fit  # noqa: E402

MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"
N_TRAIN = 8_000
PER_IMAGE = 10
TEMPERATURE = 1.0
SIZES = (100, 300)


def emit(name: str, value: float, unit: str, **extra) -> None:
    """Print one benchmark line."""
    print(json.dumps({"name": name, "value": round(float(value), 4), "unit": unit, **extra}), flush=True)


def pixel_classifier_accuracy(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray
) -> float:
    """Held-out accuracy of a logistic regression on raw pixels in [0, 1] (C = 1, lbfgs)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(train_x.reshape(len(train_x), -1), train_y)
    return float(np.mean(clf.predict(test_x.reshape(len(test_x), -1)) == test_y))


def main(argv: list[str] | None = None) -> int:
    """Train, probe, augment; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--time-budget", type=float, default=90.0, help="VAE training seconds (default: %(default)s)"
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="seeds per augmentation figure (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="20 s of training, 2 seeds")
    args = parser.parse_args(argv)
    if args.quick:
        args.time_budget, args.seeds = 20.0, 2
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"MNIST files not found in {MNIST_DIR}")
    dataset = load_dataset(f"idx:{MNIST_DIR}")
    images, labels = dataset.images, dataset.labels
    train_idx, test_idx = np.arange(N_TRAIN), np.arange(N_TRAIN, len(images))
    emit("load_average_1min_before", os.getloadavg()[0], "runnable")

    config = VAEConfig(input_shape=dataset.image_shape, latent_dim=16)
    started = time.perf_counter()
    result = fit(
        config, dataset, TrainSettings(epochs=None, time_budget_s=args.time_budget, augment_shift=1, seed=0)
    )
    model = result.model.eval()
    emit(
        "directions_vae_train_s",
        time.perf_counter() - started,
        "s",
        epochs=result.summary["epochs_run"],
        val_neg_elbo=round(result.summary["val_neg_elbo"], 2),
    )

    mu = encode(model, images)[0]
    latent_acc, chance = classification_probe(mu, labels, train_idx, test_idx)
    emit("probe_accuracy_latent_mnist", latent_acc, "accuracy", chance=round(chance, 4), n_train=N_TRAIN)
    pixel_acc, _ = classification_probe(images.reshape(len(images), -1), labels, train_idx, test_idx)
    emit("probe_accuracy_pixels_mnist", pixel_acc, "accuracy", n_train=N_TRAIN)
    untrained = encode(untrained_encoder(config, seed=0), images)[0]
    emit(
        "probe_accuracy_untrained_encoder_mnist",
        classification_probe(untrained, labels, train_idx, test_idx)[0],
        "accuracy",
        n_train=N_TRAIN,
    )

    for n in SIZES:
        base, augmented = [], []
        for seed in range(args.seeds):
            picks = np.sort(np.random.default_rng(seed).choice(N_TRAIN, size=n, replace=False))
            base.append(
                pixel_classifier_accuracy(images[picks], labels[picks], images[test_idx], labels[test_idx])
            )
            extra = augment(model, images, labels, picks, PER_IMAGE, TEMPERATURE, seed=seed)
            train_x = np.concatenate([images[picks], extra.images])
            train_y = np.concatenate([labels[picks], extra.labels])
            augmented.append(pixel_classifier_accuracy(train_x, train_y, images[test_idx], labels[test_idx]))
        common = dict(seeds=args.seeds, per_image=PER_IMAGE, temperature=TEMPERATURE)
        emit(
            f"augment_accuracy_n{n}_base",
            np.mean(base),
            "accuracy",
            std=round(float(np.std(base)), 4),
            **common,
        )
        emit(
            f"augment_accuracy_n{n}_augmented",
            np.mean(augmented),
            "accuracy",
            std=round(float(np.std(augmented)), 4),
            **common,
        )
    emit("load_average_1min_after", os.getloadavg()[0], "runnable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
