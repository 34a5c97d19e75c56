"""Core speed figures: decode latency, encode throughput, training epoch time (JSON lines: name, value, unit)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from vae_core import DEFAULT_MODEL_PATH  # noqa: E402
from vae_core.checkpoint import load_checkpoint  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.data import load_dataset  # noqa: E402
from vae_core.latents import encode  # noqa: E402
from vae_core.models import build_vae  # noqa: E402
from vae_core.training import TrainSettings, fit  # noqa: E402

MNIST_SPEC = f"idx:{REPO.parent / 'shared' / 'data' / 'mnist'}"


def emit(name: str, value: float, unit: str, **extra) -> None:
    """Print one benchmark line."""
    print(json.dumps({"name": name, "value": round(float(value), 4), "unit": unit, **extra}), flush=True)


@torch.inference_mode()
def decode_one_ms(model, repeats: int = 300) -> float:
    """Median wall time of decoding a single z (what one slider move costs), in ms."""
    z = torch.randn(1, model.config.latent_dim)
    for _ in range(20):
        model.decode(z)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.decode(z)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def epoch_seconds(config: VAEConfig, dataset, augment_shift: int) -> float:
    """Wall time of one training epoch (plus its validation pass) with the CLI's default settings."""
    result = fit(config, dataset, TrainSettings(epochs=1, augment_shift=augment_shift, seed=0))
    return result.history[-1]["elapsed_s"]


def main() -> None:
    """Run every core benchmark and print its line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the MNIST figures")
    args = parser.parse_args()
    threads = torch.get_num_threads()

    torch.set_num_threads(1)  # the app decodes with one thread per process
    shipped = load_checkpoint(DEFAULT_MODEL_PATH).model
    emit("decode_one_ms", decode_one_ms(shipped), "ms", model="shipped digits MLP z=8", threads=1)
    default_arch = build_vae(VAEConfig(input_shape=(1, 28, 28), latent_dim=16)).eval()
    emit(
        "decode_one_ms_mnist_default_arch",
        decode_one_ms(default_arch),
        "ms",
        model=f"{default_arch.config.arch} 28x28 z=16",
        threads=1,
    )
    torch.set_num_threads(threads)

    digits = load_dataset("digits")
    emit(
        "train_epoch_s_digits",
        epoch_seconds(VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=8), digits, 0),
        "s",
        images=int(len(digits) * 0.8),
        threads=threads,
    )
    if args.quick:
        return
    mnist = load_dataset(MNIST_SPEC)
    t = time.perf_counter()
    mu, _ = encode(default_arch, mnist.images)
    emit(
        "encode_images_per_s",
        len(mu) / (time.perf_counter() - t),
        "images/s",
        model=f"{default_arch.config.arch} z=16",
        threads=threads,
    )
    emit(
        "train_epoch_s_mnist",
        epoch_seconds(VAEConfig(input_shape=mnist.image_shape, latent_dim=16), mnist, 1),
        "s",
        images=int(len(mnist) * 0.8),
        arch=VAEConfig.arch,
        threads=threads,
    )


if __name__ == "__main__":
    main()
