"""Shared fixtures: the digits dataset, a small trained model, the shared MNIST folder (pyproject.toml puts the
repository root on sys.path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"

CLI_ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}  # nothing from the caller's environment
CLI_TIMEOUT_S = 300


class Cli:
    """`python -m vae_core …` in a fresh process (the repository on its path, nothing else inherited)."""

    TINY_TRAIN = ("train", "--dataset", "digits", "--arch", "mlp", "--latent-dim", "4")  # seconds to train

    def argv(self, *args: str) -> list[str]:
        """The command line of one call."""
        return [sys.executable, "-m", "vae_core", *args]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess:
        """Run one command to the end; stdout and stderr captured as text."""
        return subprocess.run(
            self.argv(*args), cwd=cwd, env=CLI_ENV, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
        )

    def json(self, *args: str, cwd: Path) -> dict:
        """Run one command that must succeed and return the JSON object on its last line of stdout."""
        res = self.run(*args, cwd=cwd)
        assert res.returncode == 0, res.stderr[-2000:]
        return json.loads(res.stdout.strip().splitlines()[-1])

    def start(self, *args: str, cwd: Path) -> subprocess.Popen:
        """Start one command in the background (stdout and stderr piped) for a test to watch or kill."""
        return subprocess.Popen(
            self.argv(*args), cwd=cwd, env=CLI_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def cli() -> Cli:
    """The command line, run as a user runs it: `cli.run(...)`, `cli.json(...)`, `cli.start(...)`."""
    return Cli()


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8×8 digits as an ImageDataset."""
    from vae_core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def small_model(digits):
    """An MLP VAE (z = 4) trained for a few epochs on digits, in eval mode."""
    from vae_core.config import VAEConfig
    from vae_core.training import TrainSettings, fit

    cfg = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=4, hidden=(64, 32))
    return fit(cfg, digits, TrainSettings(epochs=8, seed=0)).model


@pytest.fixture(scope="session")
def conv_model():
    """An untrained, tiny conv VAE for 12×12 grey images (z = 3), in eval mode: whole-dataset passes in tests."""
    import torch

    from vae_core.config import VAEConfig
    from vae_core.models import build_vae

    torch.manual_seed(0)
    return build_vae(VAEConfig(input_shape=(1, 12, 12), channels=(4, 8), hidden=(16,), latent_dim=3)).eval()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST test set beside the repo (skips when it is not there)."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"shared MNIST files not found at {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture()
def app_router():
    """AppTest runs explorer_app.py (router + sidebar) on every run, as the real server does."""
    from app_helpers import router_runs_every_time

    with router_runs_every_time():
        yield


@pytest.fixture()
def media():
    """Every media file AppTest stores during the test (a download's bytes, by URL)."""
    from app_helpers import recording_media

    with recording_media() as recorder:
        yield recorder
