"""The dataset in latent space at real size: batched encoding with progress, scoring from stored latents,
selection order, placing new codes on a t-SNE map, and the measured t-SNE estimate."""

import warnings

import numpy as np
import pytest
import torch

from vae_core.latents import centre_first, encode, image_scores, place_on_map
from vae_core.projection import estimate_tsne_seconds, exact_neighbours


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((700, 1, 12, 12), dtype=np.float32)


def test_encoding_in_batches_gives_the_same_latents_and_reports_progress_to_one(conv_model, images):
    calls = []
    mu, logvar = encode(conv_model, images, batch_size=128, progress=lambda f, m: calls.append((f, m)))
    with torch.inference_mode():
        whole_mu, whole_logvar = conv_model.encode(torch.from_numpy(images))
    np.testing.assert_allclose(mu, whole_mu.numpy(), atol=1e-5)
    np.testing.assert_allclose(logvar, whole_logvar.numpy(), atol=1e-5)
    fractions = [f for f, _ in calls]
    assert len(calls) == 6 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "700 / 700 images" in calls[-1][1] and "s left" in calls[0][1]


def test_scores_from_stored_latents_equal_scores_that_encode_again(conv_model, images):
    fresh = image_scores(conv_model, images)
    reused = image_scores(conv_model, images, encoded=encode(conv_model, images))
    for part in ("recon", "kl", "neg_elbo"):
        np.testing.assert_allclose(reused[part], fresh[part], rtol=1e-5)
    np.testing.assert_allclose(fresh["neg_elbo"], fresh["recon"] + fresh["kl"], rtol=1e-6)
    with pytest.raises(ValueError, match="encoded latents"):
        image_scores(conv_model, images[:10], encoded=encode(conv_model, images[:9]))


def test_a_box_shows_its_core_first_and_stragglers_last():
    rng = np.random.default_rng(1)
    coords = np.concatenate([rng.normal(0, 0.1, (30, 2)), [[5.0, 5.0], [-4.0, 3.0]]])
    selection = [30, 31] + list(range(30))  # the stragglers came first in index order
    ordered = centre_first(coords, selection)
    assert sorted(ordered.tolist()) == sorted(selection)
    assert set(ordered[-2:].tolist()) == {30, 31}
    assert centre_first(coords, []).size == 0


def test_new_codes_land_among_their_latent_neighbours_on_the_map():
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0]])
    latents = np.concatenate([c + rng.normal(0, 0.3, (50, 3)) for c in centres]).astype(np.float32)
    coords = np.repeat(np.array([[-20.0, 0], [20, 0], [0, 30]]), 50, axis=0) + rng.normal(0, 1, (150, 2))
    placed = place_on_map(latents, coords, centres)
    for row, expected in enumerate([[-20.0, 0], [20, 0], [0, 30]]):
        assert np.linalg.norm(placed[row] - expected) < 3.0


def test_exact_neighbours_match_a_full_distance_matrix_and_skip_self():
    points = np.random.default_rng(3).normal(size=(300, 4)).astype(np.float32)
    idx, dist = exact_neighbours(points, 7, chunk=64)
    full = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :7], rtol=1e-4, atol=1e-4)


def test_tsne_estimate_grows_with_the_point_count():
    rng = np.random.default_rng(4)
    small, big = rng.normal(size=(2_000, 8)), rng.normal(size=(20_000, 8))
    assert 0 < estimate_tsne_seconds(small) < estimate_tsne_seconds(big)


def test_read_only_stored_arrays_are_scored_without_warnings_or_changes(conv_model, images):
    stored = tuple(np.array(a) for a in encode(conv_model, images))
    frozen_images = images.copy()
    for array in (*stored, frozen_images):
        array.flags.writeable = False  # as the app's shared cache keeps them
    expected = image_scores(conv_model, images, encoded=tuple(a.copy() for a in stored))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's "The given NumPy array is not writable" would fail here
        scores = image_scores(conv_model, frozen_images, batch_size=128, encoded=stored)
        again = encode(conv_model, frozen_images, batch_size=128)
    for part in ("recon", "kl", "neg_elbo"):
        np.testing.assert_allclose(scores[part], expected[part], rtol=1e-6)
    np.testing.assert_allclose(again[0], stored[0], atol=1e-6)
    np.testing.assert_array_equal(frozen_images, images)


def test_long_passes_give_the_plain_models_results_and_leave_the_shared_model_alone(conv_model):
    many = np.random.default_rng(3).random((5 * 256, 1, 12, 12), dtype=np.float32)
    before = {k: v.clone() for k, v in conv_model.state_dict().items()}
    mu, logvar = encode(conv_model, many)
    scores = image_scores(conv_model, many, encoded=(mu, logvar))  # over 4 batches: a channels-last copy
    with torch.inference_mode():
        whole_mu, whole_logvar = conv_model.encode(torch.from_numpy(many))
        recon = conv_model.recon_nll(conv_model.decode_logits(whole_mu), torch.from_numpy(many))
    np.testing.assert_allclose(mu, whole_mu.numpy(), atol=1e-5)
    np.testing.assert_allclose(logvar, whole_logvar.numpy(), atol=1e-5)
    np.testing.assert_allclose(scores["recon"], recon.numpy(), rtol=1e-5)
    for name, value in conv_model.state_dict().items():
        assert value.is_contiguous() and torch.equal(value, before[name]), name
