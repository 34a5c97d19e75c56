"""Latent sliders in a real browser: input → painted image, live pad vs Streamlit's stock st.slider, same decode.

Starts `streamlit run` on a free port (or uses --url), opens the Latent sliders page in Debian's Chromium
(/usr/bin/chromium, headless, via the playwright pip package; never `playwright install`) and prints JSON lines
{"name", "value", "unit"}:
  slider_release_to_image_ms_p50 / _p95  live pad: from the input event that set a value (a click on a slider
                                         track) to the image for that value painted (img decoded, next frame)
  drag_frames_per_s                      live pad: new images painted per second during a continuous drag
  stock_slider_release_to_image_ms_p50 / _p95  stock st.slider: from the release (pointerup) to the new
                                         st.image painted
plus where the live pad's time goes (message sent → frame back, and the page's own Python share of it).

Streamlit's default `runner.postScriptGC = true` runs gc.collect(2) after every script run, fragment reruns included
(≈ 300 ms with torch, plotly and scikit-learn loaded); pass --streamlit-arg=--runner.postScriptGC=false to measure
the app as it would run with `postScriptGC = false` in .streamlit/config.toml.

Usage (repo root): python benchmarks/bench_slider_latency.py [--changes 60] [--port 8598] [--app explorer_app.py]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PAGE_PATH = "latent_sliders"
READY = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'

# Watches the stock st.image (inside the container keyed "stock_image"): every new src is timed to its paint.
STOCK_PROBE = """
() => {
  const probe = window.__stockProbe = {releases: [], painted: [], src: null};
  document.addEventListener('pointerup', (e) => probe.releases.push(e.timeStamp), true);
  const check = () => {
    const img = document.querySelector('.st-key-stock_image img');
    if (!img || !img.src || img.src === probe.src) return;
    const src = probe.src = img.src;
    const done = () => requestAnimationFrame(() => {
      if (probe.src === src) probe.painted.push({t: performance.now(), src});
    });
    img.decode().then(done, done);
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                       attributeFilter: ['src']});
  check();
}
"""


def emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit}), flush=True)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: str, port: int, extra: list[str]) -> subprocess.Popen:
    """`streamlit run` headless; returns once /_stcore/health says ok."""
    cmd = [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy in 90 s")


def wait_ready(page, timeout_ms: int = 60000) -> None:
    page.wait_for_selector(READY, timeout=timeout_ms)


def live_pad_changes(page, n: int, rng: random.Random) -> tuple[list[float], list[float], list[float]]:
    """n clicks at random places on the most used dimension's track.

    Returns per change: input → painted ms, message sent → frame back ms, and the Python ms of that frame.
    """
    page.wait_for_function("() => window.__latentPad && window.__latentPad.painted.length > 0", timeout=60000)
    track = page.locator("input.lp-range").first
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    x_prev = box["x"] + box["width"] / 2
    page.evaluate("() => window.__latentPad.clear()")
    for _ in range(n):
        x = x_prev
        while abs(x - x_prev) < box["width"] * 0.15:
            x = box["x"] + box["width"] * rng.uniform(0.05, 0.95)
        x_prev = x
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.up()
        page.wait_for_function(
            "() => { const l = window.__latentPad; return l.lastSentSeq > 0 && l.lastPaintedSeq >= l.lastSentSeq; }",
            timeout=10000)
        page.wait_for_timeout(60)
    log = page.evaluate("() => ({sent: window.__latentPad.sent, painted: window.__latentPad.painted,"
                        " received: window.__latentPad.received})")
    latencies, roundtrips, python_ms = [], [], []
    for s in log["sent"]:
        if s["dragEndOnly"]:
            continue  # "the drag is over" after a click: same values, no new image to wait for
        paint = next((p for p in log["painted"] if p["seq"] >= s["seq"]), None)
        recv = next((r for r in log["received"] if r["seq"] >= s["seq"]), None)
        if paint is not None:
            latencies.append(paint["t"] - s["tInput"])
        if recv is not None:
            roundtrips.append(recv["t"] - s["tSent"])
            python_ms.append(recv["pythonMs"])
    return latencies, roundtrips, python_ms


def live_pad_drag(page, sweeps: int = 4, steps: int = 120) -> dict:
    """Continuous drags of the most used dimension end to end; new images painted per second while the button is down.

    Playwright sends the pointer moves as fast as the browser takes them (≈ 40–100 a second here, like a real
    mouse); the input rate is reported beside the frame rate.
    """
    track = page.locator("input.lp-range").first
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    left, right = box["x"] + 6, box["x"] + box["width"] - 6
    page.evaluate("() => { window.__moves = 0;"
                  " document.addEventListener('pointermove', () => { window.__moves++; }, true); }")
    page.mouse.move(left, y)  # on the thumb's end of the track
    page.mouse.down()
    page.wait_for_timeout(200)
    page.evaluate("() => { window.__latentPad.clear(); window.__moves = 0; }")
    t0 = page.evaluate("() => performance.now()")
    for sweep in range(sweeps):
        page.mouse.move(right if sweep % 2 == 0 else left, y, steps=steps)
    t1 = page.evaluate("() => performance.now()")
    moves = page.evaluate("() => window.__moves")
    page.mouse.up()
    page.wait_for_timeout(300)
    painted = page.evaluate("() => window.__latentPad.painted")
    during = [p for p in painted if t0 <= p["t"] <= t1 and p["changed"]]
    seconds = (t1 - t0) / 1000
    return {"fps": len(during) / seconds, "frames": len(during), "seconds": seconds, "moves_per_s": moves / seconds}


def stock_changes(page, n: int, rng: random.Random) -> list[float]:
    """n clicks on the first stock st.slider's track; release → new st.image painted ms for each."""
    for attempt in range(3):  # a click that lands while the pad's last frame is still running can be lost
        wait_ready(page)
        page.locator(".st-key-slider_mode label", has_text="Stock st.slider").click()
        try:
            page.wait_for_selector('[data-testid="stSlider"] input[type="range"]', state="attached", timeout=20000)
            break
        except Exception:  # noqa: BLE001 - retried, then re-raised below
            if attempt == 2:
                shot = Path(tempfile.gettempdir()) / "bench_slider_latency_failure.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"no stock sliders after switching; screenshot: {shot}", file=sys.stderr)
                raise
    wait_ready(page)
    page.evaluate(STOCK_PROBE)
    slider = page.locator('[data-testid="stSlider"]').first  # the most used dimension
    track = slider.locator('div[style*="touch-action"]').first.bounding_box()  # react-aria slider track
    y = track["y"] + track["height"] / 2
    x_prev = track["x"] + track["width"] / 2
    latencies = []
    for _ in range(n):
        before = page.evaluate("() => window.__stockProbe.painted.length")
        x = x_prev
        while abs(x - x_prev) < track["width"] * 0.15:
            x = track["x"] + track["width"] * rng.uniform(0.05, 0.95)
        x_prev = x
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.up()
        try:
            page.wait_for_function(f"() => window.__stockProbe.painted.length > {before}", timeout=10000)
        except Exception:  # noqa: BLE001 - a click that did not change the value: no new image, skip it
            continue
        wait_ready(page)
        page.wait_for_timeout(60)
        probe = page.evaluate("() => window.__stockProbe")
        release = probe["releases"][-1]
        latencies.append(probe["painted"][before]["t"] - release)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", default="explorer_app.py", help="app script, relative to the repo root")
    parser.add_argument("--url", help="use a running app at this base URL instead of starting one")
    parser.add_argument("--port", type=int, default=0, help="port for the app (default: a free one)")
    parser.add_argument("--changes", type=int, default=60, help="value changes per slider kind (≥ 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--headed", action="store_true")
    parser.add_argument("--streamlit-arg", action="append", default=[], metavar="ARG",
                        help="extra option for `streamlit run`, e.g. --streamlit-arg=--runner.postScriptGC=false")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    server = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        port = args.port or free_port()
        server = start_server(args.app, port, args.streamlit_arg)
        base = f"http://127.0.0.1:{port}"
    rng = random.Random(args.seed)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=not args.headed)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # Open the app at its root first: on a fresh server, a first request straight to /latent_sliders runs
            # pages/latent_sliders.py without the router (Streamlit's pages/ folder auto-discovery).
            page.goto(base)
            wait_ready(page)
            page.goto(f"{base}/{PAGE_PATH}")
            wait_ready(page)
            live_pad_changes(page, 5, rng)  # warm-up: first PNG encode, first paints
            live, roundtrips, python_ms = live_pad_changes(page, args.changes, rng)
            drag = live_pad_drag(page)
            stock = stock_changes(page, args.changes, rng)
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)

    emit("slider_release_to_image_ms_p50", statistics.median(live), "ms")
    emit("slider_release_to_image_ms_p95", percentile(live, 95), "ms")
    emit("slider_changes_measured", len(live), "count")
    emit("slider_message_roundtrip_ms_p50", statistics.median(roundtrips), "ms")  # message sent → frame back
    emit("slider_python_ms_p50", statistics.median(python_ms), "ms")  # of which the page's own Python
    emit("drag_frames_per_s", drag["fps"], "frames/s")
    emit("drag_frames_painted", drag["frames"], "count")
    emit("drag_pointer_moves_per_s", drag["moves_per_s"], "events/s")
    if stock:
        emit("stock_slider_release_to_image_ms_p50", statistics.median(stock), "ms")
        emit("stock_slider_release_to_image_ms_p95", percentile(stock, 95), "ms")
    emit("stock_slider_changes_measured", len(stock), "count")


if __name__ == "__main__":
    main()
