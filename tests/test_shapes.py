"""The shapes dataset: deterministic sprites whose five factors vary independently and move the pixels they
name; factors in .npz files round-trip and hostile ones are refused with a DatasetError."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.data import DEFAULT_LIMITS, DatasetError, load_dataset, load_uploaded
from vae_core.shapes import FACTOR_NAMES, POSITION_LEVELS, SHAPE_NAMES, generate_shapes, render_sprites


@pytest.fixture(scope="module")
def shapes():
    """2,000 sprites at 32×32 (seed 0)."""
    return generate_shapes(2000, 32, seed=0)


def _row(shape=0, scale=1.0, rotation=0.0, x=0.5, y=0.5) -> np.ndarray:
    return np.array([[shape, scale, rotation, x, y]], dtype=np.float64)


def _centroid(image: np.ndarray) -> tuple[float, float]:
    """(x, y) centre of mass of one (1, H, W) image."""
    h, w = image.shape[1:]
    total = image.sum()
    return float((image[0].sum(0) * np.arange(w)).sum() / total), float(
        (image[0].sum(1) * np.arange(h)).sum() / total
    )


def test_same_seed_same_images_and_another_seed_differs(shapes):
    again = generate_shapes(2000, 32, seed=0)
    other = generate_shapes(2000, 32, seed=1)
    np.testing.assert_array_equal(shapes.images, again.images)
    np.testing.assert_array_equal(shapes.factors, again.factors)
    assert not np.array_equal(shapes.factors, other.factors)


def test_spec_gives_images_labels_factors_and_names():
    dataset = load_dataset("shapes:300:48")
    assert dataset.images.shape == (300, 1, 48, 48) and dataset.images.dtype == np.float32
    assert dataset.images.min() >= 0.0 and dataset.images.max() <= 1.0
    assert dataset.factors.shape == (300, 5) and dataset.factor_names == FACTOR_NAMES
    assert dataset.class_names == list(SHAPE_NAMES)
    np.testing.assert_array_equal(dataset.labels, dataset.factors[:, 0].astype(int))
    assert load_dataset("shapes").images.shape[1:] == (1, 32, 32)


def test_factors_are_uncorrelated_and_every_level_appears(shapes):
    correlations = np.corrcoef(shapes.factors.T.astype(np.float64))
    off_diagonal = np.abs(correlations - np.eye(len(FACTOR_NAMES)))
    assert off_diagonal.max() < 0.08  # 2,000 draws: |r| of independent factors stays near 0
    assert set(np.unique(shapes.factors[:, 0])) == set(range(len(SHAPE_NAMES)))
    assert len(np.unique(shapes.factors[:, 3])) == len(POSITION_LEVELS)


def test_every_sprite_is_inside_the_frame(shapes):
    edges = np.concatenate(
        [
            shapes.images[:, 0, 0],
            shapes.images[:, 0, -1],
            shapes.images[:, 0, :, 0],
            shapes.images[:, 0, :, -1],
        ],
        axis=1,
    )
    assert edges.max() == 0.0
    assert (shapes.images.reshape(len(shapes.images), -1).max(1) > 0.9).all()  # nothing invisible


def test_x_moves_the_centroid_right_and_y_moves_it_down():
    xs = [_centroid(render_sprites(_row(shape=1, x=x))[0])[0] for x in (0.0, 0.5, 1.0)]
    ys = [_centroid(render_sprites(_row(shape=1, y=y))[0])[1] for y in (0.0, 0.5, 1.0)]
    assert xs[0] + 5 < xs[1] < xs[2] - 5
    assert ys[0] + 5 < ys[1] < ys[2] - 5
    still = [_centroid(render_sprites(_row(shape=1, x=x))[0])[1] for x in (0.0, 1.0)]
    assert abs(still[0] - still[1]) < 0.05  # x leaves the vertical position alone


def test_scale_grows_the_area_and_rotation_turns_the_ellipse():
    areas = [render_sprites(_row(shape=0, scale=s))[0].sum() for s in (0.5, 0.75, 1.0)]
    assert areas[0] * 1.8 < areas[1] < areas[2] / 1.4  # area ∝ scale²
    flat, turned = render_sprites(np.concatenate([_row(shape=1, rotation=0.0), _row(shape=1, rotation=81.0)]))

    def extent(image: np.ndarray) -> tuple[int, int]:  # (columns, rows) with ink
        return int((image[0].max(0) > 0.5).sum()), int((image[0].max(1) > 0.5).sum())

    assert extent(flat)[0] > 1.5 * extent(flat)[1]  # a 2:1 ellipse lying flat is wide
    assert extent(turned)[1] > 1.5 * extent(turned)[0]  # turned 81°, it is tall


def test_the_four_shapes_differ():
    images = render_sprites(np.concatenate([_row(shape=s) for s in range(len(SHAPE_NAMES))]))
    flat = images.reshape(len(images), -1)
    for i in range(len(flat)):
        for j in range(i + 1, len(flat)):
            assert np.abs(flat[i] - flat[j]).sum() > 5, (SHAPE_NAMES[i], SHAPE_NAMES[j])


@pytest.mark.parametrize(
    "spec", ["shapes:0", "shapes:99999999", "shapes:100:8", "shapes:100:65", "shapes:x", "shapes:10:32:1"]
)
def test_bad_shapes_specs_are_refused(spec):
    with pytest.raises(DatasetError, match="shapes"):
        load_dataset(spec)


# ---------------------------------------------------------------- factors in .npz files


def _npz(path, **arrays) -> str:
    np.savez(path, **arrays)
    return f"npz:{path}"


def test_npz_factors_round_trip(tmp_path, shapes):
    spec = _npz(
        tmp_path / "mine.npz",
        images=(shapes.images[:50, 0] * 255).astype(np.uint8),
        factors=shapes.factors[:50],
        factor_names=np.array(FACTOR_NAMES),
    )
    loaded = load_dataset(spec)
    np.testing.assert_allclose(loaded.factors, shapes.factors[:50])
    assert loaded.factor_names == FACTOR_NAMES
    upload = load_uploaded("mine.npz", (tmp_path / "mine.npz").read_bytes())
    np.testing.assert_allclose(upload.factors, shapes.factors[:50])


def test_npz_factors_without_names_get_numbered_names_and_1d_is_one_factor(tmp_path):
    images = np.zeros((10, 8, 8), np.uint8)
    assert load_dataset(_npz(tmp_path / "a.npz", images=images, factors=np.arange(10))).factor_names == (
        "factor 0",
    )
    assert load_dataset(_npz(tmp_path / "b.npz", images=images)).factors is None


@pytest.mark.parametrize(
    "factors, names, message",
    [
        (np.full((10, 2), np.nan), None, "NaN"),
        (np.array([[1.0, np.inf]] * 10), None, "infinite"),
        (np.full((10, 2), 1e300), None, "too large"),
        (np.zeros((9, 2)), None, "9"),
        (np.zeros((10, 2, 2)), None, "shape"),
        (np.array([["a", "b"]] * 10), None, "dtype"),
        (np.zeros((10, DEFAULT_LIMITS.max_factors + 1)), None, "factor columns"),
        (np.zeros((10, 0)), None, "factor columns"),
        (np.zeros((10, 2)), np.array(["only one"]), "one name per factor"),
        (np.zeros((10, 2)), np.array([1, 2]), "string"),
        (None, np.array(["x", "y"]), "without a 'factors'"),
    ],
)
def test_hostile_npz_factors_are_refused(tmp_path, factors, names, message):
    arrays = {"images": np.zeros((10, 8, 8), np.uint8)}
    if factors is not None:
        arrays["factors"] = factors
    if names is not None:
        arrays["factor_names"] = names
    with pytest.raises(DatasetError, match="(?i)" + message):
        load_dataset(_npz(tmp_path / "bad.npz", **arrays))
