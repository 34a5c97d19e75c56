"""Display helpers for the Directions page: wording, the explained-variance chart, the probe table,
the sliders along a basis (the latent pad, decoded on the server until the pad takes a basis itself)
and decoded strips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from vae_core.generate import decode_to_uint8
from vae_core.models import VAE
from vae_core.probes import ProbeScore

from .figures import FONT

WHY_DIRECTIONS = (
    "A VAE is trained so that every **coordinate** of z looks like N(0, 1); nothing asks a coordinate to "
    "mean anything, and the prior N(0, I) looks the same in any rotated frame (only the diagonal "
    "posterior prefers the axes, weakly: Rolinek et al. 2019). What the model *must* "
    "organise is **distance**: similar images get nearby codes, because the decoder has to turn a whole "
    "neighbourhood of codes into the same kind of picture. So meaning lives in **directions**, often "
    "diagonal to every axis. **Principal directions** (GANSpace, Härkönen et al. 2020) are the axes along"
    " which the encoded data spreads most; an **attribute vector** (White 2016) is the step from one "
    "group's mean code to another's. Moving a start point along either changes the decoded image in a "
    "consistent way, and the arithmetic a − b + c carries a difference from one image to another."
)
WHY_DIRECTIONS_FORMULAS = (
    r"\bar\mu = \tfrac1N \textstyle\sum_n \mu_n,\quad "
    r"\tfrac{1}{N-1}\sum_n (\mu_n-\bar\mu)(\mu_n-\bar\mu)^\top"
    r" = \sum_k \lambda_k\, u_k u_k^\top \qquad z = z_0 + \textstyle\sum_k v_k \sqrt{\lambda_k}\, u_k",
    r"\vec d_{A\to B} = \bar\mu_B - \bar\mu_A, \qquad z(\alpha) = z_0 + \alpha\, \vec d_{A\to B},"
    r"\qquad z_{\text{analogy}} = \mu_a - \mu_b + \mu_c",
)
WHAT_A_PROBE_SHOWS = (
    "A **linear probe** fits a logistic regression from the codes μ to the labels on three quarters of "
    "the images (a fixed, seeded split; features standardised) and scores it on the rest. A high score "
    "means the information is there *and linearly readable*. It is only meaningful beside **honest "
    "baselines**: the raw pixels (the encoder cannot add information, only rearrange it into fewer "
    "numbers), the plain autoencoder of the same size (β = 0: no prior pulling codes together), and an "
    "**untrained encoder** of the same architecture (a random projection: what the architecture gives for"
    " free). Factors with few values are probed as classes (accuracy); continuous factors by ridge "
    "regression (held-out R²)."
)
AUGMENT_TEXT = (
    "Each chosen image has a posterior q(z|x) = N(μ, σ²): codes the encoder finds plausible for it. "
    "Drawing z = μ + T·σ·ε and decoding gives variations of the image that should keep its label; T "
    "scales the spread (T = 0 is the plain reconstruction). Whether that helps a classifier is an "
    "empirical question:"
)
# What benchmarks/bench_directions.py measured (filled from its run; see the README's results).
AUGMENT_FINDING = (
    "**Measured: within noise, no clear help** (`python benchmarks/bench_directions.py`: a VAE trained 120 s "
    "on the first 8,000 MNIST test images; a logistic regression on pixels trained on n labelled images, "
    "with and without K = 10 draws per image at T = 1; accuracy on the last 2,000, mean ± std of 5 seeds): "
    "n = 100, 75.1 % ± 2.4 without and 76.2 % ± 2.5 with (better in 4 seeds of 5); n = 300, 85.2 % ± 1.1 "
    "without and 84.7 % ± 1.1 with (better in 2 of 5). The draws are the decoder's blurred means, unlike "
    "the sharp test digits: they add a little with very few labels and start to cost as labels grow. Try "
    "it on your data, and keep a held-out set to check."
)


def explained_variance_chart(ratio: np.ndarray, height: int = 260) -> go.Figure:
    """Bars of each principal direction's share of the variance of μ, with the running total as a line."""
    ratio = np.asarray(ratio, dtype=np.float64)
    names = [f"PC {k + 1}" for k in range(len(ratio))]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=100 * ratio,
            name="this direction",
            marker_color="#4c78a8",
            hovertemplate="%{x}: %{y:.1f} % of the variance<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=100 * np.cumsum(ratio),
            name="cumulative",
            mode="lines+markers",
            line=dict(color="#d62728", width=2),
            hovertemplate="%{x}: %{y:.1f} % in all<extra></extra>",
        )
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=FONT,
        yaxis_title="% of variance",
        yaxis_range=[0, 100],
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig


def axis_labels(ratio: np.ndarray) -> list[str]:
    """Slider labels for principal directions: 'PC 1 · 34 %'."""
    return [f"PC {k + 1} · {100 * r:.0f} %" for k, r in enumerate(np.asarray(ratio, dtype=np.float64))]


def probe_rows(scores: Sequence[ProbeScore]) -> list[dict]:
    """The probe table as rows for st.dataframe: target, features, metric, held-out score, chance."""
    return [
        {
            "predicts": s.target,
            "from": s.features,
            "metric": "accuracy" if s.metric == "accuracy" else "R²",
            "held-out score": round(s.score, 3),
            "chance": round(s.chance, 3) if s.metric == "accuracy" else None,
            "features": s.n_features,
        }
        for s in scores
    ]


def probe_summary(scores: Sequence[ProbeScore], latent_name: str, pixels_name: str) -> str:
    """One sentence comparing the latent probe with the pixels' on the labels (empty without labels)."""
    rows = {s.features: s for s in scores if s.target == "label"}
    if latent_name not in rows or pixels_name not in rows:
        return ""
    latent, pixels = rows[latent_name], rows[pixels_name]
    return (
        f"From {latent.n_features} numbers per image, a linear read-out of μ names the label of "
        f"{100 * latent.score:.1f} % of held-out images (chance {100 * latent.chance:.1f} %); from all "
        f"{pixels.n_features} pixels, {100 * pixels.score:.1f} %."
    )


# ---------------------------------------------------------------- sliders along a basis (the latent pad)


def decode_points(model: VAE, points: np.ndarray) -> np.ndarray:
    """Decode latent points (S, D) to uint8 images (S, H, W[, 3])."""
    return decode_to_uint8(model, np.asarray(points, dtype=np.float32))
