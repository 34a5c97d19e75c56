"""The dataset in latent space: batched encoding, reconstructions, per-image scores and nearest neighbours."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from .errors import InputError
from .models import VAE, kl_per_dim

ProgressFn = Callable[[float, str], None]
# Whole-dataset passes go in batches of this many images: small enough to stay in cache (on 2 cores a conv
# encoder ran ~1.5x faster at 256 than at 1024-4096), big enough to amortise the per-call overhead.
DATASET_BATCH = 256


@contextmanager
def all_cores() -> Iterator[None]:
    """Let torch use every core for one whole-dataset pass (the app keeps 1 thread for its many small decodes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def eta_text(done: int, total: int, started: float, noun: str) -> str:
    """'12,288 / 70,000 images · ~9 s left' from the speed measured so far."""
    elapsed = time.perf_counter() - started
    left = elapsed / done * (total - done) if done else float("nan")
    tail = f" · ~{left:.0f} s left" if done and total > done else ""
    return f"{noun} {done:,} / {total:,} images{tail}"


class _ArrayBatches(torch.utils.data.Dataset):
    """Consecutive batches of an (N, ...) array as float32 tensors: item i is rows [i·B, (i+1)·B)."""

    def __init__(self, array: np.ndarray, batch_size: int) -> None:
        self.array, self.batch_size = array, max(1, int(batch_size))

    def __len__(self) -> int:
        return -(-len(self.array) // self.batch_size)

    def __getitem__(self, index: int) -> torch.Tensor:
        return batch_tensor(self.array[index * self.batch_size : (index + 1) * self.batch_size])


def batch_tensor(rows: np.ndarray) -> torch.Tensor:
    """One batch as a float32 tensor: shares a writable contiguous float32 slice, else copies just this batch
    (torch refuses to share read-only arrays, such as the app's cached ones, and would warn)."""
    if rows.dtype == np.float32 and rows.flags.c_contiguous and rows.flags.writeable:
        return torch.from_numpy(rows)
    return torch.from_numpy(np.array(rows, dtype=np.float32, order="C", copy=True))


def batch_loader(array: np.ndarray, batch_size: int, device: torch.device) -> torch.utils.data.DataLoader:
    """A DataLoader of consecutive batches of `array` (no whole-array copy); pinned memory when going to CUDA."""
    return torch.utils.data.DataLoader(
        _ArrayBatches(array, batch_size),
        batch_size=None,  # each item already is a batch
        shuffle=False,
        num_workers=0,
        pin_memory=torch.device(device).type == "cuda",
    )


def _batches(images: np.ndarray, batch_size: int, device: torch.device):
    """Yield float32 tensors of consecutive batches on `device`."""
    non_blocking = torch.device(device).type == "cuda"
    for x in batch_loader(images, batch_size, device):
        yield x.to(device, non_blocking=non_blocking)


def decoding_model(model: VAE, n_images: int) -> VAE:
    """The model a whole-dataset decoder pass runs: for a convolutional model on the CPU over more than a few
    batches, a channels-last copy (oneDNN's transposed convolutions run faster in that layout: 1.3× for the MNIST
    default conv, CPU time, 1 thread; the encoder was not faster, so `encode` keeps the model); else the model
    itself. The copy is the caller's alone: the app's model is shared and stays as it is."""
    if model.config.arch == "mlp" or model.device.type != "cpu" or n_images < 4 * DATASET_BATCH:
        return model
    with torch.inference_mode(False), torch.no_grad():
        return copy.deepcopy(model).to(memory_format=torch.channels_last)


@torch.inference_mode()
def encode(
    model: VAE, images: np.ndarray, batch_size: int = DATASET_BATCH, progress: ProgressFn | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances for (N, C, H, W) images: two float32 arrays (N, D).

    ``progress(fraction, message)`` is called after each batch with a time-left estimate from the speed so far."""
    d = model.config.latent_dim
    n = len(images)
    latent_means, latent_logvars = np.empty((n, d), np.float32), np.empty((n, d), np.float32)
    started = time.perf_counter()
    for start, x in zip(range(0, n, batch_size), _batches(images, batch_size, model.device)):
        mu, logvar = model.encode(x)
        latent_means[start : start + len(x)] = mu.cpu().numpy()
        latent_logvars[start : start + len(x)] = logvar.cpu().numpy()
        if progress is not None:
            done = start + len(x)
            progress(done / n, eta_text(done, n, started, "Encoding"))
    return latent_means, latent_logvars


@torch.inference_mode()
def reconstruct(model: VAE, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decoded posterior means: the model's reconstruction of each image, (N, C, H, W) in [0, 1]."""
    outs = [model.decode(model.encode(x)[0]).cpu() for x in _batches(images, batch_size, model.device)]
    return torch.cat(outs).numpy()


@torch.inference_mode()
def score_batch(
    model: VAE, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """(recon, kl) in nats per image for one batch of images and their posterior parameters."""
    recon = model.recon_nll(model.decode_logits(mu), x).cpu().numpy()
    kl = kl_per_dim(mu, logvar).sum(1).cpu().numpy()
    return recon, kl


@torch.inference_mode()
def image_scores(
    model: VAE,
    images: np.ndarray,
    batch_size: int = DATASET_BATCH,
    encoded: tuple[np.ndarray, np.ndarray] | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, np.ndarray]:
    """Per-image reconstruction error −log p(x|μ) and KL, and their sum (a deterministic −ELBO proxy), nats.

    Pass ``encoded`` = encode(model, images) when already computed: only the decoder then runs (it costs
    several times the encoder for a conv model). ``progress`` as in `encode`."""
    n = len(images)
    if encoded is None:
        encoded = encode(model, images, batch_size)
    latent_means, latent_logvars = (np.asarray(a, dtype=np.float32) for a in encoded)
    if latent_means.shape != (n, model.config.latent_dim):
        raise InputError(f"encoded latents are {latent_means.shape}, expected {(n, model.config.latent_dim)}")
    model = decoding_model(model, n)
    recon, kl = np.empty(n, np.float32), np.empty(n, np.float32)
    started = time.perf_counter()
    for start, x in zip(range(0, n, batch_size), _batches(images, batch_size, model.device)):
        stop = start + len(x)
        mu = batch_tensor(latent_means[start:stop]).to(model.device)
        logvar = batch_tensor(latent_logvars[start:stop]).to(model.device)
        recon[start:stop], kl[start:stop] = score_batch(model, x, mu, logvar)
        if progress is not None:
            progress(stop / n, eta_text(stop, n, started, "Scoring"))
    return {"recon": recon, "kl": kl, "neg_elbo": recon + kl}


def centre_first(coords: np.ndarray, indices: list[int] | np.ndarray) -> np.ndarray:
    """The selected row indices ordered by distance of their map point from the selection's median point, nearest
    first: a box that is mostly 8s shows its 8s first, stragglers at the edge last (ties keep selection order)."""
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(indices) == 0:
        return indices
    points = np.asarray(coords, dtype=np.float64)[indices]
    centre = np.median(points, axis=0)
    return indices[np.argsort(np.sum((points - centre) ** 2, axis=1), kind="stable")]


def place_on_map(latents: np.ndarray, coords: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Map positions (Q, 2) for new latent points on a map with no inverse (t-SNE): the inverse-distance-weighted
    mean of the map positions of each query's k nearest data latents (openTSNE starts new points the same way;
    we skip its further optimisation, so a point sits among its latent neighbours, not at an optimum)."""
    latents = np.asarray(latents, dtype=np.float32)
    coords = np.asarray(coords, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32).reshape(-1, latents.shape[1])
    k = max(1, min(int(k), len(latents)))
    sq = np.sum(latents**2, axis=1)
    placed = np.empty((len(queries), 2), np.float32)
    for row, q in enumerate(queries):
        d2 = np.maximum(sq - 2 * latents @ q + q @ q, 0.0)
        near = np.argpartition(d2, k - 1)[:k]
        weights = 1.0 / (np.sqrt(d2[near]) + 1e-6)
        placed[row] = weights @ coords[near] / weights.sum()
    return placed


def nearest_neighbours(
    latents: np.ndarray, query: np.ndarray, k: int = 8, exclude: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k latents closest to `query` (optionally skipping one index)."""
    latents = np.asarray(latents, dtype=np.float32)
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    if latents.ndim != 2 or latents.shape[1] != query.size:
        raise InputError(f"query has {query.size} values but latents are {latents.shape}")
    d2 = np.sum((latents - query) ** 2, axis=1)
    if exclude is not None and 0 <= exclude < len(d2):
        d2[exclude] = np.inf
    k = max(0, min(int(k), int(np.isfinite(d2).sum())))
    idx = np.argpartition(d2, k - 1)[:k] if k > 0 else np.zeros(0, dtype=np.int64)
    idx = idx[np.argsort(d2[idx], kind="stable")]
    return idx.astype(np.int64), np.sqrt(d2[idx])


def nearest_for_each(
    latents: np.ndarray, queries: np.ndarray, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the index of and distance to its nearest latent."""
    latents = np.asarray(latents, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    sq = np.sum(latents**2, axis=1)
    best_i, best_d = [], []
    for i in range(0, len(queries), chunk):
        q = queries[i : i + chunk]
        d2 = np.maximum(sq[None, :] - 2 * q @ latents.T + np.sum(q**2, axis=1, keepdims=True), 0.0)
        j = np.argmin(d2, axis=1)
        best_i.append(j)
        best_d.append(np.sqrt(d2[np.arange(len(q)), j]))
    return np.concatenate(best_i).astype(np.int64), np.concatenate(best_d)
