"""Nothing lost: a training run that is killed (SIGKILL, no clean-up) or stopped leaves its best weights so far
in a checkpoint that loads. fit() rewrites --out atomically whenever validation improves."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vae_core.checkpoint import load_checkpoint
from vae_core.config import VAEConfig
from vae_core.training import TrainSettings, fit


def _wait_for(path: Path, proc: subprocess.Popen, limit_s: float) -> None:
    """Wait until `path` exists (the first improvement was saved) while the process still runs."""
    deadline = time.monotonic() + limit_s
    while not path.exists():
        assert proc.poll() is None, f"training exited early:\n{proc.stderr.read().decode(errors='replace')}"
        assert time.monotonic() < deadline, f"{path.name} did not appear within {limit_s:.0f} s"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("extra_s", [0.0, 2.0], ids=["at-first-save", "mid-run"])
def test_sigkill_mid_training_leaves_the_best_weights_so_far(cli, tmp_path, extra_s):
    """`python -m vae_core train … --epochs 200` killed with SIGKILL: the --out file is a complete checkpoint of
    the best epoch so far, marked "in progress"."""
    out = tmp_path / "run.safetensors"
    proc = cli.start(
        *cli.TINY_TRAIN,
        "--epochs",
        "200",
        "--patience",
        "1000",
        "--seed",
        "0",
        "--quiet",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    try:
        _wait_for(out, proc, limit_s=240)
        time.sleep(extra_s)  # saves keep coming while validation improves: the kill may land during one
        assert proc.poll() is None, "the run finished before it could be killed; give it more epochs"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    loaded = load_checkpoint(out)
    summary = loaded.summary
    assert summary["status"] == "in progress"
    assert 1 <= summary["epochs_run"] < 200
    assert summary["best_epoch"] == summary["epochs_run"]  # written at the epoch that improved
    assert math.isfinite(summary["val_neg_elbo"])
    assert loaded.config.latent_dim == 4 and loaded.config.input_shape == (1, 8, 8)
    with torch.no_grad():
        images = loaded.model.decode(torch.randn(6, 4, generator=torch.Generator().manual_seed(0)))
    assert torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != out.name]
    assert all(name.startswith(f".{out.name}.") and name.endswith(".tmp") for name in leftovers), leftovers


def test_a_run_stopped_by_should_stop_keeps_its_best_weights_on_disk(digits, tmp_path):
    """The stop button's path: should_stop() turns True after some epochs; the file holds the best epoch's
    weights (identical to the returned model), with status "stopped by user"."""
    config = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=4, hidden=(64, 32))
    settings = TrainSettings(epochs=50, batch_size=64, patience=None, seed=0)
    steps_per_epoch = math.ceil(len(digits.images) * 0.8 / settings.batch_size)
    polls = []

    def stop_after_four_epochs() -> bool:
        polls.append(1)
        return len(polls) >= 4 * steps_per_epoch + 3  # a few steps into epoch 5

    path = tmp_path / "stopped.safetensors"
    result = fit(config, digits, settings, should_stop=stop_after_four_epochs, checkpoint_path=path)
    assert result.summary["status"] == "stopped by user"
    assert len(result.history) == 5

    on_disk = load_checkpoint(path)
    assert on_disk.summary["status"] == "stopped by user"
    best = min(result.history, key=lambda h: h["val_neg_elbo"])
    assert on_disk.summary["best_epoch"] == best["epoch"]
    assert on_disk.summary["val_neg_elbo"] == pytest.approx(best["val_neg_elbo"])
    saved, returned = on_disk.model.state_dict(), result.model.state_dict()
    assert saved.keys() == returned.keys() and all(torch.equal(saved[k], returned[k]) for k in saved)


def test_a_run_stopped_at_once_still_writes_a_loadable_file(digits, tmp_path):
    """Stop pressed during the very first step: one evaluated epoch, and its weights are on disk."""
    config = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=4, hidden=(64, 32))
    path = tmp_path / "early.safetensors"
    result = fit(
        config,
        digits,
        replace(TrainSettings(), epochs=50, patience=None),
        should_stop=lambda: True,
        checkpoint_path=path,
    )
    loaded = load_checkpoint(path)
    assert loaded.summary["status"] == result.summary["status"] == "stopped by user"
    assert loaded.summary["epochs_run"] == 1
