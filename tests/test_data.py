"""vae_core.data on well-formed sources: every spec form, layouts, resizing, labels and the split."""

from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from tests.dataset_fixtures import (
    jpeg_bytes,
    labelled_pngs,
    make_idx_folder,
    place_torchvision_files,
    png_bytes,
    random_images,
    write_files,
    write_idx_split,
    write_npz,
    zip_bytes,
)
from vae_core.data import (
    DATASET_SPECS_HELP,
    DataLimits,
    DatasetError,
    ImageDataset,
    default_cache_dir,
    load_dataset,
    load_uploaded,
    split_indices,
)

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def assert_valid(dataset: ImageDataset) -> None:
    """The contract every loader promises."""
    images = dataset.images
    assert images.ndim == 4 and images.dtype == np.float32
    assert dataset.image_shape == images.shape[1:] and dataset.image_shape[0] in (1, 3)
    assert len(dataset) == len(images) > 0
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert str(len(dataset)) in dataset.name.replace(",", "")
    if dataset.labels is None:
        assert dataset.class_names == []
    else:
        assert dataset.labels.shape == (len(dataset),) and dataset.labels.dtype == np.int64
        assert dataset.labels.min() >= 0 and dataset.labels.max() < len(dataset.class_names)


class TestDigits:
    def test_loads_offline_scaled_to_unit_range(self):
        dataset = load_dataset("digits")
        assert_valid(dataset)
        assert dataset.image_shape == (1, 8, 8)
        assert dataset.class_names == [str(d) for d in range(10)]
        assert dataset.images.max() == 1.0  # 16/16: the scale uses the full range
        assert dataset.spec == "digits"


class TestIdx:
    @pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
    def test_train_then_test_pixels_and_labels_round_trip(self, tmp_path, gz):
        written = make_idx_folder(tmp_path, {"train": 7, "t10k": 5}, gz=gz)
        dataset = load_dataset(f"idx:{tmp_path}")
        assert_valid(dataset)
        expected = np.concatenate([written["train"][0], written["t10k"][0]])
        np.testing.assert_allclose(dataset.images[:, 0] * 255, expected, atol=1e-3)
        expected_labels = np.concatenate([written["train"][1], written["t10k"][1]])
        names = np.array(dataset.class_names)
        assert (names[dataset.labels] == expected_labels.astype(str)).all()

    @pytest.mark.parametrize("split", ["train", "t10k"])
    def test_any_single_split_loads_with_a_note(self, tmp_path, split):
        make_idx_folder(tmp_path, {split: 6})
        dataset = load_dataset(f"idx:{tmp_path}")
        assert len(dataset) == 6
        assert any(split in note for note in dataset.notes)

    def test_labels_are_optional(self, tmp_path):
        write_idx_split(tmp_path, "t10k", random_images(4), None, gz=True)
        dataset = load_dataset(f"idx:{tmp_path}")
        assert dataset.labels is None and dataset.class_names == []

    def test_dot_naming_is_accepted(self, tmp_path):
        make_idx_folder(tmp_path, {"t10k": 3}, gz=False)
        for path in tmp_path.iterdir():
            path.rename(path.with_name(path.name.replace("s-idx", "s.idx")))
        assert len(load_dataset(f"idx:{tmp_path}")) == 3

    def test_class_names_are_the_label_values_present(self, tmp_path):
        images = random_images(4)
        write_idx_split(tmp_path, "t10k", images, np.array([3, 7, 7, 3], dtype=np.uint8), gz=True)
        dataset = load_dataset(f"idx:{tmp_path}")
        assert dataset.class_names == ["3", "7"]
        assert [dataset.class_names[i] for i in dataset.labels] == ["3", "7", "7", "3"]

    def test_large_images_are_downscaled_with_a_note(self, tmp_path):
        write_idx_split(tmp_path, "t10k", random_images(2, 128, 96), None, gz=True)
        dataset = load_dataset(f"idx:{tmp_path}")
        assert dataset.image_shape == (1, 64, 48)
        assert any("128×96 → 64×48" in note for note in dataset.notes)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"shared MNIST test set not found at {SHARED_MNIST}")
def test_shared_mnist_test_set():
    dataset = load_dataset(f"idx:{SHARED_MNIST}")
    assert_valid(dataset)
    assert len(dataset) == 10_000 and dataset.image_shape == (1, 28, 28)
    assert np.bincount(dataset.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert dataset.class_names == [str(d) for d in range(10)]


class TestTorchvisionDatasets:
    @pytest.mark.parametrize(
        ("spec", "folder", "some_names"),
        [
            ("mnist", "MNIST", ["0", "9"]),
            ("fashion-mnist", "FashionMNIST", ["T-shirt/top", "Ankle boot"]),
            ("kmnist", "KMNIST", ["o", "wo"]),
        ],
    )
    def test_preplaced_files_load_train_first_without_download(self, tmp_path, spec, folder, some_names):
        written = place_torchvision_files(tmp_path, folder, train=6, test=4)
        dataset = load_dataset(spec, cache_dir=tmp_path, download=False)
        assert_valid(dataset)
        assert len(dataset) == 10 and dataset.image_shape == (1, 28, 28)
        assert len(dataset.class_names) == 10 and dataset.class_names[0] == some_names[0]
        assert dataset.class_names[9] == some_names[1]
        np.testing.assert_allclose(dataset.images[:6, 0] * 255, written["train"][0], atol=1e-3)

    def test_complete_cache_does_not_touch_the_network(self, tmp_path, monkeypatch):
        import torchvision.datasets

        def no_network(self):
            raise AssertionError("download attempted although the files are present")

        monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
        place_torchvision_files(tmp_path, "MNIST")
        assert len(load_dataset("mnist", cache_dir=tmp_path, download=True)) == 10

    def test_offline_without_files_names_the_folder(self, tmp_path):
        with pytest.raises(DatasetError) as caught:
            load_dataset("fashion-mnist", cache_dir=tmp_path, download=False)
        message = str(caught.value)
        assert str(tmp_path / "FashionMNIST" / "raw") in message
        assert "idx:" in message and "t10k-images-idx3-ubyte" in message

    def test_failed_download_is_reported_with_its_cause(self, tmp_path, monkeypatch):
        import torchvision.datasets

        def offline(self):
            raise URLError("no route to host")

        monkeypatch.setattr(torchvision.datasets.KMNIST, "download", offline)
        with pytest.raises(DatasetError, match="no route to host") as caught:
            load_dataset("kmnist", cache_dir=tmp_path, download=True)
        assert str(tmp_path / "KMNIST" / "raw") in str(caught.value)

    def test_default_cache_dir_follows_the_environment(self, tmp_path, monkeypatch):
        monkeypatch.setenv("LATENT_EXPLORER_DATA", str(tmp_path))
        assert default_cache_dir() == tmp_path
        monkeypatch.delenv("LATENT_EXPLORER_DATA")
        assert default_cache_dir().parts[-2:] == ("latent-explorer", "datasets")


class TestNpz:
    base = random_images(5, 10, 12, seed=3)

    @pytest.mark.parametrize(
        "layout",
        [
            lambda a: a,  # (N, H, W)
            lambda a: a[..., None],  # (N, H, W, 1)
            lambda a: a[:, None],  # (N, 1, H, W)
        ],
        ids=["NHW", "NHW1", "N1HW"],
    )
    def test_gray_layouts_give_the_same_images(self, tmp_path, layout):
        dataset = load_dataset(f"npz:{write_npz(tmp_path / 'g.npz', images=layout(self.base))}")
        assert_valid(dataset)
        np.testing.assert_allclose(dataset.images[:, 0] * 255, self.base, atol=1e-3)

    @pytest.mark.parametrize("channels_last", [True, False], ids=["NHWC", "NCHW"])
    def test_rgb_layouts_give_the_same_images(self, tmp_path, channels_last):
        rgb = np.stack([self.base, 255 - self.base, self.base // 2], axis=1)  # (N, 3, H, W)
        stored = rgb.transpose(0, 2, 3, 1) if channels_last else rgb
        dataset = load_dataset(f"npz:{write_npz(tmp_path / 'c.npz', images=stored)}")
        assert dataset.image_shape == (3, 10, 12)
        np.testing.assert_allclose(dataset.images * 255, rgb, atol=1e-3)

    @pytest.mark.parametrize(
        "encode",
        [lambda a: a, lambda a: a.astype(np.float32) / 255, lambda a: a.astype(np.float64)],
        ids=["uint8", "float-unit", "float-0-255"],
    )
    def test_value_encodings_agree(self, tmp_path, encode):
        dataset = load_dataset(f"npz:{write_npz(tmp_path / 'v.npz', images=encode(self.base))}")
        np.testing.assert_allclose(dataset.images[:, 0] * 255, self.base, atol=1e-3)

    def test_labels_and_class_names(self, tmp_path):
        labels = np.array([1, 0, 1, 2, 0])
        names = np.array(["cat", "dog", "owl"])
        dataset = load_dataset(
            f"npz:{write_npz(tmp_path / 'l.npz', images=self.base, labels=labels, class_names=names)}"
        )
        assert_valid(dataset)
        assert dataset.labels.tolist() == labels.tolist() and dataset.class_names == ["cat", "dog", "owl"]

    def test_unlabelled(self, tmp_path):
        dataset = load_dataset(f"npz:{write_npz(tmp_path / 'u.npz', images=self.base)}")
        assert dataset.labels is None and dataset.class_names == []
        assert dataset.name.startswith("u (")

    def test_downscale_keeps_aspect(self, tmp_path):
        wide = random_images(2, 100, 200)
        dataset = load_dataset(f"npz:{write_npz(tmp_path / 'w.npz', images=wide)}")
        assert dataset.image_shape == (1, 32, 64)
        assert any("downscaled" in note for note in dataset.notes)

    def test_smaller_max_side_limit_is_honoured(self, tmp_path):
        path = write_npz(tmp_path / "s.npz", images=random_images(2, 40, 48))
        dataset = load_dataset(f"npz:{path}", limits=DataLimits(max_side=24))
        assert dataset.image_shape == (1, 20, 24)


class TestImageFolders:
    def test_subfolders_are_sorted_classes(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"zebra": 3, "ant": 2, "moth": 4}))
        dataset = load_dataset(f"images:{tmp_path}")
        assert_valid(dataset)
        assert dataset.class_names == ["ant", "moth", "zebra"]
        assert dataset.image_shape == (1, 16, 16)
        assert np.bincount(dataset.labels).tolist() == [2, 4, 3]
        # fixture pixel value = 40 * (position in the dict + 1): zebra 40, ant 80, moth 120
        value_of = {"zebra": 40, "ant": 80, "moth": 120}
        for image, label in zip(dataset.images, dataset.labels, strict=True):
            assert round(float(image.mean()) * 255) == value_of[dataset.class_names[label]]

    def test_validation_tail_covers_every_class(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 10, "b": 10, "c": 20}, height=8, width=8))
        dataset = load_dataset(f"images:{tmp_path}")
        _, val = split_indices(len(dataset), 0.25)
        in_val = np.bincount(dataset.labels[val], minlength=3)
        assert (in_val > 0).all()
        assert (
            np.abs(in_val - 0.25 * np.bincount(dataset.labels)).max() <= 1
        )  # proportional, not the last class

    def test_files_at_top_level_have_no_labels(self, tmp_path):
        write_files(tmp_path, {f"{i}.png": png_bytes(random_images(1, 9, 9, seed=i)[0]) for i in range(3)})
        dataset = load_dataset(f"images:{tmp_path}")
        assert dataset.labels is None and len(dataset) == 3

    def test_mix_of_labelled_and_loose_files_drops_labels_with_note(self, tmp_path):
        files = labelled_pngs({"a": 2}) | {"loose.png": png_bytes(random_images(1, 16, 16)[0])}
        dataset = load_dataset(f"images:{write_files(tmp_path, files)}")
        assert dataset.labels is None and len(dataset) == 3 and dataset.notes

    def test_any_colour_image_makes_the_set_rgb(self, tmp_path):
        files = labelled_pngs({"g": 2}) | labelled_pngs({"c": 1}, rgb=True)
        dataset = load_dataset(f"images:{write_files(tmp_path, files)}")
        assert dataset.image_shape == (3, 16, 16)

    def test_jpeg_is_read(self, tmp_path):
        write_files(tmp_path, {"x/a.jpg": jpeg_bytes(np.full((12, 12, 3), 200, np.uint8))})
        dataset = load_dataset(f"images:{tmp_path}")
        assert dataset.image_shape == (3, 12, 12) and abs(dataset.images.mean() * 255 - 200) < 3

    def test_sixteen_bit_png_keeps_its_full_range(self, tmp_path):
        quarter = np.full((10, 10), 65535 // 4, np.uint16)
        write_files(tmp_path, {"deep.png": png_bytes(quarter)})
        dataset = load_dataset(f"images:{tmp_path}")
        assert dataset.image_shape == (1, 10, 10) and abs(float(dataset.images.mean()) - 0.25) < 1e-3

    def test_mixed_sizes_resize_to_the_most_common(self, tmp_path):
        files = labelled_pngs({"a": 3}, height=16, width=16) | labelled_pngs({"b": 1}, height=20, width=10)
        dataset = load_dataset(f"images:{write_files(tmp_path, files)}")
        assert dataset.image_shape == (1, 16, 16)
        assert any("most common" in note for note in dataset.notes)

    def test_large_images_downscaled_with_note(self, tmp_path):
        write_files(tmp_path, labelled_pngs({"a": 2}, height=128, width=256))
        dataset = load_dataset(f"images:{tmp_path}")
        assert dataset.image_shape == (1, 32, 64)
        assert any("128×256 → 32×64" in note for note in dataset.notes)

    def test_zip_equals_folder_and_wrapper_folder_is_ignored(self, tmp_path):
        files = labelled_pngs({"a": 2, "b": 3})
        from_folder = load_dataset(f"images:{write_files(tmp_path / 'dir', files)}")
        wrapped = {f"my_set/{name}": payload for name, payload in files.items()}
        (tmp_path / "set.zip").write_bytes(zip_bytes(wrapped))
        from_zip = load_dataset(f"images:{tmp_path / 'set.zip'}")
        assert from_zip.class_names == from_folder.class_names == ["a", "b"]
        np.testing.assert_array_equal(from_zip.images, from_folder.images)
        np.testing.assert_array_equal(from_zip.labels, from_folder.labels)


class TestUploads:
    def test_npz_upload(self, tmp_path):
        payload = write_npz(
            tmp_path / "u.npz", images=random_images(3), labels=np.array([0, 1, 0])
        ).read_bytes()
        dataset = load_uploaded("mine.npz", payload)
        assert_valid(dataset)
        assert dataset.spec == "upload:mine.npz" and dataset.name.startswith("mine")

    def test_zip_upload(self):
        dataset = load_uploaded("pics.ZIP", zip_bytes(labelled_pngs({"x": 2, "y": 2})))
        assert_valid(dataset)
        assert dataset.class_names == ["x", "y"]


class TestSplit:
    @pytest.mark.parametrize(("n", "fraction"), [(10_000, 0.2), (7, 0.3), (2, 0.5), (101, 0.1)])
    def test_last_fraction_is_validation(self, n, fraction):
        train, val = split_indices(n, fraction)
        assert np.array_equal(np.concatenate([train, val]), np.arange(n))  # a partition, in file order
        assert len(train) > 0 and len(val) > 0
        assert abs(len(val) - n * fraction) <= 1

    def test_mnist_convention(self):
        train, val = split_indices(10_000)
        assert (train[-1], val[0], len(val)) == (7_999, 8_000, 2_000)

    def test_deterministic_and_edge_cases(self):
        assert all(np.array_equal(a, b) for a, b in zip(split_indices(50), split_indices(50), strict=True))
        assert len(split_indices(10, 0.0)[1]) == 0
        assert [len(part) for part in split_indices(0)] == [0, 0]
        assert [len(part) for part in split_indices(1)] == [1, 0]

    @pytest.mark.parametrize(("n", "fraction"), [(10, 1.0), (10, -0.1), (-1, 0.2)])
    def test_invalid_arguments(self, n, fraction):
        with pytest.raises(ValueError):
            split_indices(n, fraction)


def test_help_lists_every_spec_form():
    for form in ("digits", "mnist", "fashion-mnist", "kmnist", "idx:", "npz:", "images:", ".zip"):
        assert form in DATASET_SPECS_HELP
