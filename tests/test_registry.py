"""The page registry is the one list of pages: it matches pages/, the Overview's menu reads it, nothing else lists
pages, and a page opened by URL as a fresh server's first request still runs behind the router."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app_helpers import start_app, texts
from explorer_ui import registry

REPO = Path(__file__).resolve().parents[1]


def test_the_registry_lists_every_page_file_once():
    names = [spec.name for spec in registry.PAGES]
    assert len(set(names)) == len(names)
    assert len({spec.title for spec in registry.PAGES}) == len(names)
    assert sorted(names) == sorted(p.stem for p in (REPO / "pages").glob("*.py"))
    assert [spec.default for spec in registry.PAGES].count(True) == 1
    assert all((REPO / spec.file).is_file() and spec.purpose for spec in registry.PAGES)


def test_an_unknown_page_name_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="latent_map"):
        registry.page("latent_mapp")


def test_no_other_file_spells_a_page_path():
    """Pages are named through the registry (registry.page_file), never as a literal path under pages/."""
    literal = re.compile(r"""["']pages/[a-z_]+\.py["']""")
    sources = [p for p in REPO.rglob("*.py") if ".venv" not in p.parts and p.name != "registry.py"]
    offenders = [str(p.relative_to(REPO)) for p in sources if literal.search(p.read_text(errors="replace"))]
    assert offenders == []


def test_the_overview_points_to_every_other_page(app_router):
    at = start_app()
    shown = texts(at)
    for spec in registry.PAGES[1:]:
        assert f"**{spec.title}**" in shown, spec.title


# One fresh interpreter: for each page, forget explorer_ui (as a new server process has never imported it), open
# the page by its file before anything else has run (Streamlit is then in its legacy pages/ mode), and report
# whether the sidebar (the router's) came with it.
DEEP_LINK_SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest
from explorer_ui import registry
names = [spec.name for spec in registry.PAGES]
result = {}
for name in names:
    for module in [m for m in sys.modules if m == "explorer_ui" or m.startswith("explorer_ui.")]:
        del sys.modules[module]
    at = AppTest.from_file("explorer_app.py", default_timeout=120)
    at.switch_page(registry.page_file(name)).run()
    result[name] = {"sidebar": len(at.sidebar.selectbox) > 0, "errors": [str(e.value) for e in at.exception]}
print(json.dumps(result))
"""


@pytest.mark.slow
def test_every_page_opened_first_on_a_fresh_process_comes_with_the_router():
    done = subprocess.run([sys.executable, "-c", DEEP_LINK_SCRIPT], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(result) == sorted(spec.name for spec in registry.PAGES)
    for name, seen in result.items():
        assert seen["errors"] == [], (name, seen["errors"])
        assert seen["sidebar"], f"{name} ran without the router (no sidebar)"
