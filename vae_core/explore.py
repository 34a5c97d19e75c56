"""What the Latent Explorer pages compute, as plain functions: model cards, map selections, manifold
grids, samples with their nearest training image, interpolation paths, anomaly rankings, and a
training run in a background thread that a UI can poll and stop.

Nothing here imports streamlit or plotly; every page calls into this module (or the rest of
vae_core) and only renders what comes back, so the tests can check the numbers without a browser.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import NormalDist

import numpy as np
import torch

from .config import VAEConfig
from .data import split_indices
from .errors import InputError
from .generate import decode_to_uint8, interpolate, sample_latents
from .latent_input import clamp_int
from .latents import nearest_for_each
from .models import VAE
from .projection import PCAProjection
from .training import LiveBeta, TrainProgress, TrainResult, TrainSettings, fit

MAX_GRID_SIDE = 30  # manifold grids: at most 30 × 30 decoded cells


# ---------------------------------------------------------------- model size


def n_parameters(model: torch.nn.Module) -> int:
    """Number of scalars in the model's weights (frozen or not)."""
    return int(sum(p.numel() for p in model.parameters()))


# ---------------------------------------------------------------- PCA plane


def to_plane(pca: PCAProjection, latents: np.ndarray) -> np.ndarray:
    """Project latent vectors (N, D) onto a PCA plane: (z − mean) @ componentsᵀ, shape (N, 2)."""
    z = np.asarray(latents, dtype=np.float32).reshape(-1, pca.mean.size)
    return ((z - pca.mean) @ pca.components.T).astype(np.float32)


@dataclass(frozen=True)
class ManifoldGrid:
    """A side × side grid of latent points (row-major, top row first) and the axis values it spans."""

    latents: np.ndarray  # (side * side, D) float32
    xs: np.ndarray  # (side,) horizontal axis values, left → right
    ys: np.ndarray  # (side,) vertical axis values, top → bottom
    axes: tuple[str, str]  # what the horizontal and vertical axes are


def manifold_grid(pca: PCAProjection, plane_coords: np.ndarray, side: int, latent_dim: int) -> ManifoldGrid:
    """Latent points on a regular grid: over the 2-D latent plane itself (at N(0, 1) quantiles 5–95 %)
    when latent_dim == 2, else over the PCA plane between the 1st and 99th percentile of the data."""
    side = max(2, min(MAX_GRID_SIDE, int(side)))
    if latent_dim == 2:
        quantiles = np.linspace(0.05, 0.95, side)
        values = np.array([NormalDist().inv_cdf(float(q)) for q in quantiles], dtype=np.float32)
        xs, ys = values, values[::-1].copy()
        gx, gy = np.meshgrid(xs, ys)
        z = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
        return ManifoldGrid(z, xs, ys, ("z₁", "z₂"))
    coords = np.asarray(plane_coords, dtype=np.float32)
    lo = np.percentile(coords, 1, axis=0) if len(coords) else np.array([-2.0, -2.0])
    hi = np.percentile(coords, 99, axis=0) if len(coords) else np.array([2.0, 2.0])
    xs = np.linspace(lo[0], hi[0], side, dtype=np.float32)
    ys = np.linspace(hi[1], lo[1], side, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    z = pca.to_latent(np.stack([gx.ravel(), gy.ravel()], axis=1))
    return ManifoldGrid(z.astype(np.float32), xs, ys, ("PC 1", "PC 2"))


# ---------------------------------------------------------------- sampling and interpolation


@dataclass(frozen=True)
class SampleSet:
    """Prior samples, their decoded images and (when latents were given) each one's nearest training image."""

    latents: np.ndarray  # (n, D) float32 draws of N(0, T²I)
    images: np.ndarray  # (n, H, W[, 3]) uint8
    nearest: np.ndarray | None  # (n,) int64 dataset indices, None without training latents
    nearest_distance: np.ndarray | None  # (n,) float Euclidean distance in latent space


def samples_with_nearest(
    model: VAE, n: int, temperature: float, seed: int, training_latents: np.ndarray | None = None
) -> SampleSet:
    """Draw z ~ N(0, T²I), decode it, and find each draw's nearest training latent μ (does the model copy its data?)."""
    z = sample_latents(n, model.config.latent_dim, temperature, seed)
    images = decode_to_uint8(model, z)
    z_np = z.numpy()
    if training_latents is None or len(training_latents) == 0:
        return SampleSet(z_np, images, None, None)
    nearest, distance = nearest_for_each(training_latents, z_np)
    return SampleSet(z_np, images, nearest, distance)


@dataclass(frozen=True)
class Interpolation:
    """A latent path between two points and its decoded frames."""

    path: np.ndarray  # (steps, D) float32
    frames: np.ndarray  # (steps, H, W[, 3]) uint8


def interpolation(
    model: VAE, z_start: np.ndarray, z_end: np.ndarray, steps: int, method: str = "linear"
) -> Interpolation:
    """Decode `steps` points from z_start to z_end (both included), walked linearly or spherically."""
    path = interpolate(
        torch.as_tensor(np.asarray(z_start, dtype=np.float32)),
        torch.as_tensor(np.asarray(z_end, dtype=np.float32)),
        steps,
        method,
    )  # interpolate clamps steps, or refuses junk with a message
    return Interpolation(path.numpy().astype(np.float32), decode_to_uint8(model, path))


# ---------------------------------------------------------------- rankings and pictures


def rank_worst(scores: np.ndarray, k: int, worst_first: bool = True) -> np.ndarray:
    """Indices of the k highest scores, highest first (or the k lowest, lowest first); ties keep file order."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    k = clamp_int(k, 0, len(scores), "number of images")
    order = np.argsort(-scores if worst_first else scores, kind="stable")
    return order[:k].astype(np.int64)


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 1, gap_value: int = 255) -> np.ndarray:
    """Pairs of uint8 images (N, H, W[, 3]) joined horizontally with a `gap`-pixel stripe: (N, H, 2W + gap[, 3])."""
    left, right = np.asarray(left, dtype=np.uint8), np.asarray(right, dtype=np.uint8)
    if left.shape != right.shape:
        raise InputError(f"image pairs must have the same shape, got {left.shape} and {right.shape}")
    stripe = np.full((*left.shape[:2], max(0, int(gap)), *left.shape[3:]), gap_value, dtype=np.uint8)
    return np.concatenate([left, stripe, right], axis=2)


# ---------------------------------------------------------------- training in the background


@dataclass
class TrainingSnapshot:
    """A consistent copy of a background run's progress, for drawing."""

    state: str  # "running", "done" or "failed"
    fraction: float = 0.0
    epoch: int = 0
    elapsed_s: float = 0.0
    eta_s: float = math.inf
    steps: list[dict] = field(
        default_factory=list
    )  # throttled step events: epoch (fractional), loss, recon, kl, beta
    kl_per_dim: list[float] = field(default_factory=list)  # KL of each latent dimension at the last step
    beta: float | None = None  # the KL weight of the last step (after warm-up)
    epochs: list[dict] = field(default_factory=list)  # one per finished epoch: train and validation terms
    stop_requested: bool = False
    error: str | None = None
    summary: dict | None = None
    checkpoint: bytes | None = None  # the best weights as a .safetensors payload, once done


class TrainingRun:
    """vae_core.training.fit in a daemon thread: progress kept under a lock, stopped through an Event.

    The best weights are written with `checkpoint_path` into a private temporary folder and read back
    as bytes when the run ends (completed, early-stopped, out of time or stopped by the user)."""

    def __init__(
        self, config: VAEConfig, dataset, settings: TrainSettings, step_interval_s: float = 0.2
    ) -> None:
        self.config = config
        self.dataset = dataset
        self.settings = settings.validated()
        self.step_interval_s = float(step_interval_s)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._snapshot = TrainingSnapshot(state="running")
        self._last_step_t = -math.inf
        n_train = len(split_indices(len(dataset.images), self.settings.val_fraction)[0])
        self._steps_per_epoch = max(1, math.ceil(n_train / self.settings.batch_size))
        self._thread = threading.Thread(target=self._run, name="latent-explorer-train", daemon=True)
        self.result: TrainResult | None = None
        self.beta = LiveBeta(config.beta)  # the run reads it every step: set_beta changes the objective live

    def start(self) -> TrainingRun:
        """Start the thread (once); returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to stop after the current step; it still evaluates and keeps its best weights."""
        self._stop.set()
        with self._lock:
            self._snapshot.stop_requested = True

    def set_beta(self, value: float) -> None:
        """Change the KL weight from the next step on (raises InputError for a value outside [0, 1000])."""
        self.beta.set(value)

    @property
    def running(self) -> bool:
        """Whether the thread is still working."""
        return self.snapshot().state == "running"

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> TrainingSnapshot:
        """A copy of the progress so far (lists copied, safe to read while training goes on)."""
        with self._lock:
            s = self._snapshot
            return replace(s, steps=list(s.steps), epochs=list(s.epochs), kl_per_dim=list(s.kl_per_dim))

    def _on_progress(self, p: TrainProgress) -> None:
        """fit's callback: step events at most every step_interval_s, every epoch event."""
        now = time.perf_counter()
        with self._lock:
            s = self._snapshot
            s.fraction, s.epoch, s.elapsed_s, s.eta_s = p.fraction, p.epoch, p.elapsed_s, p.eta_s
            if p.kind == "step":
                s.beta, s.kl_per_dim = p.beta, list(p.kl_per_dim)
                if now - self._last_step_t >= self.step_interval_s:
                    self._last_step_t = now
                    position = (p.step - 1) % self._steps_per_epoch + 1
                    s.steps.append(
                        {
                            "epoch": p.epoch - 1 + position / self._steps_per_epoch,
                            "loss": p.loss,
                            "recon": p.recon,
                            "kl": p.kl,
                            "beta": p.beta,
                        }
                    )
            else:
                s.epochs.append(
                    {
                        "epoch": p.epoch,
                        "train_loss": p.loss,
                        "train_recon": p.recon,
                        "train_kl": p.kl,
                        "val_neg_elbo": p.val_neg_elbo,
                        "val_recon": p.val_recon,
                        "val_kl": p.val_kl,
                        "best_val_neg_elbo": p.best_val_neg_elbo,
                        "beta": p.beta,
                    }
                )

    def _run(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="latent-explorer-train-"))
        path = folder / "model.safetensors"
        try:
            result = fit(
                self.config,
                self.dataset,
                self.settings,
                progress=self._on_progress,
                should_stop=self._stop.is_set,
                checkpoint_path=path,
                beta=self.beta,
            )
            payload = path.read_bytes()
        except Exception as exc:  # a thread has no caller: report every failure (with its cause) to the UI
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            with self._lock:
                self._snapshot.state, self._snapshot.error = "failed", detail
            return
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.result = result
        with self._lock:
            s = self._snapshot
            s.state, s.summary, s.checkpoint, s.fraction = "done", result.summary, payload, 1.0


__all__ = [
    "Interpolation",
    "ManifoldGrid",
    "SampleSet",
    "TrainingRun",
    "TrainingSnapshot",
    "interpolation",
    "manifold_grid",
    "n_parameters",
    "rank_worst",
    "samples_with_nearest",
    "side_by_side",
    "to_plane",
]
