"""Device handling in one place: CUDA when present, else CPU."""

from __future__ import annotations

import os
import re

import torch

from .errors import InputError

DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d{1,2})?")


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to train and decode on: `prefer` if given, else $LATENT_EXPLORER_DEVICE, else CUDA when present."""
    choice = (
        prefer or os.environ.get("LATENT_EXPLORER_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    )
    name = choice.strip().lower()
    if not DEVICE_PATTERN.fullmatch(name):
        raise InputError(
            f"device {choice!r:.40} is not one we can use; choose cpu, cuda or cuda:N "
            "(or unset LATENT_EXPLORER_DEVICE)"
        )
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {choice!r} asked for, but no CUDA GPU is available; use 'cpu'")
    if name.startswith("cuda") and int(name.partition(":")[2] or 0) >= torch.cuda.device_count():
        raise InputError(f"device {choice!r}: there are only {torch.cuda.device_count()} CUDA devices")
    return torch.device(name)
