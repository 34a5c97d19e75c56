"""Plotly figures for the Geometry page and the Interpolate page's path comparison: the magnification heat map
with a clickable plane, posterior clouds as ellipses, densities of the aggregate posterior against the prior.
Pure functions: arrays in, go.Figure out; plus the parser of a click on the plane."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer_ui.figures import FONT, PALETTE, latent_map

PATH_COLOURS = {"linear": "#1f77b4", "spherical": "#ff7f0e", "geodesic": "#d62728"}
PICK_TRACE = "plane"  # name of the invisible grid trace that makes every place on the plane clickable


def log_magnification(values: np.ndarray) -> np.ndarray:
    """log₁₀ of magnification values, floored at 1e-12 so a flat decoder still draws."""
    return np.log10(np.maximum(np.asarray(values, dtype=np.float64), 1e-12))


def heat_trace(xs: np.ndarray, ys: np.ndarray, logs: np.ndarray, **style: Any) -> go.Heatmap:
    """The magnification heat map over the plane's grid (Viridis, smoothed, no hover), with extra style."""
    return go.Heatmap(
        x=xs,
        y=ys,
        z=logs,
        colorscale="Viridis",
        zsmooth="best",
        hoverinfo="skip",
        name="magnification",
        **style,
    )


def magnification_map(
    xs: np.ndarray,
    ys: np.ndarray,
    values: np.ndarray,
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    picked: Sequence[float] | None = None,
    height: int = 560,
    colour_title: str = "log₁₀ √det G",
) -> go.Figure:
    """log₁₀ magnification as a heat map under the data's dots, with an invisible marker on every grid cell
    (customdata = plane x, y) so a click anywhere selects a plane point; the picked point drawn as a star.
    Drag pans: in plotly's select mode a click starts an empty box instead of picking the point under it."""
    fig = latent_map(coords, labels, class_names, height=height, selectable=True)
    for trace in fig.data:
        trace.marker.opacity = 0.8
        trace.marker.size = max(3.0, trace.marker.size - 1)
        trace.marker.line = dict(width=0.5, color="white")
        trace.unselected = dict(marker=dict(opacity=0.8))  # a click must not fade the data
        trace.selected = dict(marker=dict(opacity=1.0, size=14, color="#d62728"))
    logs = log_magnification(values)
    colorbar = dict(title=dict(text=colour_title, side="top"), orientation="h", y=-0.3, len=0.7, thickness=12)
    fig.add_trace(heat_trace(xs, ys, logs, colorbar=colorbar))
    gx, gy = np.meshgrid(xs, ys)
    fig.add_trace(
        go.Scattergl(
            x=gx.ravel(),
            y=gy.ravel(),
            mode="markers",
            name=PICK_TRACE,
            showlegend=False,
            customdata=np.stack([gx.ravel(), gy.ravel(), logs.ravel()], axis=1),
            marker=dict(size=9, opacity=0.01, color="white"),  # invisible, yet plotly still hit-tests it
            unselected=dict(marker=dict(opacity=0.01)),
            selected=dict(
                marker=dict(opacity=1.0, size=16, color="#d62728")
            ),  # the clicked spot shows in red
            hovertemplate="plane (%{x:.2f}, %{y:.2f})<br>log₁₀ magnification %{customdata[2]:.2f}"
            "<extra></extra>",
        )
    )
    # heat map and pick grid go underneath the dots
    fig.data = (fig.data[-2], fig.data[-1], *fig.data[:-2])
    if picked is not None:
        fig.add_trace(
            go.Scatter(
                x=[float(picked[0])],
                y=[float(picked[1])],
                mode="markers",
                name="picked",
                hoverinfo="skip",
                marker=dict(size=18, symbol="star", color="#d62728", line=dict(color="white", width=1.5)),
            )
        )
    fig.update_layout(uirevision=None, dragmode="pan", clickmode="event+select", legend=dict(title="label"))
    fig.update_xaxes(range=[float(xs[0]), float(xs[-1])])
    fig.update_yaxes(range=[float(ys[0]), float(ys[-1])])
    return fig


def picked_plane_point(event: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The plane (x, y) of the last point in a plotly selection event (a data dot or a grid cell), or None."""
    try:
        points = event["selection"]["points"]  # key access: Streamlit's event is an attribute dict
    except (KeyError, TypeError):
        return None
    for point in reversed(list(points or [])):
        try:
            x, y = float(point["x"]), float(point["y"])
        except (KeyError, TypeError, ValueError):
            continue
        if np.isfinite(x) and np.isfinite(y):
            return x, y
    return None


def posterior_clouds(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    clouds: Sequence[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
    height: int = 520,
) -> go.Figure:
    """The map (faint) and, per image (index, 1σ ellipse, 2σ ellipse, draws on the plane), its q(z|x)."""
    fig = latent_map(coords, labels, class_names, height=height, selectable=False)
    for trace in fig.data:
        trace.marker.opacity = 0.2
        trace.hoverinfo = "skip"
        trace.hovertemplate = None
    for k, (index, one, two, draws) in enumerate(clouds):
        colour = PALETTE[(k + 3) % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=one[:, 0],
                y=one[:, 1],
                mode="lines",
                line=dict(color="black", width=3),
                name=f"#{index} 1σ",
                hoverinfo="skip",
                fill="toself",
                fillcolor="rgba(0,0,0,0.08)",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=two[:, 0],
                y=two[:, 1],
                mode="lines",
                name=f"#{index} 2σ",
                hoverinfo="skip",
                line=dict(color="black", width=2, dash="dash"),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=draws[:, 0],
                y=draws[:, 1],
                mode="markers",
                name=f"#{index} draws",
                marker=dict(size=9, color=colour, symbol="x", line=dict(width=1, color="black")),
                hovertemplate=f"a draw from q(z|x) of #{index}<extra></extra>",
            )
        )
    return fig


def dimension_densities(
    grid: np.ndarray,
    aggregate: np.ndarray,
    prior: np.ndarray,
    order: Sequence[int],
    columns: int = 4,
    height_per_row: int = 150,
) -> go.Figure:
    """Small multiples: each dimension's aggregate-posterior density (filled) against N(0, 1) (dashed)."""
    order = list(order)
    rows = max(1, -(-len(order) // columns))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[f"z{d}" for d in order],
        shared_xaxes=True,
        vertical_spacing=0.12 / max(1, rows - 1) if rows > 1 else 0.1,
    )
    for k, d in enumerate(order):
        r, c = divmod(k, columns)
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=aggregate[d],
                mode="lines",
                fill="tozeroy",
                showlegend=k == 0,
                line=dict(color="#4c78a8", width=2),
                name="aggregate posterior q(z)",
            ),
            row=r + 1,
            col=c + 1,
        )
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=prior,
                mode="lines",
                showlegend=k == 0,
                name="prior N(0, 1)",
                line=dict(color="black", width=1.5, dash="dash"),
            ),
            row=r + 1,
            col=c + 1,
        )
    fig.update_layout(
        height=80 + rows * height_per_row,
        margin=dict(l=10, r=10, t=40, b=10),
        font=dict(size=12),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig


def plane_density_map(
    xs: np.ndarray,
    ys: np.ndarray,
    values: np.ndarray,
    prior_centre: Sequence[float],
    hole_xy: np.ndarray | None = None,
    height: int = 460,
) -> go.Figure:
    """The aggregate posterior on the map plane (heat map), the prior's 1σ/2σ circles (around z = 0 projected)
    and the holes marked."""
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=values,
            colorscale="Blues",
            colorbar=dict(title="q(plane)"),
            hovertemplate="(%{x:.2f}, %{y:.2f})<br>density %{z:.3f}<extra></extra>",
        )
    )
    angle = np.linspace(0, 2 * np.pi, 121)
    centre = np.asarray(prior_centre, dtype=np.float64).reshape(2)
    for radius, dash in ((1.0, "solid"), (2.0, "dash")):
        fig.add_trace(
            go.Scatter(
                x=centre[0] + radius * np.cos(angle),
                y=centre[1] + radius * np.sin(angle),
                mode="lines",
                line=dict(color="black", dash=dash, width=1.5),
                name=f"prior {radius:g}σ",
                hoverinfo="skip",
            )
        )
    if hole_xy is not None and len(hole_xy):
        fig.add_trace(
            go.Scatter(
                x=hole_xy[:, 0],
                y=hole_xy[:, 1],
                mode="markers+text",
                name="holes",
                text=[str(i + 1) for i in range(len(hole_xy))],
                textposition="top center",
                marker=dict(size=11, color="#d62728", symbol="circle-open", line=dict(width=2)),
            )
        )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=FONT,
        xaxis_title="PC 1",
        yaxis_title="PC 2",
        legend=dict(orientation="h", y=-0.15),
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def add_paths(fig: go.Figure, paths_xy: Mapping[str, np.ndarray], shown: str) -> go.Figure:
    """Draw the other interpolation paths (thinner, dotted) on a path figure whose main path is `shown`."""
    traces = []
    for method, xy in paths_xy.items():
        if method == shown:
            continue
        xy = np.asarray(xy, dtype=np.float32)
        traces.append(
            dict(
                type="scatter",
                x=xy[:, 0],
                y=xy[:, 1],
                mode="lines",
                name=method,
                line=dict(color=PATH_COLOURS.get(method, "grey"), width=3, dash="dot"),
                hoverinfo="skip",
            )
        )
    fig.add_traces(traces)
    return fig


def path_table(stats: Sequence[Any]) -> dict[str, list]:
    """Columns of the path comparison table from vae_core.geometry.PathStats rows."""
    return {
        "path": [s.method for s in stats],
        "image-space length": [round(s.image_length, 3) for s in stats],
        "length in the geodesic's metric": [round(s.length, 3) for s in stats],
        "largest step": [round(s.largest_step, 3) for s in stats],
        "frames' −ELBO (nats)": [round(s.frames_neg_elbo, 2) for s in stats],
    }


def add_heat(fig: go.Figure, xs: np.ndarray, ys: np.ndarray, values: np.ndarray) -> go.Figure:
    """Put the log₁₀ magnification heat map underneath everything already drawn on a plane figure."""
    fig.add_trace(heat_trace(xs, ys, log_magnification(values), showscale=False, opacity=0.85))
    fig.data = (fig.data[-1], *fig.data[:-1])
    return fig
