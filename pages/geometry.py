"""Geometry: where the decoder stretches latent space (magnification over the map plane; click anywhere to
decode), the posterior clouds q(z|x), and the aggregate posterior against the prior, its holes decoded."""

import numpy as np
import streamlit as st

from explorer_ui import geometry_figures as gfig
from explorer_ui import url_state
from explorer_ui.presenter import image_target
from explorer_ui.state import (
    DEFAULT_MODEL_KEY,
    digits_dataset,
    latents,
    magnification_grid,
    pca_projection,
    posterior_vs_prior,
    shipped_autoencoder,
)
from explorer_ui.widgets import label_text, require_matching_pair, show_gallery, show_image, teaching_panel
from vae_core.explore import to_plane
from vae_core.generate import decode_to_uint8
from vae_core.geometry import posterior_draws, posterior_ellipse
from vae_core.images import to_uint8
from vae_core.latents import nearest_neighbours

GRID = 64
PICKS = {"vae": "geo_pick_vae", "ae": "geo_pick_ae"}  # session keys: the last plane point clicked on each map
ss = st.session_state

st.title("Geometry")
teaching_panel(
    "The decoder bends the latent space: one step in z can barely change the image in one place and change "
    "it completely in another. The **magnification factor** measures that stretch at each point of the map "
    "plane: bright regions, typically *between* clusters, are where the images change fastest, so equal "
    "distances on the map are not equal distances between pictures (Arvanitidis, Hansen & Hauberg 2018). "
    "**Click anywhere** on the plane, not only on a dot, to decode that spot.",
    r"G(z) = J(z)^{\top} J(z),\quad J = \frac{\partial f(z)}{\partial z}, \qquad "
    r"\mathrm{MF}(z) = \sqrt{\det\!\big((JP)^{\top}(JP)\big)},\quad z = \bar\mu + P\,(x, y)",
)

model, dataset = require_matching_pair("geo_mismatch_train")
data = dataset.data
mu, logvar = latents(model, dataset)
pca = pca_projection(model, dataset)


def plane_panel(which: str, active, active_dataset, title: str) -> None:
    """A clickable magnification map; beside it, the clicked plane point decoded with its nearest images."""
    model_mu, _ = latents(active, active_dataset)
    plane = pca_projection(active, active_dataset)
    grid = magnification_grid(active, active_dataset, GRID)
    st.subheader(title)
    chart, panel = st.columns([3, 2], gap="medium")
    fig = gfig.magnification_map(
        grid.xs,
        grid.ys,
        grid.values,
        plane.coords,
        active_dataset.data.labels,
        active_dataset.data.class_names,
        height=520,
    )
    with chart:
        event = st.plotly_chart(
            fig,
            on_select="rerun",
            selection_mode=("points",),
            key=f"geo_map_{which}",
            config={"displayModeBar": False},
        )
    picked = gfig.picked_plane_point(event)
    if picked is not None:
        ss[PICKS[which]] = picked
    picked = ss.get(PICKS[which])
    with panel:
        if picked is None:
            st.info(
                "Click anywhere on the map (a dot or an empty spot) to decode that point of the plane. "
                "Drag to pan, scroll to zoom.",
                icon=":material/ads_click:",
            )
            return
        z = plane.to_latent(np.asarray(picked, dtype=np.float32))
        decoded = decode_to_uint8(active.model, z)[0]
        value = float(grid.values[np.abs(grid.ys - picked[1]).argmin(), np.abs(grid.xs - picked[0]).argmin()])
        near, dist = nearest_neighbours(model_mu, z, k=4)
        show_image(decoded, f"decoded at ({picked[0]:.2f}, {picked[1]:.2f})", target=image_target(140))
        st.caption(f"magnification ≈ {value:.3g}; nearest data code {dist[0]:.2f} away in z")
        show_gallery(
            to_uint8(active_dataset.data.images[near]),
            [f"#{i} ({label_text(active_dataset, int(i))})" for i in near],
            target=image_target(70),
            ncols=4,
        )
        st.caption("The four data images whose codes are nearest to the decoded point.")


plane_panel("vae", model, dataset, f"{model.label}: magnification over the PCA plane")
ae = shipped_autoencoder() if model.key == DEFAULT_MODEL_KEY else None
if ae is not None:
    with st.expander("The plain-autoencoder twin (β = 0): click its empty regions", expanded=True):
        st.markdown(
            "The same MLP trained on the same digits without the KL term. Its clusters sit far apart with "
            "empty space between them; decode a spot there and compare with the VAE's in-between images."
        )
        plane_panel("ae", ae, digits_dataset(), "Plain autoencoder: magnification over its PCA plane")

# ---------------------------------------------------------------- posterior clouds

st.divider()
st.header("Posterior clouds")
teaching_panel(
    "The encoder does not map an image to a point but to a Gaussian cloud q(z|x) = N(μ, σ²). Drawn on the "
    "map, the ellipses hold about 39 % (1σ) and 86 % (2σ) of the cloud's projection; every draw from the "
    "cloud is a code the decoder must turn into this image, which is what packs the clouds together with no "
    "gaps.",
    r"q_\phi(z \mid x) = \mathcal{N}\big(\mu_\phi(x), \operatorname{diag}\sigma_\phi^2(x)\big), \qquad "
    r"\text{ellipse: } (u-\bar u)^{\top} (P\Sigma P^{\top})^{-1} (u-\bar u) = k^2",
)
n = len(data)
default = (
    [int(np.flatnonzero(data.labels == c)[0]) for c in np.unique(data.labels)[:3]]
    if data.labels is not None
    else list(range(min(3, n)))
)
LINK = {  # ?clouds=i,j,…&seed=: the images whose clouds are drawn, the seed of the prior draws
    "clouds": url_state.Param(
        "geo_clouds", lambda raw: url_state.parse_int_list(raw, "clouds", 0, n - 1, max_items=6), default
    ),
    "seed": url_state.int_param("geo_holes_seed", "seed", 0, 2**31 - 1, 0),
}
url_state.restore("geometry", LINK)
url_state.share("geometry", LINK, key="geo_link")
chosen = st.multiselect(
    "Images (indices)",
    list(range(n)),
    max_selections=6,
    key="geo_clouds",
    format_func=lambda i: f"#{i} ({label_text(dataset, int(i))})",
)
draw_count = 6
clouds, pictures = [], []
for k, index in enumerate(chosen):
    draws_z, draws_img = posterior_draws(model.model, mu[index], logvar[index], n=draw_count, seed=k)
    clouds.append(
        (
            int(index),
            posterior_ellipse(pca, mu[index], logvar[index], 1.0),
            posterior_ellipse(pca, mu[index], logvar[index], 2.0),
            to_plane(pca, draws_z),
        )
    )
    pictures.append((int(index), draws_img))
if clouds:
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.plotly_chart(
            gfig.posterior_clouds(pca.coords, data.labels, data.class_names, clouds),
            key="geo_clouds_chart",
            config={"displayModeBar": False},
        )
    with right:
        for index, images in pictures:
            original = to_uint8(data.images[[index]])
            show_gallery(
                np.concatenate([original, images]),
                [f"#{index}"] + [f"draw {j + 1}" for j in range(len(images))],
                target=image_target(56),
                ncols=7,
            )
        st.caption("Left: the image; then codes drawn from its cloud, decoded.")

# ---------------------------------------------------------------- prior vs aggregate posterior

st.divider()
st.header("Prior vs aggregate posterior: the holes")
teaching_panel(
    "Sampling uses the prior N(0, I), but the decoder was trained on codes from the **aggregate "
    "posterior**, the mixture of every image's cloud. Where the two disagree, the prior sends samples into "
    "**holes**: places no image's cloud covers, which decode to blurry or mixed images. Below, each "
    "dimension's aggregate posterior against N(0, 1), the mixture on the map plane, and the prior draws "
    "with the least posterior mass around them.",
    r"q(z) = \frac{1}{N} \sum_{n=1}^{N} \mathcal{N}\big(z;\, \mu_n, \operatorname{diag}\sigma_n^2\big) "
    r"\quad\text{vs}\quad p(z) = \mathcal{N}(0, I)",
)
seed = st.number_input("Seed of the prior draws", 0, 2**31 - 1, key="geo_holes_seed")
dims, density, holes = posterior_vs_prior(model, dataset, GRID, int(seed))
order = np.argsort(-np.abs(dims.aggregate - dims.prior).sum(1))[: min(16, len(dims.aggregate))]
st.plotly_chart(
    gfig.dimension_densities(dims.grid, dims.aggregate, dims.prior, sorted(order.tolist())),
    key="geo_dims_chart",
    config={"displayModeBar": False},
)
st.caption(
    "Each latent dimension (up to 16, those furthest from N(0, 1)): filled = aggregate posterior, "
    "dashed = prior. A narrow bump is a dimension the model barely uses."
)
left, right = st.columns([3, 2], gap="large")
with left:
    prior_centre = to_plane(pca, np.zeros((1, model.config.latent_dim)))[0]
    st.plotly_chart(
        gfig.plane_density_map(
            density.xs, density.ys, density.values, prior_centre, to_plane(pca, holes.hole_latents)
        ),
        key="geo_density_chart",
        config={"displayModeBar": False},
    )
    st.caption(
        f"The aggregate posterior projected onto the map plane (it sums to "
        f"{density.values.sum() * density.cell_area:.2f} over the grid); red circles: where the holes "
        "project (they may look filled here: a hole is empty in the full space, not on this flat view)."
    )
with right:
    st.markdown("**Holes**: prior draws with the least aggregate-posterior mass around them")
    show_gallery(
        holes.hole_images, [f"log q {v:.0f}" for v in holes.hole_log_q], target=image_target(56), ncols=4
    )
    st.markdown("**Typical** prior draws, for comparison")
    show_gallery(
        holes.typical_images,
        [f"log q {v:.0f}" for v in holes.typical_log_q],
        target=image_target(56),
        ncols=4,
    )
