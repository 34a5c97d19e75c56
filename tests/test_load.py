"""Many users at once: the shared model is safe across threads, and a short load run against a real server
(app_drivers/load_client.py, the same client as benchmarks/bench_load.py) sees no errors."""

from __future__ import annotations

import hashlib
import random
import threading

import numpy as np
import pytest
import torch

from vae_core import DEFAULT_MODEL_PATH
from vae_core.checkpoint import load_checkpoint, model_fingerprint
from vae_core.generate import decode_to_uint8, interpolate, sample_latents
from vae_core.latents import encode
from vae_core.sliders import traversal_strips

THREADS = 8


@pytest.fixture(scope="module")
def shared():
    """The shipped model, loaded once, as st.cache_resource hands it to every session."""
    return load_checkpoint(DEFAULT_MODEL_PATH)


def _jobs(latent_dim: int, images: np.ndarray) -> list[tuple[str, object]]:
    """Work a page does with the shared model: decode prior samples, a path, traversal strips, encode images."""
    jobs: list[tuple[str, object]] = []
    for seed in range(6):
        jobs.append(("decode", sample_latents(1 + 7 * seed, latent_dim, 1.0, seed)))
    path = interpolate(
        sample_latents(1, latent_dim, seed=1)[0], sample_latents(1, latent_dim, seed=2)[0], 24, "spherical"
    )
    jobs.append(("decode", path))
    jobs.append(("strips", sample_latents(1, latent_dim, seed=3)[0].numpy()))
    jobs.append(("encode", images[:300]))
    jobs.append(("encode", images[300:700]))
    return jobs


def _run(model, job: tuple[str, object]) -> str:
    """One job's output, hashed (so results from threads compare cheaply and exactly)."""
    kind, arg = job
    if kind == "decode":
        out = decode_to_uint8(model, arg)
    elif kind == "strips":
        out = traversal_strips(model, arg, list(range(model.config.latent_dim)))
    else:
        out = np.concatenate(encode(model, arg), axis=1)
    return hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()


@pytest.mark.parametrize("intra_op_threads", [1, 2])
def test_concurrent_use_of_one_shared_model_matches_sequential(shared, digits, intra_op_threads):
    """8 threads hammer one model (decode, traversal strips, encode) in shuffled orders: every result is
    bit-identical to the sequential one, and the weights and eval mode are untouched."""
    model = shared.model
    before = model_fingerprint(model)
    jobs = _jobs(shared.config.latent_dim, digits.images)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(intra_op_threads)
    try:
        expected = [_run(model, job) for job in jobs]
        mismatches: list[str] = []
        failures: list[BaseException] = []
        start = threading.Barrier(THREADS)

        def worker(seed: int) -> None:
            order = list(range(len(jobs))) * 3
            random.Random(seed).shuffle(order)
            try:
                start.wait()
                for i in order:
                    if _run(model, jobs[i]) != expected[i]:
                        mismatches.append(f"thread {seed}, job {i} ({jobs[i][0]})")
            except BaseException as exc:  # reported below; a thread cannot raise into the test
                failures.append(exc)

        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        torch.set_num_threads(previous_threads)
    assert not failures, failures[:3]
    assert not mismatches, mismatches[:5]
    assert model_fingerprint(model) == before
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())


def test_the_app_cache_hands_every_session_the_same_read_only_model():
    """explorer_ui.state caches one model object per checkpoint: eval mode, no gradients (so no session can
    train or mutate it by accident)."""
    from explorer_ui import state

    first = state._checkpoint(state.DEFAULT_MODEL_KEY, None)
    again = state._checkpoint(state.DEFAULT_MODEL_KEY, None)
    assert first is again
    assert not first.model.training
    assert not any(p.requires_grad for p in first.model.parameters())


@pytest.mark.slow
@pytest.mark.parametrize(
    "browser_decoding, action_think_s",
    [(False, None), (True, None), (True, (0.3, 0.6))],
    ids=["server-decoding", "browser-decoding", "browser-decoding-paced"],
)
def test_short_load_run_has_no_errors_and_answers_every_session(tmp_path, browser_decoding, action_think_s):
    """4 sessions × 10 s against one `streamlit run explorer_app.py` (the bench runs 20 × 60 s), with the pads
    sending every move (server decoding) or only released values (browser decoding), actions back to back or
    paced (a pause before each)."""
    from app_drivers.load_client import run_load

    figures = run_load(
        sessions=4,
        duration_s=10,
        log_path=tmp_path / "server.log",
        browser_decoding=browser_decoding,
        action_think_s=action_think_s,
    )
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert figures["load_errors"] == 0, (figures["load_error_examples"], log[-3000:])
    assert figures["load_sessions_answered"] == 4
    assert figures["load_requests"] >= 4 * 3  # every user got at least one page and its actions answered
    assert figures["load_error_alerts"] == 0
    assert figures["load_sidebar_missing"] == 0
    assert "Traceback" not in log, log[-3000:]
