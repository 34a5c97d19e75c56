"""Overview: what a VAE is, live samples from the current model, and why a plain autoencoder's latent space has gaps."""

import numpy as np
import streamlit as st

from explorer_ui import url_state
from explorer_ui.figures import comparison_map
from explorer_ui.presenter import image_target
from explorer_ui.registry import where_to_go_next
from explorer_ui.state import (
    active_model,
    digits_dataset,
    latents,
    pca_projection,
    shapes_match,
    shipped_autoencoder,
    shipped_model,
)
from explorer_ui.widgets import show_grid, teaching_panel
from vae_core.explore import samples_with_nearest, to_plane

st.title("Latent Explorer")
st.markdown(
    "See what a **variational autoencoder** (VAE) learns: a map of its latent space, pictures decoded "
    "from anywhere on it, walks between images, and the images it finds strange."
)

teaching_panel(
    "A VAE squeezes each image **x** through a small code **z**. The *encoder* does not output one point but a "
    "Gaussian q(z|x) = N(μ, σ²); the *decoder* p(x|z) turns a code back into an image. To train through the "
    "random draw, the sample is written as a deterministic function of the noise (the **reparameterisation trick**). "
    "Training maximises the **ELBO**: reconstruct well, but keep every q(z|x) close to the **prior N(0, I)**, so "
    "that any draw from the prior decodes to something plausible.",
    r"z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)",
    r"\mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x\mid z)\big]}_{\text{reconstruction}}"  # noqa: E501
    r" \;-\; \underbrace{\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{stay near the prior}}",
)

LINK = {"seed": url_state.int_param("home_seed", "seed", 0, 2**31 - 1, 0)}
model = active_model()
url_state.restore("home", LINK)
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Samples from the current model")
    st.caption(f"{model.label}: 24 codes drawn from the prior z ~ N(0, I), each decoded once.")
    seed = st.number_input(
        "Seed", min_value=0, max_value=2**31 - 1, step=1, key="home_seed", persist_state="session"
    )
    url_state.share("home", LINK, key="home_link")
    samples = samples_with_nearest(model.model, 24, 1.0, int(seed))
    show_grid(samples.images, ncols=8, cell=image_target(64))
with right:
    st.subheader("Where to go next")
    st.markdown(
        where_to_go_next()
        + "\n- **Known factors**: pick *Shipped shapes β-VAE* in the sidebar (sprites made from five known factors): "
        "each slider is named after the factor it moves, and MIG scores the model against the β = 1 one."
        + "\n\nThe sidebar picks the model and the dataset for every page."
    )

st.divider()
st.header("Why a plain autoencoder's latent space has gaps")
st.markdown(
    "A plain autoencoder (β = 0: reconstruction only, no KL term) may put its codes anywhere, and it does: the "
    "clusters spread far apart, at scales nothing forces to be near 0. Codes drawn from N(0, I) then land in empty "
    "space the decoder never saw, and decode to smudges. The VAE's KL term pulls every code towards N(0, I) and "
    "makes each one a little cloud, so the prior's region is filled and its samples decode to digits. "
    "Both models below are the same MLP trained on the same 8×8 digits; the dashed square marks ±2 around the "
    "prior's centre, where most N(0, I) draws land."
)

digits = digits_dataset()
references = [shipped_model(), shipped_autoencoder()]
columns = st.columns(2, gap="large")
for column, reference, title in zip(columns, references, ("VAE (β = 1)", "Plain autoencoder (β = 0)")):
    with column:
        st.subheader(title)
        if reference is None:
            st.info(
                "The shipped plain autoencoder (assets/models/digits_ae.safetensors) is not installed, so only "
                "the VAE is shown. Train one yourself on the Train page with β = 0 to compare."
            )
            continue
        if not shapes_match(reference, digits):
            st.info(f"{reference.label} was not trained on 8×8 digits; skipped.")
            continue
        pca = pca_projection(reference, digits)
        mu = latents(reference, digits)[0]
        origin = to_plane(pca, np.zeros((1, reference.config.latent_dim), np.float32))[0]
        st.plotly_chart(
            comparison_map(
                pca.coords,
                digits.data.labels,
                digits.data.class_names,
                f"Latent means, PCA · spread (std) {mu.std():.2f}",
                prior_centre=origin,
            ),
            key=f"home_map_{reference.key}",
            config={"displayModeBar": False},
        )
        prior_samples = samples_with_nearest(reference.model, 16, 1.0, 0)
        show_grid(
            prior_samples.images, ncols=8, cell=image_target(56), caption="16 codes from N(0, I), decoded"
        )
