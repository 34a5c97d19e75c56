"""Display helpers for the Directions page: wording, the explained-variance chart, the probe table,
the sliders along a basis (the latent pad, decoded on the server until the pad takes a basis itself)
and decoded strips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.directions import move_along
from vae_core.generate import decode_to_uint8
from vae_core.models import VAE
from vae_core.probes import ProbeScore
from vae_core.sliders import STRIP_VALUES, decode_vector, png_data_url, strip_image, vector_from_pad_state

from . import latent_pad as pad
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
    "**Measured, and it did not help** (`python benchmarks/bench_directions.py`: a VAE trained 90 s on the "
    "first 8,000 MNIST test images; a logistic regression on pixels trained on n labelled images, with and "
    "without K = 10 draws per image at T = 1; accuracy on the last 2,000, mean of 5 seeds): n = 100, "
    "75.1 % without and 75.0 % with; n = 300, 85.2 % without and 82.8 % with. The draws are the decoder's "
    "blurred means, unlike the sharp test digits, and the classifier learns the blur. Try it on your data, "
    "and keep a held-out set to check."
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


def _ignore() -> None:
    """Component callback: the fragment reruns by itself."""


def basis_pad(
    model: VAE, model_key: str, origin: np.ndarray, basis: np.ndarray, labels: Sequence[str], key: str
) -> np.ndarray:
    """Sliders v (±4) over a basis, z = origin + Σ vᵢ·basisᵢ, drawn live while dragging; returns z.

    Uses the latent pad component with server decoding (each frame a round trip) and one strip per slider
    (vᵢ = −3 … +3). When the pad learns to take a basis itself (browser decoding), this is the one function to
    switch."""
    ss = st.session_state
    origin = np.asarray(origin, dtype=np.float64).reshape(-1)
    basis = np.asarray(basis, dtype=np.float64)
    token = (model_key, origin.round(6).tobytes(), basis.round(6).tobytes())
    values_key, generation_key, token_key, strips_key = (
        f"{key}_values",
        f"{key}_generation",
        f"{key}_token",
        f"{key}_strips",
    )
    if ss.get(token_key) != token or len(ss.get(values_key) or []) != len(basis):
        ss[token_key] = token
        ss[values_key] = [0.0] * len(basis)
        ss[generation_key] = int(ss.get(generation_key, 0)) + 1
    coef, seq, dragging = vector_from_pad_state(
        pad.pad_state(key), ss[generation_key], np.asarray(ss[values_key], dtype=np.float64)
    )
    ss[values_key] = coef.tolist()
    z = move_along(origin, basis, coef)
    image = decode_vector(model, z)
    cached = ss.get(strips_key)
    if cached is not None and cached[0] == token and (dragging or cached[1] == coef.tobytes()):
        strips = cached[2]
    else:
        strips = basis_strip_urls(model, origin, basis, coef)
        ss[strips_key] = (token, coef.tobytes(), strips)
    data = pad.pad_data(
        image=image,
        z=coef,
        order=list(range(len(basis))),
        kl=None,
        strips=strips,
        seq=seq,
        generation=ss[generation_key],
        caption=f"‖z‖ = {np.linalg.norm(z):.2f} · decoded on the server",
    )
    data["labels"] = list(labels)
    pad._pad_component(
        key=key,
        data=data,
        default={"z": None, "decoder": None},
        on_z_change=_ignore,
        on_decoder_change=_ignore,
    )
    return z


def basis_strip_urls(model: VAE, origin: np.ndarray, basis: np.ndarray, coef: np.ndarray) -> list[str]:
    """One strip per basis row: the current point with that row's coefficient set to −3 … +3, as data URLs."""
    k, s = len(basis), len(STRIP_VALUES)
    coefs = np.repeat(np.asarray(coef, dtype=np.float64)[None, None, :], k, axis=0).repeat(
        s, axis=1
    )  # (K, S, K)
    coefs[np.arange(k), :, np.arange(k)] = STRIP_VALUES
    frames = decode_to_uint8(model, move_along(origin, basis, coefs.reshape(k * s, k)).astype(np.float32))
    frames = frames.reshape(k, s, *frames.shape[1:])
    return [png_data_url(strip_image(row)) for row in frames]


def decode_points(model: VAE, points: np.ndarray) -> np.ndarray:
    """Decode latent points (S, D) to uint8 images (S, H, W[, 3])."""
    return decode_to_uint8(model, np.asarray(points, dtype=np.float32))
