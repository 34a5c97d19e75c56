"""A bare path typed in the dataset box is read as the spec it most likely means; datasets get readable names."""

import numpy as np
import pytest

from dataset_fixtures import write_idx_split
from vae_core.data import load_dataset
from vae_core.spec_guess import readable_name, suggest_spec


def test_a_folder_of_idx_files_is_read_as_idx_and_then_loads(tmp_path):
    write_idx_split(tmp_path, "t10k", np.zeros((5, 28, 28), np.uint8), np.arange(5) % 3, gz=True)
    spec = suggest_spec(str(tmp_path))
    assert spec == f"idx:{tmp_path}"
    assert len(load_dataset(spec).images) == 5


def test_an_idx_file_an_npz_a_zip_and_an_image_folder_are_recognised(tmp_path):
    write_idx_split(tmp_path / "m", "t10k", np.zeros((3, 28, 28), np.uint8), None, gz=False)
    idx_file = next((tmp_path / "m").glob("t10k-images*"))
    np.savez(tmp_path / "faces.npz", images=np.zeros((2, 8, 8)))
    (tmp_path / "pics.zip").write_bytes(b"PK")
    (tmp_path / "pics" / "cat").mkdir(parents=True)
    (tmp_path / "pics" / "cat" / "a.png").write_bytes(b"x")
    assert suggest_spec(str(idx_file)) == f"idx:{tmp_path / 'm'}"
    assert suggest_spec(str(tmp_path / "faces.npz")) == f"npz:{tmp_path / 'faces.npz'}"
    assert suggest_spec(str(tmp_path / "pics.zip")) == f"images:{tmp_path / 'pics.zip'}"
    assert suggest_spec(str(tmp_path / "pics")) == f"images:{tmp_path / 'pics'}"


@pytest.mark.parametrize(
    "text", ["", "digits", "mnist", "idx:/x", "npz:a.npz", "/no/such/folder", "https://x/y"]
)
def test_specs_and_unknown_paths_get_no_suggestion(text):
    assert suggest_spec(text) is None


def test_no_suggestion_leaves_the_allowed_data_folder(tmp_path):
    inside, outside = tmp_path / "root", tmp_path / "elsewhere"
    outside.mkdir()
    np.savez(outside / "x.npz", images=np.zeros((2, 8, 8)))
    inside.mkdir()
    np.savez(inside / "y.npz", images=np.zeros((2, 8, 8)))
    assert suggest_spec(str(outside / "x.npz"), root=inside) is None
    assert suggest_spec("../elsewhere/x.npz", root=inside) is None
    assert suggest_spec("y.npz", root=inside) == "npz:y.npz"


def test_readable_names_drop_the_path():
    assert readable_name("idx:/srv/data/very/long/path/mnist/") == "mnist (IDX files)"
    assert readable_name("npz:/home/me/faces.npz") == "faces.npz"
    assert readable_name("images:/data/pets.zip") == "pets.zip (images)"
    assert readable_name("digits") == "digits"
