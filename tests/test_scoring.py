"""Background anomaly scoring: the same scores as one pass, a preview that is a fair random sample while it
fills, and failures reported as a message instead of a crashed server thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vae_core import scoring
from vae_core.errors import InputError
from vae_core.latents import encode, image_scores
from vae_core.scoring import ScoringJob, scoring_order


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((1100, 1, 12, 12), dtype=np.float32)


def test_a_finished_job_gives_every_image_the_score_of_a_plain_pass(conv_model, images):
    encoded = encode(conv_model, images)
    job = ScoringJob(conv_model, images, encoded, batch_size=100).start()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.finished and snap.error is None and snap.message == "Scoring 1,100 / 1,100 images"
    plain = image_scores(conv_model, images, encoded=encoded)
    for part, values in snap.full().items():
        np.testing.assert_allclose(values, plain[part], rtol=1e-4, atol=1e-3)


def test_the_preview_is_a_random_sample_and_its_scores_belong_to_its_images(conv_model, images, monkeypatch):
    gate, reached = threading.Event(), threading.Event()
    original = scoring.score_batch
    calls = []

    def held_after_three(*args):
        calls.append(1)
        if len(calls) == 4:  # three batches scored: hold the job there
            reached.set()
            gate.wait(30)
        return original(*args)

    monkeypatch.setattr(scoring, "score_batch", held_after_three)
    encoded = encode(conv_model, images)
    job = ScoringJob(conv_model, images, encoded, batch_size=100).start()
    assert reached.wait(30)
    snap = job.snapshot()
    gate.set()
    assert snap.done == 300 and not snap.finished and "300 / 1,100 images" in snap.message
    assert len(set(snap.indices.tolist())) == 300
    runs = snap.indices.reshape(3, 100)
    assert (np.diff(runs, axis=1) == 1).all()  # three runs of consecutive images...
    assert sorted(runs[:, 0].tolist()) != [0, 100, 200]  # ...drawn from the whole set, not its first 300
    plain = image_scores(conv_model, images, encoded=encoded)
    np.testing.assert_allclose(snap.scores["neg_elbo"], plain["neg_elbo"][snap.indices], rtol=1e-4, atol=1e-3)
    with pytest.raises(RuntimeError, match="not finished"):
        snap.full()
    assert job.wait(60) and job.snapshot().finished


def test_the_scoring_order_is_a_seeded_permutation_of_consecutive_runs():
    order = scoring_order(1000, seed=3, block=64)
    assert sorted(order.tolist()) == list(range(1000))
    assert np.array_equal(order, scoring_order(1000, seed=3, block=64))
    assert not np.array_equal(order, np.arange(1000))
    starts = order[::64]
    assert set(starts.tolist()) == set(range(0, 1000, 64))  # each batch is one run starting on a block
    assert order[-40:].tolist() == list(range(960, 1000))  # the short remainder run comes last
    assert not np.array_equal(order, scoring_order(1000, seed=4, block=64))


def test_a_failure_inside_the_job_is_reported_not_raised(conv_model, images, monkeypatch):
    def broken(*args):
        raise MemoryError("no room for this batch")

    monkeypatch.setattr(scoring, "score_batch", broken)
    job = ScoringJob(conv_model, images, encode(conv_model, images)).start()
    assert job.wait(30)
    snap = job.snapshot()
    assert not snap.finished and "no room for this batch" in snap.error


def test_latents_of_another_size_are_refused_before_any_work(conv_model, images):
    with pytest.raises(InputError, match="encoded latents"):
        ScoringJob(conv_model, images[:10], encode(conv_model, images[:9]))
