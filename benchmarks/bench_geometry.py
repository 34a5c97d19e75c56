"""Decoder-geometry speed and shape figures (JSON lines: name, value, unit).

- magnification_grid64_ms_shipped: √det((JP)ᵀ(JP)) on a 64 × 64 grid over the PCA plane, shipped MLP.
- magnification_grid64_s_mnist_conv: the same on the MNIST default conv model (z = 16).
- geodesic_s_mnist_conv: one geodesic, 32 points, default evaluations (median over the pairs).
- geodesic_length_ratio_vs_linear_median: geodesic length / straight-line length (both in the geodesic's
  metric) over 20 random pairs of MNIST test images; < 1 means shorter. Also the decoder-mean-only ratio.

The MNIST conv model: `--model FILE` uses an existing checkpoint; otherwise one is trained here with
vae_core.training's defaults (VAEConfig() = conv, z = 16) under `--train-budget` seconds on the first 8,000 of
the shared MNIST test images (../shared/data/mnist). Figures are measured with `--threads` torch threads
(default 1, as each app session runs: on a 2-core machine that other processes also use, 2 threads were up to
10× slower than 1). Each line carries the 1-minute load average at the time.
Usage (repo root): python benchmarks/bench_geometry.py [--model FILE] [--train-budget S] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import benchmarks._common as common  # noqa: E402
from benchmarks._common import emit  # noqa: E402
from vae_core import DEFAULT_MODEL_PATH  # noqa: E402
from vae_core import geometry as geo  # noqa: E402
from vae_core.checkpoint import load_checkpoint  # noqa: E402
from vae_core.data import load_dataset  # noqa: E402
from vae_core.latents import encode  # noqa: E402
from vae_core.projection import pca_2d  # noqa: E402


def timed_grid(model, pca, repeats: int) -> float:
    """Median seconds of a 64 × 64 magnification grid (after one warm-up)."""
    geo.magnification_grid(model, pca, 64)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        geo.magnification_grid(model, pca, 64)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_model_options(parser)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads while measuring")
    parser.add_argument("--quick", action="store_true", help="20 s of training, 5 pairs")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_budget = min(args.train_budget, common.QUICK_TRAIN_BUDGET_S)
        args.pairs = min(args.pairs, 5)
    torch.set_num_threads(args.threads)

    shipped = load_checkpoint(DEFAULT_MODEL_PATH).model
    digits = load_dataset("digits")
    emit(
        "magnification_grid64_ms_shipped",
        1000 * timed_grid(shipped, pca_2d(encode(shipped, digits.images)[0]), 5),
        "ms",
        threads=args.threads,
        load_average_1min=os.getloadavg()[0],
    )

    mnist = common.shared_mnist()
    model, source = common.mnist_model(mnist, args.train_budget, args.model)
    torch.set_num_threads(args.threads)  # training may have changed it
    mu, logvar = encode(model, mnist.images)
    emit(
        "magnification_grid64_s_mnist_conv",
        timed_grid(model, pca_2d(mu), 3),
        "s",
        model=source,
        threads=args.threads,
        load_average_1min=os.getloadavg()[0],
    )

    off_data = geo.off_data_scale(mu, logvar)
    rng = np.random.default_rng(0)
    seconds, ratios, image_ratios = [], [], []
    for _ in range(args.pairs):
        i, j = rng.choice(len(mu), size=2, replace=False)
        result = geo.geodesic(model, mu[i], mu[j], steps=32, off_data=off_data)
        seconds.append(result.seconds)
        ratios.append(result.length / result.linear_length)
        image_ratios.append(result.image_length / result.linear_image_length)
    emit(
        "geodesic_s_mnist_conv",
        statistics.median(seconds),
        "s",
        pairs=args.pairs,
        max_s=round(max(seconds), 3),
        steps=32,
        evaluations=geo.GEODESIC_EVALUATIONS,
        threads=args.threads,
        load_average_1min=os.getloadavg()[0],
    )
    emit(
        "geodesic_length_ratio_vs_linear_median",
        statistics.median(ratios),
        "ratio",
        pairs=args.pairs,
        min=round(min(ratios), 4),
        metric="decoder mean + off-data std",
    )
    emit(
        "geodesic_image_length_ratio_vs_linear_median",
        statistics.median(image_ratios),
        "ratio",
        pairs=args.pairs,
        metric="decoder mean only",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
