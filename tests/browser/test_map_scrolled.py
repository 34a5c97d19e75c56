"""The latent map keeps its dots when the page is scrolled so that only the map's lower part is on screen.

With plotly's WebGL scatter, headless (GPU-less) Chromium dropped every dot there: scrolled 320 px into the
map, the visible lower part showed no coloured pixel at all, while the same rows held ~8,000 when the whole map
was on screen. The cause is Chromium's compositor, not plotly or Streamlit's layout: with WebGL on SwiftShader it
culls a WebGL canvas that lies under an opaque fixed layer (Streamlit's 60 px header) with a wrong rectangle, losing
the canvas's bottom 60 px plus twice the rows scrolled above the window. A bare WebGL canvas in a scrolling div
shows it as soon as a fixed opaque header sits over it; a 2-D canvas does not, nor a header at opacity 0.999,
which every page now sets (widgets.PAGE_CSS). Maps up to figures.SVG_MAX_POINTS points are SVG
(the digits test); the shared MNIST test set (10,000 points) is WebGL. Both sample the screenshot's pixels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app_drivers import browser as harness
from explorer_ui import figures

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAP = "latent_map"
MNIST_POINTS = 10_000  # the shared MNIST test set


def _coloured_rows(page, top: float, bottom: float, left: float, right: float) -> np.ndarray:
    """Per screen row between top and bottom, the number of saturated (dot-coloured) pixels in [left, right)."""
    picture = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(np.int16)
    rows = picture[int(top) : int(bottom), int(left) : int(right)]
    return ((rows.max(axis=2) - rows.min(axis=2)) > 60).sum(axis=1)


def _header_bottom(page) -> float:
    header = page.locator('[data-testid="stHeader"]')
    box = header.bounding_box() if header.count() else None
    return 0.0 if box is None else box["y"] + box["height"]


def _assert_dots_stay_when_scrolled(page) -> None:
    """Count dot pixels with the whole map on screen, scroll its top 320 px above the window, count again."""
    whole = harness.plot_drag_area(page, MAP)  # scrolled so the whole plot area is on screen
    page.wait_for_timeout(500)
    assert whole["y"] >= _header_bottom(page) and whole["y"] + whole["height"] <= page.viewport_size["height"]
    full = _coloured_rows(
        page, whole["y"], whole["y"] + whole["height"], whole["x"], whole["x"] + whole["width"]
    )
    assert full.sum() > 5_000, "the map shows no dots even when it is all on screen"

    harness.scroll_to(page, f".st-key-{MAP}", offset_px=-320)  # the map's top 320 px above the window
    page.wait_for_timeout(800)
    area = harness.widget(page, MAP).locator(".nsewdrag").first.bounding_box()
    visible_from = max(area["y"], _header_bottom(page))
    assert area["y"] < 0 < area["y"] + area["height"] - 100, f"not scrolled into the map's lower part: {area}"
    scrolled = _coloured_rows(
        page, visible_from, area["y"] + area["height"], area["x"], area["x"] + area["width"]
    )
    same_rows = full[int(visible_from - area["y"]) :][: len(scrolled)]
    assert same_rows.sum() > 500, "the map's lower part holds too few dots to tell"
    assert scrolled.sum() >= 0.6 * same_rows.sum(), (
        f"{scrolled.sum()} dot pixels in the map's visible lower part, {same_rows.sum()} in the same rows "
        "when the whole map was on screen"
    )
    assert harness.page_problems(page) == [], harness.page_problems(page)


def test_the_dots_stay_drawn_when_only_the_lower_part_of_the_map_is_on_screen(page, app_server):
    harness.open_page(page, app_server, MAP)
    _assert_dots_stay_when_scrolled(page)


@pytest.fixture(scope="module")
def mnist_model(tmp_path_factory, mnist_dir) -> Path:
    """A 28×28 MLP VAE (z = 2) trained for one short epoch on the shared MNIST test set, as a checkpoint file."""
    from vae_core.checkpoint import save_checkpoint
    from vae_core.config import VAEConfig
    from vae_core.data import load_dataset
    from vae_core.training import TrainSettings, fit

    dataset = load_dataset(f"idx:{mnist_dir}")
    config = VAEConfig(input_shape=dataset.image_shape, arch="mlp", latent_dim=2, hidden=(128,))
    model = fit(config, dataset, TrainSettings(epochs=1, time_budget_s=8, seed=0)).model
    return save_checkpoint(model, tmp_path_factory.mktemp("mnist_model") / "mnist_mlp_z2.safetensors")


def test_a_webgl_map_of_10000_digits_keeps_its_dots_when_scrolled(page, app_server, mnist_dir, mnist_model):
    harness.open_page(page, app_server, "train")  # a page that neither encodes nor projects the dataset
    harness.load_dataset_and_model(page, f"idx:{mnist_dir}", MNIST_POINTS, mnist_model)
    titles = harness._nav_titles(page)
    harness.goto_in_app(page, titles[list(harness.PAGES).index(MAP)])
    harness.plot_drag_area(page, MAP)  # the chart is drawn
    canvases = harness.widget(page, MAP).locator("canvas.gl-canvas-context")
    assert MNIST_POINTS > figures.SVG_MAX_POINTS and canvases.count() == 1, (
        "the 10,000-point map is not WebGL"
    )
    _assert_dots_stay_when_scrolled(page)
