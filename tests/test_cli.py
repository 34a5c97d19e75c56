"""The command line end to end on digits, and its refusals (exit status 2, one clear line, nothing run)."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SUBCOMMANDS = ["train", "evaluate", "sample", "encode", "project", "interpolate", "info"]
INTERPOLATE = ("interpolate", "digits.safetensors", "--dataset", "digits")  # on the module's trained model


@pytest.fixture(scope="module")
def trained(cli, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("cli")
    summary = cli.json(*cli.TINY_TRAIN, "--epochs", "4", "--quiet", "--out", "digits.safetensors", cwd=work)
    assert summary["epochs_run"] == 4
    return work


def test_help_for_every_subcommand(cli, tmp_path):
    for cmd in SUBCOMMANDS:
        res = cli.run(cmd, "--help", cwd=tmp_path)
        assert res.returncode == 0 and "usage" in res.stdout


def test_evaluate_prints_one_json_object(cli, trained):
    res = cli.run(
        "evaluate",
        "digits.safetensors",
        "--dataset",
        "digits",
        "--split",
        "val",
        "--json",
        "--iw-samples",
        "5",
        cwd=trained,
    )
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["n"] == 359  # the last 20 % of 1,797 images
    assert result["neg_elbo"] == pytest.approx(result["recon"] + result["kl"])
    assert result["iw_nll"] < result["neg_elbo"]


def test_sample_writes_a_png_grid(cli, trained):
    res = cli.run("sample", "digits.safetensors", "-n", "16", "--seed", "1", "--out", "grid.png", cwd=trained)
    assert res.returncode == 0, res.stderr
    img = Image.open(trained / "grid.png")
    assert img.format == "PNG" and min(img.size) >= 4 * 8
    assert np.asarray(img).std() > 0


def test_encode_project_interpolate_info(cli, trained):
    assert (
        cli.run(
            "encode", "digits.safetensors", "--dataset", "digits", "--out", "z.npz", cwd=trained
        ).returncode
        == 0
    )
    with np.load(trained / "z.npz", allow_pickle=False) as z:
        assert z["latent_means"].shape == (1797, 4) and z["labels"].shape == (1797,)
    assert (
        cli.run(
            "project",
            "digits.safetensors",
            "--dataset",
            "digits",
            "--method",
            "pca",
            "--out",
            "map.csv",
            cwd=trained,
        ).returncode
        == 0
    )
    rows = (trained / "map.csv").read_text().strip().splitlines()
    assert rows[0] == "index,x,y,label" and len(rows) == 1798
    cli.json(*INTERPOLATE, "--start", "0", "--end", "1", "--steps", "6", "--out", "path.gif", cwd=trained)
    gif = Image.open(trained / "path.gif")
    assert gif.format == "GIF" and gif.n_frames >= 6
    info = json.loads(cli.run("info", "digits.safetensors", cwd=trained).stdout)  # indented: many lines
    assert info["config"]["latent_dim"] == 4 and info["summary"]["dataset_spec"] == "digits"


class _Evil:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_cli_refuses_a_pickle_and_never_runs_it(cli, tmp_path):
    marker = tmp_path / "pwned.txt"
    (tmp_path / "evil.safetensors").write_bytes(pickle.dumps(_Evil(str(marker))))
    for args in (
        ["info", "evil.safetensors"],
        ["sample", "evil.safetensors", "--out", "g.png"],
        ["evaluate", "evil.safetensors", "--dataset", "digits"],
    ):
        res = cli.run(*args, cwd=tmp_path)
        assert res.returncode == 2
        assert "never unpickles" in res.stderr and "Traceback" not in res.stderr
    assert not marker.exists()


def test_cli_reports_bad_input_in_one_line(cli, trained):
    res = cli.run("evaluate", "digits.safetensors", "--dataset", "nosuch:thing", cwd=trained)
    assert res.returncode == 2 and res.stderr.startswith("error:") and "Traceback" not in res.stderr
    res = cli.run(*INTERPOLATE, "--start", "0", "--end", "99999", "--out", "x.gif", cwd=trained)
    assert res.returncode == 2 and "outside the dataset" in res.stderr


@pytest.mark.parametrize(
    ("args", "argument", "why"),
    [
        (["train", "--dataset", "digits", "--out", "."], "--out", "is a folder"),
        (["train", "--dataset", "digits", "--out", "model.pt"], "--out", ".safetensors"),
        (
            ["train", "--dataset", "digits", "--out", "m.safetensors", "--device", "gpu0"],
            "--device",
            "cpu, cuda",
        ),
        (
            ["train", "--dataset", "digits", "--out", "m.safetensors", "--seed", "-1"],
            "--seed",
            "0..4,294,967,295",
        ),
        (
            ["train", "--dataset", "digits", "--out", "m.safetensors", "--seed", "1e3"],
            "--seed",
            "whole number",
        ),
        (
            ["train", "--dataset", "digits", "--out", "m.safetensors", "--latent-dim", "0"],
            "--latent-dim",
            "1..512",
        ),
        (["train", "--dataset", "digits", "--out", "m.safetensors", "--lr", "nan"], "--lr", "finite"),
        (
            ["evaluate", "m.safetensors", "--dataset", "digits", "--iw-samples", "-5"],
            "--iw-samples",
            "0..1,000",
        ),
        (
            ["evaluate", "m.safetensors", "--dataset", "digits", "--iw-samples", "10**9"],
            "--iw-samples",
            "whole number",
        ),
        (["sample", "--out", ".", "-n", "4"], "--out", "is a folder"),
        (["sample", "--out", "g.png", "--temperature", "inf"], "--temperature", "finite"),
        (
            [
                "interpolate",
                "m.safetensors",
                "--dataset",
                "digits",
                "--start",
                "0",
                "--end",
                "1",
                "--steps",
                "1",
                "--out",
                "p.gif",
            ],
            "--steps",
            "2..256",
        ),
    ],
)
def test_bad_arguments_are_refused_before_any_work_naming_the_argument(cli, tmp_path, args, argument, why):
    res = cli.run(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert f"argument {argument}: " in res.stderr and why in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing was written (no training ran)


def test_out_inside_a_file_is_refused_before_training(cli, tmp_path):
    (tmp_path / "plain").write_text("x")
    res = cli.run("train", "--dataset", "digits", "--out", "plain/m.safetensors", cwd=tmp_path)
    assert res.returncode == 2 and "argument --out" in res.stderr and "is a file" in res.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_in_an_unwritable_folder_is_refused_before_training(cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    res = cli.run("train", "--dataset", "digits", "--out", "locked/m.safetensors", cwd=tmp_path)
    assert res.returncode == 2 and "cannot write" in res.stderr


@pytest.mark.parametrize(
    "payload",
    [
        b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"[" * 16,
        struct.pack("<Q", 400_000) + b'{"a":' + b"[" * 199_997 + b"]" * 199_997 + b"}",
        b"",
    ],
)
def test_malformed_checkpoints_are_one_line_errors(cli, tmp_path, payload):
    (tmp_path / "bad.safetensors").write_bytes(payload)
    res = cli.run("info", "bad.safetensors", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("error:") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_user_errors_outside_argparse_are_one_line_and_a_bug_is_not_hidden(tmp_path, monkeypatch, capsys):
    """A negative geodesic seed and a bad LATENT_EXPLORER_DEVICE are refusals of the library (one line, status
    2); a plain ValueError is a bug and reaches the caller with its traceback."""
    from vae_core import DEFAULT_MODEL_PATH
    from vae_core.cli import main

    geodesic = ["geodesic", str(DEFAULT_MODEL_PATH), "--dataset", "digits", "--start", "0", "--end", "1"]
    assert main([*geodesic, "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: seed must be a whole number") and len(err.strip().splitlines()) == 1

    monkeypatch.setenv("LATENT_EXPLORER_DEVICE", "gpu0")
    out = str(tmp_path / "m.safetensors")
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--quiet", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "'gpu0'" in err and "cpu, cuda" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.safetensors").exists()

    def buggy(args):
        raise ValueError("a bug, not a refusal")

    monkeypatch.setattr("vae_core.cli._info", buggy)  # build_parser() reads it when main() runs
    with pytest.raises(ValueError, match="a bug"):
        main(["info"])
