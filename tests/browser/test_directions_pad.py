"""The Directions page in Chromium: dragging a principal-direction slider redraws the decoded image while
the mouse button is still held (each frame decoded in the browser from z = start + Σ vᵢ·σᵢ·uᵢ)."""

from __future__ import annotations

import pytest

from app_drivers import browser as harness

from .test_sliders import PAD_IMAGE, drag_top_slider

pytestmark = [pytest.mark.browser]


def test_a_principal_direction_slider_redraws_while_dragging(page, app_server):
    harness.open_page(page, app_server, "directions")
    image = page.locator(PAD_IMAGE).first
    image.wait_for(state="visible")
    page.wait_for_function("() => window.__latentPad && window.__latentPad.painted.length > 0")
    label = page.locator("label.lp-label").first.inner_text()
    assert label.startswith("PC 1"), (
        f"the first slider should be the first principal direction, got {label!r}"
    )
    seen_while_held, before, held, _sent_while_held = drag_top_slider(page, image)
    assert len(seen_while_held) >= 2 and held > before
    # the shipped MLP fits the browser decoder: frames along a direction are drawn in the page, not fetched
    assert image.get_attribute("data-path") == "browser"
