"""Run every benchmark script in benchmarks/ (each in its own subprocess) and stream their JSON lines to stdout.

`make bench` calls this. Every line a benchmark prints as a JSON object with a "name" is passed through with a
"bench" field added (the script's name, so two scripts reporting the same figure stay apart); anything else a
script prints goes to stderr, with the script's name in front. A script that fails does not stop the others;
the exit status is 1 when any failed.

Usage (repo root): python benchmarks/run_all.py [--quick] [--only NAME ...] [--list] [--timeout S]
  --quick   passes --quick to scripts that take it, and smaller settings to the few that do not
  --only    run only these scripts (file name with or without .py; repeat or comma-separate)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent

# Run order: fast, self-contained figures first; the server- and browser-driving ones last. Scripts not named
# here run after these, alphabetically.
ORDER = [
    "bench_core",
    "bench_factors",
    "bench_tsne",
    "bench_geometry",
    "quality_mnist",
    "bench_directions",
    "bench_browser",
    "bench_70k",
    "bench_load",
]

# For --quick: scripts without a --quick flag get these smaller settings instead (when they take them).
QUICK_FALLBACK = {
    "quality_mnist": ["--time-budget", "20"],
    "bench_load": ["--sessions", "4", "--duration", "10"],
}


def discover() -> list[Path]:
    """Every benchmarks/*.py script except this one and private modules, in run order."""
    scripts = [
        p for p in BENCH_DIR.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    ]
    rank = {stem: i for i, stem in enumerate(ORDER)}
    return sorted(scripts, key=lambda p: (rank.get(p.stem, len(ORDER)), p.stem))


def takes_option(script: Path, option: str) -> bool:
    """Whether a script's source declares `option` for argparse (cheap: no import, no run)."""
    try:
        source = script.read_text(encoding="utf-8")
    except OSError:
        return False
    return f'"{option}"' in source or f"'{option}'" in source


def script_args(script: Path, quick: bool) -> list[str]:
    """Command-line arguments for one script: --quick where it exists, else the known smaller settings."""
    if not quick:
        return []
    if takes_option(script, "--quick"):
        return ["--quick"]
    fallback = QUICK_FALLBACK.get(script.stem, [])
    pairs = zip(fallback[::2], fallback[1::2])  # (option, value)
    return [item for option, value in pairs if takes_option(script, option) for item in (option, value)]


def _pump_stderr(stream, prefix: str) -> None:
    for line in stream:
        sys.stderr.write(f"[{prefix}] {line}")
        sys.stderr.flush()


def run_script(script: Path, args: list[str], timeout_s: float | None) -> tuple[int, float, int]:
    """Run one benchmark; stream its figures. Returns (exit status, wall seconds, figures printed)."""
    command = [sys.executable, str(script), *args]
    sys.stderr.write(f"== {script.name} {' '.join(args)}\n")
    sys.stderr.flush()
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
        start_new_session=True,
    )
    pump = threading.Thread(target=_pump_stderr, args=(process.stderr, script.stem), daemon=True)
    pump.start()
    figures = 0
    timer = None
    if timeout_s:
        timer = threading.Timer(timeout_s, _kill_group, args=(process,))
        timer.start()
    for line in process.stdout:
        text = line.strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict) and "name" in record:
            record.setdefault("bench", script.stem)
            print(json.dumps(record, ensure_ascii=False), flush=True)
            figures += 1
        else:
            sys.stderr.write(f"[{script.stem}] {text}\n")
    status = process.wait()
    if timer is not None:
        timer.cancel()
    pump.join(timeout=5)
    return status, time.perf_counter() - started, figures


def _kill_group(process: subprocess.Popen) -> None:
    import signal

    sys.stderr.write(f"timeout: killing {process.args[1]}\n")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def select(scripts: list[Path], only: list[str]) -> list[Path]:
    """The scripts named in --only (stems or file names), in run order; unknown names are an error."""
    wanted = {name.strip().removesuffix(".py") for item in only for name in item.split(",") if name.strip()}
    unknown = wanted - {p.stem for p in scripts}
    if unknown:
        raise SystemExit(
            f"no such benchmark: {', '.join(sorted(unknown))} (have: {', '.join(p.stem for p in scripts)})"
        )
    return [p for p in scripts if p.stem in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke-run settings for every script")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this script")
    parser.add_argument("--list", action="store_true", help="print the scripts that would run, then exit")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per script before it is killed")
    args = parser.parse_args(argv)

    scripts = discover()
    if args.only:
        scripts = select(scripts, args.only)
    if args.list:
        for script in scripts:
            print(f"{script.name} {' '.join(script_args(script, args.quick))}".rstrip())
        return 0

    failed = []
    for script in scripts:
        status, wall_s, figures = run_script(script, script_args(script, args.quick), args.timeout)
        sys.stderr.write(f"== {script.name}: exit {status}, {figures} figures, {wall_s:.0f} s\n")
        if status != 0:
            failed.append(script.name)
    if failed:
        sys.stderr.write(f"failed: {', '.join(failed)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
