"""Property-based fuzzing of every public loader: mutated checkpoints, .npz, IDX and zip inputs.

The property: a loader either returns a valid result or raises the library's own error
(vae_core.errors.LatentExplorerError); any other exception is a finding. Run in a subprocess so the
peak memory (ru_maxrss growth after warm-up) and the slowest case are measured for the loaders alone:

    python -m tests.fuzz_inputs --examples 40          # prints one JSON object; exit status 1 on findings
    make fuzz                                          # the long run (FUZZ_EXAMPLES, default 1500 per target)

tests/test_fuzz_loaders.py runs a short budget of this in the normal test run.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import resource
import struct
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.dataset_fixtures import idx_bytes, labelled_pngs, png_bytes, zip_bytes  # noqa: E402
from vae_core.checkpoint import FORMAT, checkpoint_bytes, checkpoint_from_bytes, load_checkpoint  # noqa: E402
from vae_core.config import VAEConfig  # noqa: E402
from vae_core.data import load_dataset, load_uploaded  # noqa: E402
from vae_core.errors import LatentExplorerError  # noqa: E402
from vae_core.models import build_vae  # noqa: E402

IDX_IMAGES = 2051


# ---------------------------------------------------------------- valid seeds


def seed_checkpoint() -> bytes:
    """A small valid checkpoint."""
    return checkpoint_bytes(
        build_vae(VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=2, hidden=(8,))),
        {"dataset_name": "digits", "epochs_run": 3, "val_neg_elbo": 12.5},
    )


def seed_npz() -> bytes:
    """A small valid .npz with images, labels and class names."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(
        buffer,
        images=rng.integers(0, 256, (6, 10, 10), dtype=np.uint8),
        labels=np.array([0, 1, 0, 1, 2, 2]),
        class_names=np.array(["a", "b", "c"]),
    )
    return buffer.getvalue()


def seed_idx() -> bytes:
    """A small valid IDX image file."""
    return idx_bytes(np.random.default_rng(1).integers(0, 256, (5, 9, 9), dtype=np.uint8), IDX_IMAGES)


def seed_zip() -> bytes:
    """A small valid zip of labelled PNGs."""
    return zip_bytes(labelled_pngs({"a": 2, "b": 2}, height=8, width=8))


# ---------------------------------------------------------------- loaders under test


class Workdir:
    """A scratch folder for loaders that read from disk."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="fuzz-"))

    def file(self, name: str, payload: bytes) -> Path:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        return path


def loaders(work: Workdir) -> dict[str, Callable[[bytes], object]]:
    """Name → a call that feeds bytes to one public loader."""

    def idx_folder(payload: bytes, gz: bool) -> object:
        folder = work.path / ("idx_gz" if gz else "idx_raw")
        for old in folder.glob("*"):
            old.unlink()
        name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
        work.file(f"{folder.name}/{name}", gzip.compress(payload, mtime=0) if gz else payload)
        return load_dataset(f"idx:{folder}", download=False, spec_root=work.path)

    return {
        "checkpoint_bytes": lambda p: checkpoint_from_bytes(p),
        "checkpoint_file": lambda p: load_checkpoint(work.file("m.safetensors", p)),
        "npz_upload": lambda p: load_uploaded("x.npz", p),
        "npz_spec": lambda p: load_dataset(f"npz:{work.file('x.npz', p)}", spec_root=work.path),
        "zip_upload": lambda p: load_uploaded("x.zip", p),
        "zip_spec": lambda p: load_dataset(f"images:{work.file('x.zip', p)}", spec_root=work.path),
        "idx_raw": lambda p: idx_folder(p, gz=False),
        "idx_gz": lambda p: idx_folder(p, gz=True),
        "config_json": lambda p: VAEConfig.from_json(p.decode("utf-8", "replace")),
        "spec_text": lambda p: load_dataset(
            p.decode("utf-8", "replace"), download=False, spec_root=work.path
        ),
    }


# ---------------------------------------------------------------- mutations

_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**20), st.integers(1, 255)),
    st.tuples(
        st.just("set"), st.integers(0, 2**20), st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("["), ord("9")])
    ),
    st.tuples(st.just("truncate"), st.integers(0, 2**20), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 2**20), st.binary(min_size=1, max_size=16)),
    st.tuples(
        st.just("int"), st.integers(0, 2**20), st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 2**63, 2**64 - 1])
    ),
)


def mutate(seed: bytes, steps: list[tuple]) -> bytes:
    """Apply byte-level mutations (bit flips, sets, truncation, insertions, overwritten integers) to seed."""
    data = bytearray(seed)
    for kind, at, value in steps:
        if not data:
            break
        at %= len(data)
        if kind == "flip":
            data[at] ^= value
        elif kind == "set":
            data[at] = value
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = value
        else:
            width = 8 if value >= 2**32 else 4
            data[at : at + width] = value.to_bytes(width, "little")
    return bytes(data)


_json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_config_fields = [
    "input_shape",
    "arch",
    "latent_dim",
    "hidden",
    "channels",
    "likelihood",
    "beta",
    "gaussian_sigma",
    "dropout",
]
_configs = st.dictionaries(
    st.sampled_from(_config_fields), _json_value | st.lists(st.integers(-5, 70_000), max_size=7), max_size=9
)


def checkpoint_with(config: dict, summary: object) -> bytes:
    """Header-only safetensors bytes carrying a (hostile) config and summary."""
    metadata = {"format": FORMAT, "config": json.dumps(config), "summary": json.dumps(summary)}
    header = json.dumps({"__metadata__": metadata}).encode()
    return struct.pack("<Q", len(header)) + header


_dtypes = st.sampled_from(
    [
        "|u1",
        "<f4",
        "<f8",
        ">f8",
        "<i8",
        ">u8",
        "<u8",
        "|b1",
        "<U5",
        "|S3",
        "|O",
        "<c8",
        "|V8",
        "<f2",
        "<i2",
        "[('a', '<f4')]",
    ]
)
_shapes = st.lists(st.integers(0, 2**40), min_size=0, max_size=5).map(tuple)


def npz_with_header(dtype: str, shape: tuple, fortran: bool, data: bytes, member: str) -> bytes:
    """An .npz whose member has a hand-written .npy header (any shape/dtype), then `data`."""
    header = (
        f"{{'descr': {dtype if dtype.startswith('[') else repr(dtype)}, 'fortran_order': {fortran}, "
        f"'shape': {shape!r}, }}"
    )
    header = header.ljust(118) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data
    return zip_bytes({member: npy})


def idx_with_header(magic: int, dims: list[int], data: bytes) -> bytes:
    """An IDX file with any magic number and dimensions, then `data`."""
    return magic.to_bytes(4, "big", signed=False) + b"".join(d.to_bytes(4, "big") for d in dims) + data


def png_header(width: int, height: int, mode: int) -> bytes:
    """A PNG with a hand-written IHDR (any size, colour type) and an empty image stream."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- the run


class Recorder:
    """Counts cases per target, the slowest case, and findings (exceptions outside our family)."""

    def __init__(self) -> None:
        self.cases: dict[str, int] = {}
        self.slowest: dict[str, float] = {}
        self.rss_rise_kib: dict[str, int] = {}  # how much each target raised the process's peak RSS
        self.findings: list[str] = []

    def call(self, target: str, run: Callable[[], object]) -> None:
        self.cases[target] = self.cases.get(target, 0) + 1
        start = time.perf_counter()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            run()
        except LatentExplorerError:
            pass
        except Exception as exc:  # noqa: BLE001 - the finding is recorded with its traceback, not hidden
            tail = traceback.format_exc().strip().splitlines()[-3:]
            self.findings.append(
                f"{target}: {type(exc).__name__}: {str(exc)[:200]} | {' / '.join(tail)[:400]}"
            )
        self.slowest[target] = max(self.slowest.get(target, 0.0), time.perf_counter() - start)
        rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
        self.rss_rise_kib[target] = self.rss_rise_kib.get(target, 0) + rise


def mutation_test(
    name: str, call: Callable[[bytes], object], seed: bytes, recorder: Recorder, options: settings
) -> Callable[[], None]:
    """A Hypothesis test feeding byte-level mutations of `seed` to one loader."""

    @options
    @given(st.lists(_mutation, min_size=1, max_size=6))
    def mutated(steps: list[tuple]) -> None:
        recorder.call(name, lambda: call(mutate(seed, steps)))

    return mutated


def run(examples: int, seed: int = 0) -> dict:
    """Fuzz every target with `examples` cases each; the figures and findings as a dict."""
    work = Workdir()
    calls = loaders(work)
    seeds = {
        "checkpoint_bytes": seed_checkpoint(),
        "checkpoint_file": seed_checkpoint(),
        "npz_upload": seed_npz(),
        "npz_spec": seed_npz(),
        "zip_upload": seed_zip(),
        "zip_spec": seed_zip(),
        "idx_raw": seed_idx(),
        "idx_gz": seed_idx(),
        "config_json": seed_checkpoint()[8:400],
        "spec_text": b"idx:idx_raw",
    }
    for name, payload in seeds.items():  # warm-up: every loader once on its valid seed
        if name not in ("config_json", "spec_text"):
            calls[name](payload)
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    recorder = Recorder()
    started = time.perf_counter()
    options = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed == 0,
        suppress_health_check=list(HealthCheck),
    )

    for name in seeds:
        mutation_test(name, calls[name], seeds[name], recorder, options)()

    @options
    @given(_configs, _json_value)
    def configs(config: dict, summary: object) -> None:
        recorder.call("config_fields", lambda: checkpoint_from_bytes(checkpoint_with(config, summary)))
        recorder.call("config_dict", lambda: VAEConfig.from_dict(config))

    valid_images_npy = zipfile.ZipFile(io.BytesIO(seed_npz())).read("images.npy")

    @options
    @given(
        _dtypes,
        _shapes,
        st.booleans(),
        st.binary(max_size=2048),
        st.sampled_from(["images.npy", "labels.npy"]),
    )
    def npy_headers(dtype: str, shape: tuple, fortran: bool, data: bytes, member: str) -> None:
        payload = npz_with_header(dtype, shape, fortran, data, member)
        if member == "labels.npy":  # hostile labels beside valid images
            inner = zipfile.ZipFile(io.BytesIO(payload)).read(member)
            payload = zip_bytes({"images.npy": valid_images_npy, "labels.npy": inner})
        recorder.call("npy_header", lambda: load_uploaded("x.npz", payload))

    @options
    @given(
        st.sampled_from([2051, 2049, 2052, 0, 2**32 - 1]),
        st.lists(st.integers(0, 2**32 - 1), max_size=4),
        st.binary(max_size=4096),
    )
    def idx_headers(magic: int, dims: list[int], data: bytes) -> None:
        recorder.call("idx_header", lambda: calls["idx_raw"](idx_with_header(magic, dims, data)))

    @options
    @given(
        st.lists(
            st.tuples(
                st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1), st.sampled_from([0, 2, 3, 4, 6, 7])
            ),
            min_size=1,
            max_size=4,
        ),
        st.lists(st.text(max_size=12), min_size=1, max_size=4),
    )
    def png_headers(sizes: list[tuple[int, int, int]], names: list[str]) -> None:
        files = {
            f"{(names[i % len(names)] or 'x').replace('/', '_')}/{i}.png": png_header(*size)
            for i, size in enumerate(sizes)
        }
        files["ok/ok.png"] = png_bytes(np.zeros((8, 8), np.uint8))
        recorder.call("png_header", lambda: load_uploaded("x.zip", zip_bytes(files)))

    for test in (configs, npy_headers, idx_headers, png_headers):
        test()
    peak_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kib) / 1024
    return {
        "fuzz_cases": sum(recorder.cases.values()),
        "fuzz_cases_per_target": recorder.cases,
        "fuzz_seconds": round(time.perf_counter() - started, 1),
        "fuzz_slowest_case_s": round(max(recorder.slowest.values()), 3),
        "fuzz_slowest_target": max(recorder.slowest, key=recorder.slowest.get),
        "fuzz_peak_rss_growth_mib": round(peak_growth_mib, 1),
        "fuzz_peak_rss_rise_mib_by_target": {
            k: round(v / 1024, 1) for k, v in recorder.rss_rise_kib.items() if v
        },
        "fuzz_findings": len(recorder.findings),
        "fuzz_finding_examples": sorted(set(recorder.findings))[:20],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz every public loader; print one JSON object.")
    parser.add_argument("--examples", type=int, default=40, help="cases per target (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="0: the same cases every run; else a random run")
    args = parser.parse_args(argv)
    result = run(args.examples, args.seed)
    print(json.dumps(result, ensure_ascii=False))
    return 1 if result["fuzz_findings"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
