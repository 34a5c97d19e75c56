"""Training from the Train page in Chromium ends with a selectable (and downloadable) model; bad uploads
(a pickle named .safetensors, a corrupt .zip) show an error while the app keeps its model, its dataset and
working pages."""

from __future__ import annotations

import pickle

import pytest

from app_drivers import browser as harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAINED_LATENT_DIM = 3  # unlike the shipped model (8), so the sliders page shows which model is in use


def _set_slider_by_keys(page, key: str, target: int) -> None:
    """Move an integer st.slider to `target` with the keyboard (its range input is focusable)."""
    handle = harness.widget(page, key).locator('input[type="range"]')
    handle.focus()
    current = int(float(handle.input_value()))
    key_name = "ArrowLeft" if target < current else "ArrowRight"
    for _ in range(abs(current - target)):
        page.keyboard.press(key_name)
    assert int(float(handle.input_value())) == target


def test_training_in_the_app_gives_a_selectable_model(page, app_server):
    harness.open_page(page, app_server, "train")
    shipped_label = harness.selectbox_value(page, "sb_model")

    _set_slider_by_keys(page, "train_latent", TRAINED_LATENT_DIM)
    epochs = harness.widget(page, "train_epochs").locator("input")
    epochs.fill("3")
    epochs.press("Tab")
    page.locator('[data-testid="stFormSubmitButton"] button').click()

    # The fragment polls twice a second while it trains; the success box appears once the model is registered.
    done = page.locator('[data-testid="stMain"] [data-testid="stAlertContentSuccess"]').filter(
        has_text="Done:"
    )
    try:
        done.wait_for(state="visible", timeout=120_000)
    except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError: say what the page showed instead
        main_text = page.locator('[data-testid="stMain"]').inner_text()
        pytest.fail(
            f"training did not report 'Done:' in 120 s ({exc.__class__.__name__}); the page showed:\n"
            f"{main_text[-1500:]}\nserver log:\n{app_server.log_tail(3000)}"
        )
    harness.wait_settled(page)
    trained_label = harness.selectbox_value(page, "sb_model")
    assert trained_label.startswith("Trained #1"), trained_label
    assert f"z={TRAINED_LATENT_DIM}" in trained_label, trained_label
    assert harness.page_problems(page) == [], harness.page_problems(page)

    # Its checkpoint downloads, and the file rebuilds the same model (config travels inside it).
    name, payload = harness.download(page, "train_download")
    assert name.endswith(".safetensors")
    from vae_core.checkpoint import checkpoint_from_bytes

    assert checkpoint_from_bytes(payload).config.latent_dim == TRAINED_LATENT_DIM

    # Selectable: back to the shipped model and again to the trained one, from the sidebar menu.
    harness.pick_option(page, "sb_model", text=shipped_label)
    assert harness.selectbox_value(page, "sb_model") == shipped_label
    harness.pick_option(page, "sb_model", text="Trained #1")
    assert harness.selectbox_value(page, "sb_model") == trained_label

    # The other pages now use it: one live slider per latent dimension of the trained model.
    harness.goto_in_app(page, "Latent sliders")
    page.locator('[data-testid="latentPadImage"]').wait_for(state="visible")
    assert page.locator("input.lp-range").count() == TRAINED_LATENT_DIM
    assert harness.page_problems(page) == [], harness.page_problems(page)


def _sidebar_errors(page) -> list[str]:
    return [
        t.strip()
        for t in page.locator(
            '[data-testid="stSidebar"] [data-testid="stAlertContentError"]'
        ).all_inner_texts()
    ]


def test_bad_uploads_show_an_error_and_change_nothing(page, app_server):
    harness.open_page(page, app_server, "latent_sliders")
    page.locator("input.lp-range").first.wait_for(state="visible")
    model_before = harness.selectbox_value(page, "sb_model")
    dataset_before = harness.selectbox_value(page, "sb_dataset")
    sliders_before = page.locator("input.lp-range").count()

    # A pickle (the format that can run code on load) under a .safetensors name.
    pickled = pickle.dumps({"state_dict": {"w": [0.0] * 16}, "note": "not a safetensors file"})
    harness.widget(page, "sb_model_upload").locator('input[type="file"]').set_input_files(
        files=[{"name": "evil.safetensors", "mimeType": "application/octet-stream", "buffer": pickled}]
    )
    page.wait_for_timeout(300)
    harness.wait_settled(page)
    errors = _sidebar_errors(page)
    assert any("evil.safetensors" in e for e in errors), f"no error for the pickled checkpoint: {errors}"
    assert harness.selectbox_value(page, "sb_model") == model_before

    # A .zip that is not a zip archive (the local-file header, then junk).
    corrupt = b"PK\x03\x04" + bytes(range(256)) * 8
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary').filter(
        has_text="Load another dataset"
    ).click()
    harness.widget(page, "sb_dataset_upload").locator('input[type="file"]').set_input_files(
        files=[{"name": "broken.zip", "mimeType": "application/zip", "buffer": corrupt}]
    )
    page.wait_for_timeout(300)
    harness.wait_settled(page)
    errors = _sidebar_errors(page)
    assert any("broken.zip" in e for e in errors), f"no error for the corrupt zip: {errors}"
    assert harness.selectbox_value(page, "sb_dataset") == dataset_before
    assert harness.selectbox_value(page, "sb_model") == model_before

    # The app keeps working: the pad still decodes with the same model, and other pages render cleanly.
    assert page.locator("input.lp-range").count() == sliders_before
    harness.goto_in_app(page, "Latent map")
    page.locator(harness.PAGE_MARKERS["latent_map"]).wait_for(state="visible")
    harness.goto_in_app(page, "Sample")
    page.locator(harness.PAGE_MARKERS["sample"]).wait_for(state="visible")
    assert harness.selectbox_value(page, "sb_model") == model_before
    assert harness.page_problems(page) == [], harness.page_problems(page)
