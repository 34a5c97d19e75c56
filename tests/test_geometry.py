"""vae_core.geometry: the pull-back metric and magnification (closed forms), geodesics (endpoints, never
longer than the straight line, seeded), the aggregate posterior's densities and holes; pages and CLI."""

from __future__ import annotations

import io
import json
import unittest.mock

import numpy as np
import pytest
import torch

from vae_core import DEFAULT_MODEL_PATH
from vae_core import geometry as geo
from vae_core.latents import encode
from vae_core.projection import pca_2d


@pytest.fixture(scope="module")
def shipped():
    from vae_core.checkpoint import load_checkpoint

    return load_checkpoint(DEFAULT_MODEL_PATH).model


@pytest.fixture(scope="module")
def shipped_latents(shipped, digits):
    return encode(shipped, digits.images)


# ---------------------------------------------------------------- metric and magnification


def test_linear_decoder_magnification_is_the_determinant_restricted_to_the_plane():
    gen = torch.Generator().manual_seed(1)
    matrix = torch.randn(30, 5, generator=gen, dtype=torch.float64).float()  # f(z) = A z + b, P = 30, D = 5
    offset = torch.randn(30, generator=gen)

    def linear(z):
        return z @ matrix.T + offset

    basis, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(5, 2)))
    basis = basis.T.astype(np.float32)  # (2, 5) orthonormal rows
    points = np.random.default_rng(3).normal(size=(7, 5)).astype(np.float32)
    a = matrix.double().numpy()
    restricted = a @ basis.T.astype(np.float64)  # A P, (30, 2)
    expected = np.sqrt(np.linalg.det(restricted.T @ restricted))
    got = geo.plane_magnification(linear, points, basis)
    np.testing.assert_allclose(got, np.full(7, expected), rtol=1e-4)  # the same everywhere: a flat decoder
    full = geo.magnification(linear, points)
    np.testing.assert_allclose(full, np.full(7, np.sqrt(np.linalg.det(a.T @ a))), rtol=1e-3)


def test_pullback_metric_is_symmetric_positive_semidefinite_on_the_shipped_model(shipped, shipped_latents):
    mu, _ = shipped_latents
    metric = geo.pullback_metric(shipped, mu[:16]).double()
    assert metric.shape == (16, 8, 8)
    torch.testing.assert_close(metric, metric.transpose(1, 2), rtol=0, atol=1e-6)
    eigenvalues = torch.linalg.eigvalsh(metric)
    assert eigenvalues.min() > -1e-6 * eigenvalues.max()


def test_plane_magnification_agrees_with_the_full_metric(shipped, shipped_latents):
    mu, _ = shipped_latents
    pca = pca_2d(mu)
    metric = geo.pullback_metric(shipped, mu[:10]).double().numpy()
    p = pca.components.astype(np.float64)
    expected = np.sqrt(np.linalg.det(p @ metric @ p.T))
    np.testing.assert_allclose(geo.plane_magnification(shipped, mu[:10], pca.components), expected, rtol=1e-3)


def test_magnification_grid_covers_the_map_and_varies(shipped, shipped_latents):
    pca = pca_2d(shipped_latents[0])
    grid = geo.magnification_grid(shipped, pca, side=16)
    assert grid.values.shape == (16, 16) and np.isfinite(grid.values).all() and (grid.values >= 0).all()
    assert grid.xs[0] < pca.coords[:, 0].min() and grid.xs[-1] > pca.coords[:, 0].max()
    assert grid.values.max() > 3 * grid.values.min()  # the decoder stretches some regions more than others


def test_wrong_latent_size_is_refused_with_a_message(shipped):
    with pytest.raises(ValueError, match="shape"):
        geo.pullback_metric(shipped, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="endpoints"):
        geo.geodesic(shipped, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        geo.geodesic(shipped, np.full(8, np.nan), np.ones(8))


# ---------------------------------------------------------------- curves and geodesics


def test_curve_length_of_a_constant_path_is_zero_and_adds_up_along_a_path(shipped):
    z = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    assert geo.curve_length(shipped, np.repeat(z[:1], 4, 0)) == 0.0
    whole = geo.curve_length(shipped, z)
    assert whole == pytest.approx(
        geo.curve_length(shipped, z[:3]) + geo.curve_length(shipped, z[2:]), rel=1e-5
    )
    steps = geo.curve_lengths(shipped, z)
    assert geo.curve_energy(shipped, z) == pytest.approx(float((steps**2).sum()), rel=1e-6)


def test_geodesics_keep_their_endpoints_and_are_never_longer_than_the_straight_line(shipped, shipped_latents):
    mu, logvar = shipped_latents
    off_data = geo.off_data_scale(mu, logvar)
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(20):
        i, j = rng.choice(len(mu), size=2, replace=False)
        result = geo.geodesic(shipped, mu[i], mu[j], steps=16, off_data=off_data, iterations=40)
        np.testing.assert_array_equal(result.path[0], mu[i])
        np.testing.assert_array_equal(result.path[-1], mu[j])
        assert result.length <= result.linear_length + 1e-6
        assert result.length == pytest.approx(geo.curve_length(shipped, result.path, off_data), rel=1e-4)
        ratios.append(result.length / result.linear_length)
    assert np.median(ratios) < 0.99  # the optimiser does shorten most paths, not only keep the line


def test_geodesic_is_the_same_for_the_same_seed(shipped, shipped_latents):
    mu, logvar = shipped_latents
    off_data = geo.off_data_scale(mu, logvar)
    first = geo.geodesic(shipped, mu[0], mu[5], steps=12, off_data=off_data, iterations=25, seed=3)
    again = geo.geodesic(shipped, mu[0], mu[5], steps=12, off_data=off_data, iterations=25, seed=3)
    other = geo.geodesic(shipped, mu[0], mu[5], steps=12, off_data=off_data, iterations=25, seed=4)
    np.testing.assert_array_equal(first.path, again.path)
    assert not np.array_equal(first.path, other.path)


def test_resampling_a_path_keeps_its_ends_and_stays_on_it():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]], np.float32)
    more = geo.resample_path(path, 5)  # index 0, 0.5, 1, 1.5, 2 along the polyline
    np.testing.assert_allclose(more, [[0, 0], [0.5, 0], [1, 0], [1, 1], [1, 2]], atol=1e-6)
    same = geo.resample_path(path, 3)
    np.testing.assert_array_equal(same, path)
    assert geo.resample_path(path, 2).tolist() == [[0, 0], [1, 2]]
    with pytest.raises(geo.InputError):
        geo.resample_path(path[:1], 4)


def test_a_long_interpolation_uses_the_solved_geodesic_resampled_and_stays_shorter_than_the_line(media):
    """More frames than the app solves for (APP_GEODESIC_POINTS): the frames follow the solved path, and a
    change of frame count beyond it solves nothing new."""
    from app_helpers import assert_clean, goto, start_app

    at = goto(start_app(), "interpolate")
    at.number_input(key="interp_w_end").set_value(30).run()
    at.radio(key="interp_method").set_value("geodesic").run()
    at.slider(key="interp_steps").set_value(40).run()
    assert_clean(at)
    assert any(c.startswith("40 frames") for element in at.get("image") for c in element.captions)
    lengths = dict(
        zip(at.dataframe[0].value["path"], at.dataframe[0].value["length in the geodesic's metric"])
    )
    assert lengths["geodesic"] <= lengths["linear"] + 1e-3
    with unittest.mock.patch("vae_core.geometry.geodesic", side_effect=AssertionError("solved again")):
        at.slider(key="interp_steps").set_value(47).run()
        assert_clean(at)
        assert any(c.startswith("47 frames") for element in at.get("image") for c in element.captions)
        at.slider(key="interp_steps").set_value(5).run()  # fewer frames than solved points: resampled too
        assert_clean(at)
        assert any(c.startswith("5 frames") for element in at.get("image") for c in element.captions)


def test_off_data_scale_is_small_on_the_data_and_large_far_from_it(shipped_latents):
    mu, logvar = shipped_latents
    scale = geo.off_data_scale(mu, logvar)
    with torch.no_grad():
        on = scale(torch.from_numpy(mu[:200]))
        far = scale(torch.full((5, 8), 6.0))
    assert float(torch.median(on)) < 0.15 * geo.OFF_DATA_SIGMA
    assert float(far.min()) > 0.95 * geo.OFF_DATA_SIGMA


# ---------------------------------------------------------------- aggregate posterior


def test_aggregate_log_density_is_the_mixture_of_the_encoded_gaussians(shipped_latents):
    mu, logvar = shipped_latents
    post = geo.aggregate_posterior(mu[:50], logvar[:50])
    z = np.random.default_rng(1).normal(size=(7, 8))
    var = np.exp(logvar[:50].astype(np.float64))
    log_parts = -0.5 * (((z[:, None] - mu[None, :50]) ** 2 / var).sum(2) + np.log(2 * np.pi * var).sum(1))
    expected = np.log(np.exp(log_parts).mean(1))
    got = post.log_density(torch.from_numpy(z), max_elements=100).numpy()  # several chunks
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_plane_density_integrates_to_one_on_its_grid(shipped_latents):
    mu, logvar = shipped_latents
    pca = pca_2d(mu)
    density = geo.plane_density(pca, mu, logvar, side=64)
    assert density.values.sum() * density.cell_area == pytest.approx(1.0, abs=0.02)


def test_dimension_densities_integrate_to_one_and_the_prior_is_the_standard_normal(shipped_latents):
    dens = geo.dimension_densities(*shipped_latents)
    step = dens.grid[1] - dens.grid[0]
    np.testing.assert_allclose(dens.aggregate.sum(1) * step, 1.0, atol=0.02)
    assert dens.prior.max() == pytest.approx(1 / np.sqrt(2 * np.pi), rel=1e-6)


def test_holes_are_the_prior_draws_with_least_aggregate_posterior_mass(shipped, shipped_latents):
    holes = geo.prior_holes(shipped, *shipped_latents, k=6, n_draws=300, seed=1)
    assert holes.hole_images.shape == (6, 8, 8) and holes.typical_images.shape == (6, 8, 8)
    assert np.all(np.diff(holes.hole_log_q) >= 0)
    assert holes.hole_log_q.max() <= np.sort(holes.draws_log_q)[5] + 1e-6
    assert holes.hole_log_q.max() < np.median(holes.typical_log_q)


# ---------------------------------------------------------------- command line


def test_cli_geodesic_prints_the_three_lengths_and_writes_a_gif(tmp_path, capsys):
    from vae_core.cli import main

    out = tmp_path / "geo.gif"
    code = main(
        [
            "geodesic",
            str(DEFAULT_MODEL_PATH),
            "--dataset",
            "digits",
            "--start",
            "3",
            "--end",
            "17",
            "--steps",
            "12",
            "--iterations",
            "30",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("linear_length", "spherical_length", "geodesic_length", "seconds", "geodesic_image_length"):
        assert isinstance(report[key], float), key
    assert report["geodesic_length"] <= report["linear_length"]
    assert out.read_bytes()[:6] in (b"GIF87a", b"GIF89a")


def test_cli_geodesic_refuses_an_index_outside_the_dataset(capsys):
    from vae_core.cli import main

    assert (
        main(["geodesic", str(DEFAULT_MODEL_PATH), "--dataset", "digits", "--start", "0", "--end", "99999"])
        == 2
    )
    assert "outside the dataset" in capsys.readouterr().err


def test_cli_magnification_writes_a_heat_map(tmp_path, capsys):
    from PIL import Image

    from vae_core.cli import main

    out = tmp_path / "heat.png"
    assert main(["magnification", "--grid", "16", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["grid"] == 16 and report["max"] > report["min"] >= 0
    with Image.open(out) as picture:
        assert picture.mode == "RGB" and picture.size[0] >= 256


# ---------------------------------------------------------------- posterior clouds


def test_posterior_ellipses_are_centred_on_the_projected_mean_and_scale_with_sigma(shipped_latents):
    mu, logvar = shipped_latents
    pca = pca_2d(mu)
    one = geo.posterior_ellipse(pca, mu[4], logvar[4], 1.0)
    two = geo.posterior_ellipse(pca, mu[4], logvar[4], 2.0)
    # the curve is closed (last point = first): the other points average to the centre
    np.testing.assert_allclose(one[:-1].mean(0)[None], pca.coords[4:5], atol=1e-3)
    np.testing.assert_allclose(two - pca.coords[4], 2 * (one - pca.coords[4]), atol=1e-4)
    # an isotropic unit posterior projects to the unit circle (orthonormal plane)
    unit = geo.posterior_ellipse(pca, pca.mean, np.zeros(8), 1.0)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-4)


def test_posterior_draws_are_seeded_and_spread_like_sigma(shipped, shipped_latents):
    mu, logvar = shipped_latents
    z, images = geo.posterior_draws(shipped, mu[2], logvar[2], n=64, seed=5)
    assert images.shape == (64, 8, 8) and images.dtype == np.uint8
    np.testing.assert_array_equal(z, geo.posterior_draws(shipped, mu[2], logvar[2], n=64, seed=5)[0])
    ratio = z.std(0) / np.exp(0.5 * logvar[2])
    assert 0.6 < np.median(ratio) < 1.4


# ---------------------------------------------------------------- the Geometry page (AppTest, shipped model)


def _click(at, key, x, y):
    """Inject the plotly selection a click on the plane sends (a grid cell's point: x, y, no row index)."""
    at.session_state[key] = {
        "selection": {
            "points": [{"x": x, "y": y, "curve_number": 1, "point_index": 0}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()


@pytest.mark.usefixtures("app_router")
def test_geometry_page_renders_every_view_and_decodes_a_click_on_an_empty_spot():
    from app_helpers import assert_clean, goto, image_urls, start_app, texts

    at = goto(start_app(), "geometry")
    assert [t.value for t in at.title] == ["Geometry"]
    assert len(at.get("latex")) >= 3  # a formula per view: magnification, clouds, prior vs posterior
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    kinds = [{trace.get("type") for trace in spec["data"]} for spec in specs]
    assert sum("heatmap" in k for k in kinds) >= 3  # VAE map, its twin, the plane density
    assert "Click anywhere" in texts(at)
    before = len(image_urls(at))
    _click(at, "geo_map_vae", 2.9, -2.9)  # a corner of the plane, far from every dot
    assert_clean(at)
    assert texts(at).count("magnification ≈") == 1
    assert texts(at).count("Click anywhere on the map") == 1  # the twin's map still waits for its click
    assert len(image_urls(at)) == before + 5  # the decoded point and its four nearest images
    _click(at, "geo_map_ae", 0.0, 0.0)
    assert_clean(at)
    assert texts(at).count("magnification ≈") == 2 and "Click anywhere on the map" not in texts(at)


@pytest.mark.usefixtures("app_router")
def test_interpolate_page_draws_the_geodesic_beside_the_straight_paths_and_compares_them(media):
    from PIL import Image

    from app_helpers import assert_clean, goto, image_urls, played_gif, start_app

    at = goto(start_app(), "interpolate")
    at.slider(key="interp_steps").set_value(8).run()
    at.number_input(key="interp_w_end").set_value(30).run()
    linear_strip = image_urls(at)[2]
    at.radio(key="interp_method").set_value("geodesic").run()
    assert_clean(at)
    assert image_urls(at)[2] != linear_strip  # the strip shows the geodesic's frames
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {trace.get("name") for trace in spec["data"]}
    assert {"path", "linear", "spherical"} <= names  # the shown path plus the other two
    at.toggle(key="interp_heat").set_value(True).run()
    assert_clean(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "heatmap"  # the magnification under the paths
    table = at.dataframe[0].value
    assert list(table["path"]) == ["linear", "spherical", "geodesic"]
    lengths = dict(zip(table["path"], table["length in the geodesic's metric"]))
    assert lengths["geodesic"] <= lengths["linear"] + 1e-3
    gif = Image.open(io.BytesIO(played_gif(at, media)))
    assert gif.n_frames == 2 * 8 - 2  # forth and back
