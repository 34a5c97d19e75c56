"""The figures the pages promise: the latent map at real sizes (dots shrink and fade as the count grows, so
70,000 points show their clusters; small maps are SVG, big ones WebGL), the training chart, and the
magnification figures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explorer_ui import figures
from explorer_ui import geometry_figures as gf
from explorer_ui.figures import SVG_MAX_POINTS, latent_map, marker_style


def _map(n: int):
    rng = np.random.default_rng(0)
    return latent_map(rng.normal(size=(n, 2)), rng.integers(0, 10, n), [str(d) for d in range(10)])


def test_dots_get_smaller_and_fainter_as_the_map_fills():
    styles = [marker_style(n) for n in (300, 1_797, 10_000, 70_000, 140_000)]
    sizes, opacities = zip(*styles)
    assert list(sizes) == sorted(sizes, reverse=True) and list(opacities) == sorted(opacities, reverse=True)
    assert styles[0] == (7.0, 0.8)  # a small map keeps big, solid dots
    assert sizes[3] <= 3 and opacities[3] <= 0.35  # 70k: small, see-through dots, so density shows
    assert sizes[-1] >= 1.5 and opacities[-1] >= 0.2  # still visible at the cap


def test_the_map_draws_its_dots_with_the_style_of_its_size():
    big = _map(70_000)
    assert {t.marker.size for t in big.data} == {marker_style(70_000)[0]}
    assert {t.marker.opacity for t in big.data} == {marker_style(70_000)[1]}
    assert sum(len(t.x) for t in big.data) == 70_000  # no subsampling


def test_small_maps_are_svg_and_big_ones_webgl():
    assert {t.type for t in _map(1_797).data} == {"scatter"}  # digits: drawn in every browser
    assert {t.type for t in _map(SVG_MAX_POINTS).data} == {"scatter"}
    assert {t.type for t in _map(SVG_MAX_POINTS + 1).data} == {"scattergl"}
    assert {t.type for t in _map(70_000).data} == {"scattergl"}  # fast at 70k


def test_the_loss_chart_shows_faint_batch_curves_and_bold_epoch_curves_in_order():
    steps = [{"epoch": i / 4, "recon": 60.0 - i, "kl": 2.0 + i / 10} for i in range(8)]
    epochs = [
        {"epoch": e, "train_recon": 55.0 - e, "train_kl": 3.0, "val_neg_elbo": 58.0 - e} for e in (1, 2)
    ]
    fig = figures.loss_curves(steps, epochs)
    assert [t.name for t in fig.data] == [
        "reconstruction (batch)",
        "KL (batch)",
        "reconstruction (epoch)",
        "KL (epoch)",
        "validation −ELBO",
    ]
    batch, epoch = fig.data[:2], fig.data[2:]
    assert all(t.opacity == 0.45 and t.line.width == 1 and t.mode == "lines" for t in batch)
    assert all(t.mode == "lines+markers" and t.line.width >= 2 for t in epoch)
    assert list(fig.data[1].y) == [s["kl"] for s in steps] and list(fig.data[4].x) == [1, 2]
    assert [t.name for t in figures.loss_curves([], epochs).data][0] == "reconstruction (epoch)"
    assert len(figures.loss_curves(steps, []).data) == 2 and not figures.loss_curves([], []).data


def test_the_magnification_heat_map_and_its_overlay_show_the_same_log_values():
    xs, ys = np.linspace(-1, 1, 3), np.linspace(-2, 2, 4)
    values = np.arange(12, dtype=float).reshape(4, 3)  # a 0 is floored, not −inf
    coords = np.random.default_rng(0).normal(size=(10, 2))
    heat_map = next(
        t for t in gf.magnification_map(xs, ys, values, coords, None, []).data if t.type == "heatmap"
    )
    overlay = gf.add_heat(go.Figure(go.Scatter(x=[0], y=[0])), xs, ys, values)
    assert overlay.data[0].type == "heatmap" and overlay.data[0].showscale is False  # drawn underneath
    np.testing.assert_allclose(np.asarray(heat_map.z), np.asarray(overlay.data[0].z))
    assert np.isfinite(np.asarray(heat_map.z)).all() and np.asarray(heat_map.z)[0, 0] == -12.0
    assert heat_map.colorbar.title.text == "log₁₀ √det G"


def test_every_map_figure_is_valid_plotly_though_built_without_validation():
    """latent_map skips plotly's validation for speed: a misspelt property would reach the browser silently,
    so every figure built on it is validated here (plotly raises ValueError on an unknown property)."""
    rng = np.random.default_rng(0)
    coords, labels, names = rng.normal(size=(300, 2)), rng.integers(0, 10, 300), [str(d) for d in range(10)]
    built = [
        latent_map(coords, labels, names),
        latent_map(rng.normal(size=(6_000, 2)), None, names, selectable=False),
        figures.comparison_map(coords, labels, names, "title", prior_centre=(0.1, 0.2)),
        gf.add_paths(
            figures.interpolation_path(coords, labels, names, rng.normal(size=(8, 2)), 3),
            {"linear": rng.normal(size=(8, 2)), "geodesic": rng.normal(size=(8, 2))},
            "linear",
        ),
    ]
    for fig in built:
        go.Figure(fig.to_dict())  # validates every property
    path = built[-1]
    # the shown (linear) path, its ends and frame, then the other paths dotted
    assert [t.name for t in path.data[10:]] == ["path", "ends", "frame 3", "geodesic"]
    assert {trace.hoverinfo for trace in path.data[:10]} == {"skip"}  # the background map is faint and mute
    assert max(trace.marker.opacity for trace in path.data[:10]) <= 0.25
    assert built[0].layout.yaxis.scaleanchor == "x" and built[0].layout.xaxis.title.text == "PC 1"
    assert built[1].data[0].type == "scattergl" and built[1].layout.dragmode == "pan"


def test_the_score_histogram_counts_every_image_in_sixty_bars_and_marks_the_shown_ones():
    scores = np.random.default_rng(0).gamma(5.0, 10.0, size=70_000)
    scores[:3] = np.nan  # a score that could not be computed is left out, not a crash
    fig = figures.score_histogram(scores, 120.0, "−ELBO")
    (bars,) = fig.data
    assert len(bars.x) == 60 and int(np.sum(bars.y)) == 70_000 - 3
    assert len(fig.to_json()) < 20_000  # 60 bars reach the browser, not 70,000 values
    assert [shape.x0 for shape in fig.layout.shapes] == [120.0]
