"""vae_core.data on broken and hostile sources: each is a DatasetError that names the problem, never a crash."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.dataset_fixtures import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    idx_bytes,
    labelled_pngs,
    png_bytes,
    random_images,
    understate_sizes,
    write_files,
    write_idx_split,
    write_npz,
    zip_bytes,
)
from vae_core.data import DEFAULT_LIMITS, PATH_LOADERS, DataLimits, DatasetError, load_dataset, load_uploaded


def refused(spec: str, *patterns: str, limits: DataLimits = DEFAULT_LIMITS) -> str:
    """Load spec, expect a DatasetError whose message contains every pattern (case-insensitive); return it.

    The spec's own path is cut from the message first: pytest names tmp_path after the test, so a
    pattern like "corrupt" would otherwise match the folder name of test_corrupt_gzip.
    """
    with pytest.raises(DatasetError) as caught:
        load_dataset(spec, download=False, limits=limits)
    message = str(caught.value)
    location = spec.partition(":")[2].strip()
    without_path = message.replace(location, "<path>") if location else message
    for pattern in patterns:
        assert pattern.lower() in without_path.lower(), f"{pattern!r} not in {without_path!r}"
    return message


class _Tripwire:
    """Unpickling this creates a file: proof that pickled data was (or was not) executed."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR declaring width×height, with no pixel data (cheap to build at any size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


class TestSpecRoot:
    """A class server sets a data folder: typed paths may not read anything outside it."""

    @pytest.fixture()
    def root(self, tmp_path):
        root = tmp_path / "datasets"
        write_idx_split(root / "mnist", "t10k", random_images(12), None, gz=False)
        write_npz(tmp_path / "secret.npz", images=random_images(12))
        return root

    def test_paths_inside_the_root_load_and_relative_paths_start_there(self, root):
        assert len(load_dataset(f"idx:{root / 'mnist'}", spec_root=root).images) == 12
        assert len(load_dataset("idx:mnist", spec_root=root).images) == 12

    @pytest.mark.parametrize(
        "location", ["{tmp}/secret.npz", "../secret.npz", "mnist/../../secret.npz", "/etc"]
    )
    def test_paths_outside_the_root_are_refused_before_reading(self, root, location, monkeypatch):
        location = location.format(tmp=root.parent)
        monkeypatch.setitem(PATH_LOADERS, "npz", lambda *a: pytest.fail("read a file outside the root"))
        with pytest.raises(DatasetError, match="outside the data folder") as caught:
            load_dataset(f"npz:{location}", spec_root=root)
        assert "upload" in str(caught.value)

    def test_a_link_inside_the_root_that_points_out_is_refused(self, root):
        (root / "escape.npz").symlink_to(root.parent / "secret.npz")
        with pytest.raises(DatasetError, match="outside the data folder"):
            load_dataset("npz:escape.npz", spec_root=root)

    def test_the_environment_variable_sets_the_root(self, root, monkeypatch):
        from vae_core.data import spec_root_from_env

        monkeypatch.delenv("LATENT_EXPLORER_SPEC_ROOT", raising=False)
        assert spec_root_from_env() is None
        monkeypatch.setenv("LATENT_EXPLORER_SPEC_ROOT", str(root))
        assert spec_root_from_env() == root


class TestSpecs:
    def test_unknown_spec_lists_the_valid_ones(self):
        refused("cifar", "unknown", "digits", "idx:DIR", "npz:FILE", "images:DIR")

    @pytest.mark.parametrize("spec", ["idx:", "npz: ", "tar:/x", ""])
    def test_incomplete_or_unknown_prefix(self, spec):
        refused(spec, "valid specs")

    @pytest.mark.parametrize("prefix", ["idx", "npz", "images"])
    def test_missing_path_is_named(self, tmp_path, prefix):
        missing = tmp_path / "nowhere"
        message = refused(f"{prefix}:{missing}", "not found" if prefix != "images" else "no folder")
        assert str(missing) in message


class TestNpzContent:
    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_values(self, tmp_path, bad):
        images = random_images(3).astype(np.float32) / 255
        images[1, 2, 3] = bad
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=images)}", "NaN or infinite")

    @pytest.mark.parametrize("shape", [(5,), (5, 144), (2, 3, 12, 12, 1)])
    def test_wrong_number_of_dimensions(self, tmp_path, shape):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=np.zeros(shape, np.uint8))}", "dimensions")

    @pytest.mark.parametrize("shape", [(3, 1, 1), (3, 4, 4), (3, 7, 30), (2, 1, 1, 1)])
    def test_sides_under_eight_pixels(self, tmp_path, shape):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=np.zeros(shape, np.uint8))}", "at least 8")

    def test_absurd_side(self, tmp_path):
        refused(
            f"npz:{write_npz(tmp_path / 'x.npz', images=np.zeros((1, 8, 5000), np.uint8))}", "limit per side"
        )

    def test_two_channels(self, tmp_path):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=np.zeros((2, 12, 12, 2), np.uint8))}", "channel")

    @pytest.mark.parametrize("shape", [(0, 12, 12), (0,)])
    def test_empty(self, tmp_path, shape):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=np.zeros(shape, np.uint8))}", "empty")

    @pytest.mark.parametrize(
        "images",
        [np.full((2, 9, 9), "a"), np.zeros((2, 9, 9), np.complex64)],
        ids=["strings", "complex"],
    )
    def test_non_numeric_dtype(self, tmp_path, images):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=images)}", "dtype")

    @pytest.mark.parametrize(
        "images",
        [np.full((2, 9, 9), -0.5, np.float32), np.full((2, 9, 9), 300.0), np.full((2, 9, 9), 1000, np.int16)],
        ids=["negative", "float-over-255", "int-over-255"],
    )
    def test_values_out_of_range(self, tmp_path, images):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=images)}", "range")

    @pytest.mark.parametrize(
        "labels",
        [np.arange(4), np.zeros((5, 1), np.int64), np.array([0, 1, 0.5, 1, 0])],
        ids=["too-few", "two-dimensional", "fractional"],
    )
    def test_bad_labels(self, tmp_path, labels):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', images=random_images(5), labels=labels)}", "labels")

    def test_class_names_that_do_not_cover_the_labels(self, tmp_path):
        path = write_npz(
            tmp_path / "x.npz",
            images=random_images(3),
            labels=np.array([0, 1, 2]),
            class_names=np.array(["a"]),
        )
        refused(f"npz:{path}", "class_names")

    def test_no_images_array(self, tmp_path):
        refused(f"npz:{write_npz(tmp_path / 'x.npz', pictures=random_images(2))}", "no 'images'", "pictures")


class TestNpzPickles:
    def test_object_array_is_refused_without_unpickling(self, tmp_path):
        marker = tmp_path / "unpickled"
        images = np.empty(1, dtype=object)
        images[0] = _Tripwire(marker)
        path = tmp_path / "x.npz"
        np.savez(path, images=images)
        refused(f"npz:{path}", "pickle")
        assert not marker.exists()

    def test_pickle_file_named_npz_is_refused_without_unpickling(self, tmp_path):
        marker = tmp_path / "unpickled"
        path = tmp_path / "x.npz"
        path.write_bytes(pickle.dumps({"images": _Tripwire(marker)}))
        refused(f"npz:{path}", "not a usable .npz")
        assert not marker.exists()

    def test_pickle_inside_an_npy_member_is_refused(self, tmp_path):
        marker = tmp_path / "unpickled"
        path = tmp_path / "x.npz"
        path.write_bytes(zip_bytes({"images.npy": pickle.dumps(_Tripwire(marker))}))
        refused(f"npz:{path}", "pickle")
        assert not marker.exists()

    def test_npz_nested_inside_a_member_is_refused(self, tmp_path):
        inner = io.BytesIO()
        np.savez(inner, images=random_images(2))
        path = tmp_path / "x.npz"
        path.write_bytes(zip_bytes({"images.npy": inner.getvalue()}))
        refused(f"npz:{path}", "not a .npy array")

    def test_npy_header_claiming_a_huge_shape_is_refused_before_allocating(self, tmp_path):
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        path = tmp_path / "x.npz"
        path.write_bytes(zip_bytes({"images.npy": header.getvalue() + bytes(64)}))
        refused(f"npz:{path}", "declares shape", "corrupt")


class TestIdxFiles:
    def write_images(self, folder: Path, payload: bytes, gz: bool = True) -> Path:
        folder.mkdir(exist_ok=True)
        name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(payload) if gz else payload)
        return folder

    def test_wrong_magic(self, tmp_path):
        folder = self.write_images(tmp_path / "d", idx_bytes(random_images(2), LABELS_MAGIC))
        refused(f"idx:{folder}", "magic", "t10k-images-idx3-ubyte")

    @pytest.mark.parametrize("cut", [2, 8], ids=["in-magic", "in-dimensions"])
    def test_truncated_header(self, tmp_path, cut):
        folder = self.write_images(tmp_path / "d", idx_bytes(random_images(2), IMAGES_MAGIC)[:cut])
        refused(f"idx:{folder}", "header")

    def test_truncated_data(self, tmp_path):
        folder = self.write_images(tmp_path / "d", idx_bytes(random_images(3), IMAGES_MAGIC)[:-10], gz=False)
        refused(f"idx:{folder}", "short of")

    def test_trailing_data(self, tmp_path):
        folder = self.write_images(tmp_path / "d", idx_bytes(random_images(3), IMAGES_MAGIC) + b"extra")
        refused(f"idx:{folder}", "longer than")

    def test_header_claiming_a_billion_images_is_refused_before_reading(self, tmp_path):
        header = IMAGES_MAGIC.to_bytes(4, "big") + struct.pack(">III", 10**9, 28, 28)
        folder = self.write_images(tmp_path / "d", header + bytes(100))
        refused(f"idx:{folder}", "items")

    def test_header_claiming_huge_images(self, tmp_path):
        header = IMAGES_MAGIC.to_bytes(4, "big") + struct.pack(">III", 1, 50_000, 50_000)
        refused(f"idx:{self.write_images(tmp_path / 'd', header)}", "shape")

    def test_data_over_the_byte_limit(self, tmp_path):
        folder = self.write_images(tmp_path / "d", idx_bytes(random_images(40, 16, 16), IMAGES_MAGIC))
        refused(f"idx:{folder}", "over the limit", limits=DataLimits(max_uncompressed_bytes=5_000))

    def test_tiny_images(self, tmp_path):
        folder = self.write_images(tmp_path / "d", idx_bytes(np.zeros((4, 1, 1), np.uint8), IMAGES_MAGIC))
        refused(f"idx:{folder}", "1×1", "at least 8")

    @pytest.mark.parametrize(
        ("damage", "pattern"),
        [
            (lambda gz: gz[: len(gz) // 2], "corrupt"),
            (
                lambda gz: gz[:-8] + bytes(8),
                "corrupt",
            ),  # CRC and length trailer zeroed: caught at end of data
            (lambda gz: b"\x1f\x8b" + bytes(50), "corrupt"),
            (lambda gz: gz[:20] + bytes(len(gz) - 20), "0 items"),  # inflates to a nonsense header
        ],
        ids=["truncated", "bad-crc", "garbage-after-magic", "zeroed-body"],
    )
    def test_corrupt_gzip(self, tmp_path, damage, pattern):
        folder = tmp_path / "d"
        folder.mkdir()
        payload = gzip.compress(idx_bytes(random_images(20), IMAGES_MAGIC))
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(damage(payload))
        refused(f"idx:{folder}", pattern)

    def test_label_count_differs_from_image_count(self, tmp_path):
        write_idx_split(tmp_path, "t10k", random_images(5), np.zeros(4, np.uint8), gz=True)
        refused(f"idx:{tmp_path}", "4 labels for 5 images")

    def test_folder_without_idx_files(self, tmp_path):
        (tmp_path / "notes.txt").write_text("nothing here")
        refused(f"idx:{tmp_path}", "no IDX image files", "t10k-images-idx3-ubyte")

    def test_splits_of_different_sizes(self, tmp_path):
        write_idx_split(tmp_path, "train", random_images(2, 12, 12), None, gz=True)
        write_idx_split(tmp_path, "t10k", random_images(2, 16, 16), None, gz=True)
        refused(f"idx:{tmp_path}", "differ in size")

    def test_torchvision_cache_with_corrupt_file(self, tmp_path):
        raw = tmp_path / "MNIST" / "raw"
        raw.mkdir(parents=True)
        (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
        with pytest.raises(DatasetError, match="train-images-idx3-ubyte"):
            load_dataset("mnist", cache_dir=tmp_path, download=False)


class TestZipArchives:
    def load_zip(
        self, tmp_path: Path, payload: bytes, *patterns: str, limits: DataLimits = DEFAULT_LIMITS
    ) -> str:
        path = tmp_path / "set.zip"
        path.write_bytes(payload)
        return refused(f"images:{path}", *patterns, limits=limits)

    def test_bomb_refused_from_the_central_directory(self, tmp_path):
        bomb = zip_bytes({"a/big.png": bytes(4_000_000)})
        assert len(bomb) < 10_000
        self.load_zip(tmp_path, bomb, "zip bomb", limits=DataLimits(max_uncompressed_bytes=1_000_000))

    def test_bomb_with_lying_sizes_is_stopped_while_reading(self, tmp_path):
        files = labelled_pngs({"a": 2}) | {"a/big.png": bytes(4_000_000)}
        lying = understate_sizes(zip_bytes(files), declared=1_000)
        self.load_zip(tmp_path, lying, "cannot be read")

    def test_too_many_members(self, tmp_path):
        many = zip_bytes({f"{i}.png": b"x" for i in range(30)})
        self.load_zip(tmp_path, many, "30 entries", limits=DataLimits(max_zip_members=10))

    def test_member_count_is_checked_before_the_directory_is_parsed(self, tmp_path):
        archive = bytearray(zip_bytes({"a/0.png": b"x"}))
        end = archive.rfind(b"PK\x05\x06")
        archive[end + 10 : end + 12] = (60_000).to_bytes(2, "little")  # the end record claims 60,000 entries
        self.load_zip(tmp_path, bytes(archive), "60,000 entries", limits=DataLimits(max_zip_members=1_000))

    @pytest.mark.parametrize(
        "name", ["../evil.png", "/etc/evil.png", "a/../../evil.png", "C:/evil.png", "..\\evil.png"]
    )
    def test_path_traversal_names(self, tmp_path, name):
        hostile = zip_bytes(labelled_pngs({"a": 2}) | {name: png_bytes(random_images(1)[0])})
        self.load_zip(tmp_path, hostile, "outside the archive", "refused")
        assert not (tmp_path.parent / "evil.png").exists()

    def test_bzip2_members_are_refused(self, tmp_path):
        packed = zip_bytes(labelled_pngs({"a": 2}), compression=zipfile.ZIP_BZIP2)
        self.load_zip(tmp_path, packed, "compression method")

    def test_encrypted_members_are_refused(self, tmp_path):
        archive = bytearray(zip_bytes(labelled_pngs({"a": 1})))
        archive[archive.find(b"PK\x01\x02") + 8] |= 0x1  # general-purpose flag bit 0: encrypted
        self.load_zip(tmp_path, bytes(archive), "encrypted")

    @pytest.mark.parametrize(
        "payload",
        [b"not a zip at all", zip_bytes(labelled_pngs({"a": 3}))[:300]],
        ids=["garbage", "truncated"],
    )
    def test_corrupt_archive(self, tmp_path, payload):
        self.load_zip(tmp_path, payload, "zip")

    def test_non_image_members_are_skipped_with_a_note(self):
        files = labelled_pngs({"a": 2, "b": 2}) | {
            "README.txt": b"hello",
            "a/.DS_Store": b"\x00",
            "__MACOSX/a/._0.png": b"x",
        }
        dataset = load_uploaded("set.zip", zip_bytes(files))
        assert len(dataset) == 4 and dataset.class_names == ["a", "b"]
        assert any("3 non-image files" in note for note in dataset.notes)

    def test_only_non_image_members(self, tmp_path):
        self.load_zip(tmp_path, zip_bytes({"a.txt": b"x", "b.csv": b"1,2"}), "no readable PNG or JPEG")


class TestImageFiles:
    def test_undecodable_files_are_skipped_with_a_note(self, tmp_path):
        good = labelled_pngs({"a": 2})
        truncated = png_bytes(random_images(1, 32, 32)[0])[:60]
        write_files(tmp_path, good | {"a/fake.png": b"plain text", "a/cut.png": truncated})
        dataset = load_dataset(f"images:{tmp_path}")
        assert len(dataset) == 2
        assert any("2 unreadable" in note for note in dataset.notes)

    def test_nothing_decodable(self, tmp_path):
        write_files(tmp_path, {"a/fake.png": b"plain text", "b/fake.jpg": b"\xff\xd8 nope"})
        refused(f"images:{tmp_path}", "no readable PNG or JPEG")

    def test_one_by_one_image(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 2}) | {"a/dot.png": png_bytes(np.zeros((1, 1), np.uint8))})
        refused(f"images:{tmp_path}", "dot.png", "at least 8")

    def test_absurd_image_side(self, tmp_path):
        write_files(tmp_path, {"a/tall.png": png_header_only(8, 5000)})
        refused(f"images:{tmp_path}", "tall.png", "limit per side")

    def test_decompression_bomb_header(self, tmp_path):
        write_files(tmp_path, {"a/bomb.png": png_header_only(30_000, 30_000)})
        refused(f"images:{tmp_path}", "bomb.png")

    def test_too_many_files_in_folder(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 6}, height=8, width=8))
        refused(f"images:{tmp_path}", "more than 5 files", limits=DataLimits(max_zip_members=5))

    def test_folder_bytes_over_the_limit(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 6}))
        refused(f"images:{tmp_path}", "more than", "bytes", limits=DataLimits(max_uncompressed_bytes=200))

    def test_too_many_class_folders(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 1, "b": 1, "c": 1}, height=8, width=8))
        refused(f"images:{tmp_path}", "class folders", limits=DataLimits(max_classes=2))

    def test_plain_file_that_is_not_a_zip(self, tmp_path):
        path = tmp_path / "picture.png"
        path.write_bytes(png_bytes(random_images(1)[0]))
        refused(f"images:{path}", "not a zip")


class TestLimits:
    def test_too_many_images(self, tmp_path):
        refused(
            f"npz:{write_npz(tmp_path / 'x.npz', images=random_images(5))}",
            "5 images",
            limits=DataLimits(max_images=3),
        )

    def test_array_memory_cap(self, tmp_path):
        refused(
            f"npz:{write_npz(tmp_path / 'x.npz', images=random_images(5))}",
            "2,880 bytes",
            limits=DataLimits(max_array_bytes=1000),
        )

    def test_npz_bomb(self, tmp_path):
        path = tmp_path / "x.npz"
        np.savez_compressed(path, images=np.zeros((200, 64, 64), np.uint8))
        refused(f"npz:{path}", "zip bomb", limits=DataLimits(max_uncompressed_bytes=100_000))

    def test_too_many_distinct_labels(self, tmp_path):
        path = write_npz(tmp_path / "x.npz", images=random_images(4), labels=np.arange(4))
        refused(f"npz:{path}", "distinct labels", limits=DataLimits(max_classes=3))


class TestUploads:
    def test_oversized_upload(self):
        with pytest.raises(DatasetError, match="upload limit"):
            load_uploaded("big.npz", bytes(2_000), limits=DataLimits(max_upload_bytes=1_000))

    @pytest.mark.parametrize("filename", ["data.pkl", "images.tar.gz", "noext"])
    def test_unsupported_upload_type(self, filename):
        with pytest.raises(DatasetError, match=r"\.npz.*\.zip"):
            load_uploaded(filename, b"whatever")

    def test_corrupt_npz_upload(self):
        with pytest.raises(DatasetError, match=r"not a usable \.npz"):
            load_uploaded("x.npz", b"PK\x03\x04 broken")
