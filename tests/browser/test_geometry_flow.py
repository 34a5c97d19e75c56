"""The Geometry page and the geodesic path in Chromium: a click on an empty spot of the magnification map
decodes that plane point; the Interpolate page draws a geodesic and downloads it as a GIF."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app_drivers import browser as harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Screen position of the heat map's grid cell (column i, row j) of the plotly chart keyed `key`.
_CELL_JS = """([key, i, j]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const heat = gd._fullData.find(t => t.type === "heatmap");
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  const x = heat.x[i < 0 ? heat.x.length + i : i], y = heat.y[j < 0 ? heat.y.length + j : j];
  return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
}"""


def click_cell(page, key: str, i: int, j: int) -> None:
    """Click the plane at a heat-map grid cell (negative indices count from the end)."""
    harness.plot_drag_area(page, key)  # scrolled into view, drawn
    x, y = page.evaluate(_CELL_JS, [key, i, j])
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    harness.wait_settled(page)


def test_a_click_on_an_empty_spot_of_the_plane_shows_a_decoded_image(page, app_server):
    harness.open_page(page, app_server, "geometry")
    assert page.get_by_text("Click anywhere on the map").count() == 2  # the VAE's map and its twin's
    click_cell(
        page, "geo_map_vae", 1, 1
    )  # bottom-left corner: far from every data dot, on the invisible grid
    decoded = harness.image_by_caption(page, "decoded at").locator("img")
    decoded.first.wait_for(state="visible")
    assert decoded.count() == 1
    assert decoded.first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.get_by_text("Click anywhere on the map").count() == 1  # the twin still waits for its click
    assert harness.page_problems(page) == [], harness.page_problems(page)


def test_a_geodesic_path_is_drawn_and_downloads_as_a_gif(page, app_server, screenshot_dir):
    harness.open_page(page, app_server, "interpolate")
    harness.widget(page, "interp_method").get_by_text("geodesic").click()
    harness.wait_settled(page)
    strip = harness.image_by_caption(page, "geodesic").locator("img")
    assert strip.count() == 1, "no geodesic strip"
    table = page.locator('[data-testid="stDataFrame"]')
    assert table.count() == 1, "no path comparison table"
    table.scroll_into_view_if_needed()
    assert table.is_visible()
    name, gif = harness.download(page, "interp_gif")
    assert name == "interpolation_geodesic.gif"
    picture = Image.open(io.BytesIO(gif))
    assert picture.format == "GIF" and picture.n_frames > 2
    assert harness.page_problems(page) == [], harness.page_problems(page)


def test_geometry_screenshot(page, app_server, screenshot_dir):
    harness.open_page(page, app_server, "geometry")
    click_cell(page, "geo_map_vae", 40, 24)
    page.locator('[data-testid="stMain"] h3').first.scroll_into_view_if_needed()
    path = harness.screenshot(page, "geometry", directory=screenshot_dir)
    assert path.stat().st_size > 10_000
