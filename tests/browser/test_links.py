"""Links in Chromium: a link copied from a page's "Copy link" popover, opened in a fresh browser context (a new
session that shares nothing with the teacher's), shows the same controls and pixel-identical pictures."""

from __future__ import annotations

import pytest

from app_drivers import browser as harness

pytestmark = [pytest.mark.browser]


def copied_link(page, key: str) -> str:
    """Open a page's "Copy link" popover and read the address it offers."""
    harness.widget(page, key).locator("button").first.click()
    code = page.locator('[data-testid="stPopoverBody"] code').last
    code.wait_for()
    link = code.inner_text().strip()
    page.keyboard.press("Escape")
    return link


def picture_bytes(page) -> list[bytes]:
    """The bytes behind every st.image picture of the main area, in page order."""
    base = page.url.split("?", 1)[0].rsplit("/", 1)[0]
    found = []
    for src in harness.image_sources(page):
        url = src if src.startswith("http") else f"{base}{src}" if src.startswith("/") else f"{base}/{src}"
        found.append(page.request.get(url).body())
    return found


def settle(page) -> None:
    page.wait_for_timeout(150)
    harness.wait_settled(page)


def student_view(browser, link: str, min_images: int):
    """A new browser context on the link: (its page, its pictures' bytes). Close page.context after."""
    student = harness.new_page(browser)
    student.goto(link, wait_until="domcontentloaded")
    harness.wait_settled(student, 90_000)
    harness.wait_images_loaded(student, min_images, timeout_ms=90_000)
    return student, picture_bytes(student)


def test_a_sample_link_opens_the_same_samples_in_a_fresh_browser(page, browser, app_server):
    harness.open_page(page, app_server, "sample")
    harness.widget(page, "sample_new_seed").locator("button").click()
    settle(page)
    thumb = harness.widget(page, "sample_temperature").locator('input[type="range"]')
    thumb.focus()
    for _ in range(6):  # 1.0 → 0.7 in steps of 0.05
        page.keyboard.press("ArrowLeft")
    assert float(thumb.input_value()) == pytest.approx(0.7)
    page.wait_for_timeout(600)  # the slider sends its value once the keys stop
    settle(page)
    harness.wait_images_loaded(page, 2, timeout_ms=90_000)
    link = copied_link(page, "sample_link")
    for _ in range(20):  # the slider's last value may still be on its way to the server
        if "temperature=0.7" in link:
            break
        settle(page)
        link = copied_link(page, "sample_link")
    assert "temperature=0.7" in link and "seed=" in link and "seed=0&" not in link, link
    teacher = picture_bytes(page)
    student, pictures = student_view(browser, link, 2)
    try:
        assert pictures == teacher and len(teacher) >= 2  # pixel-identical: the same PNG bytes
        seed = harness.widget(page, "sample_seed").locator("input").input_value()
        assert harness.widget(student, "sample_seed").locator("input").input_value() == seed
        assert harness.page_problems(student) == []
    finally:
        student.context.close()


def test_a_sliders_link_opens_the_same_image_in_a_fresh_browser(page, browser, app_server):
    harness.open_page(page, app_server, "latent_sliders")
    harness.widget(page, "slider_mode").get_by_text("Stock st.slider").click()
    settle(page)
    harness.widget(page, "sliders_new_random").locator("button").click()
    settle(page)
    harness.wait_images_loaded(page, 2, timeout_ms=90_000)
    link = copied_link(page, "sliders_link")
    assert "mode=stock" in link and "z=" in link, link
    teacher = picture_bytes(page)
    student, pictures = student_view(browser, link, 2)
    try:
        assert pictures == teacher and len(teacher) >= 2  # the decoded image and the traversal strips
        assert harness.page_problems(student) == []
    finally:
        student.context.close()


LINK_KEYS = {  # page → its "Copy link" popover's key; every page in the registry has one
    "home": ("home_link", 1),
    "train": ("train_link", 0),
    "latent_map": ("map_link", 1),
    "latent_sliders": ("sliders_link", 0),  # live mode: the pad draws in its own canvas, not st.image
    "sample": ("sample_link", 1),
    "interpolate": ("interp_link", 1),
    "anomalies": ("anomaly_link", 1),
    "geometry": ("geo_link", 1),
    "directions": ("directions_link", 1),
    "lesson": ("lesson_link", 1),
}


def test_every_registered_page_has_a_link_entry():
    assert set(LINK_KEYS) == set(harness.PAGES)


@pytest.mark.parametrize("name", list(LINK_KEYS))
def test_a_link_from_every_page_carries_a_non_default_model_to_a_fresh_browser(
    page, browser, app_server, name
):
    """The teacher opens the page on the shipped shapes β-VAE (not the default digits model) by a link, copies the
    page's own link, and a student's fresh browser shows the same pictures and the same model."""
    key, min_images = LINK_KEYS[name]
    query = "?model=shapes_betavae&dataset=shapes" + ("&selection=1,2,3" if name == "latent_map" else "")
    page.goto(app_server.page_url(name) + query, wait_until="domcontentloaded")
    harness.wait_settled(page, 180_000)
    harness.wait_images_loaded(page, min_images, timeout_ms=120_000)
    assert harness.selectbox_value(page, "sb_model").startswith("Shipped shapes β-VAE")
    link = copied_link(page, key)
    if name != "lesson":  # the lesson's link carries its step; its views use the shipped models they name
        assert "model=shapes_betavae" in link and "dataset=shapes" in link, link
    teacher = picture_bytes(page)
    student, pictures = student_view(browser, link, len(teacher))  # as many pictures as the teacher has
    try:
        assert len(pictures) == len(teacher)
        assert pictures == teacher  # the same PNG bytes, in the same order
        if name != "lesson":
            assert harness.selectbox_value(student, "sb_model") == harness.selectbox_value(page, "sb_model")
        assert harness.page_problems(student) == []
    finally:
        student.context.close()
