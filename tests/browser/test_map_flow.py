"""The latent map in Chromium: a box or lasso selection (plotly's own tools, dragged with the mouse) shows the
selected originals and reconstructions; endpoints set from the map give an interpolation strip, and the
strip's GIF and PNG downloads (and the Sample page's PNG) are valid images."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from app_drivers import browser as harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP = "latent_map"


def _assert_selection_pictures(page) -> int:
    count = harness.selected_count(page)
    assert count is not None and count > 0, "no '<N> selected' heading after the selection"
    for caption in ("Originals", "Reconstructions"):
        picture = harness.image_by_caption(page, caption).locator("img")
        assert picture.count() == 1, f"no '{caption}' grid under the map"
        picture.wait_for(state="visible")
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0"), (
            f"the '{caption}' grid is empty"
        )
    return count


def test_box_selection_shows_selected_images(page, app_server):
    harness.open_page(page, app_server, MAP)
    assert harness.selected_count(page) is None
    harness.box_select(page, MAP)
    _assert_selection_pictures(page)
    assert harness.page_problems(page) == [], harness.page_problems(page)


def test_lasso_selection_shows_selected_images(page, app_server):
    harness.open_page(page, app_server, MAP)
    harness.lasso_select(page, MAP)
    lasso_count = _assert_selection_pictures(page)
    # A smaller lasso elsewhere (starting outside the first one, which plotly would otherwise let you move)
    # replaces the selection with fewer points: the selection follows the drawn shape.
    harness.lasso_select(page, MAP, centre=(0.35, 0.75), radius=(0.08, 0.06))
    assert harness.selected_count(page) is not None
    assert harness.selected_count(page) < lasso_count
    assert harness.page_problems(page) == [], harness.page_problems(page)


def _index_of(option_text: str) -> int:
    match = re.match(r"#(\d+)", option_text)
    assert match, option_text
    return int(match.group(1))


def test_endpoints_from_map_give_strip_gif_and_png(page, app_server):
    harness.open_page(page, app_server, MAP)
    harness.box_select(page, MAP, (0.2, 0.2), (0.8, 0.8))
    assert (harness.selected_count(page) or 0) >= 2

    start = _index_of(harness.pick_option(page, "map_focus", index=0))
    harness.widget(page, "map_set_start").locator("button").click()
    harness.wait_settled(page)
    end = _index_of(harness.pick_option(page, "map_focus", index=3))
    assert end != start
    harness.widget(page, "map_set_end").locator("button").click()
    harness.wait_settled(page)
    assert page.get_by_text(f"Interpolation start: #{start} · end: #{end}").count() == 1

    harness.goto_in_app(page, "Interpolate")  # same session: the endpoints travel in session state
    assert harness.widget(page, "interp_w_start").locator("input").input_value() == str(start)
    assert harness.widget(page, "interp_w_end").locator("input").input_value() == str(end)
    strip = harness.image_by_caption(page, "frames").locator("img")
    assert strip.count() == 1, "no interpolation strip"
    width, height = strip.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > 3 * height > 0, f"the strip is not a row of frames ({width}×{height})"

    name, gif = harness.download(page, "interp_gif")
    assert name.endswith(".gif")
    with Image.open(io.BytesIO(gif)) as picture:
        assert picture.format == "GIF"
        assert getattr(picture, "is_animated", False) and picture.n_frames > 1, "the GIF is not animated"

    name, png = harness.download(page, "interp_png")
    assert name.endswith(".png")
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.format == "PNG"
        picture.load()
        assert picture.size[0] > 3 * picture.size[1] > 0
    assert harness.page_problems(page) == [], harness.page_problems(page)


def test_sample_grid_downloads_as_png(page, app_server):
    harness.open_page(page, app_server, "sample")
    name, png = harness.download(page, "sample_png")
    assert name.endswith(".png")
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.format == "PNG"
        picture.load()
        assert min(picture.size) >= 64
    assert harness.page_problems(page) == [], harness.page_problems(page)
