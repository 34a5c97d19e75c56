"""Load: N concurrent sessions against one `streamlit run explorer_app.py`, each dragging the latent sliders,
sampling and interpolating for a while; prints JSON lines {"name", "value", "unit"}:

  load_sessions           simulated users, each its own websocket session (the protocol a browser tab speaks)
  load_requests           reruns they asked for (full page runs, widget changes, pad moves as fragment reruns)
  load_errors             requests that failed: an exception element, a timeout, a dropped connection (goal: 0)
  load_latency_ms_p95     95th percentile from sending a rerun to its script_finished (also p50 and max)
  load_rss_growth_pct     server resident memory at the end vs after warm-up (every user did one round; goal ≤ 10)
plus requests per second, peak RSS and the number of st.error boxes seen (expected 0 here).

With --hostile N (default 2) a second run follows in the same invocation: the same users, plus N sessions
that keep uploading the worst inputs (app_drivers/load_client.hostile_uploads: a 200-byte checkpoint describing
~10⁸ parameters, a 200,000-deep JSON header, compressed .npz files over and just under the pixel budget,
a zip of PNGs that decode to 2048² each, a zip bomb). It adds:

  load_hostile_errors          errors seen by the well-behaved users meanwhile (goal: 0)
  load_hostile_p95_ratio       their p95 latency over the clean run's (goal: ≤ 2)
  load_hostile_rss_peak_mib    server peak RSS during the hostile run (goal: ≤ 1536)
  load_hostile_uploads, load_hostile_uncaught (uploads that crashed a page instead of showing our message)

Each user visits /latent_sliders (two pad drags of 4–10 moves, one message in flight, like pad.js; sometimes
"New random sample"), /sample (count, temperature, seed or "New seed") and /interpolate (steps, path, both
endpoint indices, frame), pausing 0.2–0.8 s between pages. The client is app_drivers/load_client.py.

With --browser-decoding the users' pads decode in the browser (as they do for every model under the caps): only
released values and page actions reach the server; every figure's name then ends in _browser_decoding.

Within a page the users act back to back (a widget change the moment the last one finished): far busier than a
person. With --action-think MIN MAX (the paced mode) they also pause MIN–MAX s before every action, as someone
looking at each result does; figure names then end in _paced (and no hostile run follows).

Usage (repo root): python benchmarks/bench_load.py [--sessions 20] [--duration 60] [--port 8631]
                   [--think 0.2 0.8] [--log server.log] [--hostile 2] [--browser-decoding]
                   [--action-think 1 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app_drivers.load_client import run_load  # noqa: E402

UNITS = {
    "load_sessions": "sessions",
    "load_requests": "requests",
    "load_errors": "requests",
    "load_sessions_answered": "sessions",
    "load_duration_s": "s",
    "load_requests_per_s": "requests/s",
    "load_error_alerts": "alerts",
    "load_sidebar_missing": "runs",
    "load_server_cpu_s": "s",
    "load_server_cpu_cores_busy": "cores",
    "load_hostile_errors": "requests",
    "load_hostile_p95_ratio": "ratio",
    "load_hostile_rss_peak_mib": "MiB",
    "load_hostile_uploads": "uploads",
    "load_hostile_uncaught": "uploads",
    "load_hostile_failures": "uploads",
    "load_hostile_sessions": "sessions",
}


def unit_of(name: str) -> str:
    """The unit of a figure from its name."""
    if name in UNITS:
        return UNITS[name]
    if name.endswith("_ms") or "_ms_" in name:
        return "ms"
    if name.endswith("_mb"):
        return "MiB"
    if name.endswith("_pct"):
        return "%"
    return ""


def hostile_figures(args: argparse.Namespace, clean: dict) -> dict:
    """The same load plus hostile uploaders: the well-behaved users' errors, p95 ratio, server peak RSS."""
    log = args.log.with_name(args.log.stem + "-hostile" + args.log.suffix) if args.log else None
    hostile = run_load(args.sessions, args.duration, args.port, tuple(args.think), log, hostile=args.hostile)
    return {
        "load_hostile_errors": hostile["load_errors"],
        "load_hostile_p95_ratio": round(hostile["load_latency_ms_p95"] / clean["load_latency_ms_p95"], 2),
        "load_hostile_rss_peak_mib": hostile["load_rss_peak_mb"],
        "load_hostile_latency_ms_p95": hostile["load_latency_ms_p95"],
        "load_hostile_error_examples": hostile["load_error_examples"],
        **{k: v for k, v in hostile.items() if k.startswith("load_hostile_")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load after warm-up")
    parser.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.2, 0.8),
        metavar=("MIN", "MAX"),
        help="pause between pages, seconds (default 0.2 0.8)",
    )
    parser.add_argument("--log", type=Path, default=None, help="write the server's output here")
    parser.add_argument(
        "--hostile", type=int, default=2, help="hostile uploading sessions in a second run (0: none)"
    )
    parser.add_argument(
        "--browser-decoding",
        action="store_true",
        help="the pads decode in the browser: only released slider values reach the server",
    )
    parser.add_argument(
        "--action-think",
        type=float,
        nargs=2,
        default=None,
        metavar=("MIN", "MAX"),
        help="the paced mode: also pause this long before every action within a page (a person looking at "
        "the result); figure names then end in _paced",
    )
    args = parser.parse_args(argv)
    figures = run_load(
        args.sessions,
        args.duration,
        args.port,
        tuple(args.think),
        args.log,
        browser_decoding=args.browser_decoding,
        action_think_s=tuple(args.action_think) if args.action_think else None,
    )
    if args.hostile > 0 and not args.browser_decoding and not args.action_think:
        figures |= hostile_figures(args, figures)
    figures["load_machine_cpus"] = os.cpu_count()
    figures["load_machine_loadavg_1m"] = round(os.getloadavg()[0], 2)
    suffix = ("_browser_decoding" if args.browser_decoding else "") + ("_paced" if args.action_think else "")
    if args.action_think:
        figures["load_action_think_s"] = list(args.action_think)
    for name, value in figures.items():
        print(
            json.dumps({"name": name + suffix, "value": value, "unit": unit_of(name)}, ensure_ascii=False),
            flush=True,
        )
    return 0 if figures["load_errors"] == 0 and figures.get("load_hostile_errors", 0) == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
