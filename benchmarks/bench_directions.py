"""What the latent space knows and whether augmentation around q(z|x) helps, on real MNIST (JSON lines).

1. The model: `--model FILE` (an MNIST-shaped checkpoint), else VAEConfig()'s default conv VAE (z = 16) trained
   here with vae_core.training's defaults for --train-budget seconds (default 120, as bench_geometry.py) on the
   first 8,000 of the 10,000 shared MNIST test images (the last 2,000 are its validation split: pixels only,
   never labels). Shared with bench_geometry.py through benchmarks/_common.py.
2. Linear probe (vae_core.probes: logistic regression on standardised features) trained on the first 8,000
   images' μ, scored on the last 2,000: `probe_accuracy_latent_mnist`; the same probe on raw pixels, same
   split: `probe_accuracy_pixels_mnist`; and on an untrained encoder of the same architecture.
3. Augmentation: a logistic regression on raw pixels trained on n labelled images (n = 100, 300; drawn with a
   seed from the first 8,000) vs the same n plus K = 10 decoded posterior draws per image at T = 1
   (vae_core.augment), accuracy on the last 2,000, over --seeds seeds: each seed's pair goes to stderr as it
   comes out, then `augment_accuracy_nN_base` / `_augmented` carry the mean as value with `per_seed`, `std`
   and `wins` (seeds where augmentation beat the base) beside it, whichever way it goes.

Usage (repo root): python benchmarks/bench_directions.py [--model FILE] [--train-budget S] [--seeds N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import benchmarks._common as common  # noqa: E402
from benchmarks._common import emit  # noqa: E402
from vae_core.augment import augment  # noqa: E402
from vae_core.latents import encode  # noqa: E402
from vae_core.probes import classification_probe, untrained_encoder  # noqa: E402

N_TRAIN = 8_000
PER_IMAGE = 10
TEMPERATURE = 1.0
SIZES = (100, 300)


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


def augmentation_accuracies(model, images, labels, test_idx, n: int, seed: int) -> tuple[float, float]:
    """(base, augmented) held-out accuracy for one seed's n labelled images from the first N_TRAIN."""
    picks = np.sort(np.random.default_rng(seed).choice(N_TRAIN, size=n, replace=False))
    test_x, test_y = images[test_idx], labels[test_idx]
    base = pixel_classifier_accuracy(images[picks], labels[picks], test_x, test_y)
    extra = augment(model, images, labels, picks, PER_IMAGE, TEMPERATURE, seed=seed)
    train_x = np.concatenate([images[picks], extra.images])
    train_y = np.concatenate([labels[picks], extra.labels])
    return base, pixel_classifier_accuracy(train_x, train_y, test_x, test_y)


def main(argv: list[str] | None = None) -> int:
    """Train (or load), probe, augment; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_model_options(parser)
    parser.add_argument(
        "--seeds", type=int, default=5, help="seeds per augmentation figure (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="20 s of training, 2 seeds")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_budget = min(args.train_budget, common.QUICK_TRAIN_BUDGET_S)
        args.seeds = min(args.seeds, 2)
    dataset = common.shared_mnist()
    images, labels = dataset.images, dataset.labels
    train_idx, test_idx = np.arange(N_TRAIN), np.arange(N_TRAIN, len(images))
    emit("load_average_1min_before", os.getloadavg()[0], "runnable")

    started = time.perf_counter()
    model, source = common.mnist_model(dataset, args.train_budget, args.model)
    emit("directions_vae_train_s", time.perf_counter() - started, "s", model=source)

    mu = encode(model, images)[0]
    latent_acc, chance = classification_probe(mu, labels, train_idx, test_idx)
    emit(
        "probe_accuracy_latent_mnist",
        latent_acc,
        "accuracy",
        chance=round(chance, 4),
        n_train=N_TRAIN,
        model=source,
    )
    pixel_acc, _ = classification_probe(images.reshape(len(images), -1), labels, train_idx, test_idx)
    emit("probe_accuracy_pixels_mnist", pixel_acc, "accuracy", n_train=N_TRAIN)
    untrained = encode(untrained_encoder(model.config, seed=0), images)[0]
    emit(
        "probe_accuracy_untrained_encoder_mnist",
        classification_probe(untrained, labels, train_idx, test_idx)[0],
        "accuracy",
        n_train=N_TRAIN,
    )

    extras = dict(seeds=args.seeds, per_image=PER_IMAGE, temperature=TEMPERATURE, model=source)
    for n in SIZES:
        base, augmented = [], []
        for seed in range(args.seeds):
            b, a = augmentation_accuracies(model, images, labels, test_idx, n, seed)
            base.append(b)
            augmented.append(a)
            print(f"n = {n}, seed {seed}: base {b:.4f}, augmented {a:.4f}", file=sys.stderr, flush=True)
        wins = int(sum(a > b for a, b in zip(augmented, base)))
        for kind, values in (("base", base), ("augmented", augmented)):
            emit(
                f"augment_accuracy_n{n}_{kind}",
                np.mean(values),
                "accuracy",
                per_seed=[round(v, 4) for v in values],
                std=round(float(np.std(values)), 4),
                wins=wins,
                **extras,
            )
    emit("load_average_1min_after", os.getloadavg()[0], "runnable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
