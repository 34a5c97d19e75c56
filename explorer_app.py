"""Latent Explorer: entry point and router. Shared sidebar here; each page lives in pages/."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `streamlit run` from any folder finds vae_core

from explorer_ui.sidebar import render_sidebar  # noqa: E402
from explorer_ui.state import configure_torch, init_state  # noqa: E402

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
    st.Page("pages/lesson.py", title="Lesson", icon="🎓"),
]

if not gc.get_freeze_count():
    gc.freeze()  # start-up objects (torch, streamlit, plotly) live for good: keep full collections cheap

navigation = st.navigation(PAGES)
render_sidebar()
navigation.run()
