"""Command line: `python -m vae_core {train,evaluate,sample,encode,project,interpolate,geodesic,magnification,
probe,info} ...`."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from . import DEFAULT_MODEL_PATH
from .checkpoint import atomic_write_bytes, load_checkpoint
from .config import ARCHITECTURES, ConfigError, VAEConfig
from .data import DATASET_SPECS_HELP, DatasetError, load_dataset, split_indices
from .errors import LatentExplorerError
from .generate import (
    INTERPOLATIONS,
    MAX_SAMPLES,
    MAX_STEPS,
    MAX_TEMPERATURE,
    decode_to_uint8,
    interpolate,
    sample_latents,
)
from .health import latent_report
from .images import fit_scale, gif_bytes, image_grid, png_bytes, upscale
from .latents import DATASET_BATCH, encode
from .limits import MAX_LATENT_DIM
from .metrics import evaluate
from .models import image_shape_fits
from .training import MAX_EPOCHS, MAX_TIME_BUDGET_S, TrainSettings, fit

MAX_SEED = 2**32 - 1
MAX_IW_SAMPLES = 1000


# ---------------------------------------------------------------- argument types: checked before any work


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in low..high (argparse names the argument in its message)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            message = f"must be a whole number in {low:,}..{high:,}, got {text!r:.40}"
            raise argparse.ArgumentTypeError(message) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in {low:,}..{high:,}, got {value:,}")
        return value

    return parse


def number(low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high] (or (low, high] with above_low)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r:.40}") from None
        if not math.isfinite(value) or value > high or value < low or (above_low and value == low):
            span = f"({low:g}, {high:g}]" if above_low else f"[{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"must be a finite number in {span}, got {text!r:.40}")
        return value

    return parse


def device_name(text: str) -> str:
    """An argparse type: cpu, cuda or cuda:N, refused when this machine has no such device."""
    name = text.strip().lower()
    if not re.fullmatch(r"cpu|cuda(:\d{1,2})?", name):
        raise argparse.ArgumentTypeError(f"must be cpu, cuda or cuda:N, got {text!r:.40}")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{name}: this machine has no CUDA GPU; use cpu")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise argparse.ArgumentTypeError(f"{name}: there are only {count} CUDA devices")
    return name


def out_file(*suffixes: str) -> Callable[[str], str]:
    """An argparse type: a file path we can write (not a folder; its folder writable), ending in a suffix."""

    def parse(text: str) -> str:
        path = Path(text).expanduser()
        if not text.strip() or "\x00" in text:
            raise argparse.ArgumentTypeError("needs a file name")
        if path.is_dir():
            raise argparse.ArgumentTypeError(
                f"{text!r:.200} is a folder; give a file inside it, e.g. {path / ('out' + (suffixes or ('',))[0])}"
            )
        if suffixes and path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r:.200} must end in {' or '.join(suffixes)}")
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # missing folders are created when writing
        if not folder.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r:.200}: {folder} is a file, not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"{text!r:.200}: cannot write into {folder} (permission denied)")
        return text

    return parse


SEED = whole(0, MAX_SEED)


def _train(args: argparse.Namespace) -> int:
    """Train a model and save it as a checkpoint."""
    from tqdm import tqdm

    dataset = load_dataset(args.dataset)
    for note in dataset.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.augment_shift is None:  # small shifts regularise MNIST-sized images; 8×8 digits are too coarse
        args.augment_shift = 1 if min(dataset.image_shape[1:]) >= 28 else 0
    hidden = {} if args.hidden is None else {"hidden": _widths(args.hidden)}
    config = VAEConfig(
        input_shape=dataset.image_shape,
        arch=args.arch,
        latent_dim=args.latent_dim,
        beta=args.beta,
        likelihood=args.likelihood,
        **hidden,
    )
    settings = TrainSettings(
        epochs=args.epochs,
        time_budget_s=args.time_budget,
        batch_size=args.batch_size,
        lr=args.lr,
        kl_warmup_epochs=args.kl_warmup,
        patience=args.patience,
        seed=args.seed,
        augment_shift=args.augment_shift,
        device=args.device,
    )
    if args.epochs is None and args.time_budget is None:
        settings.epochs = 50
    bar = tqdm(
        total=1000,
        unit="‰",
        desc=f"train {config.arch} z={config.latent_dim}",
        disable=args.quiet,
        bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
    )

    def on_progress(p) -> None:
        bar.n = int(p.fraction * 1000)
        if p.kind == "epoch":
            bar.set_postfix_str(
                f"epoch {p.epoch} loss {p.loss:.1f} val −ELBO {p.val_neg_elbo:.2f} (best {p.best_val_neg_elbo:.2f})"
            )
        elif p.step % 20 == 0:
            bar.refresh()

    result = fit(config, dataset, settings, progress=on_progress, checkpoint_path=args.out)
    bar.n = 1000
    bar.close()
    s = result.summary
    print(
        json.dumps(
            {
                "out": str(args.out),
                "val_neg_elbo": round(s["val_neg_elbo"], 3),
                "epochs_run": s["epochs_run"],
                "best_epoch": s["best_epoch"],
                "train_time_s": s["train_time_s"],
                "status": s["status"],
            }
        )
    )
    return 0


def _widths(text: str) -> tuple[int, ...]:
    """'256,128' → (256, 128); ConfigError for anything else."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError as exc:
        raise ConfigError(
            f"--hidden takes comma-separated whole numbers such as 256,128, got {text!r}"
        ) from exc


def _split_rows(dataset, split: str, val_fraction: float) -> np.ndarray:
    """The row indices of one split: all, the training part, or the held-out last fraction."""
    if split == "all":
        return np.arange(len(dataset.images))
    train_idx, val_idx = split_indices(len(dataset.images), val_fraction)
    return val_idx if split == "val" else train_idx


def _images_for_split(dataset, split: str, val_fraction: float) -> np.ndarray:
    """The images of one split: all, the training part, or the held-out last fraction."""
    return dataset.images[_split_rows(dataset, split, val_fraction)]


def _evaluate(args: argparse.Namespace) -> int:
    """Print −ELBO, reconstruction, KL (and IW-NLL) on a dataset split."""
    ckpt, dataset = _model_and_dataset(args)
    rows = _split_rows(dataset, args.split, args.val_fraction)
    result = evaluate(ckpt.model, dataset.images[rows], iw_samples=args.iw_samples, seed=args.seed)
    result.update(latent_report(ckpt.model, dataset, rows, args.seed))
    result["split"] = args.split
    result["dataset"] = dataset.name
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{dataset.name}, split {args.split}, n={result['n']}")
        print(f"  −ELBO {result['neg_elbo']:.2f} nats = recon {result['recon']:.2f} + KL {result['kl']:.2f}")
        print(f"  active units {result['active_units']}/{result['latent_dim']}")
        if "iw_nll" in result:
            print(f"  IW-NLL (k={args.iw_samples}) {result['iw_nll']:.2f} nats")
        if result.get("collapse_warning"):
            print(f"  warning: {result['collapse_warning']}")
        if "mig" in result:
            print(
                f"  MIG {result['mig']:.3f} · DCI disentanglement {result['dci_disentanglement']:.3f}, "
                f"completeness {result['dci_completeness']:.3f} (factors: {', '.join(dataset.factor_names)})"
            )
    return 0


def _check_shape(config: VAEConfig, dataset) -> None:
    """Refuse a dataset whose image shape differs from the model's."""
    if not image_shape_fits(dataset.image_shape, config.input_shape):
        raise DatasetError(
            f"{dataset.name} has images of shape {dataset.image_shape}, the model expects "
            f"{config.input_shape}; train a model on this dataset first"
        )


def _model_and_dataset(args: argparse.Namespace):
    """The checkpoint and dataset a command names, refused together when their image shapes differ."""
    ckpt = load_checkpoint(args.checkpoint)
    dataset = load_dataset(args.dataset)
    _check_shape(ckpt.config, dataset)
    return ckpt, dataset


def _check_indices(dataset, *indices: int) -> None:
    """Refuse any dataset index outside 0..N-1."""
    for idx in indices:
        if not 0 <= idx < len(dataset):
            raise DatasetError(f"index {idx} is outside the dataset (0..{len(dataset) - 1})")


def _write_image(path: Path, grid: np.ndarray) -> None:
    """Write a PNG atomically."""
    atomic_write_bytes(path, png_bytes(grid))


def _sample(args: argparse.Namespace) -> int:
    """Decode a grid of prior samples to a PNG."""
    ckpt = load_checkpoint(args.checkpoint)
    z = sample_latents(args.n, ckpt.config.latent_dim, args.temperature, args.seed)
    imgs = decode_to_uint8(ckpt.model, z)
    if args.scale is not None and not 1 <= args.scale <= 64:
        raise DatasetError(f"--scale must be 1..64, got {args.scale}")
    scale = args.scale or fit_scale(imgs.shape[1], 56)
    grid = upscale(image_grid(imgs, args.cols or int(np.ceil(np.sqrt(len(imgs))))), scale)
    _write_image(Path(args.out), grid)
    print(json.dumps({"out": args.out, "n": len(imgs), "shape": list(grid.shape)}))
    return 0


def _stream_latents(args: argparse.Namespace, method: str | None):
    """Load the pair, stream the dataset through the encoder in batches (CUDA when present) and bundle μ, log σ²,
    the PCA map (and `method`'s), optional scores and both fingerprints as a LatentsFile."""
    from tqdm import tqdm

    from .device import pick_device
    from .latents import all_cores, image_scores
    from .latents_file import LatentsFile, dataset_fingerprint, model_fingerprint
    from .projection import pca_2d, project

    ckpt, dataset = _model_and_dataset(args)
    model = ckpt.model.to(pick_device(args.device))
    bar = tqdm(total=1000, unit="‰", desc="encode", disable=args.quiet, bar_format="{l_bar}{bar}| {postfix}")

    def report(fraction: float, message: str) -> None:
        bar.n = int(fraction * 1000)
        bar.set_postfix_str(message)

    with all_cores():
        mu, logvar = encode(model, dataset.images, batch_size=args.batch_size, progress=report)
        scores = {}
        if args.scores:
            bar.desc = "score"
            found = image_scores(
                model, dataset.images, args.batch_size, encoded=(mu, logvar), progress=report
            )
            scores = {part: found[part] for part in ("recon", "kl")}
    bar.close()
    coords = {"pca": pca_2d(mu).coords}
    if method is not None and method != "pca":
        coords[method] = project(mu, method, seed=args.seed)
    return dataset, LatentsFile(
        model_fingerprint=model_fingerprint(Path(args.checkpoint).read_bytes()),
        dataset_fingerprint=dataset_fingerprint(dataset.images),
        latent_means=mu,
        latent_logvars=logvar,
        coords=coords,
        scores=scores,
        labels=dataset.labels,
    )


def _encode(args: argparse.Namespace) -> int:
    """Write μ, log σ², the PCA map (and with --scores each image's anomaly scores) of a dataset to an .npz the
    app opens directly (sidebar → "Precomputed latents")."""
    from .latents_file import write_latents_file

    _, contents = _stream_latents(args, None)
    write_latents_file(args.out, contents)
    mu = contents.latent_means
    print(json.dumps({"out": args.out, "n": len(mu), "latent_dim": int(mu.shape[1])}))
    return 0


def _project(args: argparse.Namespace) -> int:
    """Encode a dataset and write its 2-D projection (PCA or t-SNE): a CSV, or with --out FILE.npz a latents file
    (μ, log σ², the PCA map and this one) the app opens directly."""
    from .latents_file import write_latents_file

    dataset, contents = _stream_latents(args, args.method)
    coords = contents.coords[args.method]
    if args.out.lower().endswith(".npz"):
        write_latents_file(args.out, contents)
    else:
        labels = dataset.labels if dataset.labels is not None else np.full(len(coords), -1)
        lines = ["index,x,y,label"] + [
            f"{i},{x:.5f},{y:.5f},{int(lab)}" for i, ((x, y), lab) in enumerate(zip(coords, labels))
        ]
        atomic_write_bytes(args.out, ("\n".join(lines) + "\n").encode())
    print(json.dumps({"out": args.out, "n": len(coords), "method": args.method}))
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    """Decode the path between two dataset images to a GIF (or a PNG strip)."""
    ckpt, dataset = _model_and_dataset(args)
    _check_indices(dataset, args.start, args.end)
    mu, _ = encode(ckpt.model, dataset.images[[args.start, args.end]])
    path = interpolate(mu[0], mu[1], args.steps, args.method)
    frames = decode_to_uint8(ckpt.model, path)
    scale = fit_scale(frames.shape[1], 112)
    if args.out.endswith(".gif"):
        atomic_write_bytes(args.out, gif_bytes(frames, scale=scale))
    else:
        _write_image(Path(args.out), upscale(image_grid(frames, len(frames)), scale))
    print(json.dumps({"out": args.out, "steps": len(frames), "method": args.method}))
    return 0


def _geodesic(args: argparse.Namespace) -> int:
    """Compare linear, spherical and geodesic paths between two dataset images; write the geodesic's GIF."""
    import time

    import torch

    from . import geometry

    torch.set_num_threads(args.threads)
    ckpt, dataset = _model_and_dataset(args)
    _check_indices(dataset, args.start, args.end)
    mu, logvar = encode(ckpt.model, dataset.images)
    off_data = geometry.off_data_scale(mu, logvar, seed=args.seed)
    started = time.perf_counter()
    result = geometry.geodesic(
        ckpt.model,
        mu[args.start],
        mu[args.end],
        args.steps,
        off_data=off_data,
        iterations=args.iterations,
        seed=args.seed,
    )
    seconds = time.perf_counter() - started
    report = {
        "start": args.start,
        "end": args.end,
        "steps": len(result.path),
        "iterations": result.iterations,
        "seconds": round(seconds, 3),
        "metric": "decoder mean + off-data std (vae_core.geometry)",
    }
    for method in geometry.PATH_METHODS:
        path = (
            result.path
            if method == "geodesic"
            else geometry.latent_path(ckpt.model, mu[args.start], mu[args.end], len(result.path), method)
        )
        stats = geometry.path_stats(ckpt.model, path, method, off_data)
        report[f"{method}_length"] = round(stats.length, 4)
        report[f"{method}_image_length"] = round(stats.image_length, 4)
        report[f"{method}_largest_step"] = round(stats.largest_step, 4)
        report[f"{method}_frames_neg_elbo"] = round(stats.frames_neg_elbo, 3)
    if args.out:
        frames = decode_to_uint8(ckpt.model, result.path)
        atomic_write_bytes(args.out, gif_bytes(frames, scale=fit_scale(frames.shape[1], 112)))
        report["out"] = args.out
    if args.json:
        print(json.dumps(report))
    else:
        for method in geometry.PATH_METHODS:
            print(
                f"{method:>9}: length {report[f'{method}_length']:.3f} (decoder mean alone "
                f"{report[f'{method}_image_length']:.3f}), "
                f"largest step {report[f'{method}_largest_step']:.3f}"
            )
        print(f"geodesic found in {seconds:.2f} s")
    return 0


def _magnification(args: argparse.Namespace) -> int:
    """Write the magnification over the latent map's PCA plane as a heat-map PNG (data dots in white)."""
    import torch

    from . import geometry
    from .projection import pca_2d

    torch.set_num_threads(args.threads)
    ckpt, dataset = _model_and_dataset(args)
    mu, _ = encode(ckpt.model, dataset.images)
    pca = pca_2d(mu)
    grid = geometry.magnification_grid(ckpt.model, pca, args.grid)
    side = len(grid.xs)
    scale = max(1, 512 // side)
    picture = upscale(geometry.heat_rgb(grid.values)[::-1], scale)  # row 0 = top = largest y
    span_x, span_y = grid.xs[-1] - grid.xs[0], grid.ys[-1] - grid.ys[0]
    last = side * scale - 1
    cols = np.clip(((pca.coords[:, 0] - grid.xs[0]) / span_x * last).round().astype(int), 0, last)
    rows = np.clip(((grid.ys[-1] - pca.coords[:, 1]) / span_y * last).round().astype(int), 0, last)
    picture[rows, cols] = 255
    _write_image(Path(args.out), picture)
    print(
        json.dumps(
            {
                "out": args.out,
                "grid": side,
                "min": float(grid.values.min()),
                "median": float(np.median(grid.values)),
                "max": float(grid.values.max()),
            }
        )
    )
    return 0


def _probe(args: argparse.Namespace) -> int:
    """Linear probes from μ (and the baselines) to the labels and known factors, on a fixed split."""
    from .probes import probe_report, probe_split, shipped_twin_path

    ckpt, dataset = _model_and_dataset(args)
    twin_path = args.twin or shipped_twin_path(args.checkpoint)
    twin = load_checkpoint(twin_path).model if twin_path else None
    if twin is not None:
        _check_shape(twin.config, dataset)
    split = probe_split(len(dataset.images), seed=args.seed)
    scores = probe_report(
        ckpt.model,
        dataset.images,
        dataset.labels,
        twin=twin,
        split=split,
        seed=args.seed,
        factors=getattr(dataset, "factors", None),
        factor_names=getattr(dataset, "factor_names", None),
    )
    if args.json:
        print(
            json.dumps(
                {
                    "dataset": dataset.name,
                    "twin": str(twin_path) if twin_path else None,
                    "split": {"n_train": len(split[0]), "n_test": len(split[1]), "seed": args.seed},
                    "probes": [s.to_dict() for s in scores],
                }
            )
        )
    else:
        print(
            f"{dataset.name}: {len(split[0])} images fit each probe, {len(split[1])} held out "
            f"(seed {args.seed})"
        )
        for s in scores:
            chance = f" (chance {s.chance:.3f})" if s.metric == "accuracy" else ""
            print(f"  {s.target:>14} · {s.features:<40} {s.metric} {s.score:.3f}{chance}")
    return 0


def _info(args: argparse.Namespace) -> int:
    """Print a checkpoint's config and training summary."""
    ckpt = load_checkpoint(args.checkpoint)
    print(json.dumps({"config": json.loads(ckpt.config.to_json()), "summary": ckpt.summary}, indent=2))
    return 0


def _streaming_options(parser: argparse.ArgumentParser) -> None:
    """--batch-size, --device and --quiet of the commands that stream a whole dataset through the encoder."""
    parser.add_argument(
        "--batch-size",
        type=whole(1, 65_536),
        default=DATASET_BATCH,
        help="images per batch (default %(default)s)",
    )
    parser.add_argument(
        "--device", type=device_name, default=None, help="cpu or cuda (default: CUDA when present)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for every subcommand."""
    p = argparse.ArgumentParser(
        prog="python -m vae_core",
        description="Latent Explorer's VAE library: train, evaluate, sample.",
        epilog=DATASET_SPECS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter

    t = sub.add_parser(
        "train",
        help="train a VAE and save a .safetensors checkpoint",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    t.add_argument("--dataset", required=True, help="dataset spec (see below)")
    t.add_argument(
        "--arch",
        choices=ARCHITECTURES,
        default=VAEConfig.arch,
        help="encoder/decoder family (default: %(default)s)",
    )
    t.add_argument("--latent-dim", type=whole(1, MAX_LATENT_DIM), default=16)
    t.add_argument(
        "--epochs",
        type=whole(1, MAX_EPOCHS),
        default=None,
        help="max epochs (default 50 when no --time-budget)",
    )
    t.add_argument(
        "--time-budget",
        type=number(0, MAX_TIME_BUDGET_S, above_low=True),
        default=None,
        help="wall-clock seconds; training stops when spent",
    )
    t.add_argument(
        "--beta", type=number(0, 1000), default=1.0, help="weight on the KL term (1 = VAE, >1 = β-VAE)"
    )
    t.add_argument(
        "--hidden", default=None, help="MLP widths, encoder order, e.g. 256,128 (default: 512,256)"
    )
    t.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    t.add_argument("--batch-size", type=whole(1, 4096), default=TrainSettings.batch_size)
    t.add_argument("--lr", type=number(0, 1, above_low=True), default=TrainSettings.lr)
    t.add_argument(
        "--kl-warmup", type=number(0, MAX_EPOCHS), default=0.0, help="epochs over which β ramps up from 0"
    )
    t.add_argument(
        "--patience",
        type=whole(1, MAX_EPOCHS),
        default=TrainSettings.patience,
        help="early-stopping patience in epochs",
    )
    t.add_argument(
        "--augment-shift",
        type=whole(0, 8),
        default=None,
        help="random shifts of up to N pixels (default: 1 for sides ≥ 28, else 0)",
    )
    t.add_argument("--seed", type=SEED, default=0)
    t.add_argument(
        "--device", type=device_name, default=None, help="cpu or cuda (default: CUDA when present)"
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--out", type=out_file(".safetensors"), required=True, help="output FILE.safetensors")
    t.set_defaults(func=_train)

    e = sub.add_parser(
        "evaluate",
        help="−ELBO, KL, active units on a dataset split (+ MIG, DCI with factors)",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    e.add_argument("checkpoint")
    e.add_argument("--dataset", required=True)
    e.add_argument("--split", choices=("val", "train", "all"), default="val")
    e.add_argument("--val-fraction", type=number(0, 0.99), default=0.2)
    e.add_argument(
        "--iw-samples",
        type=whole(0, MAX_IW_SAMPLES),
        default=0,
        help="also estimate −log p(x) with K importance samples",
    )
    e.add_argument("--seed", type=SEED, default=0)
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=_evaluate)

    s = sub.add_parser("sample", help="decode z ~ N(0, T²I) into a PNG grid")
    s.add_argument("checkpoint", nargs="?", default=str(DEFAULT_MODEL_PATH))
    s.add_argument("-n", type=whole(1, MAX_SAMPLES), default=64)
    s.add_argument("--temperature", type=number(0, MAX_TEMPERATURE), default=1.0)
    s.add_argument("--seed", type=SEED, default=0)
    s.add_argument("--cols", type=whole(1, MAX_SAMPLES), default=None)
    s.add_argument("--scale", type=whole(1, 64), default=None, help="nearest-neighbour upscale factor")
    s.add_argument("--out", type=out_file(), required=True, help="output PNG")
    s.set_defaults(func=_sample)

    en = sub.add_parser(
        "encode",
        help="write latent means/log-variances of a dataset to .npz",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    en.add_argument("checkpoint")
    en.add_argument("--dataset", required=True)
    en.add_argument(
        "--scores", action="store_true", help="also score every image (−log p(x|μ) and KL, for Anomalies)"
    )
    _streaming_options(en)
    en.add_argument("--out", type=out_file(".npz"), required=True, help="output FILE.npz")
    en.set_defaults(func=_encode, method=None)

    pr = sub.add_parser(
        "project",
        help="2-D projection (PCA or t-SNE) of the latent means to CSV",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    pr.add_argument("checkpoint")
    pr.add_argument("--dataset", required=True)
    pr.add_argument("--method", choices=("pca", "tsne"), default="pca")
    pr.add_argument("--seed", type=SEED, default=0)
    pr.add_argument("--scores", action="store_true", help="with an .npz: also score every image")
    _streaming_options(pr)
    pr.add_argument(
        "--out",
        type=out_file(".csv", ".npz"),
        required=True,
        help="FILE.csv (index,x,y,label) or FILE.npz (a latents file the app opens)",
    )
    pr.set_defaults(func=_project)

    it = sub.add_parser(
        "interpolate",
        help="decode the latent path between two images to GIF/PNG",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    it.add_argument("checkpoint")
    it.add_argument("--dataset", required=True)
    it.add_argument("--start", type=whole(0, 10**9), required=True, help="index of the first image")
    it.add_argument("--end", type=whole(0, 10**9), required=True, help="index of the last image")
    it.add_argument("--steps", type=whole(2, MAX_STEPS), default=10)
    it.add_argument("--method", choices=INTERPOLATIONS, default="spherical")
    it.add_argument("--out", type=out_file(), required=True, help="output .gif (animated) or .png (strip)")
    it.set_defaults(func=_interpolate)

    gd = sub.add_parser(
        "geodesic",
        help="linear vs spherical vs geodesic path lengths between two images",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    gd.add_argument("checkpoint")
    gd.add_argument("--dataset", required=True)
    gd.add_argument("--start", type=int, required=True, help="index of the first image")
    gd.add_argument("--end", type=int, required=True, help="index of the last image")
    gd.add_argument("--steps", type=int, default=32, help="points on each path, endpoints included")
    gd.add_argument("--iterations", type=int, default=60, help="energy evaluations of the geodesic optimiser")
    gd.add_argument("--seed", type=int, default=0)
    gd.add_argument("--out", default=None, help="optional .gif of the geodesic's decoded frames")
    gd.add_argument(
        "--threads",
        type=int,
        choices=range(1, 257),
        default=1,
        metavar="N",
        help="torch threads (default 1: on a shared 2-core machine 2 threads ran up to 10× slower)",
    )
    gd.add_argument("--json", action="store_true", help="print one JSON object")
    gd.set_defaults(func=_geodesic)

    mg = sub.add_parser(
        "magnification",
        help="heat map of the decoder's magnification over the PCA plane",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    mg.add_argument("checkpoint", nargs="?", default=str(DEFAULT_MODEL_PATH))
    mg.add_argument("--dataset", default="digits")
    mg.add_argument("--grid", type=int, default=64, help="grid side (points per axis)")
    mg.add_argument(
        "--threads", type=int, choices=range(1, 257), default=1, metavar="N", help="torch threads"
    )
    mg.add_argument("--out", required=True, help="output PNG")
    mg.set_defaults(func=_magnification)
    pb = sub.add_parser(
        "probe",
        help="linear probes from μ to labels/factors, and the same on baselines",
        epilog=DATASET_SPECS_HELP,
        formatter_class=raw,
    )
    pb.add_argument("checkpoint")
    pb.add_argument("--dataset", required=True)
    pb.add_argument(
        "--twin",
        default=None,
        help="plain-autoencoder twin checkpoint (default: the shipped one for the shipped VAE)",
    )
    pb.add_argument("--seed", type=SEED, default=0, help="seed of the split and of the untrained encoder")
    pb.add_argument("--json", action="store_true", help="print one JSON object")
    pb.set_defaults(func=_probe)

    i = sub.add_parser("info", help="print a checkpoint's config and training summary")
    i.add_argument("checkpoint", nargs="?", default=str(DEFAULT_MODEL_PATH))
    i.set_defaults(func=_info)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one clear line and exit with status 2."""
    args = build_parser().parse_args(argv)  # argument errors: usage + "argument --x: why", status 2
    try:
        return args.func(args)
    except LatentExplorerError as exc:  # every refusal of the library (files, specs, configs)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # writing the output failed (disk full, permissions changed meanwhile)
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
