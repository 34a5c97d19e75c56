"""Precomputed latents: `python -m vae_core encode`/`project` write a file the app opens instead of encoding, and
a file that is hostile, malformed or made for another model or dataset is refused with a clear message."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vae_core import DEFAULT_MODEL_PATH
from vae_core.data import load_dataset
from vae_core.errors import LatentExplorerError
from vae_core.latents_file import (
    LatentsFile,
    LatentsFileError,
    check_belongs,
    dataset_fingerprint,
    latents_file_bytes,
    model_fingerprint,
    read_latents_file,
)
from vae_core.limits import LATENTS_MAX_BYTES, LATENTS_MAX_MEMBERS

REPO = Path(__file__).resolve().parents[1]
N, D = 50, 4


def sample(n: int = N, d: int = D, **overrides) -> LatentsFile:
    """A small valid file's contents."""
    rng = np.random.default_rng(0)
    fields = {
        "model_fingerprint": "a" * 16,
        "dataset_fingerprint": "b" * 16,
        "latent_means": rng.normal(size=(n, d)).astype(np.float32),
        "latent_logvars": rng.normal(size=(n, d)).astype(np.float32),
        "coords": {"pca": rng.normal(size=(n, 2)).astype(np.float32)},
        "scores": {"recon": rng.random(n, dtype=np.float32), "kl": rng.random(n, dtype=np.float32)},
        "labels": np.arange(n) % 3,
    }
    return LatentsFile(**{**fields, **overrides})


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def valid_arrays(**overrides) -> dict:
    with np.load(io.BytesIO(latents_file_bytes(sample())), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(overrides)
    return {k: v for k, v in arrays.items() if v is not None}


def test_a_written_file_reads_back_read_only_and_exact():
    contents = sample()
    back = read_latents_file(latents_file_bytes(contents))
    np.testing.assert_array_equal(back.latent_means, contents.latent_means)
    np.testing.assert_array_equal(back.scores["kl"], contents.scores["kl"])
    np.testing.assert_array_equal(back.labels, contents.labels)
    assert back.model_fingerprint == "a" * 16 and list(back.coords) == ["pca"]
    assert back.latent_means.dtype == np.float32 and not back.latent_means.flags.writeable


def test_fingerprints_follow_content_not_names():
    images = np.random.default_rng(1).random((20, 1, 8, 8), dtype=np.float32)
    assert dataset_fingerprint(images) == dataset_fingerprint(images.copy())
    assert dataset_fingerprint(images) == dataset_fingerprint(np.asfortranarray(images))  # same values
    changed = images.copy()
    changed[3, 0, 4, 4] += 0.01
    assert dataset_fingerprint(changed) != dataset_fingerprint(images)
    assert dataset_fingerprint(images[:19]) != dataset_fingerprint(images)
    assert model_fingerprint(b"weights") != model_fingerprint(b"weights ")


HOSTILE = {
    "not a zip": b"PK\x03\x04 this is not an archive",
    "a pickled object array": npz_bytes(
        **{**valid_arrays(), "latent_means": np.array([{"x": 1}], dtype=object)}
    ),
    "NaN latents": npz_bytes(**valid_arrays(latent_means=np.full((N, D), np.nan, np.float32))),
    "logvars of another shape": npz_bytes(**valid_arrays(latent_logvars=np.zeros((N, D + 1), np.float32))),
    "integer latents": npz_bytes(**valid_arrays(latent_means=np.zeros((N, D), np.int32))),
    "no fingerprint": npz_bytes(**valid_arrays(model_fingerprint=None)),
    "a fingerprint that is a number": npz_bytes(**valid_arrays(dataset_fingerprint=np.array(7))),
    "another format": npz_bytes(**valid_arrays(format=np.array("something-else/9"))),
    "3-D latents": npz_bytes(**valid_arrays(latent_means=np.zeros((N, D, 1), np.float32))),
    "too many dimensions": npz_bytes(
        **valid_arrays(
            latent_means=np.zeros((2, 513), np.float32), latent_logvars=np.zeros((2, 513), np.float32)
        )
    ),
    "coords of another length": npz_bytes(**valid_arrays(coords_pca=np.zeros((N - 1, 2), np.float32))),
    "labels as floats": npz_bytes(**valid_arrays(labels=np.zeros(N, np.float32))),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_or_malformed_files_are_refused_with_the_family_error(case):
    with pytest.raises(LatentsFileError) as caught:
        read_latents_file(HOSTILE[case], name="evil.npz")
    assert isinstance(caught.value, LatentExplorerError)
    assert "evil.npz" in str(caught.value)


def _zip_with(members: dict[str, bytes]) -> bytes:
    """A zip of these members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def test_a_zip_bomb_and_a_crowd_of_members_are_refused_before_unpacking():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1), np.float32))
        header["shape"] = (LATENTS_MAX_BYTES // 16, 4)
        stream = io.BytesIO()
        np.lib.format.write_array_header_1_0(stream, header)
        with archive.open("latent_means.npy", "w", force_zip64=True) as member:
            member.write(stream.getvalue())
            zeros = bytes(2**20)
            for _ in range(LATENTS_MAX_BYTES // 2**20 + 1):  # compresses to ~0.7 MB
                member.write(zeros)
    with pytest.raises(LatentsFileError, match="limit"):
        read_latents_file(bomb.getvalue())
    crowd = _zip_with({f"m{i}.npy": b"x" for i in range(LATENTS_MAX_MEMBERS + 1)})
    with pytest.raises(LatentsFileError, match="entries"):
        read_latents_file(crowd)


def test_a_file_for_another_model_or_dataset_says_which_differs():
    contents = sample()
    check_belongs(contents, "a" * 16, "b" * 16, N, D, "z.npz")  # its own pair: fine
    with pytest.raises(LatentsFileError, match="another model") as caught:
        check_belongs(contents, "c" * 16, "b" * 16, N, D, "z.npz")
    assert "another dataset" not in str(caught.value)
    with pytest.raises(LatentsFileError, match="another dataset"):
        check_belongs(contents, "a" * 16, "d" * 16, N, D, "z.npz")
    with pytest.raises(LatentsFileError, match=f"needs {N + 1:,} of {D}"):
        check_belongs(contents, "a" * 16, "b" * 16, N + 1, D, "z.npz")


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory, cli) -> Path:
    """`python -m vae_core encode` of the shipped model on digits, with scores."""
    folder = tmp_path_factory.mktemp("latents")
    res = cli.run(
        "encode",
        str(DEFAULT_MODEL_PATH),
        "--dataset",
        "digits",
        "--scores",
        "--quiet",
        "--out",
        "z.npz",
        cwd=folder,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["n"] == 1797
    return folder / "z.npz"


def test_cli_encode_writes_what_the_library_computes_with_both_fingerprints(digits_file):
    from vae_core.checkpoint import load_checkpoint
    from vae_core.latents import encode, image_scores

    contents = read_latents_file(digits_file)
    digits = load_dataset("digits")
    model = load_checkpoint(DEFAULT_MODEL_PATH).model
    mu, logvar = encode(model, digits.images)
    np.testing.assert_allclose(contents.latent_means, mu, atol=1e-5)
    np.testing.assert_allclose(
        contents.scores["recon"], image_scores(model, digits.images)["recon"], rtol=1e-4
    )
    assert contents.model_fingerprint == model_fingerprint(DEFAULT_MODEL_PATH.read_bytes())
    assert contents.dataset_fingerprint == dataset_fingerprint(digits.images)
    assert contents.coords["pca"].shape == (1797, 2)


def test_cli_project_to_npz_keeps_its_map_and_to_csv_as_before(digits_file, cli):
    folder = digits_file.parent
    args = ("project", str(DEFAULT_MODEL_PATH), "--dataset", "digits", "--method", "pca", "--quiet")
    assert cli.run(*args, "--out", "map.npz", cwd=folder).returncode == 0
    assert cli.run(*args, "--out", "map.csv", cwd=folder).returncode == 0
    coords = read_latents_file(folder / "map.npz").coords["pca"]
    rows = (folder / "map.csv").read_text().splitlines()
    assert rows[0] == "index,x,y,label" and len(rows) == 1798
    assert [float(v) for v in rows[1].split(",")[1:3]] == pytest.approx(coords[0].tolist(), abs=1e-4)
    refused = cli.run(*args, "--out", "map.txt", cwd=folder)
    assert refused.returncode == 2 and ".csv or .npz" in refused.stderr


def test_cli_encode_refuses_a_hostile_dataset_spec_in_one_line(tmp_path, cli):
    res = cli.run(
        "encode", str(DEFAULT_MODEL_PATH), "--dataset", "npz:missing.npz", "--out", "z.npz", cwd=tmp_path
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr and not (tmp_path / "z.npz").exists()


# ---------------------------------------------------------------- the app opens it


@pytest.mark.usefixtures("app_router")
def test_the_app_uses_a_matching_file_and_refuses_one_for_another_model(digits_file):
    from app_helpers import assert_clean, start_app
    from explorer_ui.precomputed_view import W_LATENTS_UPLOAD
    from explorer_ui.state import projection_store

    contents = read_latents_file(digits_file)
    marked = LatentsFile(  # the file's own codes, with a recognisable score: image 1234 is the worst
        contents.model_fingerprint,
        contents.dataset_fingerprint,
        contents.latent_means,
        contents.latent_logvars,
        scores={
            "recon": np.where(np.arange(1797) == 1234, 9e3, 1.0).astype(np.float32),
            "kl": contents.scores["kl"],
        },
    )
    at = start_app()
    at.file_uploader(key=W_LATENTS_UPLOAD).set_value(
        ("digits_latents.npz", latents_file_bytes(marked), "application/octet-stream")
    )
    at.run()
    assert_clean(at)
    assert any("digits_latents.npz" in s.value for s in at.sidebar.success)
    stored = projection_store().get(("default", "spec:digits", "scores", "neg_elbo"))
    assert int(np.argmax(stored)) == 1234

    other = LatentsFile(
        "f" * 16, *(getattr(contents, f) for f in ("dataset_fingerprint", "latent_means", "latent_logvars"))
    )
    at.file_uploader(key=W_LATENTS_UPLOAD).set_value(
        ("other.npz", latents_file_bytes(other), "application/octet-stream")
    )
    at.run()
    assert_clean(at)
    errors = " ".join(e.value for e in at.sidebar.error)
    assert "other.npz" in errors and "another model" in errors
