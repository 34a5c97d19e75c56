"""Presenter view: larger type and pictures, fewer controls, for a projector at 1280×720.

One session-state flag (PRESENT) set by the sidebar toggle or by `?present=1` in any page's URL; the rest of
the session is untouched, so a teacher can switch it on and off mid-lecture. Pages ask `presenting()` to
leave out advanced options, and `image_target()` for picture sizes; the sidebar calls `presenter_controls()`
once per run, which also injects the stylesheet: a bigger root font (every rem-sized text grows); uploads,
the sidebar's "Load another dataset" box, advanced options and downloads hidden (HIDDEN_KEYS), whichever page
draws them; a display formula kept at the normal view's size (KaTeX's 1.21 em of the larger root would push the
longest past a 1280-pixel-wide panel), its box 3 px wider on the right, where KaTeX's last glyph overhangs its
shrink-wrapped box by a pixel or two and would otherwise give it a sideways scrollbar.
"""

from __future__ import annotations

import streamlit as st

from . import url_state
from .state import PRESENT

W_PRESENT = "sb_present"  # the sidebar toggle's own key (mirrors PRESENT, written in its callback)
URL_NAME = "present"  # ?present=1 / ?present=0
URL_SCOPE = "app"  # the same on every page
IMAGE_SCALE = 1.5  # pictures drawn by presenter-aware views grow by this factor
ROOT_FONT_PX = 20  # Streamlit's own is 16 px; its text, widgets and formulas are sized in rem/em

# Advanced options and downloads a class does not need, hidden in the presenter view whichever page draws them
# (by widget key; an expander by a widget inside it). The session keeps their values: switching back shows them.
HIDDEN_KEYS = (
    "slider_mode",  # Latent sliders: live pad vs stock slider (a latency comparison)
    "slider_local_decode",
    "sample_png",
    "interp_gif",
    "train_download",
    "directions_aug_download",
)
HIDDEN_EXPANDERS_OF = ("train_lr",)  # the Train form's "Advanced" expander
_HIDDEN_CSS = "\n".join(
    [f".st-key-{key} {{ display: none; }}" for key in HIDDEN_KEYS]
    + [f'[data-testid="stExpander"]:has(.st-key-{key}) {{ display: none; }}' for key in HIDDEN_EXPANDERS_OF]
)

PRESENTER_CSS = f"""<style>
html {{ font-size: {ROOT_FONT_PX}px; }}
[data-testid="stMainBlockContainer"] {{ padding-left: 2.5rem; padding-right: 2.5rem; padding-top: 2.5rem; }}
[data-testid="stMain"] h1 {{ font-size: 2.4rem; }}
[data-testid="stFileUploader"] {{ display: none; }}
[data-testid="stExpander"]:has(.st-key-sb_dataset_spec) {{ display: none; }}
.katex-display > .katex {{ padding-right: 3px; font-size: 1em; }}
{_HIDDEN_CSS}
</style>"""


def presenting() -> bool:
    """Whether this session shows the presenter view."""
    return bool(st.session_state.get(PRESENT, False))


def image_target(base: int) -> int:
    """A picture's target size in pixels: `base`, or larger in the presenter view."""
    return round(base * IMAGE_SCALE) if presenting() else base


def _on_toggle() -> None:
    st.session_state[PRESENT] = bool(st.session_state[W_PRESENT])


def presenter_controls() -> None:
    """Follow ?present= when a link sets it, draw the sidebar toggle, keep the URL in step, add the stylesheet."""
    ss = st.session_state
    ss.setdefault(PRESENT, False)
    note = url_state.adopt(
        URL_SCOPE,
        URL_NAME,
        PRESENT,
        url_state.parse_flag(url_state.query_value(URL_NAME), URL_NAME, default=False),
    )
    if note:
        st.caption(f"Link: {note}.")
    ss[W_PRESENT] = ss[PRESENT]  # the toggle mirrors the flag, whichever way it was set
    st.toggle(
        "Presenter view",
        key=W_PRESENT,
        on_change=_on_toggle,
        help="Larger type and pictures, fewer controls, for a projector. Same session: switch any time. "
        "Links with ?present=1 open in it.",
    )
    url_state.write(URL_SCOPE, {URL_NAME: 1 if ss[PRESENT] else None})
    if ss[PRESENT]:
        st.html(PRESENTER_CSS)
