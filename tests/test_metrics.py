"""Held-out metrics: the ELBO's parts add up, the IWAE bound is tighter, active units are counted."""

import numpy as np
import pytest

from vae_core.metrics import evaluate


def test_elbo_parts_add_up_and_are_deterministic(small_model, digits):
    images = digits.images[-200:]
    a = evaluate(small_model, images, seed=0)
    assert a["n"] == 200
    assert a["neg_elbo"] == pytest.approx(a["recon"] + a["kl"])
    assert sum(a["kl_per_dim"]) == pytest.approx(a["kl"], rel=1e-6)
    assert 0 <= a["active_units"] <= a["latent_dim"] == 4
    assert evaluate(small_model, images, seed=0)["neg_elbo"] == a["neg_elbo"]


def test_importance_weighted_bound_is_tighter_than_the_elbo(small_model, digits):
    images = digits.images[-200:]
    res = evaluate(small_model, images, iw_samples=32, seed=0)
    assert res["iw_nll"] < res["neg_elbo"]
    assert res["iw_nll"] > 0


def test_a_trained_model_beats_an_untrained_one(small_model, digits):
    from vae_core.models import build_vae

    images = digits.images[-200:]
    untrained = build_vae(small_model.config).eval()
    assert evaluate(small_model, images)["neg_elbo"] < evaluate(untrained, images)["neg_elbo"]


def test_empty_input_is_refused(small_model):
    with pytest.raises(ValueError, match="no images"):
        evaluate(small_model, np.zeros((0, 1, 8, 8), np.float32))
