"""pad.js's browser decoder timed in Node (V8, Chromium's engine), no browser: the decode of one slider frame for
the MNIST default conv decoder (VAEConfig(), weights spread for contrast as in bench_browser.py) and the shipped
MLP (assets/models/digits_default.safetensors). Prints JSON lines {"name", "value", "unit"}.

  pad_decode_ms_conv_node, pad_decode_ms_mlp_node   median ms per decode (slider values → uint8 pixels)
  *_node_baseline, pad_decode_speedup_*_node        with --baseline REF: pad.js as committed at REF, timed in
                                                    the same Node process, interleaved round by round
  pad_decode_max_grey_diff_*                        every decoder family (protocol.py's agreement list): the
                                                    largest difference from vae_core's pixels (must be ≤ 1)

The decoder specs and vae_core's pixels go to a temp folder; benchmarks/bench_pad_decoder.mjs does the timing.
Needs `node` on PATH (skips with a message otherwise). The real-browser figures are bench_browser.py's.

Usage (repo root):  python benchmarks/bench_pad_decoder.py [--quick] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from app_drivers.pad_models import AGREEMENT_CONFIGS, contrasty_model  # noqa: E402
from explorer_ui.latent_pad_frontend.protocol import decoder_spec  # noqa: E402
from vae_core.checkpoint import load_checkpoint  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.sliders import decode_vector  # noqa: E402

PAD_PATH = "explorer_ui/latent_pad_frontend/pad.js"
MLP_CHECKPOINT = REPO / "assets" / "models" / "digits_default.safetensors"


def write_case(folder: Path, name: str, model, timed: bool) -> None:
    """One case file: the model's decoder spec and vae_core's pixels for z = 0 and three random z."""
    spec = decoder_spec(model)
    if spec is None:
        raise SystemExit(f"{name}: protocol.py does not send this decoder to the browser")
    rng = np.random.default_rng(7)
    vectors = [np.zeros(spec["latent_dim"]), *(rng.normal(size=spec["latent_dim"]) * 1.5 for _ in range(3))]
    checks = [
        {"values": v.tolist(), "pixels": decode_vector(model, v).astype(int).ravel().tolist()}
        for v in vectors
    ]
    case = {"name": name, "spec": spec, "timed": timed, "checks": checks}
    (folder / f"{name}.json").write_text(json.dumps(case), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--baseline", default=None, help="a git ref whose pad.js is timed alongside")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (default 15, --quick 4)")
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        print("bench_pad_decoder: skipped, no `node` on PATH", file=sys.stderr)
        return
    rounds = args.rounds or (4 if args.quick else 15)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = folder / "cases"
        cases.mkdir()
        write_case(cases, "conv", contrasty_model(VAEConfig()), timed=True)
        write_case(cases, "mlp", load_checkpoint(MLP_CHECKPOINT).model, timed=True)
        for name, config in AGREEMENT_CONFIGS.items():
            if name != "conv_gray":  # = VAEConfig(): the conv case above
                write_case(cases, name, contrasty_model(config), timed=False)
        pads = ["--pad", f"current={REPO / PAD_PATH}"]
        if args.baseline:
            old = folder / "baseline_pad.js"
            shown = subprocess.run(
                ["git", "show", f"{args.baseline}:{PAD_PATH}"],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            old.write_text(shown.stdout, encoding="utf-8")
            pads += ["--pad", f"baseline={old}"]
        script = REPO / "benchmarks" / "bench_pad_decoder.mjs"
        command = [node, str(script), "--cases", str(cases), *pads, "--rounds", str(rounds)]
        sys.exit(subprocess.run(command, cwd=REPO).returncode)


if __name__ == "__main__":
    main()
