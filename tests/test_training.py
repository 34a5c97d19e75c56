"""Training invariants on the 8×8 digits: loss goes down, runs reproduce, early stopping, stop button,
time budget, progress events, checkpoints written as training goes, shift augmentation, settings checks."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vae_core.checkpoint import load_checkpoint
from vae_core.config import VAEConfig
from vae_core.data import split_indices
from vae_core.metrics import evaluate
from vae_core.models import build_vae
from vae_core.training import (
    EarlyStopping,
    EpochSums,
    RunClock,
    TrainSettings,
    WeightAverage,
    _shift_batch,
    _ThreadChooser,
    choose_threads,
    fit,
)

FAST = TrainSettings(epochs=3, batch_size=64, patience=None, seed=0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run no faster on more threads, and one thread is not slowed by other busy processes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_config(digits, arch: str = "mlp") -> VAEConfig:
    """A small model for 8×8 digits; conv variants use narrow channels."""
    return VAEConfig(
        input_shape=digits.image_shape, arch=arch, latent_dim=4, hidden=(64, 32), channels=(8, 16)
    )


def subset(dataset, n: int) -> SimpleNamespace:
    """The first n images of a dataset (fit() needs only `.images`)."""
    return SimpleNamespace(images=dataset.images[:n], name=f"first {n}", spec="test")


def val_images(dataset, settings: TrainSettings) -> np.ndarray:
    """The held-out images fit() scores on."""
    return dataset.images[split_indices(len(dataset.images), settings.val_fraction)[1]]


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """True when two models hold bit-identical parameters and buffers."""
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def strip_times(history: list[dict]) -> list[dict]:
    """History records without their wall-clock fields."""
    return [{k: v for k, v in h.items() if k != "elapsed_s"} for h in history]


# ---------------------------------------------------------------- learning


def test_a_few_epochs_lower_the_loss(digits):
    steps: list[float] = []
    cfg = replace(small_config(digits), hidden=(128, 64))
    settings = replace(FAST, epochs=4, lr=1e-2)
    result = fit(cfg, digits, settings, progress=lambda p: p.kind == "step" and steps.append(p.loss))
    assert len(steps) == 4 * math.ceil(len(digits.images) * 0.8 / 64)
    assert np.mean(steps[-10:]) < np.mean(steps[:10]) - 0.8
    vals = [h["val_neg_elbo"] for h in result.history]
    assert all(later < earlier for earlier, later in zip(vals, vals[1:]))
    # An untrained model scores worse than the trained one on the same held-out images.
    untrained = evaluate(build_vae(cfg), val_images(digits, settings))["neg_elbo"]
    assert result.summary["val_neg_elbo"] < untrained - 5.0


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_same_seed_reproduces_and_another_seed_differs(digits, arch):
    settings = replace(FAST, epochs=2, augment_shift=1)
    cfg = small_config(digits, arch)
    first, second = fit(cfg, digits, settings), fit(cfg, digits, settings)
    other = fit(cfg, digits, replace(settings, seed=1))
    assert same_weights(first.model, second.model)
    assert strip_times(first.history) == strip_times(second.history)
    assert not same_weights(first.model, other.model)
    assert strip_times(first.history) != strip_times(other.history)


def test_early_stopping_keeps_the_best_validation_weights(digits):
    # 150 training images and a wide decoder overfit within a few epochs, so validation gets worse.
    small = subset(digits, 200)
    cfg = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=8, hidden=(256, 256))
    settings = TrainSettings(epochs=200, batch_size=16, lr=3e-3, lr_min=3e-3, patience=3, val_fraction=0.25)
    result = fit(cfg, small, settings)
    vals = [h["val_neg_elbo"] for h in result.history]
    best = int(np.argmin(vals))
    assert result.summary["status"].startswith("early stop")
    assert len(vals) == best + 1 + 3  # stopped exactly `patience` epochs after the best one
    assert result.summary["best_epoch"] == best + 1 and result.summary["val_neg_elbo"] == pytest.approx(
        vals[best]
    )
    assert vals[-1] > vals[best]  # the last epoch's weights are not the ones returned
    rescored = evaluate(result.model, val_images(small, settings), seed=settings.seed)["neg_elbo"]
    assert rescored == pytest.approx(vals[best], rel=1e-6)


# ---------------------------------------------------------------- stopping


def test_should_stop_ends_after_the_first_poll_with_a_usable_model(digits):
    polls = []

    def stop() -> bool:
        polls.append(1)
        return True

    result = fit(small_config(digits), digits, replace(FAST, epochs=50), should_stop=stop)
    assert len(polls) == 1
    assert result.summary["status"] == "stopped by user"
    assert result.summary["steps"] == 1 and len(result.history) == 1
    assert not result.model.training
    with torch.no_grad():
        images = result.model.decode(torch.randn(5, 4))
    assert images.shape == (5, *digits.image_shape)
    assert torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1


def test_time_budget_stops_the_run(digits):
    budget = 1.0
    start = time.perf_counter()
    result = fit(
        small_config(digits),
        digits,
        TrainSettings(epochs=None, time_budget_s=budget, batch_size=32, patience=None),
    )
    took = time.perf_counter() - start
    assert result.summary["status"] == "time budget reached"
    assert budget <= result.summary["train_time_s"] and took < budget + 3.0
    assert 1 <= len(result.history) < 10_000


# ---------------------------------------------------------------- reporting


def test_progress_reports_steps_and_epochs_with_rising_fraction_and_eta(digits):
    events = []
    fit(small_config(digits), digits, FAST, progress=events.append)
    kinds = {e.kind for e in events}
    assert kinds == {"step", "epoch"}
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert all(e.val_neg_elbo is not None and e.best_val_neg_elbo <= e.val_neg_elbo for e in epochs)
    fractions = [e.fraction for e in events]
    assert all(b >= a for a, b in zip(fractions, fractions[1:]))
    assert fractions[0] < 0.1 and fractions[-1] == pytest.approx(1.0)
    assert all(math.isfinite(e.eta_s) and e.eta_s >= 0 for e in events)
    assert events[-1].eta_s == pytest.approx(0.0, abs=1e-6)
    steps = [e.step for e in events if e.kind == "step"]
    assert steps == list(range(1, len(steps) + 1))


def test_checkpoint_is_written_during_training_with_the_best_weights(digits, tmp_path):
    path = tmp_path / "run.safetensors"
    seen_during = []

    def on_progress(p) -> None:
        if p.kind == "epoch":
            ckpt = load_checkpoint(path)
            seen_during.append(
                (p.epoch, ckpt.summary["status"], ckpt.summary["val_neg_elbo"], p.best_val_neg_elbo)
            )

    result = fit(small_config(digits), digits, FAST, progress=on_progress, checkpoint_path=path)
    assert [epoch for epoch, *_ in seen_during] == [1, 2, 3]
    assert all(status == "in progress" for _, status, *_ in seen_during)
    assert all(saved == pytest.approx(best) for *_, saved, best in seen_during)
    final = load_checkpoint(path)
    assert final.summary["status"] == "completed"
    assert final.config == result.model.config
    assert same_weights(final.model, result.model)


# ---------------------------------------------------------------- CPU threads


@pytest.mark.parametrize("slow_threads, expected", [(1, 4), (4, 1)])
def test_thread_chooser_keeps_the_faster_thread_count_and_probes_again(slow_threads, expected):
    chooser, probe, period = _ThreadChooser(4), _ThreadChooser.PROBE, _ThreadChooser.PERIOD
    chosen = []
    for step in range(period + 2 * probe + 1):
        chosen.append(chooser.threads_for(step))
        probing = step % period < 2 * probe
        chooser.record(step, 1.0 if probing and chosen[-1] == slow_threads else 0.1)
    assert chosen[: 2 * probe] == [4] * probe + [1] * probe
    assert chosen[2 * probe] == expected and set(chosen[2 * probe + 1 : period]) == {None}
    assert chosen[period:] == [4] * probe + [1] * probe + [expected]  # the next probe


def test_fit_restores_the_thread_count(digits):
    before = torch.get_num_threads()
    fit(small_config(digits), digits, replace(FAST, epochs=1, cpu_threads=before + 1))
    fit(small_config(digits), digits, TrainSettings(epochs=None, time_budget_s=0.3))
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------- augmentation and settings


def test_shift_augmentation_moves_pixels_without_changing_them():
    gen = torch.Generator().manual_seed(0)
    images = torch.zeros(64, 2, 12, 12)
    images[:, :, 3:9, 3:9] = torch.rand(64, 2, 6, 6)  # a 3-pixel empty border
    shifted = _shift_batch(images, 3, gen)
    assert shifted.shape == images.shape
    assert torch.allclose(shifted.sum(dim=(1, 2, 3)), images.sum(dim=(1, 2, 3)))
    offsets = set()
    for original, moved in zip(images, shifted):
        matches = [
            (dy, dx)
            for dy in range(-3, 4)
            for dx in range(-3, 4)
            if torch.equal(torch.roll(original, (dy, dx), dims=(1, 2)), moved)
        ]
        assert matches, "every shifted image is a translated copy of its original"
        offsets.add(matches[0])
    assert len(offsets) > 10  # offsets differ from image to image
    # With probability 0 nothing moves; with 0.5 some images move and others stay.
    assert torch.equal(_shift_batch(images, 3, gen, prob=0.0), images)
    half = _shift_batch(images, 3, gen, prob=0.5)
    unchanged = [torch.equal(a, b) for a, b in zip(images, half)]
    assert 10 < sum(unchanged) < 54
    # Shifting content off the edge fills with zeros rather than wrapping round.
    full = torch.ones(16, 1, 8, 8)
    cropped = _shift_batch(full, 2, gen)
    assert cropped.shape == full.shape and cropped.max() == 1.0 and cropped.min() >= 0.0
    assert (cropped.sum(dim=(1, 2, 3)) <= 64).all() and (cropped.sum(dim=(1, 2, 3)) < 64).any()


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": None, "time_budget_s": None},
        {"epochs": 0},
        {"time_budget_s": -1.0},
        {"batch_size": 0},
        {"lr": 0.0},
        {"lr": 1e-3, "lr_min": 1e-2},
        {"val_fraction": 1.0},
        {"val_fraction": 0.0},
        {"augment_shift": 9},
        {"augment_shift": -1},
        {"weight_decay": -0.1},
        {"ema_decay": 1.0},
        {"cpu_threads": 0},
        {"augment_prob": 1.5},
        {"augment_until": -0.1},
    ],
)
def test_validated_rejects_bad_settings(bad):
    with pytest.raises(ValueError):
        TrainSettings(**bad).validated()
    assert TrainSettings().validated() == TrainSettings()


def test_fit_refuses_images_of_another_shape(digits):
    with pytest.raises(ValueError, match="model expects"):
        fit(VAEConfig(input_shape=(1, 28, 28), arch="mlp"), digits, FAST)


def test_a_plain_autoencoder_is_stopped_on_its_own_objective(digits):
    """β = 0 ignores the KL, so the kept epoch is the best reconstruction, not the best −ELBO."""
    cfg = VAEConfig(input_shape=digits.image_shape, arch="mlp", latent_dim=4, hidden=(32,), beta=0.0)
    result = fit(cfg, digits, TrainSettings(epochs=6, patience=None, seed=0))
    recons = [h["val_recon"] for h in result.history]
    assert result.summary["best_epoch"] == 1 + recons.index(min(recons))
    assert all(h["val_objective"] == pytest.approx(h["val_recon"]) for h in result.history)


@pytest.mark.parametrize("ema_decay", [0.0, 0.99])
def test_the_returned_model_is_the_one_whose_validation_score_is_reported(digits, ema_decay):
    """With or without a weight average, the summary's validation −ELBO is that of the weights returned (and saved)."""
    result = fit(small_config(digits), digits, replace(FAST, ema_decay=ema_decay))
    _, val_idx = split_indices(len(digits.images), FAST.val_fraction)
    again = evaluate(result.model, digits.images[val_idx], seed=FAST.seed)
    assert again["neg_elbo"] == pytest.approx(result.summary["val_neg_elbo"], rel=1e-5)


def test_a_weight_average_changes_the_result(digits):
    plain = fit(small_config(digits), digits, replace(FAST, ema_decay=0.0)).model
    averaged = fit(small_config(digits), digits, replace(FAST, ema_decay=0.99)).model
    assert any(
        not torch.equal(a, b) for a, b in zip(plain.state_dict().values(), averaged.state_dict().values())
    )


# ---------------------------------------------------------------- the parts of the training loop


def test_early_stopping_keeps_the_best_epoch_and_stops_after_patience_epochs_without_one():
    rule = EarlyStopping(patience=2)
    assert rule.improved(1, objective=10.0, val_neg_elbo=11.0)
    assert not rule.improved(2, objective=10.0, val_neg_elbo=9.0)  # equal is not better
    assert not rule.should_stop()
    assert rule.improved(3, objective=9.5, val_neg_elbo=12.0)  # judged on the objective, not the −ELBO
    assert (rule.best_epoch, rule.best_val, rule.stale) == (3, 12.0, 0)
    rule.improved(4, 9.6, 0.0)
    rule.improved(5, math.nan, 0.0)  # a NaN epoch is never the best
    assert rule.should_stop() and rule.best_epoch == 3
    never = EarlyStopping(patience=None)
    for epoch in range(1, 50):
        never.improved(epoch, 1.0, 1.0)
    assert not never.should_stop() and never.best_epoch == 1


def test_the_weight_average_follows_the_live_weights_from_a_bias_corrected_start():
    torch.manual_seed(0)
    model = build_vae(VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=2, hidden=(8,)))
    average = WeightAverage(model, decay=0.999)
    live = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    average.update(step=1)  # early on the average moves most of the way: weight 1 − 2/11
    moved = [(a - b).mean().item() for a, b in zip(average.model.parameters(), live)]
    assert all(m == pytest.approx(1 - 2 / 11, abs=1e-6) for m in moved)
    assert not any(p.requires_grad for p in average.model.parameters())
    off = WeightAverage(model, decay=0.0)
    off.update(step=5)
    assert off.model is None


def test_the_run_clock_reports_the_further_of_epochs_and_time():
    clock = RunClock(max_epochs=10, by_epochs=True, time_budget_s=None)
    assert clock.fraction(2.5) == 0.25 and not clock.out_of_time()
    assert clock.eta(0.0) == math.inf
    timed = RunClock(max_epochs=10_000, by_epochs=False, time_budget_s=0.05)
    time.sleep(0.06)
    assert timed.fraction(1.0) == 1.0 and timed.out_of_time()


def test_the_thread_chooser_is_used_only_for_time_budgeted_cpu_runs():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        cpu = torch.device("cpu")
        assert isinstance(choose_threads(cpu, TrainSettings(epochs=None, time_budget_s=5)), _ThreadChooser)
        assert choose_threads(cpu, TrainSettings(epochs=5)) is None
        assert choose_threads(torch.device("meta"), TrainSettings(epochs=None, time_budget_s=5)) is None
        assert choose_threads(cpu, TrainSettings(epochs=None, time_budget_s=5, cpu_threads=1)) is None
        assert torch.get_num_threads() == 1  # cpu_threads is applied instead
    finally:
        torch.set_num_threads(before)


def test_epoch_sums_weigh_each_step_by_its_batch_size():
    sums = EpochSums()
    step = SimpleNamespace(loss=torch.tensor(2.0), recon=torch.tensor(1.5), kl=torch.tensor(0.5))
    sums.add(step, 3)
    sums.add(SimpleNamespace(loss=torch.tensor(6.0), recon=torch.tensor(5.0), kl=torch.tensor(1.0)), 1)
    assert sums.means() == {"train_loss": 3.0, "train_recon": 2.375, "train_kl": 0.625}
    assert EpochSums().means()["train_loss"] == 0.0


# ---------------------------------------------------------------- β changed while a run trains


def test_changing_beta_mid_run_changes_the_objective_from_the_next_step(digits):
    """The progress callback runs between steps on the training thread, so it can change β at an exact step:
    every later step optimises recon + β_new·KL (its loss is made of them), every earlier one β_old."""
    from vae_core.training import LiveBeta

    beta = LiveBeta(1.0)
    steps = []

    def progress(p):
        if p.kind == "step":
            steps.append(p)
            if p.step == 10:
                beta.set(4.0)

    fit(
        small_config(digits),
        subset(digits, 400),
        replace(FAST, epochs=2, batch_size=16),
        progress=progress,
        beta=beta,
    )
    assert len(steps) > 12
    for p in steps:
        expected = 1.0 if p.step <= 10 else 4.0
        assert p.beta == expected
        assert p.loss == pytest.approx(p.recon + expected * p.kl, rel=1e-5, abs=1e-5)
        assert len(p.kl_per_dim) == 4 and sum(p.kl_per_dim) == pytest.approx(p.kl, rel=1e-4, abs=1e-5)


def test_a_higher_live_beta_squeezes_the_kl(digits):
    """What a class should see: raising β mid-run pulls the KL down (dimensions switch off)."""
    from vae_core.training import LiveBeta

    def run(new_beta: float) -> list:
        beta, kls = LiveBeta(1.0), []

        def progress(p):
            if p.kind == "step" and p.step == 30:
                beta.set(new_beta)
            if p.kind == "epoch":
                kls.append(p.kl)  # the epoch's mean training KL

        fit(
            small_config(digits),
            subset(digits, 600),
            replace(FAST, epochs=4, batch_size=32),
            progress=progress,
            beta=beta,
        )
        return kls

    assert run(8.0)[-1] < 0.7 * run(1.0)[-1]


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), 1e6])
def test_a_live_beta_outside_its_range_is_refused_and_kept(bad):
    from vae_core.errors import InputError
    from vae_core.training import LiveBeta

    beta = LiveBeta(2.0)
    with pytest.raises(InputError, match="β must be a number"):
        beta.set(bad)
    assert beta.get() == 2.0


def test_a_background_run_takes_a_new_beta_and_reports_it(digits):
    from vae_core.explore import TrainingRun

    run = TrainingRun(
        small_config(digits), digits, replace(FAST, epochs=None, time_budget_s=30.0), 0.0
    ).start()
    try:
        deadline = time.monotonic() + 30
        while not run.snapshot().steps and time.monotonic() < deadline:
            time.sleep(0.05)
        run.set_beta(0.0)
        seen = len(run.snapshot().steps)
        while len(run.snapshot().steps) < seen + 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        run.stop()
        run.join(60)
    snap = run.snapshot()
    later = snap.steps[seen + 1 :]
    assert later and all(s["beta"] == 0.0 and s["loss"] == pytest.approx(s["recon"], rel=1e-5) for s in later)
    assert snap.steps[0]["beta"] == 1.0
    assert snap.summary["final_beta"] == 0.0 and len(snap.kl_per_dim) == 4


# ---------------------------------------------------------------- the Train page: β live (AppTest)


@pytest.mark.slow
def test_moving_the_live_beta_slider_changes_the_objective_the_run_reports(app_router):
    """Start a run, move the live β slider to 0 while it trains: the steps after report β = 0 and a loss made
    of the reconstruction alone; the KL-per-dimension bars are drawn."""
    import time

    from streamlit.testing.v1 import AppTest

    from app_helpers import APP, assert_clean, page_path
    from explorer_ui.state import TRAIN_JOB
    from explorer_ui.train_live import W_LIVE_BETA

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(page_path("train"))
    at.query_params.update({"epochs": "2000", "budget": "60", "latent": "4"})  # a link fills the form
    at.run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert_clean(at)
    job = at.session_state[TRAIN_JOB]
    try:
        deadline = time.monotonic() + 60
        while not job.snapshot().steps and time.monotonic() < deadline:
            time.sleep(0.1)
        at.run()
        slider = at.slider(key=W_LIVE_BETA)
        assert slider.value == 1.0
        slider.set_value(0.0).run()
        assert_clean(at)
        seen = len(job.snapshot().steps)
        while len(job.snapshot().steps) < seen + 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        at.run()
        assert at.slider(key=W_LIVE_BETA).value == 0.0  # the slider mirrors the run
        assert any(
            chart.proto.spec and "KL per dimension" in chart.proto.spec for chart in at.get("plotly_chart")
        )
    finally:
        job.stop()
        job.join(60)
    later = job.snapshot().steps[seen + 1 :]
    assert later and all(s["beta"] == 0.0 and s["loss"] == pytest.approx(s["recon"], rel=1e-5) for s in later)
    assert job.snapshot().steps[0]["beta"] == 1.0
