"""Every public loader, fed malformed input, either loads or raises the library's own error — nothing else.

A fixed walk over hand-picked malformed inputs, then a short Hypothesis run (tests/fuzz_inputs.py) in a
subprocess that also measures peak memory and the slowest case. `make fuzz` runs the long version.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz_inputs import Workdir, loaders, seed_checkpoint, seed_idx, seed_npz, seed_zip
from vae_core.checkpoint import checkpoint_from_bytes, parse_header
from vae_core.config import VAEConfig
from vae_core.data import load_uploaded
from vae_core.errors import LatentExplorerError
from vae_core.limits import DEFAULT_LIMITS

REPO = Path(__file__).resolve().parents[1]
SEEDS = {"checkpoint": seed_checkpoint(), "npz": seed_npz(), "zip": seed_zip(), "idx": seed_idx()}


def damaged(seed: bytes) -> list[bytes]:
    """Truncations, junk, zeroed and flipped regions of a valid file."""
    cuts = [0, 1, 4, 8, 9, 16, 30, 64, len(seed) // 3, len(seed) // 2, len(seed) - 1]
    variants = [seed[:c] for c in cuts]
    variants += [seed + b"\x00" * 7, seed + b"PK\x05\x06" + bytes(18), b"\xff" * len(seed)]
    for start in (4, 8, 12, 40, len(seed) // 2, len(seed) - 30):
        zeroed, flipped = bytearray(seed), bytearray(seed)
        zeroed[start : start + 8] = bytes(8)
        flipped[start : start + 8] = bytes(b ^ 0xFF for b in flipped[start : start + 8])
        variants += [bytes(zeroed), bytes(flipped)]
    return variants


CASES = [
    (target, kind, i)
    for target, kind in [
        ("checkpoint_bytes", "checkpoint"),
        ("checkpoint_file", "checkpoint"),
        ("npz_upload", "npz"),
        ("npz_spec", "npz"),
        ("zip_upload", "zip"),
        ("zip_spec", "zip"),
        ("idx_raw", "idx"),
        ("idx_gz", "idx"),
        ("npz_upload", "zip"),
        ("zip_upload", "npz"),
        ("checkpoint_bytes", "npz"),
        ("idx_raw", "checkpoint"),
    ]
    for i in range(len(damaged(SEEDS[kind])))
]


@pytest.fixture(scope="module")
def calls():
    return loaders(Workdir())


@pytest.mark.parametrize(("target", "kind", "index"), CASES)
def test_malformed_files_load_or_raise_our_error(calls, target, kind, index):
    payload = damaged(SEEDS[kind])[index]
    try:
        calls[target](payload)
    except LatentExplorerError as exc:
        assert str(exc).strip(), "a refusal must say why"


@pytest.mark.parametrize("value", [None, 3, 2.5, "text", ["images"], {"a": 1}, b"", bytearray(b"{}")])
def test_wrong_python_types_are_our_error(value):
    for call in (
        lambda: checkpoint_from_bytes(value),
        lambda: parse_header(value),
        lambda: VAEConfig.from_json(value),
        lambda: VAEConfig.from_dict(value),
        lambda: load_uploaded("x.npz", value),
        lambda: load_uploaded(value, b"PK"),
    ):
        with contextlib.suppress(LatentExplorerError):
            call()


@pytest.mark.parametrize(
    "spec",
    [
        "",
        ":",
        "npz:",
        "idx:\x00",
        "images:" + "a" * 5000,
        "npz:/dev/zero",
        "idx:/proc",
        "images:/dev/null",
        "npz:../../etc/passwd",
        "idx:" + "../" * 50,
        "mnist:x",
        "\udcff",
    ],
)
def test_malformed_specs_are_our_error(calls, spec):
    with pytest.raises(LatentExplorerError):
        calls["spec_text"](spec.encode("utf-8", "surrogateescape"))


def test_a_short_hypothesis_run_finds_nothing_within_the_caps():
    """Mutated checkpoints, .npz, IDX and zips plus hand-written headers: only our errors, bounded cost."""
    examples = os.environ.get("FUZZ_EXAMPLES", "25")
    res = subprocess.run(
        [sys.executable, "-m", "tests.fuzz_inputs", "--examples", examples],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["fuzz_findings"] == 0, result["fuzz_finding_examples"]
    assert result["fuzz_cases"] >= 15 * int(examples)
    assert result["fuzz_peak_rss_growth_mib"] < 256, result  # far under the 1.5 GiB server budget
    assert result["fuzz_slowest_case_s"] < DEFAULT_LIMITS.max_decode_seconds, result
