"""The library boundary: vae_core never imports streamlit or plotly; benchmarks never reach into tests/."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

IMPORT_EVERY_MODULE = """
import json, pkgutil, importlib, sys
import vae_core
modules = pkgutil.walk_packages(vae_core.__path__, "vae_core.")
names = [m.name for m in modules if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "ui": sorted(m for m in sys.modules
                                                 if m.split(".")[0] in ("streamlit", "plotly"))}))
"""


def test_vae_core_imports_neither_streamlit_nor_plotly():
    """Every vae_core module, imported in a fresh interpreter, leaves streamlit and plotly unloaded."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "vae_core.training" in seen["modules"] and "vae_core.cli" in seen["modules"]
    assert seen["ui"] == [], f"vae_core pulled in {seen['ui'][:5]}"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_benchmarks_do_not_import_the_tests():
    """Browser- and load-driving code lives outside tests/ (app_drivers/), so no benchmark depends on it."""
    offenders = {
        p.name: sorted(m for m in _imported_modules(p) if m == "tests" or m.startswith("tests."))
        for p in (REPO / "benchmarks").glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_every_fragment_goes_through_the_apps_wrapper():
    """Fragment reruns skip explorer_app.py and run in a new thread: only explorer_ui.state.fragment sets that
    thread's torch threads first (a bare st.fragment made every conv slider frame start an OpenMP team)."""
    bare = []
    for path in [*REPO.glob("pages/*.py"), *REPO.glob("explorer_ui/*.py"), REPO / "explorer_app.py"]:
        if path.name == "state.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "fragment"
                and getattr(node.value, "id", "") == "st"
            ):
                bare.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not bare, f"use explorer_ui.state.fragment instead of st.fragment at {bare}"


def test_the_fragment_wrapper_sets_one_torch_thread_in_the_rerun_thread():
    import threading

    import torch

    from explorer_ui import state

    seen = []

    def rerun_thread():
        torch.set_num_threads(2)  # what a fresh thread may start with
        state.configure_thread()
        seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    try:
        thread = threading.Thread(target=rerun_thread)
        thread.start()
        thread.join()
    finally:
        torch.set_num_threads(before)
    assert seen == [1]
