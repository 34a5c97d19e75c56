"""Shared fixtures: the digits dataset, a small trained model, the shared MNIST folder (pyproject.toml puts the
repository root on sys.path)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


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
