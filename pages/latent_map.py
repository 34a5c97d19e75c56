"""Latent map: every image's latent mean in 2-D (PCA at once, t-SNE on demand), selectable; the selection's
originals and reconstructions, its nearest neighbours, endpoints for the other pages, and a decoded manifold grid."""

import numpy as np
import streamlit as st

from explorer_ui import figures, url_state
from explorer_ui.presenter import image_target
from explorer_ui.selection import selected_indices
from explorer_ui.state import (
    INTERP_END,
    INTERP_START,
    SELECTION,
    SLIDER_ORIGIN,
    compute_tsne,
    latents,
    pca_projection,
    stored_tsne,
    tsne_estimate,
    with_progress,
)
from explorer_ui.widgets import (
    grid_columns,
    label_text,
    require_matching_pair,
    show_gallery,
    show_grid,
    teaching_panel,
)
from vae_core.explore import manifold_grid
from vae_core.generate import decode_to_uint8
from vae_core.images import to_uint8
from vae_core.latents import centre_first, nearest_neighbours, reconstruct

CHART_KEY = "latent_map"
FOCUS = "map_focus"  # the selected point whose picture, neighbours and buttons are shown
LAST_EVENT = "map_last_event"  # the last selection the chart reported, so a rerun does not re-copy it
SHOW_MAX = 48  # selected images drawn in the grid (the count says how many are selected)
FOCUS_OPTIONS_MAX = 500

st.title("Latent map")
teaching_panel(
    "The encoder maps each image to the mean μ of its Gaussian code; this page draws every μ of the dataset as one "
    "dot. **PCA** is the best flat view (a linear projection onto the two directions of largest spread, so points "
    "on the plane map back to codes); **t-SNE** bends space to keep each dot's neighbours close, good for seeing "
    "clusters but not distances. Select dots (click, box or lasso) to see the images behind them.",
    r"\mu_\phi(x) \in \mathbb{R}^{D} \;\longmapsto\; (\mu - \bar\mu)\, W^{\top} \in \mathbb{R}^{2}, "
    r"\qquad W = \text{top-2 principal directions}",
)

model, dataset = require_matching_pair("map_mismatch_train")
data = dataset.data
mu, _ = latents(model, dataset)
pca = pca_projection(model, dataset)
n = len(data)
LINK = {  # ?projection=&selection=i,j,…&grid=: the selection as dataset indices (at most MAX_LIST_ITEMS)
    "projection": url_state.choice_param("map_method", "projection", ["pca", "tsne"], "pca"),
    "selection": url_state.Param(
        SELECTION, lambda raw: url_state.parse_int_list(raw, "selection", 0, n - 1), []
    ),
    "grid": url_state.int_param("map_grid_side", "grid", 4, 24, 12),
}
url_state.restore("map", LINK)


def _focus_neighbours_state() -> None:
    """Keep the focus point valid when the selection changes."""
    sel = st.session_state[SELECTION]
    if st.session_state.get(FOCUS) not in sel:
        st.session_state.pop(FOCUS, None)


def _set_interp(which: str, index: int) -> None:
    """Set an endpoint; after the start, focus moves to the next selected point so 'end' picks another image."""
    st.session_state[which] = int(index)
    sel = st.session_state[SELECTION]
    if which == INTERP_START and index in sel and len(sel) > 1:
        st.session_state[FOCUS] = sel[(sel.index(index) + 1) % min(len(sel), FOCUS_OPTIONS_MAX)]


def _set_slider_origin(index: int) -> None:
    st.session_state[SLIDER_ORIGIN] = [float(v) for v in mu[index]]


def _clear_selection() -> None:
    st.session_state[SELECTION] = []


method = st.segmented_control(
    "Projection",
    ["pca", "tsne"],
    format_func={"pca": "PCA", "tsne": "t-SNE"}.get,
    required=True,
    key="map_method",
    persist_state="session",
)

coords, axis_titles = pca.coords, ("PC 1", "PC 2")
ratio = pca.explained_variance_ratio
caption = (
    f"PCA of {n:,} latent means (z = {model.config.latent_dim}); the axes keep "
    f"{100 * ratio[0]:.0f} % and {100 * ratio[1]:.0f} % of the spread."
)
if method == "tsne":
    tsne = stored_tsne(model, dataset)
    if tsne is None:
        estimate = tsne_estimate(model, dataset)
        st.info(
            f"t-SNE of {n:,} points should take about {max(1, round(estimate)):,} s on this machine now "
            "(timed on a small probe; it is then kept for this model and dataset). Until then the map shows "
            "PCA.",
            icon=":material/hourglass:",
        )
        if st.button("Compute t-SNE", type="primary", key="map_tsne_go", icon=":material/scatter_plot:"):
            tsne = with_progress(
                "Starting t-SNE…", lambda report: compute_tsne(model, dataset, progress=report)
            )
    if tsne is not None:
        coords, axis_titles = tsne, ("t-SNE 1", "t-SNE 2")
        caption = f"t-SNE of {n:,} latent means: neighbourhoods are meaningful, distances and sizes are not."

st.caption(
    caption + " Hover a dot for its label and index; drag to box-select, or pick lasso in the toolbar."
)
figure = figures.latent_map(coords, data.labels, data.class_names, axis_titles)
event = st.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"), key=CHART_KEY)

picked = selected_indices(event, n) if event is not None else []
if picked and picked != st.session_state.get(LAST_EVENT):
    st.session_state[SELECTION] = picked
    _focus_neighbours_state()
st.session_state[LAST_EVENT] = picked

selection = [i for i in st.session_state[SELECTION] if 0 <= i < n]
url_state.share(
    "map", LINK, key="map_link", extra={"selection": selection[: url_state.MAX_LIST_ITEMS] or None}
)
if not selection:
    st.info(
        "Select dots on the map (click, box or lasso) to see their images here.", icon=":material/touch_app:"
    )
else:
    st.subheader(f"{len(selection):,} selected")
    ordered = centre_first(coords, selection)
    shown = ordered[:SHOW_MAX]
    if data.labels is not None:
        values, counts = np.unique(data.labels[np.asarray(selection)], return_counts=True)
        top = np.argsort(-counts, kind="stable")[:6]
        names = [data.class_names[v] if 0 <= v < len(data.class_names) else str(v) for v in values.tolist()]
        st.caption(
            "Labels in the selection: "
            + " · ".join(f"{names[j]} × {counts[j]:,}" for j in top)
            + (" · …" if len(values) > 6 else "")
        )
    st.caption(
        (
            "Nearest the selection's centre first"
            if len(selection) <= SHOW_MAX
            else f"The {SHOW_MAX} of {len(selection):,} nearest the selection's centre"
        )
        + " (on this map), stragglers at the edge last."
    )
    originals = to_uint8(data.images[shown])
    recons = to_uint8(reconstruct(model.model, data.images[shown]))
    ncols = grid_columns(len(shown))
    cell = max(48, 448 // ncols)
    left, right = st.columns(2, gap="large")
    with left:
        show_grid(originals, ncols, caption="Originals", cell=cell)
    with right:
        show_grid(recons, ncols, caption="Reconstructions (decoded μ)", cell=cell)

    options = selection[:FOCUS_OPTIONS_MAX]
    focus = st.selectbox(
        "Focus point", options, key=FOCUS, format_func=lambda i: f"#{i} (label {label_text(dataset, i)})"
    )
    b1, b2, b3, b4 = st.columns(4)
    b1.button(
        f"Interpolation start ← #{focus}",
        on_click=_set_interp,
        args=(INTERP_START, focus),
        key="map_set_start",
        icon=":material/first_page:",
        width="stretch",
    )
    b2.button(
        f"Interpolation end ← #{focus}",
        on_click=_set_interp,
        args=(INTERP_END, focus),
        key="map_set_end",
        icon=":material/last_page:",
        width="stretch",
    )
    b3.button(
        f"Slider origin ← μ of #{focus}",
        on_click=_set_slider_origin,
        args=(focus,),
        key="map_set_origin",
        icon=":material/tune:",
        width="stretch",
    )
    b4.button(
        "Clear selection",
        on_click=_clear_selection,
        key="map_clear",
        icon=":material/clear:",
        width="stretch",
    )
    start, end = st.session_state.get(INTERP_START), st.session_state.get(INTERP_END)
    st.caption(
        f"Interpolation start: {'#' + str(start) if start is not None else '—'} · "
        f"end: {'#' + str(end) if end is not None else '—'} · slider origin: "
        f"{'set' if st.session_state.get(SLIDER_ORIGIN) is not None else 'not set'}. "
        "Open the Interpolate or Latent sliders page to use them."
    )

    st.markdown(f"**Nearest neighbours of #{focus} in latent space** (Euclidean distance between means μ)")
    k = min(11, n - 1)
    idx, dist = nearest_neighbours(mu, mu[focus], k=k, exclude=focus)
    images = to_uint8(data.images[np.concatenate([[focus], idx])])
    show_gallery(
        images,
        [f"#{focus} itself"] + [f"#{j} · {label_text(dataset, j)} · d={d:.2f}" for j, d in zip(idx, dist)],
        target=84,
        ncols=6,
    )

st.divider()
st.subheader("Manifold: decoding a grid of codes")
two_d = model.config.latent_dim == 2
st.markdown(
    "Each cell below is the decoder's picture of one code on a regular grid "
    + (
        "over the latent plane itself (z₁ left → right, z₂ bottom → top, at N(0, 1) quantiles 5–95 %)."
        if two_d
        else "over the PCA plane of the map (PC 1 left → right, PC 2 bottom → top, "
        "1st to 99th percentile of the data), "
        "mapped back to codes with z = mean + (x, y)·W."
    )
)
side = st.slider("Grid size", 4, 24, key="map_grid_side", persist_state="session")
grid = manifold_grid(pca, pca.coords, side, model.config.latent_dim)
cells = with_progress(  # in rows of the grid, so a slow decoder shows how far it is and how long is left
    f"Decoding the {side}×{side} grid…",
    lambda report: decode_to_uint8(model.model, grid.latents, batch_size=side, progress=report),
)
show_grid(
    cells,
    side,
    cell=image_target(48),
    caption=(
        f"{grid.axes[0]}: {grid.xs[0]:.2f} … {grid.xs[-1]:.2f} · "
        f"{grid.axes[1]}: {grid.ys[-1]:.2f} … {grid.ys[0]:.2f}"
    ),
)
