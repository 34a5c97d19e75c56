"""Bounded by construction: dataset costs are accounted from headers before the work, on every path."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.dataset_fixtures import (
    labelled_pngs,
    png_bytes,
    random_images,
    write_files,
    write_idx_split,
    write_npz,
    zip_bytes,
)
from vae_core.data import DataLimits, DatasetError, load_dataset, load_uploaded
from vae_core.limits import UPLOAD_LIMITS

REPO = Path(__file__).resolve().parents[1]

_MEASURE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from vae_core.data import load_uploaded
from vae_core.errors import LatentExplorerError
payload = open(sys.argv[2], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    dataset = load_uploaded(sys.argv[3], payload)
    outcome = f"loaded {dataset.images.shape} {dataset.images.nbytes}"
except LatentExplorerError as exc:
    outcome = f"{type(exc).__name__}: {exc}"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seconds = time.perf_counter() - start
print(json.dumps({"outcome": outcome, "rss_growth_kib": after - before, "seconds": seconds}))
"""


def measure_upload(tmp_path: Path, name: str, payload: bytes) -> dict:
    """Load an upload in a fresh process; its outcome, peak-RSS growth (KiB) and seconds."""
    (tmp_path / name).write_bytes(payload)
    res = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(REPO), str(tmp_path / name), name],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def npz_bytes(compressed: bool = True, **arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


class TestMemory:
    def test_a_small_npz_of_large_images_streams_within_a_bounded_peak(self, tmp_path):
        """~0.3 MB on the wire, 250 MB of pixels when inflated: read in chunks, never held whole."""
        payload = npz_bytes(images=np.zeros((60, 2048, 2048), np.uint8))
        assert len(payload) < 1_000_000
        result = measure_upload(tmp_path, "big.npz", payload)
        assert result["outcome"].startswith("loaded (60, 1, 64, 64)"), result
        assert result["rss_growth_kib"] < 160 * 1024, result  # chunks of 32 MiB float32, not 250 MB × 5

    def test_an_npz_over_the_pixel_budget_is_refused_from_its_header(self, tmp_path):
        payload = npz_bytes(images=np.zeros((70, 2048, 2048), np.uint8))
        result = measure_upload(tmp_path, "bomb.npz", payload)
        assert "pixels in all" in result["outcome"], result
        assert result["rss_growth_kib"] < 32 * 1024, result

    def test_an_upload_over_the_float32_cap_is_refused_before_reading(self):
        payload = npz_bytes(
            images=np.zeros((20_000, 64, 64), np.uint8)
        )  # 328 MB as float32; uploads get 256 MiB
        with pytest.raises(DatasetError, match="over the 256.0 MiB limit"):
            load_uploaded("many.npz", payload, limits=UPLOAD_LIMITS)


class TestBudgets:
    def test_the_decode_time_budget_stops_a_slow_load_with_a_message(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 3}))
        with pytest.raises(DatasetError, match="took longer than 0 s"):
            load_dataset(f"images:{tmp_path}", limits=DataLimits(max_decode_seconds=0.0))

    def test_the_pixel_budget_counts_every_image_header_before_decoding(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 3, "b": 3}))  # 6 images of 16×16 = 1,536 pixels
        with pytest.raises(DatasetError, match="more than 1,535 pixels"):
            load_dataset(f"images:{tmp_path}", limits=DataLimits(max_decoded_pixels=1535))
        assert len(load_dataset(f"images:{tmp_path}", limits=DataLimits(max_decoded_pixels=1536))) == 6

    def test_one_oversized_image_file_is_refused(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 2}) | {"a/big.png": png_bytes(random_images(1, 64, 64)[0])})
        with pytest.raises(DatasetError, match="big.png"):
            load_dataset(f"images:{tmp_path}", limits=DataLimits(max_file_bytes=2_000))

    def test_idx_pixels_are_budgeted_across_both_splits(self, tmp_path):
        write_idx_split(tmp_path, "train", random_images(4), None, gz=True)
        write_idx_split(tmp_path, "t10k", random_images(4), None, gz=False)
        with pytest.raises(DatasetError, match="pixels in all"):
            load_dataset(f"idx:{tmp_path}", limits=DataLimits(max_decoded_pixels=8 * 144 - 1))


class TestLabels:
    def test_labels_beyond_int64_are_refused_not_wrapped(self):
        labels = np.array([2**63 + 5, 0, 1], np.uint64)
        with pytest.raises(DatasetError, match="too large to keep exactly"):
            load_uploaded("x.npz", npz_bytes(images=random_images(3), labels=labels))

    def test_large_labels_keep_their_exact_values(self):
        labels = np.array([2**62 + 1, -(2**62), 2**62 + 1], np.int64)
        dataset = load_uploaded("x.npz", npz_bytes(images=random_images(3), labels=labels))
        assert dataset.class_names == [str(-(2**62)), str(2**62 + 1)]
        assert dataset.labels.tolist() == [1, 0, 1]

    def test_float_labels_beyond_exact_integers_are_refused(self):
        with pytest.raises(DatasetError, match="2\\*\\*53"):
            load_uploaded("x.npz", npz_bytes(images=random_images(2), labels=np.array([1e300, 0.0])))

    def test_the_class_count_cap_applies_to_npz_class_names(self):
        names = np.array([f"c{i}" for i in range(5)])
        payload = npz_bytes(images=random_images(3), labels=np.array([0, 1, 2]), class_names=names)
        with pytest.raises(DatasetError, match="5 class names, over the limit of 4"):
            load_uploaded("x.npz", payload, limits=DataLimits(max_classes=4))

    def test_overlong_class_names_are_refused(self):
        payload = npz_bytes(
            images=random_images(2), labels=np.array([0, 0]), class_names=np.array(["x" * 500])
        )
        with pytest.raises(DatasetError, match="over 200 characters"):
            load_uploaded("x.npz", payload)


class TestConfinement:
    @pytest.fixture()
    def root(self, tmp_path):
        root = tmp_path / "datasets"
        write_files(root / "faces", labelled_pngs({"a": 2, "b": 2}))
        (tmp_path / "outside").mkdir()
        (tmp_path / "outside" / "secret.png").write_bytes(png_bytes(random_images(1)[0]))
        return root

    def test_a_link_inside_an_images_folder_that_leaves_the_root_is_refused(self, root):
        (root / "faces" / "a" / "leak.png").symlink_to(root.parent / "outside" / "secret.png")
        with pytest.raises(DatasetError, match="leak.png.*outside the data folder"):
            load_dataset("images:faces", spec_root=root)

    def test_a_link_that_stays_inside_the_root_is_followed(self, root):
        (root / "faces" / "a" / "again.png").symlink_to(root / "faces" / "b" / "000.png")
        assert len(load_dataset("images:faces", spec_root=root)) == 5

    def test_a_pipe_named_like_an_image_is_refused_without_blocking(self, root):
        os.mkfifo(root / "faces" / "a" / "pipe.png")
        with pytest.raises(DatasetError, match="pipe.png.*not a regular file"):
            load_dataset("images:faces", spec_root=root)

    def test_an_idx_file_linked_from_outside_the_root_is_refused(self, root, tmp_path):
        write_idx_split(tmp_path / "outside", "t10k", random_images(3), None, gz=False)
        (root / "mnist").mkdir()
        (root / "mnist" / "t10k-images-idx3-ubyte").symlink_to(
            tmp_path / "outside" / "t10k-images-idx3-ubyte"
        )
        with pytest.raises(DatasetError, match="outside the data folder"):
            load_dataset("idx:mnist", spec_root=root)

    def test_a_pipe_given_as_an_npz_spec_is_refused(self, root):
        os.mkfifo(root / "data.npz")
        with pytest.raises(DatasetError):
            load_dataset("npz:data.npz", spec_root=root)


def test_an_npz_stored_in_fortran_order_is_refused_with_advice(tmp_path):
    path = write_npz(tmp_path / "f.npz", images=np.asfortranarray(random_images(3)))
    with pytest.raises(DatasetError, match="ascontiguousarray"):
        load_dataset(f"npz:{path}")


def test_zip_upload_of_images_still_loads_after_two_passes():
    dataset = load_uploaded("set.zip", zip_bytes(labelled_pngs({"a": 3, "b": 2})))
    assert len(dataset) == 5 and dataset.class_names == ["a", "b"]
