"""Factors: the time to generate the shapes dataset, and the shipped shapes models' disentanglement scores.

Prints JSON lines (name, value, unit): shapes_generate_s (default count, 10,000 images at 32×32; best of
--repeats), then for the shipped β = 1 VAE and β-VAE their MIG and DCI disentanglement/completeness on the
validation split, exactly as `python -m vae_core evaluate MODEL --dataset shapes --json` computes them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vae_core import ASSETS_DIR  # noqa: E402
from vae_core.checkpoint import load_checkpoint  # noqa: E402
from vae_core.data import split_indices  # noqa: E402
from vae_core.health import latent_report  # noqa: E402
from vae_core.shapes import DEFAULT_COUNT, generate_shapes  # noqa: E402

SHIPPED = {"beta1": "shapes_beta1.safetensors", "betavae": "shapes_betavae.safetensors"}


def emit(name: str, value: float, unit: str, **extra) -> None:
    """Print one benchmark line."""
    print(json.dumps({"name": name, "value": round(float(value), 4), "unit": unit, **extra}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="generation timings; the best is reported")
    parser.add_argument("--quick", action="store_true", help="one generation timing")
    args = parser.parse_args()
    timings = []
    for _ in range(1 if args.quick else max(1, args.repeats)):
        started = time.perf_counter()
        dataset = generate_shapes(DEFAULT_COUNT)
        timings.append(time.perf_counter() - started)
    emit(
        "shapes_generate_s",
        min(timings),
        "s",
        images=DEFAULT_COUNT,
        side=32,
        load_avg_1m=round(os.getloadavg()[0], 2),
    )
    _, val_rows = split_indices(len(dataset))
    for tag, file_name in SHIPPED.items():
        path = ASSETS_DIR / "models" / file_name
        if not path.is_file():
            print(f"{path} is missing: run `make default-model`", file=sys.stderr)
            continue
        checkpoint = load_checkpoint(path)
        report = latent_report(checkpoint.model, dataset, val_rows)
        extra = {"beta": checkpoint.config.beta, "active_units": report["active_units"], "n": len(val_rows)}
        emit(f"mig_shipped_{tag}", report["mig"], "score", **extra)
        emit(f"dci_disentanglement_shipped_{tag}", report["dci_disentanglement"], "score", **extra)
        emit(f"dci_completeness_shipped_{tag}", report["dci_completeness"], "score", **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
