"""The live latent pad in Chromium: the decoded image changes WHILE a slider is dragged (mouse still held), both
when the browser decodes the model itself (the shipped MLP, an uploaded convolutional model) and when every frame
comes from the server, and the release leaves the pad on the dragged value's image; the pad says which path drew it."""

from __future__ import annotations

import numpy as np
import pytest

from app_drivers import browser as harness

pytestmark = [pytest.mark.browser]

PAD_IMAGE = '[data-testid="latentPadImage"]'
PAD_SLIDER = "input.lp-range"  # inside the component's shadow root (playwright's CSS engine pierces it)
LOCAL_TOGGLE = "slider_local_decode"


def drag_top_slider(page, image) -> tuple[list[str], float, float, int]:
    """Press the most used dimension's thumb, drag it to 95 % of the track in 40 steps while watching the image,
    release. Returns (new image sources seen while held, value before, value held, values sent while held)."""
    first_src = image.get_attribute("src")
    slider = page.locator(PAD_SLIDER).first  # the most used dimension comes first
    slider.scroll_into_view_if_needed()
    value_before = float(slider.input_value())
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    # Press on the thumb itself (the origin: mid-track), so the press alone does not change the value.
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    x_start = box["x"] + box["width"] * (value_before - low) / (high - low)
    x_end = box["x"] + box["width"] * 0.95
    page.evaluate("() => window.__latentPad.clear()")
    page.mouse.move(x_start, y)
    page.mouse.down()
    seen_while_held: list[str] = []
    for i in range(1, 41):
        page.mouse.move(x_start + (x_end - x_start) * i / 40, y)
        page.wait_for_timeout(50)
        src = image.get_attribute("src")
        if src != first_src and (not seen_while_held or seen_while_held[-1] != src):
            seen_while_held.append(src)
    sent = page.evaluate("() => window.__latentPad.sent.map(s => s.release)")
    assert not any(sent), "a release was sent before the mouse button came up: the drag was not a drag"
    held_value = float(slider.input_value())
    page.mouse.up()
    assert held_value > value_before + 1.0, (
        f"the thumb did not follow the pointer ({value_before} → {held_value})"
    )
    assert len(seen_while_held) >= 2, (
        f"only {len(seen_while_held)} new image(s) were painted while the mouse button was held; "
        "the pad should redraw during the drag, not only on release"
    )
    # After the release the pad settles on the image of the final value, and nothing went wrong.
    page.wait_for_function(
        "() => { const l = window.__latentPad; return l.lastSentSeq > 0 && l.lastPaintedSeq >= l.lastSentSeq; }",
        timeout=15_000,
    )
    harness.wait_settled(page)
    assert image.get_attribute("src") != first_src
    assert harness.page_problems(page) == [], harness.page_problems(page)
    return seen_while_held, value_before, held_value, len(sent)


def open_pad(page, app_server):
    harness.open_page(page, app_server, "latent_sliders")
    image = page.locator(PAD_IMAGE)
    image.wait_for(state="visible")
    page.wait_for_function("() => window.__latentPad && window.__latentPad.painted.length > 0")
    assert (image.get_attribute("src") or "").startswith("data:image/png")
    return image


def test_the_browser_decodes_the_shipped_mlp_while_dragging(page, app_server):
    """Local decoding: nothing goes to the server while the thumb moves, the frames are painted in the browser,
    and their pixels are the model's own decode of the same vector."""
    from vae_core import DEFAULT_MODEL_PATH
    from vae_core.checkpoint import load_checkpoint
    from vae_core.sliders import decode_vector

    image = open_pad(page, app_server)
    assert harness.widget(page, LOCAL_TOGGLE).locator("input").is_checked()
    _, _, _, sent_while_held = drag_top_slider(page, image)
    assert sent_while_held == 0, "local decoding should not send values while dragging"
    local = page.evaluate(
        "() => ({n: window.__latentPad.painted.filter(p => p.local).length,"
        " last: window.__latentPad.lastLocal})"
    )
    assert local["n"] >= 2
    assert "decoded in your browser" in page.locator(".lp-caption").first.inner_text()
    model = load_checkpoint(DEFAULT_MODEL_PATH).model
    expected = decode_vector(model, np.array(local["last"]["values"])).astype(int)
    ours = np.array(local["last"]["pixels"]).reshape(expected.shape)
    assert np.abs(ours - expected).max() <= 1, "the browser's decode differs from the model's"


def test_with_browser_decoding_off_every_frame_comes_from_the_server(page, app_server):
    image = open_pad(page, app_server)
    harness.widget(page, LOCAL_TOGGLE).locator("label").first.click()
    harness.wait_settled(page)
    assert not harness.widget(page, LOCAL_TOGGLE).locator("input").is_checked()
    _, _, _, sent_while_held = drag_top_slider(page, image)
    assert sent_while_held >= 2, "server decoding sends values while the thumb moves"
    assert page.evaluate("() => window.__latentPad.painted.filter(p => p.local).length") == 0
    assert image.get_attribute("data-path") == "server"
    assert "decoded on the server" in page.locator(".lp-caption").first.inner_text()


def test_an_uploaded_convolutional_model_is_decoded_in_the_browser_while_dragging(page, app_server):
    """A residual-conv model for the 8×8 digits, uploaded in the sidebar: its frames are drawn in the browser, with
    the model's own pixels."""
    from app_drivers.pad_models import contrasty_model
    from vae_core.checkpoint import checkpoint_bytes
    from vae_core.config import VAEConfig
    from vae_core.sliders import decode_vector

    model = contrasty_model(
        VAEConfig(input_shape=(1, 8, 8), arch="resconv", latent_dim=4, channels=(8, 16), hidden=(32,))
    )
    open_pad(page, app_server)
    harness.widget(page, "sb_model_upload").locator('input[type="file"]').set_input_files(
        files=[
            {
                "name": "resconv.safetensors",
                "mimeType": "application/octet-stream",
                "buffer": checkpoint_bytes(model, {}),
            }
        ]
    )
    page.wait_for_timeout(300)
    harness.wait_settled(page)
    page.locator("input.lp-range").nth(3).wait_for(state="attached")
    assert page.locator("input.lp-range").count() == 4, "the pad did not switch to the uploaded model"
    assert harness.widget(page, LOCAL_TOGGLE).locator("input").is_checked()
    image = page.locator(PAD_IMAGE)
    _, _, _, sent_while_held = drag_top_slider(page, image)
    assert sent_while_held == 0, (
        "a convolutional decoder in the browser should not send values while dragging"
    )
    last = page.evaluate("() => window.__latentPad.lastLocal")
    expected = decode_vector(model, np.array(last["values"])).astype(int)
    assert np.abs(np.array(last["pixels"]).reshape(expected.shape) - expected).max() <= 1
