"""Latent sliders: one slider per latent dimension, most used first; the decoded image follows while a slider moves."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer_ui import latent_pad as pad
from explorer_ui import url_state
from explorer_ui.factors_view import render_factor_panel, slider_labels
from explorer_ui.state import (
    SLIDER_ORIGIN,
    SLIDERS_LINK_Z,
    active_dataset,
    active_model,
    factor_information,
    fragment,
    latents,
    shapes_match,
)
from explorer_ui.widgets import mismatch_notice, teaching_panel
from vae_core.health import latent_health

st.title("Latent sliders")
teaching_panel(
    "The decoder turns a latent vector **z** into an image: it defines p(x | z), and we draw its mean. "
    "Training pulls every coordinate of z towards the N(0, I) prior, so each slider moves **one coordinate** "
    "within a few standard deviations of 0 while the others stay put. The **KL** beside a slider is how much "
    "information that coordinate carries about the images, averaged over the dataset: the decoder ignores "
    "dimensions near 0, so the most used come first.",
    r"\hat x = \mathbb{E}\,[\,p_\theta(x \mid z)\,],\quad z \sim \mathcal{N}(0, I)"
    r"\qquad \mathrm{KL}_i = \mathbb{E}_x\!\left[\tfrac12\left(\mu_i^2 + \sigma_i^2 - 1 - \log \sigma_i^2\right)\right]",  # noqa: E501
)

model = active_model()
dataset = active_dataset()
latent_dim = int(model.config.latent_dim)
if shapes_match(model, dataset):
    latent_means, latent_logvars = latents(model, dataset)
    kl, order = pad.kl_and_order(model.key, dataset.key, latent_means, latent_logvars)
    used = int(np.sum(kl > 0.1))
    st.caption(
        f"On {dataset.display_name}, {used} of {latent_dim} dimensions carry more than 0.1 nats; "
        "sliders are ordered by KL."
    )
else:
    kl, order = None, np.arange(latent_dim)
    mismatch_notice(model, dataset, key="sliders_mismatch_train")
    st.caption(
        "The sliders still work (the decoder needs no data), in index order: without images there is no KL."
    )
factor_info = factor_information(model, dataset)  # None unless the dataset has known factors (e.g. shapes)
labels = None
if factor_info is not None:
    labels = slider_labels(
        factor_info, dataset.data.factor_names, latent_health(*latents(model, dataset)).active
    )
    st.caption(
        "Each slider is named after the known factor it tells most about, with the share of that factor's "
        "information it carries (normalised mutual information, 0 … 1); see the heatmap below."
    )


origin_point = st.session_state.get(SLIDER_ORIGIN)
pad.ensure_vector(latent_dim, model.key, origin_point)
# ?mode=&z=v1,v2,…: the slider widget and the slider values (clamped to the sliders' range)
LINK = {"mode": url_state.choice_param(pad.MODE, "mode", list(pad.MODES), "live")}
url_state.restore("sliders", LINK)
z_link = url_state.parse_float_list(
    url_state.query_value("z"), "z", -pad.SLIDER_LIMIT, pad.SLIDER_LIMIT, latent_dim
)
z_taken, z_note = url_state.take("sliders", "z", z_link)
if z_taken:
    pad.set_vector(z_link.value)
url_state.show_notes([z_note])
# The controls stay outside the fragment: they rarely change, and every element inside it costs each frame time.
start_col, reset_col, random_col, mode_col = st.columns([4, 1, 2, 3], vertical_alignment="bottom")
start_col.radio(
    "Start from",
    list(pad.START_LABELS),
    format_func=pad.START_LABELS.get,
    key=pad.START,
    horizontal=True,
    on_change=pad.apply_start,
    args=(latent_dim, origin_point),
)
reset_col.button(
    "Reset",
    key="sliders_reset",
    on_click=pad.apply_start,
    args=(latent_dim, origin_point),
    help="Back to the chosen start",
)
random_col.button("New random sample", key="sliders_new_random", on_click=pad.new_random, args=(latent_dim,))
mode_col.radio(
    "Slider widget",
    list(pad.MODES),
    format_func=pad.MODES.get,
    key=pad.MODE,
    horizontal=True,
    on_change=pad.on_mode_change,
    help="Live redraws while you drag; Streamlit's own slider only sends on release (for comparison)",
)
if st.session_state[pad.MODE] == "live":
    if pad.decodes_in_browser(model.model, model.key):
        st.toggle(
            "Decode in the browser while dragging",
            key=pad.LOCAL_DECODE,
            help="Your browser runs this decoder on every slider move (no round trip to the server). "
            "Off: each frame is decoded on the server.",
        )
    else:
        st.caption(
            "This decoder is too large to send to the browser: each frame is decoded on the server "
            "while you drag."
        )
if st.session_state[pad.START] == "point" and not pad.latent_fits(origin_point, latent_dim):
    st.caption(
        "No point chosen for this model yet: pick one on the Latent map and make it the slider origin. "
        "Showing the origin meanwhile."
    )


@fragment
def sliders_panel() -> None:
    """The sliders and the image: while a slider moves, only this reruns."""
    if st.session_state[pad.MODE] == "stock":
        pad.render_stock(model.model, model.key, order, kl, labels=labels)
    else:
        pad.render_pad(model.model, model.key, order, kl, labels=labels)
    vector = ",".join(repr(float(v)) for v in pad.current_vector())  # exact: the link decodes the same image
    if pad.is_dragging():  # mid-drag frames keep the last link: no URL write and no new popover per frame
        vector = st.session_state.get(SLIDERS_LINK_Z) or vector
    st.session_state[SLIDERS_LINK_Z] = vector
    url_state.share("sliders", LINK, key="sliders_link", extra={"z": vector})


sliders_panel()
if factor_info is not None:
    render_factor_panel(model, dataset, factor_info, order)
