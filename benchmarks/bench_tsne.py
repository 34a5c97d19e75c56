"""Benchmark our 2-D projections against scikit-learn's default t-SNE on the VAE latents of 10,000 MNIST images.

Prints one JSON object per line: {"name": ..., "value": ..., "unit": ...}.
Usage (from the repo root): python benchmarks/bench_tsne.py [--quick] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"
BENCH_LATENT_DIM = 16


def load_bench_latents(n: int = 10000, epochs: int = 8) -> tuple[np.ndarray, float]:
    """Posterior means (n, 16) of the MNIST test images under a VAE trained here for a few epochs, and its
    validation −ELBO: the latents the Latent map page projects, not a stand-in."""
    import torch

    from vae_core.config import VAEConfig
    from vae_core.data import load_dataset
    from vae_core.latents import encode
    from vae_core.training import TrainSettings, fit

    dataset = load_dataset(f"idx:{MNIST_DIR}")
    config = VAEConfig(input_shape=dataset.image_shape, arch="mlp", latent_dim=BENCH_LATENT_DIM)
    threads = torch.get_num_threads()
    result = fit(config, dataset, TrainSettings(epochs=epochs, batch_size=128, patience=None, seed=0))
    torch.set_num_threads(threads)
    mu, _ = encode(result.model, dataset.images[:n])
    return mu.astype(np.float32), float(result.summary["val_neg_elbo"])


def _emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 6), "unit": unit}), flush=True)


def _timed(fn, repeats: int) -> tuple[float, np.ndarray]:
    """Median wall seconds of fn() over repeats, and the last result."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 points instead of 10,000 (smoke run)")
    parser.add_argument("--repeats", type=int, default=1, help="t-SNE timings per method (median)")
    args = parser.parse_args(argv)

    from sklearn.manifold import TSNE

    from vae_core.projection import pca_2d, trustworthiness_k, tsne_2d

    n_points = 2000 if args.quick else 10000
    tag = f"{n_points // 1000}k"
    latents, model_neg_elbo = load_bench_latents(n_points)
    _emit("tsne_bench_model_val_neg_elbo", model_neg_elbo, "nats")

    # Warm up both (imports, thread pools) on a small set so neither pays it in the timing.
    tsne_2d(latents[:300], seed=0)
    TSNE(n_components=2, random_state=0).fit_transform(latents[:300])

    ours_s, ours_coords = _timed(lambda: tsne_2d(latents, seed=0), args.repeats)
    sklearn_s, sklearn_coords = _timed(
        lambda: TSNE(n_components=2, random_state=0).fit_transform(latents), args.repeats
    )
    ours_trust = trustworthiness_k(latents, ours_coords, k=10)
    sklearn_trust = trustworthiness_k(latents, sklearn_coords, k=10)
    pca_ms, _ = _timed(lambda: pca_2d(latents), 21)

    _emit(f"tsne_{tag}_s", ours_s, "s")
    _emit(f"sklearn_tsne_{tag}_s", sklearn_s, "s")
    _emit(f"tsne_{tag}_speedup_vs_sklearn", sklearn_s / ours_s, "x")
    _emit(f"tsne_{tag}_trustworthiness", ours_trust, "")
    _emit(f"sklearn_tsne_{tag}_trustworthiness", sklearn_trust, "")
    _emit(f"tsne_{tag}_trustworthiness_delta", ours_trust - sklearn_trust, "")
    _emit(f"pca_{tag}_ms", pca_ms * 1000.0, "ms")


if __name__ == "__main__":
    main()
