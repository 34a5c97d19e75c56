"""README's table of caps says what vae_core.limits enforces; loaders read their caps from it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vae_core import limits
from vae_core.limits import DEFAULT_LIMITS, UPLOAD_LIMITS, readme_rows

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("row", readme_rows(), ids=lambda row: row.split("|")[1].strip()[:30])
def test_readme_states_each_cap_of_the_limits_module(row):
    readme = (REPO / "README.md").read_text()
    assert row in readme, f"README's table of caps is out of date; the row should read:\n{row}"


def test_uploads_may_become_no_more_than_typed_specs():
    for name in (
        "max_images",
        "max_array_bytes",
        "max_uncompressed_bytes",
        "max_decode_seconds",
        "max_decoded_pixels",
    ):
        assert getattr(UPLOAD_LIMITS, name) <= getattr(DEFAULT_LIMITS, name), name


def test_the_largest_accepted_dataset_fits_the_memory_budget():
    """The final array plus conversion chunks stay well inside the ~1.5 GiB a server process is sized for."""
    assert DEFAULT_LIMITS.max_array_bytes + 4 * DEFAULT_LIMITS.chunk_bytes <= 1 * limits.GIB
    largest_image_float32 = 3 * DEFAULT_LIMITS.max_source_side**2 * 4
    assert largest_image_float32 <= 2 * DEFAULT_LIMITS.chunk_bytes


@pytest.mark.parametrize(
    "module",
    [
        "checkpoint.py",
        "safe_archive.py",
        "config.py",
        "data/convert.py",
        "data/npz.py",
        "data/images.py",
        "data/idx.py",
        "latents_file.py",
    ],
)
def test_loaders_define_no_caps_of_their_own(module):
    """Caps are read from vae_core.limits: no loader assigns a MAX_* constant or builds its own DataLimits."""
    tree = ast.parse((REPO / "vae_core" / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            assert not any(n.startswith("MAX_") for n in names), f"{module} defines {names}"
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DataLimits":
            pytest.fail(f"{module} builds its own DataLimits")
