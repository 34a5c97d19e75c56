"""Training a VAE: Adam, epochs and/or a time budget, KL warm-up, early stopping that keeps the best weights."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .config import VAEConfig
from .device import pick_device
from .metrics import evaluate
from .models import VAE, build_vae

MAX_EPOCHS = 10_000
MAX_TIME_BUDGET_S = 24 * 3600


@dataclass
class TrainSettings:
    """How to train: every field has a default that works for digits and MNIST."""

    epochs: int | None = 50  # upper bound on passes over the training split (None: time budget only)
    time_budget_s: float | None = None  # wall-clock limit in seconds (None: epochs only)
    batch_size: int = 32  # small batches: 4× the steps of 128 for about the same CPU time per epoch
    lr: float = 3e-3  # AdamW learning rate at the start; cosine-decayed to lr_min over the run
    lr_min: float = 1e-4
    kl_warmup_epochs: float = 0.0  # β ramps linearly from 0 to config.beta over this many epochs
    patience: int | None = 15  # early stop after this many epochs without a better validation −ELBO
    val_fraction: float = 0.2  # the last fraction of images (file order) is held out
    seed: int = 0  # reproduces a run (same data, same settings, same number of steps)
    augment_shift: int = 0  # random translations of up to this many pixels (a regulariser)
    augment_prob: float = 0.5  # fraction of training images shifted (the rest are seen as they are)
    augment_until: float = 0.8  # fraction of the run after which images are no longer shifted, so the
    # model ends on the data as it is (MNIST's digits are centred, the shifted ones are not)
    weight_decay: float = 0.1  # AdamW's decoupled weight decay on conv/linear weights (0: plain Adam)
    cpu_threads: int | None = None  # CPU intra-op threads while training; None: torch's setting, except that a
    # time-budgeted run checks every 100 steps whether 1 thread is faster (10× when other processes hold the cores)
    ema_decay: float = 0.999  # validate, keep and return an exponential moving average of the weights (0: off)
    device: str | None = None  # None: CUDA when present, else CPU

    def validated(self) -> TrainSettings:
        """A copy with every field checked; raises ValueError with a readable message."""
        s = copy.copy(self)
        if s.epochs is None and s.time_budget_s is None:
            raise ValueError("give a number of epochs, a time budget, or both")
        if s.epochs is not None and not 1 <= int(s.epochs) <= MAX_EPOCHS:
            raise ValueError(f"epochs must be 1..{MAX_EPOCHS}, got {s.epochs}")
        if s.time_budget_s is not None and not 0 < float(s.time_budget_s) <= MAX_TIME_BUDGET_S:
            raise ValueError(f"time budget must be 0..{MAX_TIME_BUDGET_S} s, got {s.time_budget_s}")
        if not 1 <= int(s.batch_size) <= 4096:
            raise ValueError(f"batch size must be 1..4096, got {s.batch_size}")
        if not (0 < float(s.lr) <= 1.0 and 0 <= float(s.lr_min) <= float(s.lr)):
            raise ValueError(f"need 0 < lr ≤ 1 and 0 ≤ lr_min ≤ lr, got lr={s.lr}, lr_min={s.lr_min}")
        if not 0.0 < float(s.val_fraction) < 1.0:
            raise ValueError(f"val_fraction must be between 0 and 1, got {s.val_fraction}")
        if not 0 <= int(s.augment_shift) <= 8:
            raise ValueError(f"augment_shift must be 0..8 pixels, got {s.augment_shift}")
        if not (0.0 <= float(s.augment_prob) <= 1.0 and 0.0 <= float(s.augment_until) <= 1.0):
            raise ValueError(f"augment_prob and augment_until must be in [0, 1], got {s.augment_prob}, {s.augment_until}")
        if not 0.0 <= float(s.weight_decay) <= 1.0:
            raise ValueError(f"weight_decay must be in [0, 1], got {s.weight_decay}")
        if s.cpu_threads is not None and not 1 <= int(s.cpu_threads) <= 256:
            raise ValueError(f"cpu_threads must be 1..256 or None, got {s.cpu_threads}")
        if not 0.0 <= float(s.ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {s.ema_decay}")
        return s


@dataclass
class TrainProgress:
    """What the progress callback receives, per step ("step") and per epoch ("epoch")."""

    kind: str  # "step" or "epoch"
    epoch: int  # 1-based epoch being run / just finished
    step: int  # optimiser steps so far
    fraction: float  # 0..1 of the run done (by epochs or time, whichever is further)
    elapsed_s: float
    eta_s: float
    loss: float  # training loss of the last step (or mean over the epoch)
    recon: float
    kl: float
    val_neg_elbo: float | None = None  # set on "epoch" events
    val_recon: float | None = None
    val_kl: float | None = None
    best_val_neg_elbo: float | None = None


@dataclass
class TrainResult:
    """A trained model (best validation weights, eval mode), its summary and the per-epoch history."""

    model: VAE
    summary: dict
    history: list[dict] = field(default_factory=list)


def _shift_batch(x: torch.Tensor, max_shift: int, gen: torch.Generator, prob: float = 1.0) -> torch.Tensor:
    """Translate each image by a random integer offset in [-max_shift, max_shift] (zero fill).

    Each image is shifted with probability `prob` and left as it is otherwise.
    """
    b, _, h, w = x.shape
    dx = torch.randint(-max_shift, max_shift + 1, (b,), generator=gen)
    dy = torch.randint(-max_shift, max_shift + 1, (b,), generator=gen)
    if prob < 1.0:
        moved = torch.rand(b, generator=gen) < prob
        dx, dy = dx * moved, dy * moved
    padded = F.pad(x, (max_shift, max_shift, max_shift, max_shift))
    rows = (torch.arange(h).unsqueeze(0) + max_shift - dy.unsqueeze(1)).to(x.device)  # (B, H)
    cols = (torch.arange(w).unsqueeze(0) + max_shift - dx.unsqueeze(1)).to(x.device)  # (B, W)
    idx_b = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_b, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


class _ThreadChooser:
    """Every PERIOD steps, times a few steps on `many` threads and a few on one, then runs on the faster.

    Intra-op threads wait for each other at every op, so when other processes keep the cores busy, two
    threads can run ten times slower than one; on an idle machine they are faster. Only for time-budgeted
    CPU runs, which are not step-for-step reproducible anyway (the thread count changes rounding).
    """

    PROBE = 3  # steps timed per thread count
    PERIOD = 100  # steps between the starts of two probes

    def __init__(self, many: int) -> None:
        self.many = many
        self.timings: dict[int, list[float]] = {}

    def threads_for(self, step: int) -> int | None:
        """The thread count to set before this step (0-based), or None to keep the current one."""
        phase = step % self.PERIOD
        if phase == 0:
            self.timings = {self.many: [], 1: []}
        if phase < 2 * self.PROBE:
            return self.many if phase < self.PROBE else 1
        if phase == 2 * self.PROBE:
            return min(self.timings, key=lambda n: sorted(self.timings[n])[len(self.timings[n]) // 2])
        return None

    def record(self, step: int, seconds: float) -> None:
        """Note how long a probing step took."""
        phase = step % self.PERIOD
        if phase < 2 * self.PROBE:
            self.timings[self.many if phase < self.PROBE else 1].append(seconds)


def _cosine_lr(settings: TrainSettings, fraction: float) -> float:
    """Learning rate after `fraction` of the run: cosine from lr down to lr_min."""
    f = min(1.0, max(0.0, fraction))
    return settings.lr_min + 0.5 * (settings.lr - settings.lr_min) * (1 + math.cos(math.pi * f))


def fit(
    config: VAEConfig,
    dataset,
    settings: TrainSettings | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_path: str | Path | None = None,
) -> TrainResult:
    """Train a new VAE on `dataset` (an ImageDataset); the returned model holds the best validation weights.

    `should_stop()` is polled every step (a stop button); `checkpoint_path`, when given, is rewritten
    atomically with the best weights whenever validation improves, so a killed run leaves a usable file.
    """
    threads = torch.get_num_threads()
    try:
        return _fit(config, dataset, (settings or TrainSettings()).validated(), progress, should_stop, checkpoint_path)
    finally:
        torch.set_num_threads(threads)  # cpu_threads and the thread chooser only last for the run


def _fit(config: VAEConfig, dataset, s: TrainSettings, progress, should_stop, checkpoint_path) -> TrainResult:
    """fit() with validated settings."""
    from .checkpoint import save_checkpoint  # late import: checkpoint imports training's summary helpers
    from .data import split_indices

    images = np.asarray(dataset.images, dtype=np.float32)
    if tuple(images.shape[1:]) != tuple(config.input_shape):
        raise ValueError(f"dataset images are {images.shape[1:]}, the model expects {config.input_shape}")
    train_idx, val_idx = split_indices(len(images), s.val_fraction)
    if len(train_idx) < 1 or len(val_idx) < 1:
        raise ValueError(f"need at least 2 images to train with a validation split, got {len(images)}")
    device = pick_device(s.device)
    chooser = None
    if device.type == "cpu" and s.cpu_threads is not None:
        torch.set_num_threads(int(s.cpu_threads))
    elif device.type == "cpu" and s.time_budget_s is not None and torch.get_num_threads() > 1:
        chooser = _ThreadChooser(torch.get_num_threads())
    torch.manual_seed(s.seed)
    np_gen = np.random.default_rng(s.seed)
    aug_gen = torch.Generator().manual_seed(s.seed + 1)
    model = build_vae(config).to(device)
    model.init_output_bias(torch.from_numpy(images[train_idx].mean(0)))
    conv = config.arch != "mlp"
    if conv:
        model = model.to(memory_format=torch.channels_last)  # faster convolutions on CPU (oneDNN) and GPU
    fused = device.type in ("cpu", "cuda")  # one kernel for the whole update: ~10% of a CPU step at batch 32
    decayed = [p for name, p in model.named_parameters() if name.endswith("weight")]  # not biases, not pixel_bias
    kept = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    opt = torch.optim.AdamW([{"params": decayed}, {"params": kept, "weight_decay": 0.0}],
                            lr=s.lr, weight_decay=s.weight_decay, fused=fused)
    ema = copy.deepcopy(model).requires_grad_(False) if s.ema_decay > 0 else None
    ema_params, live_params = (list(ema.parameters()), list(model.parameters())) if ema is not None else ([], [])
    x_train = torch.from_numpy(images[train_idx]).to(device)
    x_val = images[val_idx]
    steps_per_epoch = max(1, math.ceil(len(train_idx) / s.batch_size))

    best_state, best_val, best_objective, best_epoch, stale = None, math.inf, math.inf, 0, 0
    history: list[dict] = []
    step, stopped = 0, "completed"
    t0 = time.perf_counter()
    max_epochs = int(s.epochs) if s.epochs is not None else MAX_EPOCHS

    def run_fraction(epoch_progress: float) -> float:
        by_epochs = epoch_progress / max_epochs if s.epochs is not None else 0.0
        by_time = (time.perf_counter() - t0) / s.time_budget_s if s.time_budget_s else 0.0
        return min(1.0, max(by_epochs, by_time))

    def eta(frac: float) -> float:
        elapsed = time.perf_counter() - t0
        return elapsed * (1 - frac) / frac if frac > 1e-6 else math.inf

    epoch = 0
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.from_numpy(np_gen.permutation(len(train_idx)))
        sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
        seen = 0
        out_of_time = False
        for b in range(steps_per_epoch):
            if chooser is not None:
                n_threads = chooser.threads_for(step)
                if n_threads is not None and n_threads != torch.get_num_threads():
                    torch.set_num_threads(n_threads)
                step_start = time.perf_counter()
            frac = run_fraction(epoch - 1 + b / steps_per_epoch)
            for group in opt.param_groups:
                group["lr"] = _cosine_lr(s, frac)
            x = x_train[order[b * s.batch_size:(b + 1) * s.batch_size].to(device)]
            if s.augment_shift > 0 and frac < s.augment_until:
                x = _shift_batch(x, s.augment_shift, aug_gen, s.augment_prob)
            if conv:
                x = x.contiguous(memory_format=torch.channels_last)
            warm = min(1.0, (epoch - 1 + b / steps_per_epoch) / s.kl_warmup_epochs) if s.kl_warmup_epochs > 0 else 1.0
            out = model(x, beta=config.beta * warm)
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)
            opt.step()
            step += 1
            if ema is not None:  # bias-corrected start: early averages do not drag the random init along
                weight = 1.0 - min(s.ema_decay, (1 + step) / (10 + step))
                with torch.no_grad():
                    torch._foreach_lerp_(ema_params, live_params, weight)  # one call for every tensor
            n = len(x)
            seen += n
            sums["loss"] += out.loss.item() * n
            if chooser is not None:
                chooser.record(step - 1, time.perf_counter() - step_start)
            sums["recon"] += out.recon.item() * n
            sums["kl"] += out.kl.item() * n
            if progress is not None:
                f = run_fraction(epoch - 1 + (b + 1) / steps_per_epoch)
                progress(TrainProgress("step", epoch, step, f, time.perf_counter() - t0, eta(f),
                                       out.loss.item(), out.recon.item(), out.kl.item()))
            if should_stop is not None and should_stop():
                stopped = "stopped by user"
                break
            if s.time_budget_s and time.perf_counter() - t0 >= s.time_budget_s:
                out_of_time = True
                break
        scored = ema if ema is not None else model  # the weights that are validated, kept and returned
        metrics = evaluate(scored, x_val, seed=s.seed)
        val = metrics["neg_elbo"]
        # Early stopping watches what training minimises, recon + β·KL: the −ELBO itself for a VAE (β = 1),
        # while a plain autoencoder (β = 0) or a β-VAE is judged on its own objective, not on a KL it ignores.
        objective = metrics["recon"] + config.beta * metrics["kl"]
        record = {
            "epoch": epoch, "step": step, "elapsed_s": time.perf_counter() - t0,
            "train_loss": sums["loss"] / max(seen, 1), "train_recon": sums["recon"] / max(seen, 1),
            "train_kl": sums["kl"] / max(seen, 1), "val_neg_elbo": val, "val_recon": metrics["recon"],
            "val_kl": metrics["kl"], "val_objective": objective, "threads": torch.get_num_threads() if device.type == "cpu" else None,
        }
        history.append(record)
        if objective < best_objective:
            best_val, best_objective, best_epoch, stale = val, objective, epoch, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in scored.state_dict().items()}
            if checkpoint_path is not None:
                save_checkpoint(scored, checkpoint_path, _summary(dataset, s, history, best_epoch, best_val, metrics, step, t0, "in progress"))
        else:
            stale += 1
        if progress is not None:
            f = run_fraction(epoch)
            progress(TrainProgress("epoch", epoch, step, f, time.perf_counter() - t0, eta(f),
                                   record["train_loss"], record["train_recon"], record["train_kl"],
                                   val, metrics["recon"], metrics["kl"], best_val))
        if stopped != "completed":
            break
        if out_of_time:
            stopped = "time budget reached"
            break
        if s.patience is not None and stale >= s.patience:
            stopped = f"early stop: no improvement for {s.patience} epochs"
            break
    if best_state is None:
        raise ValueError("training diverged: the validation −ELBO was never finite; try a lower learning rate")
    model.load_state_dict(best_state)
    model.to("cpu").eval()
    best_metrics = next(h for h in history if h["epoch"] == best_epoch)
    summary = _summary(dataset, s, history, best_epoch, best_val,
                       {"recon": best_metrics["val_recon"], "kl": best_metrics["val_kl"]}, step, t0, stopped)
    if checkpoint_path is not None:
        save_checkpoint(model, checkpoint_path, summary)
    return TrainResult(model=model, summary=summary, history=history)


def _summary(dataset, s: TrainSettings, history: list[dict], best_epoch: int, best_val: float,
             metrics: dict, step: int, t0: float, status: str) -> dict:
    """The training summary stored in the checkpoint beside the config."""
    return {
        "dataset_spec": getattr(dataset, "spec", ""),
        "dataset_name": getattr(dataset, "name", ""),
        "n_images": int(len(dataset.images)),
        "class_names": list(getattr(dataset, "class_names", []) or []),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "steps": step,
        "train_time_s": round(time.perf_counter() - t0, 2),
        "val_neg_elbo": float(best_val),
        "val_recon": float(metrics["recon"]),
        "val_kl": float(metrics["kl"]),
        "status": status,
        "settings": {k: v for k, v in asdict(s).items() if k != "device"},
    }
