"""Latent Explorer: entry point and router. Shared sidebar here; each page lives in pages/."""

from __future__ import annotations

import gc

import streamlit as st

# `streamlit run explorer_app.py` puts this file's folder first on sys.path, so vae_core and explorer_ui import
# from any working directory (and AppTest runs under pytest, whose pythonpath is the repository root).
from explorer_ui.registry import navigation_pages
from explorer_ui.sidebar import render_sidebar
from explorer_ui.state import configure_process, init_state
from explorer_ui.url_state import follow_pair_link

st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
configure_process()
init_state()
follow_pair_link()  # ?model=&dataset= from a link, before the sidebar draws the pickers

if not gc.get_freeze_count():
    gc.freeze()  # start-up objects (torch, streamlit, plotly) live for good: keep full collections cheap

navigation = st.navigation(navigation_pages())  # every page: explorer_ui/registry.py
render_sidebar()
navigation.run()
