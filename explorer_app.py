"""Latent Explorer: entry point and router. Shared sidebar here; each page lives in pages/."""

from __future__ import annotations

import gc

import streamlit as st

# `streamlit run explorer_app.py` puts this file's folder first on sys.path, so vae_core and explorer_ui import
# from any working directory (and AppTest runs under pytest, whose pythonpath is the repository root).
from explorer_ui.sidebar import render_sidebar
from explorer_ui.state import configure_torch, init_state

st.set_page_config(page_title="Latent Explorer", page_icon="🧭", layout="wide")
configure_torch()
init_state()

PAGES = [
    st.Page("pages/home.py", title="Overview", icon="🧭", default=True),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/latent_map.py", title="Latent map", icon="🗺️"),
    st.Page("pages/latent_sliders.py", title="Latent sliders", icon="🎚️"),
    st.Page("pages/sample.py", title="Sample", icon="🎲"),
    st.Page("pages/interpolate.py", title="Interpolate", icon="🔀"),
    st.Page("pages/anomalies.py", title="Anomalies", icon="🔎"),
]

if not gc.get_freeze_count():
    gc.freeze()  # start-up objects (torch, streamlit, plotly) live for good: keep full collections cheap

navigation = st.navigation(PAGES)
render_sidebar()
navigation.run()
