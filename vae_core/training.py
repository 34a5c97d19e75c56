"""Training a VAE: Adam, epochs and/or a time budget, KL warm-up, early stopping that keeps the best weights."""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .checkpoint import save_checkpoint
from .config import VAEConfig
from .data import ImageDataset, split_indices
from .device import pick_device
from .errors import InputError
from .metrics import evaluate
from .models import VAE, build_vae, check_image_shape, kl_per_dim

MAX_EPOCHS = 10_000
MAX_TIME_BUDGET_S = 24 * 3600
MAX_BETA = 1000.0  # what VAEConfig accepts


class LiveBeta:
    """The KL weight β of a run, changeable from another thread while it trains: the run reads it before
    every step, so a new value shapes the objective from the next step on."""

    def __init__(self, value: float) -> None:
        self._lock = threading.Lock()
        self._value = self._checked(value)

    @staticmethod
    def _checked(value: float) -> float:
        beta = float(value)
        if not (math.isfinite(beta) and 0.0 <= beta <= MAX_BETA):
            raise InputError(f"β must be a number in [0, {MAX_BETA:g}], got {value!r}")
        return beta

    def get(self) -> float:
        """The β the next step uses."""
        with self._lock:
            return self._value

    def set(self, value: float) -> None:
        """Change β for every later step (raises InputError, leaving β as it was, for a bad value)."""
        beta = self._checked(value)
        with self._lock:
            self._value = beta


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
    cpu_threads: int | None = (
        None  # CPU intra-op threads while training; None: torch's setting, except that a
    )
    # time-budgeted run checks every 100 steps whether 1 thread is faster (10× when other processes hold the cores)
    ema_decay: float = (
        0.999  # validate, keep and return an exponential moving average of the weights (0: off)
    )
    device: str | None = None  # None: CUDA when present, else CPU

    def validated(self) -> TrainSettings:
        """A copy with every field checked; raises ValueError with a readable message."""
        s = copy.copy(self)
        if s.epochs is None and s.time_budget_s is None:
            raise InputError("give a number of epochs, a time budget, or both")
        if s.epochs is not None and not 1 <= int(s.epochs) <= MAX_EPOCHS:
            raise InputError(f"epochs must be 1..{MAX_EPOCHS}, got {s.epochs}")
        if s.time_budget_s is not None and not 0 < float(s.time_budget_s) <= MAX_TIME_BUDGET_S:
            raise InputError(f"time budget must be 0..{MAX_TIME_BUDGET_S} s, got {s.time_budget_s}")
        if not 1 <= int(s.batch_size) <= 4096:
            raise InputError(f"batch size must be 1..4096, got {s.batch_size}")
        if not (0 < float(s.lr) <= 1.0 and 0 <= float(s.lr_min) <= float(s.lr)):
            raise InputError(f"need 0 < lr ≤ 1 and 0 ≤ lr_min ≤ lr, got lr={s.lr}, lr_min={s.lr_min}")
        if not 0.0 < float(s.val_fraction) < 1.0:
            raise InputError(f"val_fraction must be between 0 and 1, got {s.val_fraction}")
        if not 0 <= int(s.augment_shift) <= 8:
            raise InputError(f"augment_shift must be 0..8 pixels, got {s.augment_shift}")
        if not (0.0 <= float(s.augment_prob) <= 1.0 and 0.0 <= float(s.augment_until) <= 1.0):
            raise InputError(
                f"augment_prob and augment_until must be in [0, 1], got {s.augment_prob}, {s.augment_until}"
            )
        if not 0.0 <= float(s.weight_decay) <= 1.0:
            raise InputError(f"weight_decay must be in [0, 1], got {s.weight_decay}")
        if s.cpu_threads is not None and not 1 <= int(s.cpu_threads) <= 256:
            raise InputError(f"cpu_threads must be 1..256 or None, got {s.cpu_threads}")
        if not 0.0 <= float(s.ema_decay) < 1.0:
            raise InputError(f"ema_decay must be in [0, 1), got {s.ema_decay}")
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
    beta: float = 1.0  # the KL weight the step optimised (β after warm-up); on "epoch" events β now
    kl_per_dim: tuple[float, ...] = ()  # mean KL per latent dimension over the step's batch ("step" events)
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


def choose_threads(device: torch.device, s: TrainSettings) -> _ThreadChooser | None:
    """Apply settings.cpu_threads, or return a thread chooser for a time-budgeted multi-thread CPU run."""
    if device.type != "cpu":
        return None
    if s.cpu_threads is not None:
        torch.set_num_threads(int(s.cpu_threads))
        return None
    if s.time_budget_s is not None and torch.get_num_threads() > 1:
        return _ThreadChooser(torch.get_num_threads())
    return None


class RunClock:
    """How far a run is (by epochs or by time, whichever is further), and what is left."""

    def __init__(self, max_epochs: int, by_epochs: bool, time_budget_s: float | None) -> None:
        self.max_epochs, self.by_epochs, self.time_budget_s = max_epochs, by_epochs, time_budget_s
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.t0

    def fraction(self, epochs_done: float) -> float:
        """0..1 of the run done after `epochs_done` (fractional) epochs."""
        by_epochs = epochs_done / self.max_epochs if self.by_epochs else 0.0
        by_time = self.elapsed() / self.time_budget_s if self.time_budget_s else 0.0
        return min(1.0, max(by_epochs, by_time))

    def eta(self, fraction: float) -> float:
        """Seconds left at this fraction, extrapolated from the time so far (inf at the start)."""
        return self.elapsed() * (1 - fraction) / fraction if fraction > 1e-6 else math.inf

    def out_of_time(self) -> bool:
        """Whether the time budget (if any) is spent."""
        return bool(self.time_budget_s) and self.elapsed() >= self.time_budget_s


class WeightAverage:
    """An exponential moving average of a model's weights, bias-corrected at the start (decay 0: none)."""

    def __init__(self, model: VAE, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).requires_grad_(False) if decay > 0 else None
        self._averaged = list(self.model.parameters()) if self.model is not None else []
        self._live = list(model.parameters()) if self.model is not None else []

    def update(self, step: int) -> None:
        """Move the average towards the live weights after optimiser step `step` (1-based)."""
        if self.model is None:
            return
        weight = 1.0 - min(self.decay, (1 + step) / (10 + step))  # early averages do not drag the init along
        with torch.no_grad():
            torch._foreach_lerp_(self._averaged, self._live, weight)  # one call for every tensor


@dataclass
class EarlyStopping:
    """Keeps the best epoch by the training objective (recon + β·KL on validation); patience None: never stops."""

    patience: int | None
    best_objective: float = math.inf
    best_val: float = math.inf
    best_epoch: int = 0
    stale: int = 0

    def improved(self, epoch: int, objective: float, val_neg_elbo: float) -> bool:
        """Record one epoch's validation; True when it is the best so far."""
        if objective < self.best_objective:
            self.best_objective, self.best_val, self.best_epoch, self.stale = (
                objective,
                val_neg_elbo,
                epoch,
                0,
            )
            return True
        self.stale += 1
        return False

    def should_stop(self) -> bool:
        """Whether `patience` epochs in a row brought no improvement."""
        return self.patience is not None and self.stale >= self.patience


@dataclass
class EpochSums:
    """Sums over one epoch's training steps, weighted by batch size."""

    loss: float = 0.0
    recon: float = 0.0
    kl: float = 0.0
    seen: int = 0

    def add(self, out, n: int) -> None:
        """Add one step's mean losses over `n` images."""
        self.loss += out.loss.item() * n
        self.recon += out.recon.item() * n
        self.kl += out.kl.item() * n
        self.seen += n

    def means(self) -> dict[str, float]:
        """The epoch's mean training loss, reconstruction and KL."""
        seen = max(self.seen, 1)
        return {"train_loss": self.loss / seen, "train_recon": self.recon / seen, "train_kl": self.kl / seen}


def _optimizer(model: VAE, s: TrainSettings, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with weight decay on weights only (not biases, not the pixel bias), fused where it can be."""
    decayed = [p for name, p in model.named_parameters() if name.endswith("weight")]
    kept = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    fused = device.type in ("cpu", "cuda")  # one kernel for the whole update: ~10% of a CPU step at batch 32
    return torch.optim.AdamW(
        [{"params": decayed}, {"params": kept, "weight_decay": 0.0}],
        lr=s.lr,
        weight_decay=s.weight_decay,
        fused=fused,
    )


@dataclass
class _Run:
    """Everything one training run carries from step to step."""

    config: VAEConfig
    s: TrainSettings
    model: VAE
    opt: torch.optim.Optimizer
    ema: WeightAverage
    chooser: _ThreadChooser | None
    clock: RunClock
    x_train: torch.Tensor
    np_gen: np.random.Generator
    aug_gen: torch.Generator
    progress: Callable[[TrainProgress], None] | None
    should_stop: Callable[[], bool] | None
    beta: LiveBeta
    step: int = 0


def train_epoch(run: _Run, epoch: int) -> tuple[EpochSums, str | None]:
    """One pass over the shuffled training images; returns the sums and why it ended early (or None)."""
    s, model = run.s, run.model
    model.train()
    order = torch.from_numpy(run.np_gen.permutation(len(run.x_train)))
    steps = max(1, math.ceil(len(run.x_train) / s.batch_size))
    sums = EpochSums()
    for b in range(steps):
        if run.chooser is not None:
            n_threads = run.chooser.threads_for(run.step)
            if n_threads is not None and n_threads != torch.get_num_threads():
                torch.set_num_threads(n_threads)
            step_start = time.perf_counter()
        frac = run.clock.fraction(epoch - 1 + b / steps)
        for group in run.opt.param_groups:
            group["lr"] = _cosine_lr(s, frac)
        x = run.x_train[order[b * s.batch_size : (b + 1) * s.batch_size].to(run.x_train.device)]
        if s.augment_shift > 0 and frac < s.augment_until:
            x = _shift_batch(x, s.augment_shift, run.aug_gen, s.augment_prob)
        if run.config.arch != "mlp":
            x = x.contiguous(memory_format=torch.channels_last)
        beta = step_beta(run, epoch - 1 + b / steps)
        out = model(x, beta=beta)
        run.opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)
        run.opt.step()
        run.step += 1
        run.ema.update(run.step)
        sums.add(out, len(x))
        if run.chooser is not None:
            run.chooser.record(run.step - 1, time.perf_counter() - step_start)
        if run.progress is not None:
            _report_step(run, epoch, run.clock.fraction(epoch - 1 + (b + 1) / steps), out, beta)
        if run.should_stop is not None and run.should_stop():
            return sums, "stopped by user"
        if run.clock.out_of_time():
            return sums, "time budget reached"
    return sums, None


def step_beta(run: _Run, epochs_done: float) -> float:
    """The KL weight of the next step: the live β, ramped up over the KL warm-up."""
    warmup = run.s.kl_warmup_epochs
    return run.beta.get() * (min(1.0, epochs_done / warmup) if warmup > 0 else 1.0)


def _report_step(run: _Run, epoch: int, fraction: float, out, beta: float) -> None:
    """Send the "step" progress event: the step's loss terms, its β and the KL of each latent dimension."""
    with torch.no_grad():
        per_dim = kl_per_dim(out.mu, out.logvar).mean(0).tolist()
    run.progress(
        TrainProgress(
            "step",
            epoch,
            run.step,
            fraction,
            run.clock.elapsed(),
            run.clock.eta(fraction),
            out.loss.item(),
            out.recon.item(),
            out.kl.item(),
            beta=beta,
            kl_per_dim=tuple(per_dim),
        )
    )


def validate(scored: VAE, x_val: np.ndarray, beta: float, seed: int) -> dict[str, float]:
    """Validation −ELBO, reconstruction and KL, plus the objective early stopping watches (recon + β·KL).

    For a VAE (β = 1) the objective is the −ELBO itself; a plain autoencoder (β = 0) or a β-VAE is judged on
    its own objective, not on a KL it ignores.
    """
    metrics = evaluate(scored, x_val, seed=seed)
    return {
        "val_neg_elbo": metrics["neg_elbo"],
        "val_recon": metrics["recon"],
        "val_kl": metrics["kl"],
        "val_objective": metrics["recon"] + beta * metrics["kl"],
    }


def fit(
    config: VAEConfig,
    dataset: ImageDataset,
    settings: TrainSettings | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_path: str | Path | None = None,
    beta: LiveBeta | None = None,
) -> TrainResult:
    """Train a new VAE on `dataset`; the returned model holds the best validation weights.

    `should_stop()` is polled every step (a stop button); `checkpoint_path`, when given, is rewritten
    atomically with the best weights whenever validation improves, so a killed run leaves a usable file.
    `beta`, when given, is read before every step instead of config.beta (another thread may change it).
    """
    threads = torch.get_num_threads()
    live = beta if beta is not None else LiveBeta(config.beta)
    try:
        return _fit(
            config,
            dataset,
            (settings or TrainSettings()).validated(),
            progress,
            should_stop,
            checkpoint_path,
            live,
        )
    finally:
        torch.set_num_threads(threads)  # cpu_threads and the thread chooser only last for the run


def _fit(
    config: VAEConfig,
    dataset: ImageDataset,
    s: TrainSettings,
    progress,
    should_stop,
    checkpoint_path,
    beta: LiveBeta,
) -> TrainResult:
    """fit() with validated settings: set up, then one epoch step and one validation per epoch."""
    images = np.asarray(dataset.images, dtype=np.float32)
    check_image_shape(images.shape[1:], config.input_shape, "dataset images")
    train_idx, val_idx = split_indices(len(images), s.val_fraction)
    if len(train_idx) < 1 or len(val_idx) < 1:
        raise InputError(f"need at least 2 images to train with a validation split, got {len(images)}")
    device = pick_device(s.device)
    chooser = choose_threads(device, s)
    run = _setup(config, s, images, train_idx, device, chooser, progress, should_stop, beta)
    x_val, best = images[val_idx], EarlyStopping(s.patience)
    history: list[dict] = []
    best_state, stopped = None, "completed"
    for epoch in range(1, run.clock.max_epochs + 1):
        sums, ended_early = train_epoch(run, epoch)
        scored = run.ema.model if run.ema.model is not None else run.model  # validated, kept and returned
        val = validate(scored, x_val, beta.get(), s.seed)
        threads = torch.get_num_threads() if device.type == "cpu" else None
        history.append(
            {
                "epoch": epoch,
                "step": run.step,
                "elapsed_s": run.clock.elapsed(),
                **sums.means(),
                **val,
                "beta": beta.get(),
                "threads": threads,
            }
        )
        if best.improved(epoch, val["val_objective"], val["val_neg_elbo"]):
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in scored.state_dict().items()}
            if checkpoint_path is not None:
                save_checkpoint(
                    scored, checkpoint_path, _summary(dataset, s, history, best, run, "in progress")
                )
        _report_epoch(run, epoch, history[-1], best)
        if ended_early is not None:
            stopped = ended_early
            break
        if best.should_stop():
            stopped = f"early stop: no improvement for {s.patience} epochs"
            break
    if best_state is None:
        raise InputError(
            "training diverged: the validation −ELBO was never finite; try a lower learning rate"
        )
    run.model.load_state_dict(best_state)
    run.model.to("cpu").eval()
    summary = _summary(dataset, s, history, best, run, stopped)
    if checkpoint_path is not None:
        save_checkpoint(run.model, checkpoint_path, summary)
    return TrainResult(model=run.model, summary=summary, history=history)


def _setup(
    config: VAEConfig,
    s: TrainSettings,
    images: np.ndarray,
    train_idx: np.ndarray,
    device: torch.device,
    chooser: _ThreadChooser | None,
    progress,
    should_stop,
    beta: LiveBeta,
) -> _Run:
    """Seed, build the model (output bias at the mean training image), optimiser, weight average and clock."""
    torch.manual_seed(s.seed)
    np_gen = np.random.default_rng(s.seed)
    aug_gen = torch.Generator().manual_seed(s.seed + 1)
    model = build_vae(config).to(device)
    model.init_output_bias(torch.from_numpy(images[train_idx].mean(0)))
    if config.arch != "mlp":
        model = model.to(memory_format=torch.channels_last)  # faster convolutions on CPU (oneDNN) and GPU
    opt = _optimizer(model, s, device)
    ema = WeightAverage(model, s.ema_decay)
    x_train = torch.from_numpy(images[train_idx]).to(device)
    max_epochs = int(s.epochs) if s.epochs is not None else MAX_EPOCHS
    clock = RunClock(max_epochs, s.epochs is not None, s.time_budget_s)
    return _Run(
        config, s, model, opt, ema, chooser, clock, x_train, np_gen, aug_gen, progress, should_stop, beta
    )


def _report_epoch(run: _Run, epoch: int, record: dict, best: EarlyStopping) -> None:
    """Send the "epoch" progress event (training means, validation, best so far)."""
    if run.progress is None:
        return
    f = run.clock.fraction(epoch)
    run.progress(
        TrainProgress(
            "epoch",
            epoch,
            run.step,
            f,
            run.clock.elapsed(),
            run.clock.eta(f),
            record["train_loss"],
            record["train_recon"],
            record["train_kl"],
            beta=record["beta"],
            val_neg_elbo=record["val_neg_elbo"],
            val_recon=record["val_recon"],
            val_kl=record["val_kl"],
            best_val_neg_elbo=best.best_val,
        )
    )


def _summary(
    dataset: ImageDataset, s: TrainSettings, history: list[dict], best: EarlyStopping, run: _Run, status: str
) -> dict:
    """The training summary stored in the checkpoint beside the config (scores of the best epoch)."""
    best_record = next(h for h in history if h["epoch"] == best.best_epoch)
    return {
        "dataset_spec": getattr(dataset, "spec", ""),
        "dataset_name": getattr(dataset, "name", ""),
        "n_images": int(len(dataset.images)),
        "class_names": list(getattr(dataset, "class_names", []) or []),
        "epochs_run": len(history),
        "best_epoch": best.best_epoch,
        "steps": run.step,
        "train_time_s": round(run.clock.elapsed(), 2),
        "val_neg_elbo": float(best.best_val),
        "val_recon": float(best_record["val_recon"]),
        "val_kl": float(best_record["val_kl"]),
        "status": status,
        "final_beta": float(run.beta.get()),
        "settings": {k: v for k, v in asdict(s).items() if k != "device"},
    }
