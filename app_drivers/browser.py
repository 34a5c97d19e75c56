"""Drive the real app in a real browser: start `streamlit run` on a free port, launch Debian's Chromium, wait
for Streamlit to settle, collect console errors, and find things in the page by stable test ids.

Used by the browser tests (tests/browser/) and the latency benchmark (benchmarks/bench_browser.py), so both
measure the same app the same way. Nothing here imports pytest or the tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from explorer_ui import registry

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("LATENT_EXPLORER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOT_DIR = REPO / "docs" / "screenshots"

# Every page's short name → its URL path ("" is the default page), from the one page registry.
PAGES = {spec.name: spec.url_path for spec in registry.PAGES}

APP_SELECTOR = '[data-testid="stApp"]'
CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
NOT_RUNNING = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'

# Console messages that are not the app's fault, each with the reason it is safe to ignore (only noise actually
# seen in these tests is listed). Anything else a page logs at level "error" (or throws) fails the test.
BENIGN_CONSOLE = [
    # Opening a page by its URL (/latent_sliders) makes Streamlit's frontend probe for the server's base path:
    # it first asks /latent_sliders/_stcore/health and /host-config (404), then / (200). Streamlit bug
    # streamlit/streamlit#7074, open since 2023; the app connects normally right after.
    (
        re.compile(
            r"status of 404 .*\(http://127\.0\.0\.1:\d+/[a-z_]+/_stcore/(health|host-config|allowed-message-origins)\)"
        ),
        "Streamlit probes <page>/_stcore/* for its base path when a subpage URL is opened directly (streamlit#7074)",
    ),
]


def chromium_available() -> bool:
    """Whether Debian's Chromium binary is installed where the tests look for it."""
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def playwright_available() -> bool:
    """Whether the playwright pip package imports."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- the server


@dataclass
class AppServer:
    """A `streamlit run explorer_app.py` in its own process group, on a free port; `stop()` kills the group."""

    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, page: str) -> str:
        """URL of one page by its short name (see PAGES)."""
        return f"{self.url}/{PAGES.get(page, page)}"

    def log_tail(self, n_chars: int = 4000) -> str:
        """The end of the server's stdout/stderr (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def server_command(port: int, extra_args: tuple[str, ...] = ()) -> list[str]:
    """The exact command the README's `make run` uses, on `port`, headless, without a file watcher
    (extra_args: more `--section.option value` pairs, e.g. for a diagnostic run)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "explorer_app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        *extra_args,
    ]


def start_server(
    timeout_s: float = 90.0,
    log_dir: Path | None = None,
    extra_env: dict | None = None,
    extra_args: tuple[str, ...] = (),
) -> AppServer:
    """Start the app on a free port and wait until /_stcore/health says ok (raises RuntimeError with the log)."""
    port = free_port()
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="latent-explorer-server-"))
    log_path = log_dir / f"streamlit-{port}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(extra_env or {}))
    process = subprocess.Popen(
        server_command(port, extra_args),
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    log_file.close()
    server = AppServer(port, process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(
                f"streamlit exited with {process.returncode} before it was healthy:\n{server.log_tail()}"
            )
        if health_ok(server.url):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"streamlit was not healthy after {timeout_s:.0f} s:\n{server.log_tail()}")


def health_ok(url: str) -> bool:
    """Whether GET {url}/_stcore/health answers 'ok'."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@contextlib.contextmanager
def running_server(**kwargs) -> Iterator[AppServer]:
    """start_server() … stop() as a context manager."""
    server = start_server(**kwargs)
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- the browser


@contextlib.contextmanager
def chromium_browser(headless: bool = True):
    """Debian's Chromium through playwright (never playwright's own download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=headless, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleLog:
    """Console errors and uncaught page errors seen by one page, split into benign (with reason) and real."""

    errors: list[str] = field(default_factory=list)
    benign: list[tuple[str, str]] = field(default_factory=list)

    def attach(self, page) -> ConsoleLog:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self._add(f"pageerror: {exc}"))
        return self

    def _on_console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            where = location.get("url", "")
            self._add(f"console.error: {message.text}" + (f" ({where})" if where else ""))

    def _add(self, text: str) -> None:
        for pattern, reason in BENIGN_CONSOLE:
            if pattern.search(text):
                self.benign.append((text, reason))
                return
        self.errors.append(text)

    def clear(self) -> None:
        self.errors.clear()
        self.benign.clear()


def new_page(browser, downloads: bool = True):
    """A fresh context (its own Streamlit session) and page at 1280×800, with a ConsoleLog attached as .console_log."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=downloads, device_scale_factor=1)
    page = context.new_page()
    page.console_log = ConsoleLog().attach(page)  # type: ignore[attr-defined]
    return page


def wait_settled(page, timeout_ms: float = 60_000, quiet_ms: float = 300) -> None:
    """Wait until the app is connected and its script is not running, and stays so for `quiet_ms`.

    Streamlit flips to notRunning between a rerun's end and the next one a widget or fragment asks for,
    so one sighting is not enough: it must hold for a short quiet period."""
    page.wait_for_selector(CONNECTED, timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        remaining = max(1.0, (deadline - time.monotonic()) * 1000)
        page.wait_for_selector(NOT_RUNNING, timeout=remaining)
        page.wait_for_timeout(quiet_ms)
        if page.locator(NOT_RUNNING).count() == 1:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app kept rerunning")


def open_page(page, server: AppServer, name: str, timeout_ms: float = 90_000) -> None:
    """Navigate to one page by URL and wait for it to settle (a fresh load: a new Streamlit session)."""
    page.goto(server.page_url(name), wait_until="domcontentloaded")
    wait_settled(page, timeout_ms)


def goto_in_app(page, title: str, timeout_ms: float = 90_000) -> None:
    """Switch pages with the sidebar navigation (keeps the session and its state), then wait to settle."""
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
    link.click()
    page.wait_for_timeout(150)
    wait_settled(page, timeout_ms)


def exception_texts(page) -> list[str]:
    """Text of every Streamlit exception box on the page."""
    return [t.strip() for t in page.locator(EXCEPTION).all_inner_texts()]


def error_texts(page) -> list[str]:
    """Text of every st.error box (data-testid stAlertContentError) on the page."""
    return [t.strip() for t in page.locator('[data-testid="stAlertContentError"]').all_inner_texts()]


def screenshot(page, name: str, directory: Path = SCREENSHOT_DIR, full_page: bool = False) -> Path:
    """Write docs/screenshots/<name>.png of the current viewport (1280×800)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def widget(page, key: str):
    """The element container of a keyed widget: Streamlit 1.67 gives it the class `st-key-<key>`."""
    return page.locator(f".st-key-{key}")


# ---------------------------------------------------------------- what every page must show

# A stable element each page draws once it has rendered its main content (widget keys: `.st-key-<key>`).
PAGE_MARKERS = {
    "home": ".st-key-home_seed",
    "train": '[data-testid="stFormSubmitButton"]',
    "latent_map": ".st-key-latent_map",
    "latent_sliders": '[data-testid="latentPad"]',
    "sample": ".st-key-sample_count",
    "interpolate": ".st-key-interp_gif",
    "anomalies": ".st-key-anomaly_count",
}


def page_marker(name: str) -> str:
    """A selector that shows once a page has drawn its main output (its title for a page not listed above)."""
    return PAGE_MARKERS.get(name, '[data-testid="stMain"] h1')


def image_sources(page) -> list[str]:
    """src of every st.image picture in the main area (media URLs or data URLs)."""
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img').evaluate_all(
        "els => els.map(e => e.getAttribute('src') || '')"
    )


def blurry_images(page) -> list[str]:
    """st.image pictures not sent as PNG/GIF (Streamlit turns 2-D arrays into JPEG unless told otherwise)."""
    bad = []
    for src in image_sources(page):
        lower = src.lower()
        if lower.startswith("data:image/png") or lower.startswith("data:image/gif"):
            continue
        if re.search(r"\.(png|gif)(\?|$)", lower):
            continue
        bad.append(src[:120])
    return bad


def overlapping_images(page, tolerance_px: float = 1.0) -> list[str]:
    """Pairs of visible st.image pictures in the main area whose boxes overlap (a layout bug AppTest cannot see:
    e.g. a gallery whose cells are narrower than their pictures)."""
    return page.evaluate(
        """(tol) => {
             const imgs = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')]
               .filter((img) => img.offsetParent !== null);
             const boxes = imgs.map((img) => img.getBoundingClientRect());
             const found = [];
             for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
               const p = boxes[a], q = boxes[b];
               const ox = Math.min(p.right, q.right) - Math.max(p.left, q.left);
               const oy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
               if (ox > tol && oy > tol) found.push(
                 `pictures ${a} and ${b} overlap by ${Math.round(ox)}×${Math.round(oy)} px ` +
                 `(${Math.round(p.width)} px wide, ${Math.round(q.left - p.left)} px apart)`);
             }
             return found;
           }""",
        tolerance_px,
    )


def page_problems(page) -> list[str]:
    """Everything that says a rendered page is broken: exception boxes, console errors, uncaught errors."""
    problems = [f"st.exception: {text[:500]}" for text in exception_texts(page)]
    problems += page.console_log.errors
    return problems


# ---------------------------------------------------------------- widgets


def pick_option(page, key: str, index: int | None = None, text: str | None = None) -> str:
    """Open the st.selectbox keyed `key` (a react-aria combobox in Streamlit 1.67), click an option by position
    among those drawn (the list is virtualised) or by text; returns the option's text. Waits to settle."""
    box = widget(page, key)
    box.scroll_into_view_if_needed()
    options = page.locator('[role="listbox"] [role="option"]')
    # The popup sometimes misses one way of opening it (a rerun redraws the box under the click): try the
    # toggle button, then the keyboard (ArrowDown opens a react-aria combobox), a few times.
    for attempt in range(4):
        if attempt % 2 == 0:
            box.locator('button[aria-label="Open"]').click()
        else:
            box.locator('input[role="combobox"]').focus()
            page.keyboard.press("ArrowDown")
        try:
            options.first.wait_for(state="visible", timeout=2_500)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; try the next way
            page.keyboard.press("Escape")
            wait_settled(page)
    else:
        raise AssertionError(f"the options of selectbox {key!r} never opened")
    option = options.filter(has_text=text).first if text is not None else options.nth(index or 0)
    label = option.inner_text().strip()
    option.click()
    page.wait_for_timeout(100)
    wait_settled(page)
    return label


def selectbox_value(page, key: str) -> str:
    """The text shown in the st.selectbox keyed `key`."""
    return widget(page, key).locator('input[role="combobox"]').input_value()


def plot_drag_area(page, key: str) -> dict:
    """Bounding box of a plotly chart's main drag layer (the plot area) for the chart keyed `key`."""
    chart = widget(page, key)
    chart.scroll_into_view_if_needed()
    area = chart.locator(".nsewdrag").first
    area.wait_for(state="visible")
    return area.bounding_box()


def box_select(page, key: str, frac_from=(0.3, 0.3), frac_to=(0.55, 0.55)) -> None:
    """Drag a selection box over the plot area of the chart keyed `key` (fractions of the plot area)."""
    chart = widget(page, key)
    chart.scroll_into_view_if_needed()
    chart.hover()
    chart.locator('.modebar-btn[data-title="Box Select"]').click()
    area = plot_drag_area(page, key)
    page.mouse.move(area["x"] + area["width"] * frac_from[0], area["y"] + area["height"] * frac_from[1])
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * frac_to[0], area["y"] + area["height"] * frac_to[1], steps=12)
    page.mouse.up()
    page.wait_for_timeout(200)
    wait_settled(page)


def lasso_select(page, key: str, centre=(0.5, 0.5), radius=(0.2, 0.15), corners: int = 24) -> None:
    """Pick the modebar's lasso tool and draw an ellipse over the plot area of the chart keyed `key`."""
    import math

    chart = widget(page, key)
    chart.scroll_into_view_if_needed()
    chart.hover()
    chart.locator('.modebar-btn[data-title="Lasso Select"]').click()
    area = plot_drag_area(page, key)
    cx, cy = area["x"] + area["width"] * centre[0], area["y"] + area["height"] * centre[1]
    rx, ry = area["width"] * radius[0], area["height"] * radius[1]
    page.mouse.move(cx + rx, cy)
    page.mouse.down()
    for k in range(1, corners + 1):
        angle = 2 * math.pi * k / corners
        page.mouse.move(cx + rx * math.cos(angle), cy + ry * math.sin(angle), steps=2)
    page.mouse.up()
    page.wait_for_timeout(200)
    wait_settled(page)


def selected_count(page) -> int | None:
    """N from the latent map's '<N> selected' heading, or None when nothing is selected."""
    for text in page.locator('[data-testid="stMain"] h3').all_inner_texts():
        match = re.fullmatch(r"([\d,]+) selected", text.strip())
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def image_by_caption(page, caption: str):
    """The st.image element whose caption contains `caption`."""
    return page.locator('[data-testid="stImage"]').filter(
        has=page.locator('[data-testid="stImageCaption"]', has_text=caption)
    )


def download(page, key: str, timeout_ms: float = 30_000) -> tuple[str, bytes]:
    """Click the st.download_button keyed `key`; (suggested file name, bytes)."""
    button = widget(page, key).locator("button, a").first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=timeout_ms) as info:
        button.click()
    dl = info.value
    path = dl.path()
    return dl.suggested_filename, Path(path).read_bytes()


# ---------------------------------------------------------------- measuring (benchmarks)

# Records every change of the app's script state (running / notRunning) with its performance.now() time, so a
# measurement can tell how long each (fragment) rerun took as the browser saw it.
SCRIPT_STATE_PROBE = """
() => {
  if (window.__scriptStates) return;
  const log = window.__scriptStates = [];
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => log.push([app.getAttribute('data-test-script-state'), performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}
"""


def percentile(values, q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def scroll_to(page, selector: str, offset_px: int = 90) -> None:
    """Scroll Streamlit's main area so `selector` sits just under the header (for screenshots)."""
    page.locator(selector).first.evaluate(
        """(el, offset) => {
             el.scrollIntoView({block: 'start'});
             let box = el.parentElement;
             const scrolls = (b) => b.scrollHeight > b.clientHeight &&
               ['auto', 'scroll'].includes(getComputedStyle(b).overflowY);
             while (box && !scrolls(box)) box = box.parentElement;
             if (box) box.scrollBy(0, -offset);
           }""",
        offset_px,
    )
    page.wait_for_timeout(250)


# How many st.image pictures each page shows at least, on the shipped model and digits.
PAGE_MIN_IMAGES = {
    "home": 2,
    "train": 0,
    "latent_map": 1,
    "latent_sliders": 0,
    "sample": 2,
    "interpolate": 4,
    "anomalies": 4,
}

# Where each page's screenshot is scrolled to: its main output rather than the teaching panel (None: the top).
SCREENSHOT_FOCUS = {
    "home": None,
    "train": None,
    "latent_map": ".st-key-latent_map",
    "latent_sliders": '[data-testid="latentPad"]',
    "sample": ".st-key-sample_count",
    "interpolate": '[data-testid="stMain"] h3',
    "anomalies": ".st-key-anomaly_count",
}


def wait_images_loaded(page, min_count: int = 0, timeout_ms: float = 20_000, stable_ms: int = 400) -> int:
    """Wait until the main area shows at least `min_count` st.image pictures, all loaded, and their number has
    stayed the same for `stable_ms` (so sizes and layout are final); returns that number."""
    count_loaded = """(n) => {
        const imgs = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')];
        return imgs.length >= n && imgs.every((img) => img.complete && img.naturalWidth > 0) ? imgs.length : -1;
    }"""
    deadline = time.monotonic() + timeout_ms / 1000
    previous = None
    while True:
        current = page.evaluate(count_loaded, min_count)
        if current >= 0 and current == previous:
            return current
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"pictures did not finish loading (wanted ≥ {min_count}, last count {current})"
            )
        previous = current if current >= 0 else None
        page.wait_for_timeout(stable_ms)


def screenshot_page(page, name: str, directory: Path = SCREENSHOT_DIR) -> Path:
    """Screenshot of one settled page, scrolled to its main output (SCREENSHOT_FOCUS), pointer out of the way."""
    page.mouse.move(5, VIEWPORT["height"] - 5)  # no hover labels or tooltips in the picture
    wait_images_loaded(page, PAGE_MIN_IMAGES.get(name, 0))
    focus = SCREENSHOT_FOCUS.get(name)
    if focus is not None and page.locator(focus).count():
        scroll_to(page, focus)
    return screenshot(page, name, directory)


def capture_all_pages(page, server: AppServer, directory: Path = SCREENSHOT_DIR) -> list[Path]:
    """One session through every page, as a visitor would: on the map, two box selections set the interpolation
    endpoints and a third stays selected; then the other pages. Writes <directory>/<page>.png."""
    written = []
    open_page(page, server, "home")
    written.append(screenshot_page(page, "home", directory))
    titles = {name: title for name, title in zip(PAGES, _nav_titles(page))}
    goto_in_app(page, titles["train"])
    written.append(screenshot_page(page, "train", directory))
    goto_in_app(page, titles["latent_map"])
    # the start from one side of the map, the end from the other (different digits: a visible walk)
    for frac_from, frac_to, button in (
        ((0.08, 0.35), (0.3, 0.6), "map_set_start"),
        ((0.45, 0.05), (0.7, 0.3), "map_set_end"),
    ):
        box_select(page, "latent_map", frac_from, frac_to)
        if selected_count(page):
            widget(page, button).locator("button").click()
            wait_settled(page)
    box_select(page, "latent_map", (0.25, 0.2), (0.6, 0.55))
    written.append(screenshot_page(page, "latent_map", directory))
    for name in [name for name in PAGES if name not in ("home", "train", "latent_map")]:
        goto_in_app(page, titles[name])
        page.locator(page_marker(name)).first.wait_for(state="visible", timeout=30_000)
        if name == "latent_sliders":
            page.wait_for_function("() => window.__latentPad && window.__latentPad.painted.length > 0")
        page.wait_for_timeout(300)  # let late images (media requests) arrive
        written.append(screenshot_page(page, name, directory))
    return written


def _nav_titles(page) -> list[str]:
    return [
        t.split("\n")[-1].strip() for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    ]


# Wraps window.WebSocket (install with page.add_init_script before the app loads) so every message to and from
# the server is logged as [direction, performance.now(), bytes] in window.__wsLog: the browser's view of when
# the server answered, on the same clock as input events and paints.
WEBSOCKET_PROBE = """
(() => {
  if (window.__wsLog) return;
  const log = window.__wsLog = [];
  const size = (d) => (d && (d.byteLength ?? d.size ?? d.length)) || 0;
  const Native = window.WebSocket;
  class ProbedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => log.push(['in', performance.now(), size(e.data)]));
    }
    send(data) {
      log.push(['out', performance.now(), size(data)]);
      return super.send(data);
    }
  }
  window.WebSocket = ProbedWebSocket;
})();
"""


def sidebar_caption_has(page, text: str) -> bool:
    """Whether a caption in the sidebar contains ``text`` (e.g. the loaded dataset's image count)."""
    captions = page.locator('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]').all_inner_texts()
    return any(text in t for t in captions)


def load_dataset_and_model(
    page, spec: str, images: int, model_path: Path, timeout_ms: float = 300_000
) -> None:
    """From the sidebar, as a user: type a dataset spec, then upload a checkpoint; raise if either did not load."""
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary').filter(
        has_text="Load another dataset"
    ).click()
    box = widget(page, "sb_dataset_spec").locator("input")
    box.fill(spec)
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_settled(page, timeout_ms=timeout_ms)
    if not sidebar_caption_has(page, f"{images:,}"):
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()[-600:]
        raise RuntimeError(f"the {images:,}-image dataset did not load: {error_texts(page) or sidebar}")
    widget(page, "sb_model_upload").locator('input[type="file"]').set_input_files(str(model_path))
    page.wait_for_timeout(300)
    wait_settled(page, timeout_ms=120_000)
    if not selectbox_value(page, "sb_model").startswith("Uploaded"):
        raise RuntimeError(f"the model did not load: {error_texts(page)}")
