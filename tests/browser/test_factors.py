"""Sliders named after known factors, in Chromium: on the shipped shapes β-VAE, dragging the slider labelled
"x position" moves the sprite's centroid sideways in the image the browser decodes itself."""

from __future__ import annotations

import numpy as np
import pytest

from app_drivers import browser as harness
from explorer_ui.state import SHIPPED_SHAPES_MODELS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LABEL, PATH = SHIPPED_SHAPES_MODELS["shapes_betavae"]


def centroid(local: dict) -> tuple[float, float]:
    """(x, y) centre of mass of the browser's last locally decoded image (window.__latentPad.lastLocal)."""
    h, w, _ = local["shape"]
    pixels = np.asarray(local["pixels"], dtype=np.float64).reshape(h, w)
    total = pixels.sum()
    return float((pixels.sum(0) * np.arange(w)).sum() / total), float(
        (pixels.sum(1) * np.arange(h)).sum() / total
    )


@pytest.mark.skipif(not PATH.is_file(), reason="the shipped shapes β-VAE is missing (make default-model)")
def test_dragging_the_x_position_slider_moves_the_sprite_sideways(page, app_server):
    harness.open_page(page, app_server, "latent_sliders")
    harness.pick_option(page, "sb_model", text=LABEL)
    harness.wait_settled(page)
    label = page.locator("label.lp-label").filter(has_text="≈ x position").first
    label.wait_for(state="visible", timeout=60_000)
    dim = label.get_attribute("for")
    slider = page.locator(f"input#{dim}")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    x_thumb = box["x"] + box["width"] * (float(slider.input_value()) - low) / (high - low)
    page.mouse.move(x_thumb, y)
    page.mouse.down()
    ends = []
    for fraction in (0.15, 0.85):  # −2.8 and +2.8: well inside where the prior puts codes
        for i in range(1, 11):
            page.mouse.move(x_thumb + (box["x"] + box["width"] * fraction - x_thumb) * i / 10, y)
            page.wait_for_timeout(30)
        x_thumb = box["x"] + box["width"] * fraction
        page.wait_for_timeout(150)
        ends.append(page.evaluate("() => window.__latentPad.lastLocal"))
    page.mouse.up()
    harness.wait_settled(page)
    assert all(end is not None for end in ends), "the browser did not decode locally while dragging"
    (x0, y0), (x1, y1) = centroid(ends[0]), centroid(ends[1])
    assert abs(x1 - x0) > 4.0, f"the centroid moved only {x1 - x0:+.1f} px sideways"
    assert abs(x1 - x0) > 2 * abs(y1 - y0), f"x moved {x1 - x0:+.1f} px but y moved {y1 - y0:+.1f} px"
    assert harness.page_problems(page) == [], harness.page_problems(page)
