"""Model quality on real MNIST: train with the README command, then score the held-out images.

Runs, in a temporary folder, exactly
    python -m vae_core train --dataset idx:../shared/data/mnist --latent-dim 16 --time-budget 180 \\
        --out mnist.safetensors
    python -m vae_core evaluate mnist.safetensors --dataset idx:../shared/data/mnist --split val --json
(the first 8,000 of the 10,000 MNIST test images train, the last 2,000 are scored) and prints one JSON
object per line: {"name": ..., "value": ..., "unit": ...}. The goal is mnist_val_neg_elbo ≤ 100 nats.

Usage (from the repo root): python benchmarks/quality_mnist.py [--time-budget S] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"


def _emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 4), "unit": unit}), flush=True)


def _run(args: list[str], cwd: Path) -> str:
    """Run `python -m vae_core ARGS` from cwd; return its stdout, or exit with its stderr on failure."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "vae_core", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"python -m vae_core {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--time-budget", type=float, default=180.0, help="training seconds (default: %(default)s)"
    )
    parser.add_argument(
        "--keep", default=None, help="folder to keep the checkpoint in (default: a temp folder)"
    )
    args = parser.parse_args(argv)
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"MNIST files not found in {MNIST_DIR}")
    with tempfile.TemporaryDirectory(prefix="quality_mnist_") as tmp:
        workdir = Path(args.keep or tmp).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        dataset = f"idx:{MNIST_DIR}"
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        train_out = _run(
            [
                "train",
                "--dataset",
                dataset,
                "--latent-dim",
                "16",
                "--time-budget",
                str(args.time_budget),
                "--quiet",
                "--out",
                "mnist.safetensors",
            ],
            workdir,
        )
        wall = time.perf_counter() - start
        load_after = os.getloadavg()[0]
        summary = json.loads(train_out.strip().splitlines()[-1])
        scores = json.loads(
            _run(["evaluate", "mnist.safetensors", "--dataset", dataset, "--split", "val", "--json"], workdir)
            .strip()
            .splitlines()[-1]
        )
        size = (workdir / "mnist.safetensors").stat().st_size
    _emit("mnist_val_neg_elbo", scores["neg_elbo"], "nats")
    _emit("mnist_val_recon", scores["recon"], "nats")
    _emit("mnist_val_kl", scores["kl"], "nats")
    _emit("mnist_val_active_units", scores["active_units"], "units")
    _emit("mnist_train_epochs", summary["epochs_run"], "epochs")
    _emit("mnist_train_s", summary["train_time_s"], "s")
    _emit("mnist_train_wall_s", wall, "s")
    _emit("mnist_checkpoint_bytes", size, "bytes")
    _emit("load_average_1min_after_training", load_after, "runnable")
    _emit("load_average_1min_before_training", load_before, "runnable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
