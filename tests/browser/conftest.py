"""Fixtures for the real-browser tests: one `streamlit run explorer_app.py` and one headless Chromium per test
session, a fresh browser context (= a fresh Streamlit session) per test.

Without Chromium (or the playwright package) the tests skip with a loud reason, unless the environment
variable CI is set: then a missing browser is a failure, so CI can never go green without running them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app_drivers import browser as harness

FAILURE_DIR = (
    harness.REPO / "runs" / "browser-failures"
)  # screenshots + server log of failed tests (git-ignored)


def running_under_ci() -> bool:
    """Whether CI is set to something other than an explicit no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = []
    if not harness.playwright_available():
        missing.append("the `playwright` pip package (pip install -r requirements.txt)")
    if not harness.chromium_available():
        missing.append(
            f"Debian's Chromium at {harness.CHROMIUM} (apt-get install -y chromium; never `playwright install`)"
        )
    if not missing:
        return None
    return "BROWSER TESTS NOT RUN: missing " + " and ".join(missing)


def pytest_report_header(config):
    reason = browser_missing_reason()
    if reason is None:
        return f"browser tests: Chromium {harness.CHROMIUM}, headless"
    return reason + (" (CI is set: they will FAIL)" if running_under_ci() else " (they will be skipped)")


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip (locally) or fail (under CI) when the browser stack is missing."""
    reason = browser_missing_reason()
    if reason is None:
        return
    if running_under_ci():
        pytest.fail(reason + " and CI is set: the browser tests must run in CI.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def app_server(browser_ready, tmp_path_factory):
    """The app under `streamlit run` on a free port for the whole session; its process group dies at the end."""
    server = harness.start_server(log_dir=tmp_path_factory.mktemp("streamlit"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(browser_ready):
    """One headless Debian Chromium for the session."""
    with harness.chromium_browser() as chromium:
        yield chromium


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, app_server):
    """A fresh browser context and page (its own Streamlit session), 1280×800, console errors collected in
    page.console_log. On failure a screenshot and the server log tail go to runs/browser-failures/."""
    pw_page = harness.new_page(browser)
    pw_page.set_default_timeout(30_000)
    yield pw_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        FAILURE_DIR.mkdir(parents=True, exist_ok=True)
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in request.node.name)[:80]
        try:
            pw_page.screenshot(path=str(FAILURE_DIR / f"{stem}.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - a dead page must not hide the test's own failure
            print(f"(no failure screenshot: {exc})")
        (FAILURE_DIR / f"{stem}.server.log").write_text(app_server.log_tail(20_000))
        print(f"browser failure artefacts in {FAILURE_DIR}/{stem}.*")
    pw_page.context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where page screenshots go: docs/screenshots when LATENT_EXPLORER_SCREENSHOTS=1, else a temp folder
    (so an ordinary test run never rewrites tracked files)."""
    if os.environ.get("LATENT_EXPLORER_SCREENSHOTS", "") == "1":
        return harness.SCREENSHOT_DIR
    return tmp_path_factory.mktemp("screenshots")
