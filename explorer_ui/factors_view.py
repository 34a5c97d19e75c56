"""Known factors in the app: slider labels that name the factor a dimension moves, the factor × dimension
mutual-information heatmap with its teaching panel, scores for the shipped shapes pair, and latent health.

Numbers come from vae_core (disentangle, health) through the caches in explorer_ui.state; this module only
words and draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.disentangle import MutualInformation, best_factor_per_dim
from vae_core.health import collapse_warning

from . import state
from .state import ActiveDataset, ActiveModel
from .widgets import teaching_panel

MIN_NAMED_MI = 0.1  # below this normalised MI a dimension is not named after any factor
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _dim(d: int) -> str:
    return "z" + str(d).translate(_SUBSCRIPTS)


def slider_labels(
    info: MutualInformation, factor_names: Sequence[str], active: np.ndarray | None = None
) -> list[str]:
    """One label per latent dimension: 'z₃ ≈ x position (0.61)'; 'z₃ · no factor (0.04)' when its MI is low;
    'z₃ · inactive' when its mean hardly moves across images (its small MI is binning noise, not a factor)."""
    best, strength = best_factor_per_dim(info)
    labels = []
    for d, (k, value) in enumerate(zip(best, strength)):
        if active is not None and not active[d]:
            labels.append(f"{_dim(d)} · inactive")
        elif value >= MIN_NAMED_MI:
            labels.append(f"{_dim(d)} ≈ {factor_names[k]} ({value:.2f})")
        else:
            labels.append(f"{_dim(d)} · no factor ({value:.2f})")
    return labels


def mi_heatmap(info: MutualInformation, factor_names: Sequence[str], order: Sequence[int]) -> go.Figure:
    """Factors (rows) × latent dimensions (columns, in slider order): normalised mutual information."""
    order = [int(d) for d in order]
    values = info.normalized[:, order]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=[_dim(d) for d in order],
            y=list(factor_names),
            zmin=0.0,
            zmax=1.0,
            colorscale="Blues",
            text=np.round(values, 2),
            texttemplate="%{text:.2f}",
            colorbar=dict(title="I / H"),
            hovertemplate="%{y} · %{x}: I(z; v) / H(v) = %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=90 + 42 * len(factor_names),
        margin=dict(l=10, r=10, t=30, b=10),
        title="Normalised mutual information I(zⱼ; vₖ) / H(vₖ)",
        yaxis=dict(autorange="reversed"),
    )
    return fig


ENTANGLEMENT_TEXT = (
    "These images come with **known factors** (for shapes: shape, scale, rotation, x and y position, each"
    " drawn independently of the others). A latent space is **disentangled** when each factor is carried "
    "by one dimension alone: then one slider moves the sprite sideways and nothing else. It is "
    "**entangled** when a factor is spread over several dimensions, or one dimension mixes several "
    "factors: a slider then moves *and* grows the sprite. The heatmap shows, for every factor (row) and "
    "dimension (column), the share of the factor's entropy H(v) that the dimension's value reveals. "
    "**MIG** (mutual information gap, Chen et al. 2018) averages, over factors, the gap between the best "
    "and second-best dimension in that heatmap; **DCI disentanglement** (Eastwood & Williams 2018) asks "
    "how many factors a random forest needs each dimension for. Both are 1 for a perfect one-to-one code "
    "and 0 for noise. (An *inactive* dimension may still show a little MI: its mean moves by tiny amounts"
    " the 20 bins still resolve; its slider changes nothing.)\n\n"
    "**What β does.** β multiplies the KL term. Raising it (a β-VAE, Higgins et al. 2017) makes every "
    "extra nat a dimension carries expensive, so the model keeps only the dimensions that pay for "
    "themselves, and the prior's independent axes push those towards separate factors. The price is "
    "blurrier reconstructions, and too large a β collapses dimensions altogether. No unsupervised model "
    "is guaranteed to disentangle (Locatello et al. 2019): scores vary with the random seed, so compare "
    "several."
)


def _score_row(label: str, report: dict | None) -> str:
    if report is None or "mig" not in report:
        return f"| {label} | – | – | – |"
    return (
        f"| {label} | {report['mig']:.3f} | {report['dci_disentanglement']:.3f} | "
        f"{report['active_units']} of {len(report['kl_per_dim'])} |"
    )


def shipped_comparison(dataset: ActiveDataset) -> str:
    """A markdown table: MIG, DCI and active units of each shipped shapes model on this dataset."""
    rows = ["| shipped model | MIG | DCI disentanglement | active units |", "|---|---|---|---|"]
    for model in state.shipped_shapes_models():
        rows.append(_score_row(model.label, state.factor_report(model, dataset)))
    return "\n".join(rows)


def render_factor_panel(
    model: ActiveModel, dataset: ActiveDataset, info: MutualInformation, order: Sequence[int]
) -> None:
    """Scores of the active model, the MI heatmap, the shipped pair's scores and the teaching panel."""
    report = state.factor_report(model, dataset)
    st.subheader("Which factor does each slider move?")
    if report is not None and "mig" in report:
        m1, m2, m3 = st.columns(3)
        m1.metric(
            "MIG", f"{report['mig']:.3f}", help="Mutual information gap, 0 … 1 (higher: more disentangled)"
        )
        m2.metric("DCI disentanglement", f"{report['dci_disentanglement']:.3f}")
        m3.metric("DCI completeness", f"{report['dci_completeness']:.3f}")
    st.plotly_chart(
        mi_heatmap(info, dataset.data.factor_names, order),
        key="factors_heatmap",
        config={"displayModeBar": False},
    )
    st.caption(
        "Scored on the validation images (the last 20 %), latent means cut into 20 bins; "
        "`python -m vae_core evaluate MODEL --dataset SPEC --json` prints the same numbers."
    )
    if state.shipped_extra_models():
        st.markdown(shipped_comparison(dataset))
    teaching_panel(
        ENTANGLEMENT_TEXT,
        r"\mathrm{MIG} = \frac{1}{K}\sum_{k=1}^{K} \frac{I(z_{j^{(k)}}; v_k) - "
        r"\max_{j \ne j^{(k)}} I(z_j; v_k)}{H(v_k)},\qquad j^{(k)} = \arg\max_j I(z_j; v_k)",
    )


def kl_bars_spec(kl_per_dim: Sequence[float]) -> dict:
    """A Vega-Lite bar chart of KL per dimension with its data inline (built as a plain dict: the sidebar draws it
    on every run, and st.bar_chart's Altair schema checks cost more than the rest of the card)."""
    return {
        "height": 120,
        "data": {"values": [{"dimension": i, "KL (nats)": float(v)} for i, v in enumerate(kl_per_dim)]},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "dimension", "type": "ordinal", "title": "dimension", "axis": {"labelAngle": 0}},
            "y": {"field": "KL (nats)", "type": "quantitative", "title": "KL"},
            "tooltip": [{"field": "dimension"}, {"field": "KL (nats)", "format": ".3f"}],
        },
    }


def render_latent_health(model: ActiveModel, dataset: ActiveDataset) -> None:
    """Active units, KL per dimension (bars) and a posterior-collapse warning for the active pair."""
    if not state.shapes_match(model, dataset):
        st.caption("Latent health needs a dataset the model fits.")
        return
    health = state.pair_health(model, dataset)
    st.markdown(
        f"**Latent health** on {dataset.display_name}: **{health.active_units} of {health.latent_dim}** "
        "dimensions active (their mean moves across images: Cov > 0.01, Burda et al. 2016)."
    )
    st.vega_lite_chart(kl_bars_spec(health.kl_per_dim), width="stretch")
    warning = collapse_warning(health)
    if warning:
        st.warning(warning, icon=":material/warning:")


def render_train_scores(model: ActiveModel, dataset: ActiveDataset) -> None:
    """After training on a dataset with known factors: MIG, DCI and active units of the new model."""
    report = state.factor_report(model, dataset)
    if report is None or "mig" not in report:
        return
    st.markdown(
        f"**Disentanglement** of this model against the {len(dataset.data.factor_names)} known factors "
        "(validation images):"
    )
    m1, m2, m3 = st.columns(3)
    m1.metric("MIG", f"{report['mig']:.3f}")
    m2.metric("DCI disentanglement", f"{report['dci_disentanglement']:.3f}")
    m3.metric("Active units", f"{report['active_units']} of {len(report['kl_per_dim'])}")
    if report.get("collapse_warning"):
        st.warning(report["collapse_warning"], icon=":material/warning:")
    st.caption(
        "Train again with another β (say 1, then 4) and compare; the Latent sliders page names each "
        "slider after the factor it moves and explains the scores."
    )
