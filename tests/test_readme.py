"""Every command in the README runs: fenced ```bash blocks (```bash slow ones under the slow marker)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SHARED = REPO.parent / "shared"


def readme_blocks() -> list[tuple[str, list[str]]]:
    """(info string, command lines) of every fenced bash block in the README."""
    text = README.read_text()
    blocks = re.findall(r"^```(bash[^\n]*)\n(.*?)^```", text, flags=re.S | re.M)
    return [
        (info.strip(), [ln for ln in body.splitlines() if ln.strip() and not ln.startswith("#")])
        for info, body in blocks
    ]


def run_block(lines: list[str], tmp_path: Path) -> list[subprocess.CompletedProcess]:
    """Run each line in a scratch folder that sits beside a link to ../shared, as the README assumes."""
    work = tmp_path / "work"
    work.mkdir()
    if SHARED.exists():
        (tmp_path / "shared").symlink_to(SHARED)
    results = []
    for line in lines:
        argv = shlex.split(line)
        assert argv[:3] == ["python", "-m", "vae_core"], f"README command is not a vae_core call: {line}"
        res = subprocess.run(
            [sys.executable, *argv[1:]],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=900,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        assert res.returncode == 0, f"{line}\n{res.stderr[-2000:]}"
        results.append(res)
    return results


FAST = [b for b in readme_blocks() if b[0] == "bash"]
SLOW = [b for b in readme_blocks() if b[0] == "bash slow"]


def test_readme_has_the_documented_commands():
    commands = " ".join(" ".join(lines) for _, lines in FAST + SLOW)
    for sub in ("train", "evaluate", "sample", "encode", "project", "interpolate", "info"):
        assert f"vae_core {sub}" in commands
    assert "make run" in README.read_text() and "make test" in README.read_text()


@pytest.mark.parametrize("block", [lines for _, lines in FAST], ids=lambda lines: lines[0].split()[3])
def test_readme_cli_block_runs(block, tmp_path):
    run_block(block, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("block", [lines for _, lines in SLOW], ids=lambda lines: lines[0].split()[4])
def test_readme_slow_block_runs(block, tmp_path):
    if any("../shared" in line for line in block) and not SHARED.exists():
        pytest.skip(f"the shared data folder {SHARED} is not beside the repo")
    results = run_block(block, tmp_path)
    for line, res in zip(block, results):
        if " evaluate " in line:
            metrics = json.loads(res.stdout)
            assert metrics["n"] == 2000 and metrics["neg_elbo"] > 0
        if "--out assets/models/" in line:  # the shipped model is reproduced by its documented command
            from vae_core.checkpoint import load_checkpoint

            name = line.split("--out ")[1].split()[0]
            shipped, rebuilt = load_checkpoint(REPO / name), load_checkpoint(tmp_path / "work" / name)
            assert rebuilt.config == shipped.config

            # Early stopping (patience 40) may end a few epochs apart when float rounding differs between
            # machines, so compare what the command optimises (recon + β·KL: the −ELBO for the VAE, the
            # reconstruction for the β = 0 twin, whose KL is unconstrained), not the epoch it stops at.
            def objective(summary: dict, beta: float = shipped.config.beta) -> float:
                return summary["val_recon"] + beta * summary["val_kl"]

            assert objective(rebuilt.summary) == pytest.approx(objective(shipped.summary), rel=0.03)


def test_readme_states_the_apps_geodesic_budget_and_gil_interval():
    """The README's figures for the app's geodesic (points, evaluations) and its GIL switch interval are the
    ones the code uses."""
    from explorer_ui.state import GIL_SWITCH_INTERVAL_S
    from vae_core.limits import APP_GEODESIC_EVALUATIONS, APP_GEODESIC_POINTS

    text = " ".join(README.read_text().split())
    assert f"at most {APP_GEODESIC_POINTS} points and {APP_GEODESIC_EVALUATIONS} L-BFGS evaluations" in text
    assert f"GIL switch interval of {GIL_SWITCH_INTERVAL_S * 1000:g} ms" in text
