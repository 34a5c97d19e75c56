"""Plotly figure builders for the pages: the selectable latent map, small comparison maps, loss curves,
the interpolation path, and the score histogram. Pure functions: arrays in, go.Figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from vae_core.latent_input import clamp_int

PALETTE = qualitative.Plotly + qualitative.D3[3:] + qualitative.Dark24  # 10 distinct first, then more
UNLABELLED_COLOUR = "#4c78a8"
FONT = dict(size=15)  # readable on a projector
# Maps up to this many points are drawn as SVG, bigger ones with WebGL. Up to 5,000 points SVG paints as fast as
# WebGL (~0.6 s in headless Chromium, 2 loaded cores); at 10,000 it took 0.8-1.3 s against 0.5-0.65 s, and it
# slows selection, so MNIST-sized maps stay WebGL.
SVG_MAX_POINTS = 5_000


def marker_size(n_points: int) -> float:
    """Smaller dots for bigger maps so 70k points stay readable: 7 px up to 1,000 points, ~2 px at 70,000."""
    return marker_style(n_points)[0]


def marker_style(n_points: int) -> tuple[float, float]:
    """(size px, opacity) for a map of n_points: both shrink with the count (on a log scale), so a 70,000-point
    map shows its clusters' density instead of one over-plotted blob, and 300 points stay big and solid."""
    scale = float(np.clip((np.log10(max(n_points, 1)) - 3.0) / (np.log10(140_000) - 3.0), 0.0, 1.0))
    return round(7.0 - 5.2 * scale, 2), round(0.8 - 0.55 * scale, 2)


def class_name(class_names: Sequence[str], label: int) -> str:
    """The name of class `label`, or the number itself when the dataset names fewer classes."""
    label = int(label)
    return class_names[label] if 0 <= label < len(class_names) else str(label)


def _class_groups(labels: np.ndarray | None, class_names: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, row indices) per class present, in class order; one unnamed group without labels."""
    if labels is None:
        return []
    groups = []
    for value in np.unique(labels):
        groups.append((class_name(class_names, value), np.flatnonzero(labels == value)))
    return groups


def latent_map(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    axis_titles: tuple[str, str] = ("PC 1", "PC 2"),
    height: int = 620,
    selectable: bool = True,
    faint: bool = False,
) -> go.Figure:
    """A scatter of every point (no subsampling; SVG, or WebGL above SVG_MAX_POINTS points), one trace per
    class; customdata = row index, hover shows label and index. Deterministic for the same inputs, so a rerun
    keeps the selection. `faint`: a background for something drawn over it (see-through dots, no hover)."""
    coords = np.asarray(coords, dtype=np.float32)
    n = len(coords)
    size, opacity = marker_style(n)
    if faint:
        opacity = min(0.25, opacity)
    groups = _class_groups(labels, class_names)
    if not groups:
        groups = [("images", np.arange(n))]
    traces = []
    for i, (name, rows) in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)] if labels is not None else UNLABELLED_COLOUR
        traces.append(
            dict(
                type="scatter" if n <= SVG_MAX_POINTS else "scattergl",
                x=coords[rows, 0],
                y=coords[rows, 1],
                mode="markers",
                name=str(name),
                customdata=rows.astype(np.int64),
                marker=dict(size=size, color=colour, opacity=opacity, line=dict(width=0)),
                **(
                    dict(hoverinfo="skip")
                    if faint
                    else dict(hovertemplate=f"label {name}<br>index %{{customdata}}<extra></extra>")
                ),
            )
        )
    layout = dict(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=FONT,
        dragmode="select" if selectable else "pan",
        uirevision="latent-map",
        legend=dict(title=dict(text="label"), itemsizing="constant", font=dict(size=14)),
        xaxis=dict(title=dict(text=axis_titles[0])),
        yaxis=dict(title=dict(text=axis_titles[1]), scaleanchor="x", scaleratio=1),
        hovermode="closest",
    )
    # Built unvalidated: plotly's validation of ~10 traces took ~20 ms a call, on every run of every page that
    # shows a map (the Interpolate page redraws one on each change); tests/test_figures.py validates the result.
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def comparison_map(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    title: str,
    prior_centre: Sequence[float] = (0.0, 0.0),
    prior_box: float | None = 2.0,
) -> go.Figure:
    """A small, non-selectable latent map with a dashed square of ±`prior_box` around the projected origin
    (a projection of N(0, I) onto orthonormal axes is N(0, I₂): most prior samples land inside)."""
    fig = latent_map(coords, labels, class_names, height=430, selectable=False)
    if prior_box is not None:
        cx, cy = float(prior_centre[0]), float(prior_centre[1])
        fig.add_shape(
            type="rect",
            x0=cx - prior_box,
            y0=cy - prior_box,
            x1=cx + prior_box,
            y1=cy + prior_box,
            line=dict(color="black", dash="dash", width=2),
        )
    fig.update_layout(
        title=dict(text=title, font=dict(size=16)), showlegend=False, margin=dict(l=10, r=10, t=45, b=10)
    )
    return fig


# The loss chart's curves in draw order: (records, record key, legend name, colour, line width, marker size);
# batch curves (no markers) are drawn thin and faint under the per-epoch ones.
LOSS_CURVES = (
    ("steps", "recon", "reconstruction (batch)", "#1f77b4", 1, None),
    ("steps", "kl", "KL (batch)", "#ff7f0e", 1, None),
    ("epochs", "train_recon", "reconstruction (epoch)", "#1f77b4", 2, 4),
    ("epochs", "train_kl", "KL (epoch)", "#ff7f0e", 2, 4),
    ("epochs", "val_neg_elbo", "validation −ELBO", "#2ca02c", 3, 5),
)


def loss_curves(steps: Sequence[dict], epochs: Sequence[dict], height: int = 360) -> go.Figure:
    """Training reconstruction and KL (per step, throttled, and per epoch) and validation −ELBO per epoch, vs epoch."""
    fig = go.Figure()
    records = {"steps": steps, "epochs": epochs}
    for source, key, name, colour, width, size in LOSS_CURVES:
        rows = records[source]
        if not rows:
            continue
        style = (
            dict(mode="lines", opacity=0.45)
            if size is None
            else dict(mode="lines+markers", marker=dict(size=size))
        )
        fig.add_trace(
            go.Scatter(
                x=[r["epoch"] for r in rows],
                y=[r[key] for r in rows],
                name=name,
                line=dict(color=colour, width=width),
                **style,
            )
        )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=FONT,
        xaxis_title="epoch",
        yaxis_title="nats per image",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        uirevision="loss",
    )
    return fig


def interpolation_path(
    background: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    path_xy: np.ndarray,
    current: int,
    axis_titles: tuple[str, str] = ("PC 1", "PC 2"),
    height: int = 460,
) -> go.Figure:
    """The dataset's map (PCA or t-SNE, faint) with the interpolation path drawn on it and the current frame marked."""
    fig = latent_map(
        background, labels, class_names, axis_titles, height=height, selectable=False, faint=True
    )
    path_xy = np.asarray(path_xy, dtype=np.float32)
    ends = path_xy[[0, -1]]
    current = clamp_int(current, 0, len(path_xy) - 1, "frame")
    fig.add_traces(  # plain dicts on the unvalidated map: tests/test_figures.py validates the result
        [
            dict(
                type="scatter",
                x=path_xy[:, 0],
                y=path_xy[:, 1],
                mode="lines+markers",
                name="path",
                line=dict(color="black", width=3),
                marker=dict(size=7, color="black"),
                hovertemplate="frame %{text}<extra></extra>",
                text=list(range(len(path_xy))),
            ),
            dict(
                type="scatter",
                x=ends[:, 0],
                y=ends[:, 1],
                mode="markers+text",
                name="ends",
                text=["start", "end"],
                textposition="top center",
                textfont=dict(size=15),
                marker=dict(size=14, color="white", line=dict(color="black", width=2)),
                hoverinfo="skip",
            ),
            dict(
                type="scatter",
                x=[float(path_xy[current, 0])],
                y=[float(path_xy[current, 1])],
                mode="markers",
                name=f"frame {current}",
                hoverinfo="skip",
                marker=dict(size=20, color="#d62728", symbol="star", line=dict(color="black", width=1)),
            ),
        ]
    )
    return fig


def score_histogram(
    scores: np.ndarray,
    threshold: float | None,
    score_name: str,
    height: int = 260,
    marker_text: str = "shown →",
) -> go.Figure:
    """Histogram of per-image scores (60 bins, counted here: 60 bars reach the browser, not 70,000 values) with a
    dashed line where the images shown below begin."""
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    counts, edges = np.histogram(values, bins=60) if len(values) else (np.zeros(0), np.zeros(1))
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges) * 0.96,
            marker_color="#4c78a8",
            hovertemplate="%{x:.1f} nats: %{y} images<extra></extra>",
        )
    )
    if threshold is not None:
        fig.add_vline(
            x=float(threshold),
            line=dict(color="#d62728", dash="dash", width=2),
            annotation_text=marker_text,
            annotation_position="top",
        )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=FONT,
        xaxis_title=f"{score_name} (nats)",
        yaxis_title="images",
        bargap=0.02,
    )
    return fig
