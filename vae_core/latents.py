"""The dataset in latent space: batched encoding, reconstructions, per-image scores and nearest neighbours."""

from __future__ import annotations

import numpy as np
import torch

from .models import VAE, kl_per_dim


def _batches(images: np.ndarray, batch_size: int, device: torch.device):
    """Yield float32 tensors of consecutive batches on `device`."""
    for i in range(0, len(images), batch_size):
        yield torch.from_numpy(np.ascontiguousarray(images[i:i + batch_size], dtype=np.float32)).to(device)


@torch.inference_mode()
def encode(model: VAE, images: np.ndarray, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances for (N, C, H, W) images: two float32 arrays (N, D)."""
    if len(images) == 0:
        d = model.config.latent_dim
        return np.zeros((0, d), np.float32), np.zeros((0, d), np.float32)
    mus, logvars = [], []
    for x in _batches(images, batch_size, model.device):
        mu, logvar = model.encode(x)
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


@torch.inference_mode()
def reconstruct(model: VAE, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decoded posterior means: the model's reconstruction of each image, (N, C, H, W) in [0, 1]."""
    outs = [model.decode(model.encode(x)[0]).cpu() for x in _batches(images, batch_size, model.device)]
    return torch.cat(outs).numpy()


@torch.inference_mode()
def image_scores(model: VAE, images: np.ndarray, batch_size: int = 1024) -> dict[str, np.ndarray]:
    """Per-image reconstruction error −log p(x|μ) and KL, and their sum (a deterministic −ELBO proxy), nats."""
    recons, kls = [], []
    for x in _batches(images, batch_size, model.device):
        mu, logvar = model.encode(x)
        recons.append(model.recon_nll(model.decode_logits(mu), x).cpu())
        kls.append(kl_per_dim(mu, logvar).sum(1).cpu())
    recon, kl = torch.cat(recons).numpy(), torch.cat(kls).numpy()
    return {"recon": recon, "kl": kl, "neg_elbo": recon + kl}


def nearest_neighbours(latents: np.ndarray, query: np.ndarray, k: int = 8, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and Euclidean distances of the k latents closest to `query` (optionally skipping one index)."""
    latents = np.asarray(latents, dtype=np.float32)
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    if latents.ndim != 2 or latents.shape[1] != query.size:
        raise ValueError(f"query has {query.size} values but latents are {latents.shape}")
    d2 = np.sum((latents - query) ** 2, axis=1)
    if exclude is not None and 0 <= exclude < len(d2):
        d2[exclude] = np.inf
    k = max(0, min(int(k), int(np.isfinite(d2).sum())))
    idx = np.argpartition(d2, k - 1)[:k] if k > 0 else np.zeros(0, dtype=np.int64)
    idx = idx[np.argsort(d2[idx], kind="stable")]
    return idx.astype(np.int64), np.sqrt(d2[idx])


def nearest_for_each(latents: np.ndarray, queries: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the index of and distance to its nearest latent."""
    latents = np.asarray(latents, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    sq = np.sum(latents ** 2, axis=1)
    best_i, best_d = [], []
    for i in range(0, len(queries), chunk):
        q = queries[i:i + chunk]
        d2 = np.maximum(sq[None, :] - 2 * q @ latents.T + np.sum(q ** 2, axis=1, keepdims=True), 0.0)
        j = np.argmin(d2, axis=1)
        best_i.append(j)
        best_d.append(np.sqrt(d2[np.arange(len(q)), j]))
    return np.concatenate(best_i).astype(np.int64), np.concatenate(best_d)
