"""The Train page's live controls: β changed while a run trains, and the KL of each latent dimension.

The run (vae_core.explore.TrainingRun) reads its β before every step, so moving the slider changes the objective
from the next step; the bars show each dimension's KL at the latest step, so a class watches dimensions switch
off as β grows (posterior collapse) and come back as it falls.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.errors import LatentExplorerError
from vae_core.explore import TrainingRun, TrainingSnapshot

from .figures import FONT

W_LIVE_BETA = "train_live_beta"  # widget key of the live β slider
LIVE_BETA_MAX = 20.0  # the settings form's range
ACTIVE_KL = 0.1  # nats: a dimension below this carries (almost) nothing


def _on_live_beta(run: TrainingRun) -> None:
    try:
        run.set_beta(float(st.session_state[W_LIVE_BETA]))
    except LatentExplorerError as exc:  # a value outside the range: keep the run's β, say why
        st.session_state[W_LIVE_BETA] = run.beta.get()
        st.toast(str(exc), icon=":material/error:")


def live_beta_control(run: TrainingRun) -> None:
    """A β slider bound to the running job: a change applies from the run's next step."""
    st.session_state[W_LIVE_BETA] = min(LIVE_BETA_MAX, run.beta.get())  # the slider mirrors the run's β
    st.slider(
        "β, live: the run uses the new value from its next step",
        0.0,
        LIVE_BETA_MAX,
        step=0.1,
        key=W_LIVE_BETA,
        on_change=_on_live_beta,
        args=(run,),
        help="Raise it and watch dimensions switch off (their KL drops to 0: posterior collapse); lower it "
        "and they come back.",
    )


def kl_bars(kl_per_dim: list[float], beta: float | None, height: int = 220) -> go.Figure:
    """One bar per latent dimension: its KL (nats) at the latest step, greyed when it carries almost nothing."""
    values = np.asarray(kl_per_dim, dtype=np.float64)
    colours = ["#4c78a8" if v >= ACTIVE_KL else "#bbbbbb" for v in values]
    fig = go.Figure(go.Bar(x=[f"z{i + 1}" for i in range(len(values))], y=values, marker_color=colours))
    title = "KL per dimension at the latest step" + ("" if beta is None else f" (β = {beta:.2f})")
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        font=FONT,
        yaxis_title="KL (nats)",
        title=dict(text=title, font=dict(size=15)),
    )
    return fig


def render_live(run: TrainingRun, snap: TrainingSnapshot) -> None:
    """While running: the live β slider; whenever known: the per-dimension KL bars."""
    if snap.state == "running":
        live_beta_control(run)
    if snap.kl_per_dim:
        active = sum(v >= ACTIVE_KL for v in snap.kl_per_dim)
        st.plotly_chart(
            kl_bars(snap.kl_per_dim, snap.beta), key="train_kl_dims", config={"displayModeBar": False}
        )
        st.caption(f"{active} of {len(snap.kl_per_dim)} dimensions carry more than {ACTIVE_KL} nats.")
