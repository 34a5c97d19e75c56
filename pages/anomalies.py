"""Anomalies: the dataset ranked by how badly the model explains each image (−ELBO or reconstruction error)."""

import numpy as np
import streamlit as st

from explorer_ui import figures, url_state
from explorer_ui.presenter import image_target, presenting
from explorer_ui.state import anomaly_scores_so_far, fragment
from explorer_ui.widgets import label_text, require_matching_pair, show_gallery, teaching_panel
from vae_core.explore import rank_worst, side_by_side
from vae_core.images import to_uint8
from vae_core.latents import reconstruct
from vae_core.scoring import ScoresSnapshot

SCORES = {"neg_elbo": "−ELBO (reconstruction + KL)", "recon": "Reconstruction error −log p(x|μ)"}
LINK = {  # ?count=&score=&typical=
    "count": url_state.int_param("anomaly_count", "count", 1, 64, 16),
    "score": url_state.choice_param("anomaly_score", "score", list(SCORES), "neg_elbo"),
    "typical": url_state.flag_param("anomaly_typical", "typical"),
}

st.title("Anomalies")
teaching_panel(
    "The −ELBO is an upper bound on −log p(x): the number of nats the model needs to explain an image. Images "
    "with the highest score are the ones the model finds least likely: odd handwriting, mislabelled or "
    "damaged images, or a kind of image it rarely saw. Each one is shown with its reconstruction (left | right): "
    "where they differ is what the model could not capture.",
    r"\text{score}(x) = \underbrace{-\log p_\theta(x \mid \mu_\phi(x))}_{\text{reconstruction}} "
    r"+ \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal{N}(0, I)\big) \;\approx\; -\mathrm{ELBO}(x)",
)

model, dataset = require_matching_pair("anomaly_mismatch_train")
data = dataset.data
url_state.restore("anomalies", LINK)

c1, c2, c3 = st.columns([2, 3, 2], vertical_alignment="bottom")
count = c1.slider("How many", 1, 64, key="anomaly_count", persist_state="session")
score_name = c2.radio(
    "Rank by",
    list(SCORES),
    format_func=SCORES.get,
    horizontal=True,
    key="anomaly_score",
    persist_state="session",
)
typical = c3.toggle("Show the most typical instead", key="anomaly_typical", persist_state="session")
url_state.share("anomalies", LINK, key="anomaly_link")


def show_ranking(snap: ScoresSnapshot) -> None:
    """The histogram and the gallery of the images ranked so far (all of them once scoring has finished)."""
    if snap.done == 0:  # a slow model or machine: nothing scored yet, nothing to rank
        st.progress(0.0, text=snap.message)
        st.caption("**Preview**: the first images are being scored; the ranking appears here as they are.")
        return
    values = snap.scores[score_name]
    local = rank_worst(values, int(count), worst_first=not typical)
    order = snap.indices[local]
    if not snap.finished:
        st.progress(snap.done / snap.total, text=snap.message)
        st.caption(
            f"**Preview**: ranked among the {snap.done:,} of {snap.total:,} images scored so far. They are scored "
            "in a random order, so this is a fair sample of the whole set; the page updates until every image is "
            "scored."
        )
    threshold = float(values[local[-1]]) if len(local) else None
    st.plotly_chart(
        figures.score_histogram(
            values,
            threshold,
            SCORES[score_name].split(" (")[0],
            marker_text="← shown" if typical else "shown →",
        ),
        key="anomaly_hist",
        config={"displayModeBar": False},
    )
    st.caption(
        f"{snap.done:,} images{'' if snap.finished else ' scored so far'}; median {np.median(values):.1f} nats, "
        f"the {len(order)} shown "
        + ("lowest" if typical else "highest")
        + f" from {values[local[0]]:.1f} to {values[local[-1]]:.1f}."
    )
    originals = to_uint8(data.images[order])
    recons = to_uint8(reconstruct(model.model, data.images[order]))
    pairs = side_by_side(originals, recons, gap=1)
    captions = [f"#{i} · {label_text(dataset, int(i))} · {v:.1f}" for i, v in zip(order, values[local])]
    st.subheader(("Most typical" if typical else "Worst explained") + " first · original | reconstruction")
    show_gallery(pairs, captions, target=image_target(72), ncols=4 if presenting() else 6)


@fragment(run_every=2.0)
def live_ranking() -> None:
    """The preview, redrawn every 2 s while the shared background job scores; a full run once it is done."""
    snap = anomaly_scores_so_far(model, dataset)
    if snap.finished or snap.error:
        st.rerun()
    show_ranking(snap)


first = anomaly_scores_so_far(model, dataset, wait_s=1.0)  # small datasets are scored within this second
if first.error:
    st.error(first.error)
elif first.finished:
    show_ranking(first)
else:
    live_ranking()
