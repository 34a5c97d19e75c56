"""Device handling in one place: CUDA when present, else CPU."""

from __future__ import annotations

import os

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to train and decode on: `prefer` if given, else $LATENT_EXPLORER_DEVICE, else CUDA when present."""
    choice = (
        prefer or os.environ.get("LATENT_EXPLORER_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    )
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {choice!r} asked for, but no CUDA GPU is available; use 'cpu'")
    return torch.device(choice)
