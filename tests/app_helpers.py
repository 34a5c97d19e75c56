"""Helpers for the AppTest suites: start the app, move between pages, read what a widget or download sent.

Two AppTest quirks (Streamlit 1.67) are handled here, so the tests exercise the app as a browser would:

* AppTest resets `PagesManager.uses_pages_directory` before every run, and because the app keeps its
  page scripts in a folder named `pages/`, every run after the first would be treated as a legacy
  (v1) multipage app: the page script runs *without* explorer_app.py (no sidebar, no router). The
  real server runs the router on every rerun once `st.navigation` has been called. `router_runs_every_time`
  restores that behaviour.
* Media (images, downloads) is kept in a fresh in-memory store per run and only the URL reaches the
  element tree. `recording_media` keeps every stored file so a test can read a download's bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.runtime import pages_manager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from explorer_ui import registry

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "explorer_app.py"
PAGES = tuple(spec.name for spec in registry.PAGES)  # every page, from the one registry


def page_path(name: str) -> str:
    """The path AppTest.switch_page wants for a page, relative to explorer_app.py."""
    return registry.page_file(name)


@contextmanager
def router_runs_every_time() -> Iterator[None]:
    """Make AppTest run explorer_app.py (router + sidebar) on every run, as the real server does."""
    original = pages_manager.PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages_manager.PagesManager.uses_pages_directory = False  # what st.navigation sets in a real server

    pages_manager.PagesManager.__init__ = init
    try:
        yield
    finally:
        pages_manager.PagesManager.__init__ = original


class MediaRecorder:
    """Every media file (image, download) stored during the runs, by file id."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.names: dict[str, str | None] = {}  # file id → the file name a download offers

    def bytes_for_url(self, url: str) -> bytes:
        """The content behind a media URL such as /mock/media/<id>.gif."""
        file_id = url.rsplit("/", 1)[-1].split(".", 1)[0]
        return self.files[file_id]

    def name_for_url(self, url: str) -> str | None:
        """The file name a download button offers for the media URL."""
        return self.names[url.rsplit("/", 1)[-1].split(".", 1)[0]]


@contextmanager
def recording_media() -> Iterator[MediaRecorder]:
    """Keep a copy of every media file AppTest stores while the block runs."""
    recorder = MediaRecorder()
    original = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        recorder.files[file_id] = self._files_by_id[file_id].content
        recorder.names[file_id] = filename
        return file_id

    MemoryMediaFileStorage.load_and_get_id = load_and_get_id
    try:
        yield recorder
    finally:
        MemoryMediaFileStorage.load_and_get_id = original


def start_app(timeout: float = 60) -> AppTest:
    """The app after its first run (Overview page)."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    assert_clean(at)
    return at


def goto(at: AppTest, name: str) -> AppTest:
    """Switch to a page and run it; fails on any exception."""
    at.switch_page(page_path(name)).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element anywhere on the page."""
    assert not at.exception, "\n\n".join(str(e.value) for e in at.exception)


def image_urls(at: AppTest) -> list[str]:
    """Media URLs of every st.image on the page, in order."""
    return [url for element in at.get("image") for url in element.value]


def download_url(at: AppTest, key: str) -> str:
    """The media URL behind a download button."""
    button = next(b for b in at.get("download_button") if b.key == key)
    return button.proto.url


def played_gif(at: AppTest, media: MediaRecorder) -> bytes:
    """The Interpolate page's GIF, as its player shows it (the download builds the same bytes on click, which
    AppTest cannot do: it has no server to ask; the browser tests click it)."""
    at.toggle(key="interp_play").set_value(True).run()
    gifs = [url for url in image_urls(at) if url.endswith(".gif")]
    assert gifs, "the GIF player showed nothing"
    return media.bytes_for_url(gifs[-1])


def texts(at: AppTest) -> str:
    """All markdown, captions, alerts and headings of the page joined, for `in` checks."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [a.value for kind in ("error", "warning", "info", "success") for a in getattr(at, kind)]
    parts += [h.value for h in at.title] + [h.value for h in at.header] + [h.value for h in at.subheader]
    return "\n".join(parts)


def wait_for_training(
    at: AppTest, key: str = "train_job", limit_s: float = 180.0, poll_s: float = 0.5
) -> AppTest:
    """Rerun the Train page until this session's run has finished (bounded), then once more so it registers."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        job = at.session_state[key]
        if job is not None and not job.running:
            break
        time.sleep(poll_s)
        at.run()
        assert_clean(at)
    else:
        raise AssertionError(f"training did not finish within {limit_s} s")
    at.run()
    assert_clean(at)
    return at
