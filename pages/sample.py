"""Sample: decode codes drawn from the prior, each beside the training image whose code is nearest."""

import random

import numpy as np
import streamlit as st

from explorer_ui import url_state
from explorer_ui.presenter import image_target
from explorer_ui.state import active_dataset, active_model, latents, shapes_match
from explorer_ui.widgets import grid_columns, label_text, png_download, show_grid, teaching_panel
from vae_core.explore import samples_with_nearest
from vae_core.images import to_uint8

SEED = "sample_seed"
COUNT, TEMPERATURE = "sample_count", "sample_temperature"
LINK = {  # ?count=&temperature=&seed=: read with the widgets' own ranges
    "count": url_state.int_param(COUNT, "count", 1, 64, 16),
    "temperature": url_state.float_param(TEMPERATURE, "temperature", 0.0, 2.0, 1.0, 0.05),
    "seed": url_state.int_param(SEED, "seed", 0, 2**31 - 1, 0),
}

st.title("Sample from the prior")
teaching_panel(
    "A trained VAE is a generator: draw a code from the prior and decode it. The **temperature** T scales the "
    "draw: T < 1 stays near the centre (typical, cleaner pictures), T > 1 reaches the rim where the decoder has "
    "seen few codes. Beside each sample is the training image whose code μ is nearest: if they were identical, "
    "the model would be copying its data rather than generalising.",
    r"z \sim \mathcal{N}(0,\, T^2 I), \qquad \hat{x} = \mathbb{E}\,[\,p_\theta(x \mid z)\,] = \mathrm{decoder}_\theta(z)",  # noqa: E501
)


def _new_seed() -> None:
    st.session_state[SEED] = random.randrange(2**31 - 1)


model = active_model()
dataset = active_dataset()
url_state.restore("sample", LINK)  # the widgets take their values from here: links and "New seed" write them
c1, c2, c3, c4 = st.columns([3, 3, 3, 2], vertical_alignment="bottom")
count = c1.slider("How many", 1, 64, key=COUNT, persist_state="session")
temperature = c2.slider("Temperature T", 0.0, 2.0, step=0.05, key=TEMPERATURE, persist_state="session")
seed = c3.number_input("Seed", 0, 2**31 - 1, step=1, key=SEED, persist_state="session")
c4.button("New seed", on_click=_new_seed, key="sample_new_seed", icon=":material/casino:", width="stretch")

url_state.share("sample", LINK, key="sample_link")

match = shapes_match(model, dataset)
training_mu = latents(model, dataset)[0] if match else None
samples = samples_with_nearest(model.model, int(count), float(temperature), int(seed), training_mu)
ncols = grid_columns(int(count))
cell = image_target(512) // ncols  # the grid stays about 512 px wide: 4 × 128 px for 16 samples

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Samples")
    picture = show_grid(samples.images, ncols, cell=cell)
    png_download(
        "Download samples (PNG)", picture, f"samples_T{temperature:g}_seed{int(seed)}.png", "sample_png"
    )
with right:
    st.subheader("Nearest training image")
    if samples.nearest is None:
        st.info(
            f"The active dataset ({dataset.display_name}) does not match this model's image shape, so there is "
            "nothing to compare with. Pick the dataset it was trained on in the sidebar."
        )
    else:
        nearest_images = to_uint8(dataset.data.images[samples.nearest])
        show_grid(nearest_images, ncols, cell=cell)
        st.caption(
            f"Same positions as the samples. Latent distance to the nearest training code: median "
            f"{np.median(samples.nearest_distance):.2f} (min {samples.nearest_distance.min():.2f}); labels "
            + ", ".join(label_text(dataset, int(i)) for i in samples.nearest[:16])
            + ("…" if len(samples.nearest) > 16 else "")
            + "."
        )
