"""The page registry: every page of the app, once. The router, the Overview's "Where to go next", the AppTest
smoke tests and the browser harness all read PAGES; adding a page is one entry here and one file in pages/.

It also keeps every page behind the router on a fresh server. Streamlit treats a main script with a sibling
`pages/` folder as a legacy multipage app until `st.navigation` first runs in the process; until then a URL
such as /train runs pages/train.py alone (no sidebar, no page config). `ensure_router()` runs when the
`explorer_ui` package is first imported (every page imports it): in that legacy mode it switches Streamlit to
st.navigation and reruns, so explorer_app.py routes the same URL. No page has to remember a line for it.

Importing this module costs nothing: streamlit is imported only inside the functions that need it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page: short name (the file's stem), menu title and icon, what it is for, whether it opens first."""

    name: str
    title: str
    icon: str
    purpose: str  # one line for the Overview's "Where to go next" (Markdown)
    default: bool = False

    @property
    def file(self) -> str:
        """The page script, relative to explorer_app.py (what st.Page and AppTest.switch_page want)."""
        return f"pages/{self.name}.py"

    @property
    def url_path(self) -> str:
        """The page's URL path ('' for the default page, else st.Page's default: the file's stem)."""
        return "" if self.default else self.name


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "home",
        "Overview",
        "🧭",
        "what a VAE is, live samples, and a plain autoencoder beside a VAE.",
        default=True,
    ),
    PageSpec("train", "Train", "🏋️", "fit a new VAE on any dataset, watch the loss curves, stop any time."),
    PageSpec(
        "latent_map",
        "Latent map",
        "🗺️",
        "every image as a dot (PCA or t-SNE); select dots to see them and their reconstructions.",
    ),
    PageSpec(
        "latent_sliders", "Latent sliders", "🎚️", "drag one latent coordinate and watch the image change."
    ),
    PageSpec("sample", "Sample", "🎲", "decode random codes; is each one just a copy of a training image?"),
    PageSpec(
        "interpolate", "Interpolate", "🔀", "walk in a straight line (or along a sphere) between two codes."
    ),
    PageSpec("anomalies", "Anomalies", "🔎", "the images the model explains worst."),
    PageSpec(
        "geometry",
        "Geometry",
        "🌐",
        "where the decoder stretches space, posterior clouds, and the prior's holes.",
    ),
    PageSpec(
        "directions",
        "Directions",
        "🧲",
        "steer along principal and attribute directions, probe what the codes know, augment data.",
    ),
    PageSpec(
        "lesson", "Lesson", "🎓", "a guided path through the ideas, one live view and one question per step."
    ),
)

_BY_NAME = {spec.name: spec for spec in PAGES}


def page(name: str) -> PageSpec:
    """The registered page called `name` (KeyError names the known pages)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no page {name!r}; registered: {', '.join(_BY_NAME)}") from None


def page_file(name: str) -> str:
    """The script path of a registered page, for st.switch_page / st.page_link."""
    return page(name).file


def where_to_go_next(exclude: str = "home") -> str:
    """The Overview's Markdown list of every other page and what it is for."""
    return "\n".join(f"- **{spec.title}**: {spec.purpose}" for spec in PAGES if spec.name != exclude)


def navigation_pages() -> list:
    """The st.Page objects for st.navigation, in menu order."""
    import streamlit as st

    return [st.Page(spec.file, title=spec.title, icon=spec.icon, default=spec.default) for spec in PAGES]


def ensure_router() -> None:
    """Rerun through explorer_app.py when Streamlit runs a page script without the router (legacy mode)."""
    if "streamlit.runtime.pages_manager" not in sys.modules:
        return  # no Streamlit runtime in this process (a test, a benchmark): nothing to route
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets once it has run
        st.rerun()
