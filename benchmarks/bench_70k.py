"""70,000 images on one machine: encoding, the map's first paint, Anomalies, t-SNE and the server's memory.

The bench builds its own dataset: the shared MNIST test set (../shared/data/mnist, 10,000 images) seven times,
each copy shifted by at most one pixel (none, right, left, down, up, down-right, up-left), written as a uint8
.npz in a temp folder. It trains the MNIST default model (VAEConfig(): conv, z = 16) on the unshifted 10,000 for
--train-budget seconds with the CLI (the same code the Train page calls), then measures, JSON lines
{"name", "value", "unit"}:

  encode_70k_s              vae_core.latents.encode of all images, every core (as the app does: all_cores)
  anomalies_70k_scoring_s   vae_core.latents.image_scores from those latents (the decoder pass Anomalies needs);
                            _nchw: the same without its channels-last copy of the model (is the copy still worth it?)
  tsne_70k_s                vae_core.projection.tsne_2d of the 70,000 posterior means (seed 0)
  cli_encode_70k_s          `python -m vae_core encode … --out FILE.npz`, process start to file written
and in headless Chromium (app_drivers/browser.py, as bench_browser), on one `streamlit run explorer_app.py`:
  map_70k_first_paint_s     on Home (where the app opens; its two small maps load plotly.js), the dataset loaded
                            by spec, the model uploaded, the CLI's latents file uploaded ("Precomputed latents":
                            encoding is cached), then from the click on the Latent map link to all 70,000 dots
                            drawn (PCA and the figure are computed in that time)
  map_70k_first_paint_cold_s  the same in a second tab that starts on Train, so the map is its first chart and
                            waits for plotly.js to load (PCA cached by then)
  anomalies_70k_first_ranking_s  from the click on the Anomalies link to the first ranking drawn: a preview of
                            the random sample scored so far (the page redraws it every second while a background
                            job scores the rest)
  anomalies_70k_s           from the click to the ranking of every image drawn (scores not precomputed)
  server_rss_70k_mib        the server process's peak resident memory over the whole run (VmHWM)

Goals (issue 11, 2 cores): encode ≤ 3 s, first paint ≤ 3 s after encoding, Anomalies ≤ 5 s, RSS ≤ 1.5 GiB.
--quick: one copy (10,000 images), 10 s of training: proves the script runs, not the figures.

Usage (repo root): python benchmarks/bench_70k.py [--quick] [--copies 7] [--train-budget 30] [--no-browser]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import unittest.mock
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
# (rows, columns) each copy is moved by; empty border pixels are 0 (background)
SHIFTS = [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1)]
# The Anomalies gallery's heading is on screen (a preview's or the full ranking's: not the page left behind)...
ANOMALIES_RANKED = (
    "() => document.querySelector('[data-testid=\"stMain\"]').innerText.includes('original | reconstruction')"
)
# ...and no preview note or scoring bar is left: every image is ranked
ANOMALIES_FULLY_RANKED = (
    "() => { const t = document.querySelector('[data-testid=\"stMain\"]').innerText;"
    " return t.includes('original | reconstruction') && !t.includes('Preview') && !t.includes('Scoring'); }"
)
GOALS = {
    "encode_70k_s": 3.0,
    "map_70k_first_paint_s": 3.0,
    "anomalies_70k_s": 5.0,
    "server_rss_70k_mib": 1536.0,
}


def emit(name: str, value: float, unit: str, **extra) -> None:
    """One JSON line."""
    print(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit, **extra}), flush=True)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def shifted(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Images (N, C, H, W) moved by (rows, cols) pixels, the uncovered border left at 0."""
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    src_r, dst_r = slice(max(0, -rows), h - max(0, rows)), slice(max(0, rows), h - max(0, -rows))
    src_c, dst_c = slice(max(0, -cols), w - max(0, cols)), slice(max(0, cols), w - max(0, -cols))
    out[..., dst_r, dst_c] = images[..., src_r, src_c]
    return out


def build_dataset(folder: Path, copies: int) -> Path:
    """MNIST t10k × copies with small shifts, as uint8 images + labels in folder/mnist_<N>.npz."""
    from vae_core.data import load_dataset

    base = load_dataset(f"idx:{SHARED_MNIST}")
    pixels = np.rint(base.images * 255).astype(np.uint8)
    images = np.concatenate([shifted(pixels, *SHIFTS[k % len(SHIFTS)]) for k in range(copies)])
    labels = np.tile(base.labels, copies)
    path = folder / f"mnist_{len(images)}.npz"
    np.savez(path, images=images, labels=labels)
    return path


def train_model(folder: Path, budget_s: float) -> Path:
    """The MNIST default model (conv, z = 16) trained on the unshifted test set for budget_s seconds (CLI)."""
    out = folder / "mnist_default_conv.safetensors"
    command = [sys.executable, "-m", "vae_core", "train", "--dataset", f"idx:{SHARED_MNIST}"]
    command += [
        "--latent-dim",
        "16",
        "--time-budget",
        str(budget_s),
        "--seed",
        "0",
        "--quiet",
        "--out",
        str(out),
    ]
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return out


def library_figures(model_path: Path, data_path: Path, tsne: bool) -> None:
    """encode, scoring and t-SNE timings in this process, every core (what the app's whole-dataset passes use)."""
    import torch

    from vae_core import latents
    from vae_core.checkpoint import load_checkpoint
    from vae_core.data import load_dataset
    from vae_core.latents import all_cores, encode, image_scores
    from vae_core.projection import tsne_2d

    model = load_checkpoint(model_path).model
    images = load_dataset(f"npz:{data_path}").images
    n = len(images)
    with all_cores():
        threads = torch.get_num_threads()
        encode(model, images[:2048])  # warm-up: first-call allocations, oneDNN kernels
        started = time.perf_counter()
        mu, logvar = encode(model, images)
        emit("encode_70k_s", time.perf_counter() - started, "s", images=n, threads=threads)
        started = time.perf_counter()
        image_scores(model, images, encoded=(mu, logvar))
        emit("anomalies_70k_scoring_s", time.perf_counter() - started, "s", images=n, threads=threads)
        # the same without the channels-last copy (vae_core.latents.decoding_model), to check it still pays here
        with unittest.mock.patch.object(latents, "decoding_model", lambda model, n_images: model):
            started = time.perf_counter()
            image_scores(model, images, encoded=(mu, logvar))
        emit("anomalies_70k_scoring_s_nchw", time.perf_counter() - started, "s", images=n, threads=threads)
    if tsne:
        started = time.perf_counter()
        tsne_2d(mu, seed=0)
        emit("tsne_70k_s", time.perf_counter() - started, "s", images=n, threads=torch.get_num_threads())


def cli_encode(model_path: Path, data_path: Path, out: Path) -> None:
    """`python -m vae_core encode` to a latents file (timed from process start to the file written)."""
    command = [sys.executable, "-m", "vae_core", "encode", str(model_path), "--dataset", f"npz:{data_path}"]
    started = time.perf_counter()
    subprocess.run([*command, "--quiet", "--out", str(out)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    emit("cli_encode_70k_s", time.perf_counter() - started, "s", note="process start, dataset load included")


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), MiB; NaN where /proc is missing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def open_loaded(
    harness, browser, server, start: str, model_path: Path, data_path: Path, latents_path: Path, n: int
):
    """A new tab on page `start` with the dataset, the model and the CLI's latents loaded; (page, nav titles)."""
    page = harness.new_page(browser)
    harness.open_page(page, server, start)
    harness.load_dataset_and_model(page, f"npz:{data_path}", n, model_path)
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary').filter(
        has_text="Precomputed latents"
    ).click()
    harness.widget(page, "sb_latents_upload").locator('input[type="file"]').set_input_files(str(latents_path))
    page.wait_for_timeout(300)
    harness.wait_settled(page, timeout_ms=120_000)
    if harness.error_texts(page):
        raise RuntimeError(f"the latents file was refused: {harness.error_texts(page)}")
    titles = harness._nav_titles(page)
    return page, {name: titles[i] for i, name in enumerate(harness.PAGES)}


def time_map_paint(harness, page, title: dict, n: int) -> float:
    """Seconds from the click on the Latent map link to all n dots drawn."""
    from benchmarks.bench_browser import MAP_PAINT_PROBE

    page.evaluate(MAP_PAINT_PROBE, n)
    t0 = page.evaluate("() => performance.now()")
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title["latent_map"]).first.click()
    page.wait_for_function("() => window.__mapPaint.t !== null", timeout=300_000, polling=100)
    probe = page.evaluate("() => window.__mapPaint")
    if probe["points"] < n:
        raise RuntimeError(f"the map drew {probe['points']} of {n} points")
    harness.wait_settled(page, timeout_ms=120_000)
    return (probe["t"] - t0) / 1000


def browser_figures(model_path: Path, data_path: Path, latents_path: Path, n: int) -> None:
    """Load everything in one session, then time the map's first paint and Anomalies; the server's peak RSS.
    A second tab then times the map from a page that has drawn no chart yet (plotly.js not loaded)."""
    from app_drivers import browser as harness

    with harness.chromium_browser() as browser, harness.running_server() as server:
        files = (model_path, data_path, latents_path, n)
        try:
            # Home, the page the app opens on, draws two small maps: plotly.js is loaded, as for any user who
            # started there or has seen any chart; the map's PCA is computed in this time
            page, title = open_loaded(harness, browser, server, "home", *files)
            emit(
                "map_70k_first_paint_s", time_map_paint(harness, page, title, n), "s", images=n, start="home"
            )

            t0 = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title["anomalies"]).first.click()
            page.wait_for_function(ANOMALIES_RANKED, timeout=600_000, polling=50)
            emit(
                "anomalies_70k_first_ranking_s",
                time.perf_counter() - t0,
                "s",
                images=n,
                note="first gallery drawn: the preview ranking of a random sample, or the full one",
            )
            page.wait_for_function(ANOMALIES_FULLY_RANKED, timeout=600_000, polling=50)
            emit(
                "anomalies_70k_s",
                time.perf_counter() - t0,
                "s",
                images=n,
                note="full ranking, latents cached",
            )
            harness.wait_settled(page, timeout_ms=120_000)
            if harness.exception_texts(page):
                raise RuntimeError(f"a page failed: {harness.exception_texts(page)}")
            page.context.close()

            # a session whose first chart is the map (e.g. opened on Train): the map waits for plotly.js
            page, title = open_loaded(harness, browser, server, "train", *files)
            emit(
                "map_70k_first_paint_cold_s",
                time_map_paint(harness, page, title, n),
                "s",
                images=n,
                start="train",
                note="plotly.js loaded by this first chart; PCA already cached",
            )
            page.context.close()
        finally:
            emit("server_rss_70k_mib", peak_rss_mib(server.process.pid), "MiB", images=n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one copy (10,000 images), 10 s of training")
    parser.add_argument("--copies", type=int, default=7, choices=range(1, 15), metavar="1..14")
    parser.add_argument("--train-budget", type=float, default=30.0, help="seconds of training (default 30)")
    parser.add_argument("--no-tsne", action="store_true", help="skip tsne_70k_s (the longest figure)")
    parser.add_argument("--no-browser", action="store_true", help="only the library and CLI figures")
    args = parser.parse_args(argv)
    if args.quick:
        args.copies, args.train_budget = 1, min(args.train_budget, 10.0)
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        note(f"bench_70k: no MNIST at {SHARED_MNIST}")
        return 2

    from app_drivers import browser as harness

    browser_ok = harness.chromium_available() and harness.playwright_available()
    if not args.no_browser and not browser_ok:
        note(f"bench_70k: the browser figures need {harness.CHROMIUM} and the playwright package; skipped")
    with tempfile.TemporaryDirectory(prefix="bench-70k-") as workdir:
        folder = Path(workdir)
        data_path = build_dataset(folder, args.copies)
        n = 10_000 * args.copies
        note(f"bench_70k: {n:,} images in {data_path.name} ({data_path.stat().st_size / 2**20:.0f} MiB)")
        model_path = train_model(folder, args.train_budget)
        library_figures(model_path, data_path, tsne=not args.no_tsne)
        latents_path = folder / "latents.npz"
        cli_encode(model_path, data_path, latents_path)
        if browser_ok and not args.no_browser:
            browser_figures(model_path, data_path, latents_path, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
