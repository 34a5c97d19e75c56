"""The latent map's figure at real sizes: dots shrink and fade as the count grows, so 70,000 points show their
clusters; small maps are SVG (drawn in every browser), big ones WebGL."""

import numpy as np

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
