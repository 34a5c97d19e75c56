"""The first minutes with a folder of MNIST files, in Chromium: the bare folder typed in the sidebar is answered
with 'did you mean idx:…?', one click loads it under a readable name, the spec list opens as a list, and the
shape mismatch leads to the Train page set for a convolutional model."""

from __future__ import annotations

import numpy as np
import pytest

from app_drivers import browser as harness
from dataset_fixtures import random_images, write_idx_split

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIDEBAR = '[data-testid="stSidebar"]'


def test_a_bare_mnist_folder_gets_a_suggestion_loads_and_leads_to_conv_training(page, app_server, tmp_path):
    folder = tmp_path / "mnist"
    write_idx_split(folder, "t10k", random_images(60, 28, 28), np.arange(60) % 10, gz=True)
    harness.open_page(page, app_server, "home")
    sidebar = page.locator(SIDEBAR)
    sidebar.locator('[data-testid="stExpander"] summary').filter(has_text="Load another dataset").click()
    spec = harness.widget(page, "sb_dataset_spec").locator("input")
    spec.fill(str(folder))
    spec.press("Enter")
    page.wait_for_timeout(300)
    harness.wait_settled(page)

    assert harness.error_texts(page) == []
    hint = sidebar.locator('[data-testid="stAlertContentInfo"]').filter(has_text="Did you mean")
    assert hint.count() == 1 and f"idx:{folder}" in hint.inner_text()

    # the list of specs is one click away, as a list
    sidebar.locator('[data-testid="stPopover"] button').filter(has_text="Valid dataset specs").click()
    items = page.locator('[data-testid="stPopoverBody"] li')
    items.first.wait_for(state="visible")
    assert items.count() >= 8 and "idx:DIR" in items.nth(4).inner_text()
    page.keyboard.press("Escape")

    harness.widget(page, "sb_use_suggestion").locator("button").click()
    page.wait_for_timeout(300)
    harness.wait_settled(page)
    assert harness.selectbox_value(page, "sb_dataset") == "mnist (IDX files, 60 images)"
    captions = sidebar.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    assert any(c.startswith("mnist (IDX files, 60 images)") for c in captions), captions

    harness.widget(page, "sb_mismatch_train").locator("button").click()
    page.wait_for_timeout(300)
    harness.wait_settled(page)
    assert harness.selectbox_value(page, "train_arch") == "Convolutional"
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "256-wide hidden layer" in main and "best for 8×8" not in main
    assert harness.page_problems(page) == [], harness.page_problems(page)
