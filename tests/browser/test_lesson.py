"""The Lesson and the presenter view in Chromium at a projector's 1280×720: `?present=1` pages fit the width
(nothing scrolls sideways), and a lesson link copied from one browser opens the same step in another.
With LATENT_EXPLORER_SCREENSHOTS=1 it also writes docs/screenshots/lesson_<n>.png (presenter view)."""

from __future__ import annotations

import pytest

from app_drivers import browser as harness
from explorer_ui.lesson_steps import STEPS
from explorer_ui.presenter import HIDDEN_KEYS
from explorer_ui.registry import PAGES

pytestmark = [pytest.mark.browser]

PROJECTOR = {"width": 1280, "height": 720}
# Steps pictured in docs/screenshots, each scrolled to its live view (the idea and formula sit above it).
SCREENSHOT_FOCUS = {
    1: ".st-key-lesson_image",
    4: ".st-key-lesson_eps_draw",
    6: ".st-key-lesson_gap_seed",
    8: ".st-key-lesson_blur_seed",
    10: ".st-key-lesson_factor_model",
    12: ".st-key-lesson_curve_start",
}

# Every element that can scroll sideways and does (the page itself, Streamlit's main area, a formula, a table…).
SIDEWAYS_SCROLLERS = """() => {
  const found = [];
  const root = document.scrollingElement;
  if (root.scrollWidth > root.clientWidth + 1) found.push(`the page: ${root.scrollWidth} > ${root.clientWidth}`);
  for (const el of document.querySelectorAll('[data-testid="stMain"] *, [data-testid="stMain"]')) {
    if (!['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.offsetParent !== null)
      found.push(`${el.getAttribute('data-testid') || el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
  }
  return found;
}"""


def open_url(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    harness.wait_settled(page)


def title(page) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text().strip()


# Every page in the registry (a new page is checked without editing this file), and the lesson's steps.
PRESENTER_PATHS = [spec.url_path for spec in PAGES] + [
    f"lesson?step={number}" for number in range(2, len(STEPS) + 1)
]


@pytest.mark.parametrize("path", PRESENTER_PATHS)
def test_presenter_view_fits_a_projector_without_sideways_scrolling(page, app_server, path):
    page.set_viewport_size(PROJECTOR)
    separator = "&" if "?" in path else "?"
    open_url(page, f"{app_server.url}/{path}{separator}present=1")
    name = path.split("?")[0] or "home"
    harness.wait_images_loaded(page, harness.PAGE_MIN_IMAGES.get(name, 1), timeout_ms=90_000)
    assert harness.page_problems(page) == [], harness.page_problems(page)
    assert page.locator(f".st-key-{'sb_present'} input").is_checked(), "?present=1 did not turn the view on"
    root_font = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
    assert root_font == "20px", f"presenter type not enlarged (root font {root_font})"
    assert page.locator('[data-testid="stFileUploader"]:visible').count() == 0, "uploads shown to the class"
    assert page.locator(".st-key-sb_dataset_spec:visible").count() == 0, (
        "the dataset spec box shown to the class"
    )
    assert page.evaluate(SIDEWAYS_SCROLLERS) == []
    for key in HIDDEN_KEYS:  # advanced options and downloads stay off the projector
        assert page.locator(f".st-key-{key}:visible").count() == 0, f"{key} shown in the presenter view"


def test_a_lesson_link_opens_the_same_step_in_a_fresh_browser(page, browser, app_server, screenshot_dir):
    page.set_viewport_size(PROJECTOR)
    open_url(page, f"{app_server.url}/lesson?step=2&present=1")
    for _ in range(2):
        harness.widget(page, "lesson_next_top").locator("button").click()
        page.wait_for_timeout(150)
        harness.wait_settled(page)
    assert title(page) == f"4. {STEPS[3].title}"
    harness.widget(page, "lesson_link").locator("button").first.click()
    link = (
        page.locator('[data-testid="stPopoverBody"] code, [data-testid="stCode"] code')
        .last.inner_text()
        .strip()
    )
    assert "step=4" in link and "present=1" in link and link.startswith(app_server.url), link
    assert "step=4" in page.url  # the address bar says the same

    student = harness.new_page(browser)
    try:
        student.set_viewport_size(PROJECTOR)
        open_url(student, link)
        assert title(student) == f"4. {STEPS[3].title}"
        assert student.locator(".st-key-sb_present input").is_checked()
        assert harness.page_problems(student) == []
    finally:
        student.context.close()

    for number, focus in SCREENSHOT_FOCUS.items():
        open_url(page, f"{app_server.url}/lesson?step={number}&present=1")
        harness.wait_images_loaded(page, 1, timeout_ms=90_000)
        if number == 4:  # show z away from μ
            harness.widget(page, "lesson_eps_draw").locator("button").click()
            page.wait_for_timeout(300)
            harness.wait_settled(page)
            harness.wait_images_loaded(page, 1, timeout_ms=90_000)
        page.mouse.move(5, PROJECTOR["height"] - 5)
        harness.scroll_to(page, focus, offset_px=20)
        harness.screenshot(page, f"lesson_{number}", directory=screenshot_dir)
