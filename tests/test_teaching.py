"""vae_core.teaching: the numbers the Lesson shows (a point in a posterior cloud, the cloud's draws, draws from
p(x|z), per-dimension KL, class directions) keep their defining properties."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.generate import LATENT_LIMIT
from vae_core.teaching import (
    class_direction,
    decoded_mean,
    kl_terms,
    likelihood_draws,
    posterior_draws,
    reparameterised,
)

MU = np.array([0.5, -1.0, 2.0], np.float32)
LOGVAR = np.log(np.array([0.25, 1.0, 4.0], np.float32))  # σ = 0.5, 1, 2


def test_reparameterised_is_mu_plus_sigma_times_eps():
    assert np.allclose(reparameterised(MU, LOGVAR, np.zeros(3)), MU)
    assert np.allclose(reparameterised(MU, LOGVAR, [1.0, -2.0, 0.5]), MU + np.array([0.5, -2.0, 1.0]))


def test_the_lesson_and_the_model_reparameterise_alike():
    """The Lesson's z = μ + σ ⊙ ε with a given ε is the model's reparameterise with that ε, and the model's
    own draw from a seeded generator is the same as handing it the ε that generator gives."""
    import torch

    from vae_core.models import reparameterise

    eps = np.array([0.3, -1.7, 2.2], np.float32)
    torch_z = reparameterise(torch.from_numpy(MU), torch.from_numpy(LOGVAR), eps=torch.from_numpy(eps))
    assert np.allclose(reparameterised(MU, LOGVAR, eps), torch_z.numpy(), atol=1e-6)
    drawn = reparameterise(torch.from_numpy(MU), torch.from_numpy(LOGVAR), torch.Generator().manual_seed(5))
    same_eps = torch.randn(3, generator=torch.Generator().manual_seed(5)).numpy()
    assert np.allclose(drawn.numpy(), reparameterised(MU, LOGVAR, same_eps), atol=1e-6)
    cloud = posterior_draws(MU, LOGVAR, 4, seed=2)  # the Lesson's cloud: the same ε, the same points
    eps4 = torch.randn((4, 3), generator=torch.Generator().manual_seed(2)).numpy()
    assert np.allclose(cloud, [reparameterised(MU, LOGVAR, e) for e in eps4], atol=1e-6)


def test_reparameterised_clamps_eps_and_refuses_junk():
    far = reparameterised(MU, LOGVAR, [1e9, 0.0, 0.0])
    assert far[0] == pytest.approx(MU[0] + 0.5 * LATENT_LIMIT)
    with pytest.raises(ValueError, match="NaN"):
        reparameterised(MU, LOGVAR, [np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match="3 values"):
        reparameterised(MU, LOGVAR, [0.0, 0.0])


def test_posterior_draws_have_the_cloud_mean_and_spread_and_follow_the_seed():
    draws = posterior_draws(MU, LOGVAR, 1000, seed=1)
    assert draws.shape == (1000, 3)
    assert np.allclose(draws.mean(0), MU, atol=0.2)
    assert np.allclose(draws.std(0), [0.5, 1.0, 2.0], rtol=0.1)
    assert np.array_equal(draws, posterior_draws(MU, LOGVAR, 1000, seed=1))
    assert len(posterior_draws(MU, LOGVAR, 10**9)) == 1024  # capped


def test_kl_terms_vanish_at_the_prior_and_grow_away_from_it():
    assert np.allclose(kl_terms(np.zeros(4), np.zeros(4)), 0.0)
    terms = kl_terms(MU, LOGVAR)
    assert np.all(terms > 0) and terms.shape == (3,)


def test_likelihood_draws_of_a_bernoulli_decoder_are_black_or_white_around_the_mean(small_model):
    z = np.zeros(small_model.config.latent_dim, np.float32)
    draws = likelihood_draws(small_model, z, 400, seed=0)
    assert set(np.unique(draws)) <= {0, 255}
    mean = decoded_mean(small_model, z).astype(np.float64)
    assert np.abs(draws.mean(0) - mean).max() < 40  # 400 coin flips per pixel land near their probability


def test_class_direction_goes_from_one_class_average_to_another():
    means = np.array([[0, 0], [2, 0], [10, 10], [12, 10]], np.float32)
    labels = np.array([0, 0, 1, 1])
    assert np.allclose(class_direction(means, labels, 0, 1), [10, 10])
    with pytest.raises(ValueError, match="no image has label 7"):
        class_direction(means, labels, 0, 7)


def test_posterior_draws_of_read_only_stored_latents_raise_no_torch_warning():
    """The app's stored latents are read-only; torch warns (once per process) when it is handed one without a
    copy, so this runs in a fresh interpreter with warnings as errors."""
    import subprocess
    import sys

    code = (
        "import warnings, numpy as np\n"
        "warnings.simplefilter('error')\n"
        "from vae_core.teaching import posterior_draws, reparameterised\n"
        "mu, logvar = np.zeros(3, np.float32), np.zeros(3, np.float32)\n"
        "mu.flags.writeable = logvar.flags.writeable = False\n"
        "assert posterior_draws(mu, logvar, 4).shape == (4, 3)\n"
        "assert reparameterised(mu, logvar, np.ones(3)).tolist() == [1.0, 1.0, 1.0]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
