"""Saving and loading checkpoints: exact round trips, atomic writes, and every file we must refuse."""

from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save

from vae_core.checkpoint import (
    FORMAT,
    MAX_HEADER_BYTES,
    CheckpointError,
    checkpoint_bytes,
    checkpoint_from_bytes,
    load_checkpoint,
    save_checkpoint,
)
from vae_core.config import VAEConfig
from vae_core.models import build_vae

REPO = Path(__file__).resolve().parents[1]


def _model(**kw):
    torch.manual_seed(0)
    return build_vae(
        VAEConfig(
            input_shape=(1, 8, 8),
            arch=kw.pop("arch", "mlp"),
            latent_dim=3,
            hidden=(16,),
            channels=(4, 8),
            **kw,
        )
    )


def _raw_safetensors(tensors: dict, metadata: dict) -> bytes:
    return st_save(tensors, metadata=metadata)


class _WritesFile:
    """A pickle payload that creates a file when unpickled (the classic checkpoint exploit)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.mark.parametrize("arch", ["mlp", "conv", "resconv"])
def test_save_then_load_gives_identical_outputs(tmp_path, arch):
    model = _model(arch=arch).eval()
    path = save_checkpoint(
        model, tmp_path / "m.safetensors", {"dataset_name": "digits", "val_neg_elbo": 12.5}
    )
    loaded = load_checkpoint(path)
    assert loaded.config == model.config
    assert loaded.summary["val_neg_elbo"] == 12.5
    z = torch.randn(5, 3)
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model.decode(z), loaded.model.decode(z))
        assert torch.equal(model.encode(x)[0], loaded.model.encode(x)[0])


def test_save_leaves_no_temp_files_and_readable_permissions(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]
    assert path.stat().st_mode & 0o044  # group/others may read it, like any file the user saves


def test_killed_mid_save_leaves_the_previous_file_loadable(tmp_path):
    """SIGKILL a process while it rewrites a large checkpoint over and over: the file on disk always loads."""
    target = tmp_path / "big.safetensors"
    cfg = VAEConfig(input_shape=(1, 28, 28), arch="mlp", latent_dim=16, hidden=(2048, 1024))
    save_checkpoint(build_vae(cfg), target, {"generation": 0})
    script = (
        "import sys, torch; sys.path.insert(0, sys.argv[2])\n"
        "from vae_core.config import VAEConfig; from vae_core.models import build_vae\n"
        "from vae_core.checkpoint import save_checkpoint\n"
        "m = build_vae(VAEConfig(input_shape=(1,28,28), arch='mlp', latent_dim=16, hidden=(2048,1024)))\n"
        "print('ready', flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1; save_checkpoint(m, sys.argv[1], {'generation': i})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(target), str(REPO)], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(1.5)  # several ~25 MB writes are in flight by now
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    loaded = load_checkpoint(target)  # whichever generation won, it is complete
    assert loaded.config == cfg
    assert isinstance(loaded.summary["generation"], int)


def test_refuses_a_pickle_that_would_create_a_file(tmp_path):
    marker = tmp_path / "pwned.txt"
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps(_WritesFile(str(marker))))
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_refuses_a_torch_save_checkpoint(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "model.pt"
    torch.save({"payload": _WritesFile(str(marker)), "weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="torch.save"):
        load_checkpoint(path)
    assert not marker.exists()


def test_refuses_truncated_files(tmp_path):
    payload = checkpoint_bytes(_model())
    for cut in (0, 4, 20, len(payload) // 2, len(payload) - 1):
        with pytest.raises(CheckpointError):
            checkpoint_from_bytes(payload[:cut])


def _with_metadata(model, **changes) -> bytes:
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": model.config.to_json(), "summary": "{}"}
    metadata.update(changes)
    return _raw_safetensors(tensors, metadata)


def test_refuses_a_safetensors_file_without_our_config():
    tensors = {k: v.contiguous() for k, v in _model().state_dict().items()}
    with pytest.raises(CheckpointError, match="not a Latent Explorer checkpoint"):
        checkpoint_from_bytes(_raw_safetensors(tensors, {"something": "else"}))


def test_refuses_shapes_that_do_not_match_the_config():
    small = _model()
    cfg = json.loads(small.config.to_json())
    cfg["latent_dim"] = 4  # the tensors were built for 3
    with pytest.raises(CheckpointError, match="shape"):
        checkpoint_from_bytes(_with_metadata(small, config=json.dumps(cfg)))


def test_refuses_missing_and_extra_tensors():
    model = _model()
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    first = next(iter(tensors))
    metadata = {"format": FORMAT, "config": model.config.to_json()}
    with pytest.raises(CheckpointError, match="missing"):
        checkpoint_from_bytes(_raw_safetensors({k: v for k, v in tensors.items() if k != first}, metadata))
    with pytest.raises(CheckpointError, match="unexpected"):
        checkpoint_from_bytes(_raw_safetensors({**tensors, "extra.weight": torch.zeros(2)}, metadata))


def test_refuses_nan_weights_and_wrong_dtypes():
    model = _model()
    tensors = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    first = next(iter(tensors))
    metadata = {"format": FORMAT, "config": model.config.to_json()}
    tensors[first][0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        checkpoint_from_bytes(_raw_safetensors(tensors, metadata))
    tensors = {k: v.to(torch.float64).contiguous() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match="dtype"):
        checkpoint_from_bytes(_raw_safetensors(tensors, metadata))


@pytest.mark.parametrize(
    "config",
    [
        {"input_shape": [1, 8, 8], "arch": "mlp", "latent_dim": 10**9},
        {"input_shape": [1, 100000, 100000], "arch": "mlp"},
        {"input_shape": [1, 8, 8], "arch": "mlp", "hidden": [10**8, 10**8]},
        {"input_shape": [1, 8, 8], "arch": "__import__('os')"},
        {"input_shape": [1, 8, 8], "evil_key": True},
    ],
)
def test_refuses_absurd_or_unknown_configs_before_building_anything(config):
    with pytest.raises(CheckpointError, match="config"):
        checkpoint_from_bytes(_with_metadata(_model(), config=json.dumps(config)))


def test_refuses_oversized_and_malformed_headers():
    huge = struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{" + b" " * 100
    with pytest.raises(CheckpointError, match="header"):
        checkpoint_from_bytes(huge)
    not_json = b"not json at all"
    with pytest.raises(CheckpointError, match="JSON"):
        checkpoint_from_bytes(struct.pack("<Q", len(not_json)) + not_json)
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 10**9]}}).encode()
    with pytest.raises(CheckpointError, match="outside the file"):
        checkpoint_from_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)


def test_refuses_oversized_files(tmp_path, monkeypatch):
    import vae_core.checkpoint as ck

    path = save_checkpoint(_model(), tmp_path / "m.safetensors")
    monkeypatch.setattr(ck, "MAX_CHECKPOINT_BYTES", 1000)
    with pytest.raises(CheckpointError, match="limit"):
        ck.load_checkpoint(path)


def test_save_requires_the_safetensors_suffix(tmp_path):
    with pytest.raises(CheckpointError, match=".safetensors"):
        save_checkpoint(_model(), tmp_path / "m.pt")


def test_shipped_default_model_loads_and_decodes():
    from vae_core import DEFAULT_MODEL_PATH

    loaded = load_checkpoint(DEFAULT_MODEL_PATH)
    assert DEFAULT_MODEL_PATH.stat().st_size < 5 * 1024 * 1024
    assert loaded.summary["dataset_spec"] == "digits"
    with torch.no_grad():
        img = loaded.model.decode(torch.zeros(1, loaded.config.latent_dim))
    assert img.shape == (1, *loaded.config.input_shape)


# ---------------------------------------------------------------- bounded by construction


def _header_only(config: dict, summary: str = "{}") -> bytes:
    """A safetensors file with our metadata and no tensors at all (about 200 bytes)."""
    header = json.dumps(
        {"__metadata__": {"format": FORMAT, "config": json.dumps(config), "summary": summary}}
    ).encode()
    return struct.pack("<Q", len(header)) + header


HUGE_CONFIGS = {  # each field within its own cap, together about 10⁸–10⁹ parameters
    "mlp": {"input_shape": [3, 64, 64], "arch": "mlp", "latent_dim": 512, "hidden": [4096] * 6},
    "conv": {
        "input_shape": [3, 64, 64],
        "arch": "conv",
        "latent_dim": 512,
        "hidden": [4096],
        "channels": [512, 512, 512, 512],
    },
    "resconv": {
        "input_shape": [3, 64, 64],
        "arch": "resconv",
        "latent_dim": 512,
        "hidden": [4096],
        "channels": [512, 512, 512, 512],
    },
}

_MEASURE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from vae_core.checkpoint import checkpoint_from_bytes
from vae_core.errors import LatentExplorerError
payload = bytes.fromhex(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    checkpoint_from_bytes(payload)
    outcome = "loaded"
except LatentExplorerError as exc:
    outcome = f"{type(exc).__name__}: {exc}"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "rss_growth_kib": after - before, "seconds": time.perf_counter() - start}))
"""


@pytest.mark.parametrize("arch", sorted(HUGE_CONFIGS))
def test_a_tiny_checkpoint_describing_a_huge_model_is_refused_without_allocating_it(arch):
    """The ~200-byte upload that once cost 4.6 GB: refused from the config alone, peak memory barely moves."""
    payload = _header_only(HUGE_CONFIGS[arch])
    assert len(payload) < 400
    res = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(REPO), payload.hex()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["outcome"].startswith("CheckpointError") and "parameters" in result["outcome"], result
    assert result["rss_growth_kib"] < 64 * 1024, result  # the model would need gigabytes


def test_the_parameter_cap_is_checked_before_tensors_are_compared():
    with pytest.raises(CheckpointError, match="25,000,000"):
        checkpoint_from_bytes(_header_only(HUGE_CONFIGS["mlp"]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latent_dim", "16"),
        ("latent_dim", True),
        ("latent_dim", 16.5),
        ("latent_dim", [16]),
        ("latent_dim", None),
        ("input_shape", [1, "8", 8]),
        ("input_shape", [1, 8]),
        ("input_shape", "1,8,8"),
        ("input_shape", [1, 8, 8.0]),
        ("hidden", "512"),
        ("hidden", [True]),
        ("hidden", [16] * 7),
        ("channels", [4, 8, 8, 8, 8]),
        ("beta", "1.0"),
        ("beta", False),
        ("beta", None),
        ("gaussian_sigma", [0.1]),
        ("dropout", "0"),
        ("arch", 1),
        ("arch", ["mlp"]),
        ("likelihood", None),
        ("latent_dim", 10**40),
    ],
)
def test_config_values_of_the_wrong_type_are_refused_not_coerced(field, value):
    config = {"input_shape": [1, 8, 8], "arch": "mlp", "latent_dim": 3, "hidden": [16], "channels": [4, 8]}
    config[field] = value
    with pytest.raises(CheckpointError, match=field):
        checkpoint_from_bytes(_with_metadata(_model(), config=json.dumps(config)))


@pytest.mark.parametrize(
    "text",
    [
        '{"beta": NaN}',
        '{"beta": Infinity}',
        '{"latent_dim": 1' + "0" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        '"just a string"',
    ],
)
def test_config_json_that_python_cannot_hold_is_our_error(text):
    with pytest.raises(CheckpointError, match="config"):
        checkpoint_from_bytes(_with_metadata(_model(), config=text))


@pytest.mark.parametrize(
    "summary",
    [
        '{"epochs_run": "5"}',
        '{"train_time_s": "12"}',
        '{"val_neg_elbo": true}',
        '{"class_names": [1, 2]}',
        '{"status": 3}',
        "[" * 100_000 + "]" * 100_000,
        '{"n_images": -1}',
        '{"steps": 1' + "0" * 5000 + "}",
    ],
)
def test_summary_values_the_app_reads_are_type_checked(summary):
    with pytest.raises(CheckpointError, match="summary"):
        checkpoint_from_bytes(_with_metadata(_model(), summary=summary))


def test_a_deeply_nested_header_is_our_error():
    nested = b'{"a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(CheckpointError, match="JSON"):
        checkpoint_from_bytes(struct.pack("<Q", len(nested)) + nested)


@pytest.mark.parametrize("offsets", [[0, "8"], [0.0, 8], [0], [True, 8], None, [-1, 8]])
def test_malformed_data_offsets_are_refused(offsets):
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": offsets}}).encode()
    with pytest.raises(CheckpointError):
        checkpoint_from_bytes(struct.pack("<Q", len(header)) + header + bytes(8))


def test_trailing_bytes_after_the_tensors_are_refused():
    with pytest.raises(CheckpointError, match="follow the last tensor"):
        checkpoint_from_bytes(checkpoint_bytes(_model()) + bytes(16))


def test_loading_a_folder_or_a_fifo_is_our_error(tmp_path):
    with pytest.raises(CheckpointError, match="regular file"):
        load_checkpoint(tmp_path)
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="regular file"):
        load_checkpoint(fifo)  # never opened: a read would block forever
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_a_loaded_model_owns_real_weights_not_meta_tensors():
    loaded = checkpoint_from_bytes(checkpoint_bytes(_model(arch="resconv")))
    assert all(
        not p.is_meta and p.device.type == "cpu" and not p.requires_grad for p in loaded.model.parameters()
    )
    assert all(not b.is_meta for b in loaded.model.buffers())
