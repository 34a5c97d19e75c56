"""The live latent pad in Chromium: the decoded image changes WHILE a slider is dragged (mouse still held),
and the release leaves the pad on the dragged value's image."""

from __future__ import annotations

import pytest

from . import harness

pytestmark = [pytest.mark.browser]

PAD_IMAGE = '[data-testid="latentPadImage"]'
PAD_SLIDER = "input.lp-range"  # inside the component's shadow root (playwright's CSS engine pierces it)


def test_image_changes_during_drag(page, app_server):
    harness.open_page(page, app_server, "latent_sliders")
    image = page.locator(PAD_IMAGE)
    image.wait_for(state="visible")
    page.wait_for_function("() => window.__latentPad && window.__latentPad.painted.length > 0")
    first_src = image.get_attribute("src")
    assert first_src and first_src.startswith("data:image/png"), (first_src or "")[:60]

    slider = page.locator(PAD_SLIDER).first  # the most used dimension comes first
    slider.scroll_into_view_if_needed()
    value_before = float(slider.input_value())
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    # Press on the thumb itself (the origin: mid-track), so the press alone does not change the value.
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    x_start = box["x"] + box["width"] * (value_before - low) / (high - low)
    x_end = box["x"] + box["width"] * 0.95

    page.mouse.move(x_start, y)
    page.mouse.down()
    seen_while_held: list[str] = []
    steps = 40
    for i in range(1, steps + 1):
        page.mouse.move(x_start + (x_end - x_start) * i / steps, y)
        page.wait_for_timeout(50)
        src = image.get_attribute("src")
        if src != first_src and (not seen_while_held or seen_while_held[-1] != src):
            seen_while_held.append(src)
    still_pressed = page.evaluate("() => window.__latentPad.sent.filter(s => s.release).length") == 0
    held_value = float(slider.input_value())
    page.mouse.up()

    assert still_pressed, "a release was sent before the mouse button came up: the drag was not a drag"
    assert held_value > value_before + 1.0, f"the thumb did not follow the pointer ({value_before} → {held_value})"
    assert len(seen_while_held) >= 2, (
        f"only {len(seen_while_held)} new image(s) were painted while the mouse button was held; "
        "the pad should redraw during the drag, not only on release")

    # After the release the pad settles on the image of the final value, and nothing went wrong.
    page.wait_for_function(
        "() => { const l = window.__latentPad; return l.lastSentSeq > 0 && l.lastPaintedSeq >= l.lastSentSeq; }",
        timeout=15_000)
    harness.wait_settled(page)
    assert image.get_attribute("src") != first_src
    assert harness.page_problems(page) == [], harness.page_problems(page)
