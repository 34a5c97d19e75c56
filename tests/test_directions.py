"""Directions: principal axes of the encoded means, attribute vectors, analogies; the page renders."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from vae_core.directions import (
    DirectionError,
    analogy,
    analogy_latent,
    axis_strips,
    class_vector,
    group_vector,
    move_along,
    principal_directions,
    steps_along,
)


@pytest.fixture(scope="module")
def shipped():
    from vae_core import DEFAULT_MODEL_PATH
    from vae_core.checkpoint import load_checkpoint

    return load_checkpoint(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="module")
def shipped_means(shipped, digits):
    from vae_core.latents import encode

    return encode(shipped.model, digits.images)[0]


def anisotropic_cloud(n: int = 500, seed: int = 0) -> np.ndarray:
    """Points with known spreads 5, 3, 1, 0.2 along a random rotation, offset from the origin."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    return (rng.normal(size=(n, 4)) * [5.0, 3.0, 1.0, 0.2]) @ rotation.T + [1.0, -2.0, 0.5, 3.0]


# ---------------------------------------------------------------- principal directions


def test_principal_directions_are_orthonormal_and_ordered_by_explained_variance(shipped_means):
    for means in (anisotropic_cloud(), shipped_means):
        pcs = principal_directions(means)
        d = means.shape[1]
        assert pcs.axes.shape == (d, d)
        np.testing.assert_allclose(pcs.axes @ pcs.axes.T, np.eye(d), atol=1e-9)
        assert np.all(np.diff(pcs.explained_variance) <= 1e-12)
        assert pcs.explained_variance_ratio.sum() == pytest.approx(1.0)
        # the reported variance is the data's variance along each axis
        projected = (means - means.mean(axis=0)) @ pcs.axes.T
        np.testing.assert_allclose(
            projected.var(axis=0, ddof=1), pcs.explained_variance, rtol=1e-6, atol=1e-9
        )


def test_principal_directions_find_the_known_axes_of_a_rotated_cloud():
    rng = np.random.default_rng(1)
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    cloud = (rng.normal(size=(4000, 4)) * [5.0, 3.0, 1.0, 0.2]) @ rotation.T
    pcs = principal_directions(cloud, n_components=2)
    assert pcs.axes.shape == (2, 4)
    # the first axis is the rotation's first column (up to sign), the std about 5
    assert abs(pcs.axes[0] @ rotation[:, 0]) > 0.999
    assert pcs.std[0] == pytest.approx(5.0, rel=0.05)
    assert pcs.explained_variance_ratio[0] == pytest.approx(25 / (25 + 9 + 1 + 0.04), rel=0.05)


def test_moving_along_scaled_axes_moves_by_that_many_standard_deviations():
    pcs = principal_directions(anisotropic_cloud())
    start = pcs.mean
    z = move_along(start, pcs.basis(), [2.0, 0.0, -1.0, 0.0])
    offsets = (z - start) @ pcs.axes.T
    np.testing.assert_allclose(offsets, [2.0 * pcs.std[0], 0.0, -pcs.std[2], 0.0], atol=1e-9)
    strips = axis_strips(start, pcs.basis(), [-1.0, 0.0, 1.0])
    assert strips.shape == (4, 3, 4)
    np.testing.assert_allclose(strips[1, 2], start + pcs.std[1] * pcs.axes[1])
    np.testing.assert_allclose(strips[:, 1], np.repeat(start[None], 4, axis=0))


# ---------------------------------------------------------------- attribute vectors and analogies


def test_moving_from_class_a_mean_by_the_full_vector_lands_on_class_b_mean(shipped_means, digits):
    vec = class_vector(shipped_means, digits.labels, 3, 8)
    mean_a = shipped_means[digits.labels == 3].astype(np.float64).mean(axis=0)
    mean_b = shipped_means[digits.labels == 8].astype(np.float64).mean(axis=0)
    path = steps_along(mean_a, vec.vector, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path[0], mean_a, atol=1e-12)
    np.testing.assert_allclose(path[2], mean_b, atol=1e-9)
    np.testing.assert_allclose(path[1], (mean_a + mean_b) / 2, atol=1e-9)
    assert vec.source_count == int(np.sum(digits.labels == 3)) and vec.length > 0


def test_group_vector_uses_each_group_once_and_refuses_empty_or_foreign_groups():
    means = anisotropic_cloud(20)
    vec = group_vector(means, [0, 1, 1, 2], [5])
    np.testing.assert_allclose(vec.source_mean, means[[0, 1, 2]].mean(axis=0))
    np.testing.assert_allclose(vec.source_mean + vec.vector, means[5])
    with pytest.raises(DirectionError, match="group A is empty"):
        group_vector(means, [], [1])
    with pytest.raises(DirectionError, match="outside the dataset"):
        group_vector(means, [0], [20])
    with pytest.raises(DirectionError, match="no labels"):
        class_vector(means, None, 0, 1)
    with pytest.raises(DirectionError, match="no images"):
        class_vector(means, np.zeros(20, dtype=int), 0, 1)


def test_analogy_is_exact_in_z_and_returns_the_nearest_other_images(shipped_means):
    a, b, c = 10, 20, 30
    result = analogy(shipped_means, a, b, c, k=5)
    expected = shipped_means[a].astype(np.float64) - shipped_means[b] + shipped_means[c]
    np.testing.assert_array_equal(result.latent, expected)
    np.testing.assert_array_equal(analogy_latent([1.0, 2.0], [0.5, -1.0], [3.0, 3.0]), [3.5, 6.0])
    distances = np.linalg.norm(shipped_means - expected, axis=1)
    distances[[a, b, c]] = np.inf
    np.testing.assert_array_equal(result.nearest, np.argsort(distances, kind="stable")[:5])
    np.testing.assert_allclose(result.nearest_distance, np.sort(distances)[:5], rtol=1e-5)


def test_bad_inputs_are_refused_with_our_own_error():
    means = anisotropic_cloud(10)
    with pytest.raises(DirectionError, match="at least 2"):
        principal_directions(means[:1])
    with pytest.raises(DirectionError, match="NaN"):
        principal_directions(np.full((3, 2), np.nan))
    with pytest.raises(DirectionError, match="coefficients"):
        move_along(np.zeros(4), np.eye(4), [1.0, 2.0])
    with pytest.raises(DirectionError, match="start point"):
        move_along([np.inf, 0, 0, 0], np.eye(4), np.zeros(4))
    with pytest.raises(DirectionError, match="outside"):
        analogy(means, 0, 1, 99)


# ---------------------------------------------------------------- the Directions page (AppTest)


@pytest.fixture()
def directions_page(app_router):
    from app_helpers import goto, start_app

    return goto(start_app(), "directions")


def test_directions_page_renders_the_principal_directions(directions_page):
    from app_helpers import texts

    at = directions_page
    assert at.title[0].value == "Directions"
    assert [t.label for t in at.tabs] == [
        "Principal directions",
        "Attribute vectors & analogy",
        "Linear probes",
        "Augmentation",
    ]
    chart = next(c for c in at.get("plotly_chart") if c.proto.spec)
    bars = json.loads(chart.proto.spec)["data"][0]
    heights = np.frombuffer(
        base64.b64decode(bars["y"]["bdata"]), dtype=bars["y"]["dtype"]
    )  # plotly's typed array
    assert bars["x"] == [f"PC {k}" for k in range(1, 9)]
    assert np.all(np.diff(heights) <= 1e-9) and 30 < heights.sum() <= 100.0 + 1e-6
    assert "of the variance" in texts(at)
    pad = at.session_state["directions_pad_values"]
    assert pad == [0.0] * 8  # the sliders start at the chosen start point
    at.radio(key="directions_start").set_value("image").run()
    assert not at.exception


def test_directions_page_attribute_vector_and_analogy_redraw(directions_page):
    from app_helpers import image_urls, texts

    at = directions_page
    before = image_urls(at)
    at.slider(key="directions_alpha").set_value(0.0).run()
    assert not at.exception and image_urls(at) != before
    at.selectbox(key="directions_class_b").set_value(7).run()
    assert not at.exception
    assert at.slider(key="directions_alpha").label == "α: start + α·(class 0 → class 7)"
    analogy_urls = image_urls(at)
    at.number_input(key="directions_an_c").set_value(40).run()
    assert not at.exception
    after = image_urls(at)
    assert after != analogy_urls and len(after) == len(analogy_urls)
    assert "Nearest data images to a − b + c" in texts(at)


def test_directions_page_probe_table_and_augmentation(directions_page, media):
    import io

    from app_helpers import download_url

    at = directions_page
    assert not at.get("arrow_data_frame")  # probes only run when asked
    at.button(key="directions_probe_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["from"]) == {
        "latent μ (this model)",
        "raw pixels",
        "plain-autoencoder twin (β = 0)",
        "untrained encoder (same architecture)",
    }
    latent = table[table["from"] == "latent μ (this model)"].iloc[0]
    assert latent["held-out score"] > 3 * latent["chance"]
    at.slider(key="directions_aug_k").set_value(3).run()
    assert not at.exception
    payload = media.bytes_for_url(download_url(at, "directions_aug_download"))
    with np.load(io.BytesIO(payload)) as arrays:
        class_size = 178  # digits has 178 zeros (class 0, the default)
        assert arrays["images"].shape == (class_size * 4, 8, 8)
        assert set(arrays["labels"].tolist()) == {0}


def test_directions_page_groups_from_map_selections(directions_page):
    from app_helpers import texts

    at = directions_page
    assert len(at.get("latex")) >= 2  # the teaching panels carry their formulas
    at.radio(key="directions_attr_mode").set_value("map selections").run()
    assert not at.exception and "group A is empty" in texts(at)
    at.session_state["selection"] = [0, 10, 20]  # zeros, as picked on the map
    at.run()
    at.button(key="directions_set_a").click().run()
    at.session_state["selection"] = [1, 11, 21]  # ones
    at.run()
    at.button(key="directions_set_b").click().run()
    assert not at.exception
    assert "Group A: 3 images · group B: 3 images" in texts(at)
    assert at.slider(key="directions_alpha").label == "α: start + α·(group A → group B)"
    at.radio(key="directions_aug_source").set_value("the map selection").run()
    assert not at.exception
    captions = [img.caption for element in at.get("image") for img in element.proto.imgs]
    assert any("of 3 images selected on the map" in c for c in captions), captions
