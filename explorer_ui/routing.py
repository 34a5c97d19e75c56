"""Keep every page behind the router, even on a fresh server.

Streamlit treats a main script with a sibling `pages/` folder as a legacy multipage app until
`st.navigation` first runs in the process; until then a URL such as /train runs pages/train.py
alone (no sidebar, no page config). Each page calls `ensure_router()` first: in that legacy mode
it switches Streamlit to st.navigation and reruns, so explorer_app.py routes the same URL.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_router() -> None:
    """Rerun through explorer_app.py when Streamlit ran this page script without the router."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets once it has run
        st.rerun()
