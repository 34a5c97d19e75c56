"""The Lesson page: its navigation, the predict-then-reveal questions, and one live view per step.

Every view runs on the shipped models and a built-in dataset (the digits; the shapes sprites for step 10), offline
whatever the sidebar picked, and is built from what the other pages use: the cached encodings, PCA planes,
geometry, factor scores and probes (state), the figure builders (figures, geometry_figures, factors_view,
directions_view), the picture helpers (widgets) and vae_core's functions. The step texts live in lesson_steps.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from vae_core.augment import augment
from vae_core.explore import (
    Interpolation,
    interpolation,
    rank_worst,
    samples_with_nearest,
    side_by_side,
    to_plane,
)
from vae_core.generate import decode_to_uint8, interpolate, sample_latents
from vae_core.geometry import PATH_METHODS, latent_path, path_stats
from vae_core.health import latent_health
from vae_core.images import to_uint8
from vae_core.latents import image_scores, nearest_neighbours, reconstruct
from vae_core.probes import FEATURES_LATENT, FEATURES_PIXELS
from vae_core.teaching import (
    class_direction,
    decoded_mean,
    kl_terms,
    likelihood_draws,
    posterior_draws,
    reparameterised,
)

from . import directions_view, factors_view, figures, url_state
from . import geometry_figures as gfig
from .lesson_steps import STEPS, LessonStep, step_at
from .presenter import image_target, presenting
from .state import (
    LESSON_EPS_DRAWS,
    LESSON_REVEALED,
    LESSON_STEP,
    ActiveDataset,
    ActiveModel,
    anomaly_scores,
    builtin_dataset,
    digits_dataset,
    factor_information,
    fragment,
    geodesic_path,
    latents,
    magnification_grid,
    off_data_scale,
    pca_projection,
    probe_table,
    registered_models,
    shipped_autoencoder,
    shipped_model,
    shipped_shapes_models,
)
from .widgets import grid_picture, label_text, show_gallery, show_image, teaching_panel

W_IMAGE = "lesson_image"  # the image followed through the steps (one widget key, drawn by one step at a time)
W_JUMP = "lesson_jump"
URL_SCOPE = "lesson"
EPS_LIMIT = 3.0  # ε sliders span ±3 standard deviations
CLOUD_DRAWS = 300
MAP_HEIGHT = 440


# ---------------------------------------------------------------- the page


def render_lesson() -> None:
    """The whole Lesson page: title, navigation, the step's idea, live view and question, a link to this step."""
    number, note = _current_step()
    step = step_at(number)
    if note:
        st.warning(
            f"This link's step could not be used: {note}. Starting at step 1.", icon=":material/link_off:"
        )
    _navigation(number, "top")
    st.title(f"{number}. {step.title}")
    teaching_panel(step.idea, *step.formulas)
    VIEWS[step.view]()
    question_block(step)
    _navigation(number, "bottom")
    present = 1 if presenting() else None
    url_state.write(URL_SCOPE, {"step": number})
    url_state.copy_link({"step": number, "present": present}, key="lesson_link")
    if not presenting():
        with st.expander("All steps"):
            st.markdown("\n".join(f"{i}. {s.title}" for i, s in enumerate(STEPS, start=1)))
            st.caption(
                "Runs on the shipped models and built-in datasets, offline, whatever the sidebar picks."
            )


def _current_step() -> tuple[int, str | None]:
    """The step to show (adopting ?step= from a link) and the link's problem, if any."""
    ss = st.session_state
    parsed = url_state.parse_int(url_state.query_value("step"), "step", 1, len(STEPS), default=1, clamp=False)
    note = url_state.adopt(URL_SCOPE, "step", LESSON_STEP, parsed)
    number = ss.get(LESSON_STEP, 1)
    if not isinstance(number, int) or not 1 <= number <= len(STEPS):
        number = 1
    ss[LESSON_STEP] = number
    return number, note


def _go(number: int) -> None:
    st.session_state[LESSON_STEP] = max(1, min(len(STEPS), int(number)))


def _on_jump() -> None:
    _go(st.session_state[W_JUMP])


def _navigation(number: int, where: str) -> None:
    """Previous / step picker / next."""
    ss = st.session_state
    prev_col, mid_col, next_col = st.columns([1, 3, 1], vertical_alignment="center")
    prev_col.button(
        "Previous",
        key=f"lesson_prev_{where}",
        on_click=_go,
        args=(number - 1,),
        disabled=number <= 1,
        icon=":material/arrow_back:",
        width="stretch",
    )
    next_col.button(
        "Next",
        key=f"lesson_next_{where}",
        on_click=_go,
        args=(number + 1,),
        disabled=number >= len(STEPS),
        icon=":material/arrow_forward:",
        type="primary",
        width="stretch",
    )
    if where == "top":
        ss[W_JUMP] = number
        mid_col.selectbox(
            "Step",
            list(range(1, len(STEPS) + 1)),
            key=W_JUMP,
            on_change=_on_jump,
            format_func=lambda i: f"Step {i} of {len(STEPS)}: {STEPS[i - 1].title}",
            label_visibility="collapsed",
        )
    else:
        mid_col.progress(number / len(STEPS), text=f"Step {number} of {len(STEPS)}")


def _reveal(key: str) -> None:
    st.session_state.setdefault(LESSON_REVEALED, set()).add(key)


def question_block(step: LessonStep) -> None:
    """Predict first (pick a choice), then reveal the answer and its two-sentence explanation."""
    question = step.question
    with st.container(border=True):
        st.markdown(f"**Predict first.** {question.prompt}")
        pick = st.radio(
            "Your prediction",
            list(range(len(question.choices))),
            index=None,
            format_func=lambda i: question.choices[i],
            key=f"lesson_q_{step.key}",
            label_visibility="collapsed",
        )
        if step.key not in st.session_state.get(LESSON_REVEALED, set()):
            st.button(
                "Reveal the answer",
                key=f"lesson_reveal_{step.key}",
                on_click=_reveal,
                args=(step.key,),
                icon=":material/visibility:",
            )
            return
        verdict = "" if pick is None else ("You predicted it. " if pick == question.answer else "Not quite. ")
        st.success(f"{verdict}**Answer: {question.choices[question.answer]}.** {question.explanation}")


# ---------------------------------------------------------------- shared pieces of the views


def _shipped() -> tuple[ActiveModel, ActiveDataset]:
    """The shipped VAE and the digits it was trained on."""
    return shipped_model(), digits_dataset()


def _pick_image(dataset: ActiveDataset, label: str = "Image (its index among the digits)") -> int:
    """The image followed through the steps (kept while the lesson moves on)."""
    n = len(dataset.data)
    st.session_state.setdefault(W_IMAGE, 3)  # the 4th digit is a 3
    return int(st.number_input(label, 0, n - 1, step=1, key=W_IMAGE, persist_state="session"))


def _faint_map(pca_coords: np.ndarray, dataset: ActiveDataset, height: int = MAP_HEIGHT) -> go.Figure:
    """The digits' PCA map, faded, as a background for marks."""
    data = dataset.data
    fig = figures.latent_map(pca_coords, data.labels, data.class_names, height=height, selectable=False)
    for trace in fig.data:
        trace.marker.opacity = 0.3
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, font=dict(size=13)))
    return fig


def _mark(
    fig: go.Figure, xy: np.ndarray, name: str, symbol: str, size: int, colour: str, outline: int = 1
) -> None:
    """Add marked points (N, 2) to a map."""
    xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
    fig.add_trace(
        go.Scatter(
            x=xy[:, 0],
            y=xy[:, 1],
            mode="markers",
            name=name,
            hoverinfo="skip",
            marker=dict(symbol=symbol, size=size, color=colour, line=dict(color="black", width=outline)),
        )
    )


def _chart(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def _bars(values: np.ndarray, title: str, errors: np.ndarray | None = None, height: int = 260) -> go.Figure:
    """One bar per latent dimension (optionally with ± error bars)."""
    values = np.asarray(values, dtype=np.float64)
    error_bars = None if errors is None else dict(type="data", array=np.asarray(errors), visible=True)
    fig = go.Figure(
        go.Bar(
            x=[f"z{i + 1}" for i in range(len(values))], y=values, marker_color="#4c78a8", error_y=error_bars
        )
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        font=figures.FONT,
        title=dict(text=title, font=dict(size=16)),
    )
    return fig


# ---------------------------------------------------------------- 1. latent variables


def view_latent_code() -> None:
    """An image, its 8-number code, its nearest codes' images, and where it sits on the map."""
    model, dataset = _shipped()
    mu, _ = latents(model, dataset)
    pca = pca_projection(model, dataset)
    left, right = st.columns([2, 3], gap="large")
    with left:
        index = _pick_image(dataset)
        show_image(
            to_uint8(dataset.data.images[[index]])[0],
            f"#{index}: a {label_text(dataset, index)}",
            image_target(112),
        )
        st.markdown(
            "Its code μ (8 numbers for 64 pixels): `" + ", ".join(f"{v:+.2f}" for v in mu[index]) + "`"
        )
        neighbours, _ = nearest_neighbours(mu, mu[index], k=8, exclude=index)
        st.markdown("**The 8 nearest codes belong to:**")
        show_gallery(
            to_uint8(dataset.data.images[neighbours]),
            [label_text(dataset, int(i)) for i in neighbours],
            target=image_target(56),
            ncols=8 if not presenting() else 4,
        )
    with right:
        fig = _faint_map(pca.coords, dataset)
        _mark(fig, pca.coords[neighbours], "nearest codes", "circle-open", 14, "black")
        _mark(fig, pca.coords[[index]], "this image", "star", 22, "#d62728")
        _chart(fig, "lesson_map_latent")


# ---------------------------------------------------------------- 2. generating


def view_generative_path() -> None:
    """z drawn from the prior (its 8 values), the decoded image, and the GAN's path told beside it."""
    model, _ = _shipped()
    left, right = st.columns([3, 2], gap="large")
    with left:
        seed = int(st.number_input("Seed of the draw", 0, 2**31 - 1, 0, step=1, key="lesson_seed"))
        samples = samples_with_nearest(model.model, 8, 1.0, seed)
        bars_col, image_col = st.columns([3, 2], vertical_alignment="center")
        with bars_col:
            _chart(_bars(samples.latents[0], "z ~ N(0, I): the code"), "lesson_prior_bars")
        with image_col:
            show_image(samples.images[0], "decoder(z): a new image", image_target(140))
        st.image(
            grid_picture(samples.images, ncols=8, cell=image_target(56)),
            caption="Eight draws from the same seed: each code decoded once",
            output_format="PNG",
        )
    with right, st.container(border=True):
        st.markdown(
            "**The VAE's path**  \nimage → *encoder* → cloud q(z|x) … z ~ N(0, I) → *decoder* → image"
        )
        st.markdown("**A GAN's path**  \nz ~ N(0, I) → *generator* → image → *discriminator*: real or fake?")
        st.markdown(
            "A GAN's generator also turns a draw from N(0, I) into an image, but it learns by fooling a "
            "discriminator trained to tell its images from real ones, never by reconstructing an image. "
            "It has no encoder, so nothing maps an image back to its code: no map of the data, no cloud "
            "per image."
        )


# ---------------------------------------------------------------- 3. the posterior cloud


def _cloud(
    model: ActiveModel, dataset: ActiveDataset, index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """μ, log σ² of one image and CLOUD_DRAWS draws of its posterior."""
    mu, logvar = latents(model, dataset)
    return mu[index], logvar[index], posterior_draws(mu[index], logvar[index], CLOUD_DRAWS, seed=index)


def view_posterior_cloud() -> None:
    """μ ± 2σ per dimension, the cloud's draws on the map, and a few draws decoded."""
    model, dataset = _shipped()
    pca = pca_projection(model, dataset)
    left, right = st.columns([2, 3], gap="large")
    with left:
        index = _pick_image(dataset)
        mu, logvar, draws = _cloud(model, dataset, index)
        sigma = np.exp(0.5 * logvar)
        _chart(_bars(mu, "μ ± 2σ per dimension", errors=2 * sigma), "lesson_cloud_bars")
        st.image(
            grid_picture(decode_to_uint8(model.model, _tensor(draws[:8])), ncols=8, cell=image_target(48)),
            caption=f"#{index} and 8 draws from its cloud, decoded",
            output_format="PNG",
        )
    with right:
        fig = _faint_map(pca.coords, dataset)
        _mark(fig, to_plane(pca, draws), "draws from q(z|x)", "circle", 5, "#555555", outline=0)
        _mark(fig, to_plane(pca, mu[None]), "μ", "star", 22, "#d62728")
        _chart(fig, "lesson_map_cloud")


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array, dtype=np.float32))


# ---------------------------------------------------------------- 4. reparameterisation


def _eps_key(i: int) -> str:
    return f"lesson_eps_{i}"


def _set_eps(values: np.ndarray) -> None:
    for i, value in enumerate(values):
        st.session_state[_eps_key(i)] = float(np.clip(round(float(value), 1), -EPS_LIMIT, EPS_LIMIT))


def _draw_eps(latent_dim: int) -> None:
    draw_count = st.session_state.get(LESSON_EPS_DRAWS, 0) + 1
    st.session_state[LESSON_EPS_DRAWS] = draw_count
    _set_eps(sample_latents(1, latent_dim, 1.0, seed=draw_count).numpy()[0])


def view_reparameterisation() -> None:
    """ε sliders: z = μ + σ·ε moves inside the cloud on the map, and the image is redrawn."""
    model, dataset = _shipped()
    with st.columns([2, 3])[0]:
        index = _pick_image(dataset)
    _reparameterisation_panel(model, dataset, index)


@fragment
def _reparameterisation_panel(model: ActiveModel, dataset: ActiveDataset, index: int) -> None:
    """The ε controls, the map and the pictures: moving a slider reruns only this."""
    latent_dim = model.config.latent_dim
    for i in range(latent_dim):
        st.session_state.setdefault(_eps_key(i), 0.0)
    mu, logvar, draws = _cloud(model, dataset, index)
    pca = pca_projection(model, dataset)
    b1, b2, _ = st.columns([2, 1, 4])
    b1.button(
        "Draw ε ~ N(0, I)",
        key="lesson_eps_draw",
        on_click=_draw_eps,
        args=(latent_dim,),
        icon=":material/casino:",
    )
    b2.button("ε = 0", key="lesson_eps_zero", on_click=_set_eps, args=(np.zeros(latent_dim),))
    per_row = 4
    eps = np.zeros(latent_dim)
    for row in range(0, latent_dim, per_row):
        columns = st.columns(per_row)
        for column, i in zip(columns, range(row, min(latent_dim, row + per_row))):
            eps[i] = column.slider(f"ε{i + 1}", -EPS_LIMIT, EPS_LIMIT, step=0.1, key=_eps_key(i))
    z = reparameterised(mu, logvar, eps)
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(f"‖ε‖ = {np.linalg.norm(eps):.2f} (typical draws: about {np.sqrt(latent_dim):.1f})")
        c1, c2 = st.columns(2)
        with c1:
            show_image(decoded_mean(model.model, mu), "decoder(μ)", image_target(112))
        with c2:
            show_image(decoded_mean(model.model, z), "decoder(μ + σ·ε)", image_target(112))
    with right:
        fig = _faint_map(pca.coords, dataset, height=480)
        _mark(fig, to_plane(pca, draws), "the cloud q(z|x)", "circle", 5, "#aaaaaa", outline=0)
        _mark(fig, to_plane(pca, mu[None]), "μ", "star", 20, "#d62728")
        _mark(fig, to_plane(pca, z[None]), "z = μ + σ·ε", "x", 22, "#ff7f0e", outline=2)
        _chart(fig, "lesson_map_reparam")


# ---------------------------------------------------------------- 5. the loss


def view_loss_terms() -> None:
    """One image's reconstruction and KL under the VAE and the plain autoencoder, and the KL per dimension."""
    vae, dataset = _shipped()
    autoencoder = shipped_autoencoder()
    index = _pick_image(dataset)
    image = dataset.data.images[index : index + 1]
    models = [("VAE (β = 1)", vae)] + ([("Plain autoencoder (β = 0)", autoencoder)] if autoencoder else [])
    columns = st.columns(1 + len(models))
    with columns[0]:
        show_image(to_uint8(image)[0], f"#{index}: the image", image_target(112))
    rows = []
    for column, (name, model) in zip(columns[1:], models):
        scores = image_scores(model.model, image)
        recon, kl = float(scores["recon"][0]), float(scores["kl"][0])
        rows.append(f"| {name} | {recon:.1f} | {kl:.1f} | {recon + kl:.1f} |")
        with column:
            show_image(
                to_uint8(reconstruct(model.model, image))[0], f"{name}: reconstruction", image_target(112)
            )
    st.markdown(
        "| model | reconstruction (nats) | KL (nats) | reconstruction + KL |\n|---|---|---|---|\n"
        + "\n".join(rows)
    )
    if autoencoder is None:
        st.info(
            "The shipped plain autoencoder (assets/models/digits_ae.safetensors) is not installed: only the "
            "VAE is shown."
        )
    mu, logvar = latents(vae, dataset)
    _chart(
        _bars(kl_terms(mu[index], logvar[index]), "The VAE's KL per dimension for this image (nats)"),
        "lesson_kl_bars",
    )


# ---------------------------------------------------------------- 6. gaps


def view_ae_vs_vae() -> None:
    """The two shipped models' maps with the prior's ±2 square, and what their prior draws decode to."""
    _, dataset = _shipped()
    seed = int(
        st.columns([1, 3])[0].number_input(
            "Seed of the prior draws", 0, 2**31 - 1, 0, step=1, key="lesson_gap_seed"
        )
    )
    references = [("VAE (β = 1)", shipped_model()), ("Plain autoencoder (β = 0)", shipped_autoencoder())]
    for column, (title, reference) in zip(st.columns(2, gap="large"), references):
        with column:
            st.subheader(title)
            if reference is None:
                st.info(
                    "The shipped plain autoencoder (assets/models/digits_ae.safetensors) is not installed."
                )
                continue
            pca = pca_projection(reference, dataset)
            mu = latents(reference, dataset)[0]
            origin = to_plane(pca, np.zeros((1, reference.config.latent_dim), np.float32))[0]
            _chart(
                figures.comparison_map(
                    pca.coords,
                    dataset.data.labels,
                    dataset.data.class_names,
                    f"Codes, PCA · spread (std) {mu.std():.2f}",
                    prior_centre=origin,
                ),
                f"lesson_gap_map_{reference.key}",
            )
            draws = samples_with_nearest(reference.model, 16, 1.0, seed)
            st.image(
                grid_picture(draws.images, ncols=8, cell=image_target(48)),
                caption="16 codes from N(0, I), decoded",
                output_format="PNG",
            )


# ---------------------------------------------------------------- 7. interpolation


def _norm_chart(z_start: np.ndarray, z_end: np.ndarray, steps: int, geodesic: np.ndarray | None) -> go.Figure:
    """‖z_t‖ along the linear and the spherical path (and the geodesic, when given)."""
    fig = go.Figure()
    paths = {
        m: interpolate(_tensor(z_start), _tensor(z_end), steps, m).numpy() for m in ("linear", "spherical")
    }
    if geodesic is not None:
        paths["geodesic"] = np.asarray(geodesic)
    for method, path in paths.items():
        colour = gfig.PATH_COLOURS[method]
        fig.add_trace(
            go.Scatter(
                x=np.linspace(0, 1, len(path)),
                y=np.linalg.norm(path, axis=1),
                name=method,
                mode="lines+markers",
                line=dict(color=colour, width=3),
            )
        )
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=40, b=10),
        font=figures.FONT,
        xaxis_title="t",
        yaxis_title="‖z_t‖",
        title=dict(text="Norm along the path", font=dict(size=16)),
    )
    return fig


def view_interpolation() -> None:
    """A linear or spherical walk between two images: the strip, the path on the map, the norm along it."""
    model, dataset = _shipped()
    n = len(dataset.data)
    mu, _ = latents(model, dataset)
    pca = pca_projection(model, dataset)
    c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
    start = int(c1.number_input("Start image", 0, n - 1, 0, step=1, key="lesson_interp_start"))
    end = int(c2.number_input("End image", 0, n - 1, 7, step=1, key="lesson_interp_end"))
    method = c3.radio("Path", list(PATH_METHODS), horizontal=True, key="lesson_interp_method")
    steps = 9 if presenting() else int(c4.slider("Steps", 3, 16, 9, key="lesson_interp_steps"))
    if method == "geodesic":  # shortest in image space (step 12 shows why it bends)
        path = geodesic_path(model, dataset, mu[start], mu[end], steps)
        walk = Interpolation(path, decode_to_uint8(model.model, _tensor(path)))
    else:
        walk = interpolation(model.model, mu[start], mu[end], steps, method)
    st.image(
        grid_picture(walk.frames, ncols=len(walk.frames), cell=image_target(64)),
        caption=f"#{start} ({label_text(dataset, start)}) → #{end} ({label_text(dataset, end)}), {method}",
        output_format="PNG",
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        _chart(
            figures.interpolation_path(
                pca.coords,
                dataset.data.labels,
                dataset.data.class_names,
                to_plane(pca, walk.path),
                len(walk.path) // 2,
                height=MAP_HEIGHT,
            ),
            "lesson_interp_map",
        )
    with right:
        geodesic = walk.path if method == "geodesic" else None
        _chart(_norm_chart(mu[start], mu[end], steps, geodesic), "lesson_interp_norms")


# ---------------------------------------------------------------- 8. blurry samples


def _conv_models(input_shape: tuple[int, ...]) -> list[ActiveModel]:
    """Convolutional models registered in this session (trained or uploaded) for images of this shape."""
    return [
        model
        for model in registered_models()
        if model.config.arch != "mlp" and tuple(model.config.input_shape) == tuple(input_shape)
    ]


def view_blurry() -> None:
    """The decoder's mean beside draws from p(x|z); the shipped MLP beside a conv model when the session has one."""
    model, dataset = _shipped()
    seed = int(
        st.columns([1, 3])[0].number_input(
            "Seed of the code", 0, 2**31 - 1, 0, step=1, key="lesson_blur_seed"
        )
    )
    z = sample_latents(1, model.config.latent_dim, 1.0, seed).numpy()[0]
    left, right = st.columns([1, 3], gap="large")
    with left:
        show_image(decoded_mean(model.model, z), "the mean E[x | z]", image_target(112))
    with right:
        draws = likelihood_draws(model.model, z, 6, seed)
        st.image(
            grid_picture(draws, ncols=6, cell=image_target(64)),
            caption="6 draws from p(x | z) for the same z: every pixel on or off independently",
            output_format="PNG",
        )
    st.subheader("A more expressive decoder")
    convs = _conv_models(dataset.data.image_shape)
    if not convs:
        st.info(
            "No convolutional model for these 8×8 digits in this session, so there is no MLP-vs-conv "
            "comparison to show. Train one on the Train page (architecture conv, dataset digits) and "
            "come "
            "back: its samples will appear beside the shipped MLP's, from the same codes."
        )
        return
    for column, reference in zip(st.columns(2, gap="large"), [model, convs[-1]]):
        with column:
            samples = samples_with_nearest(reference.model, 16, 1.0, seed)
            st.image(
                grid_picture(samples.images, ncols=8, cell=image_target(48)),
                caption=f"{reference.label}: 16 prior samples",
                output_format="PNG",
            )


# ---------------------------------------------------------------- 9. points and directions


def view_directions() -> None:
    """An image's code pushed along a class-to-class direction: a strip for α from 0 to the chosen amount."""
    model, dataset = _shipped()
    data = dataset.data
    mu, _ = latents(model, dataset)
    c1, c2, c3 = st.columns(3, vertical_alignment="bottom")
    with c1:
        index = _pick_image(dataset, "Start image")
    source = int(data.labels[index])
    classes = [c for c in range(len(data.class_names)) if c != source]
    target = c2.selectbox(
        "Towards the class",
        classes,
        index=min(len(classes) - 1, 7),
        format_func=lambda c: data.class_names[c],
        key="lesson_direction_target",
    )
    amount = c3.slider("Amount α", 0.0, 2.0, 1.0, 0.1, key="lesson_direction_alpha")
    direction = class_direction(mu, data.labels, source, int(target))
    alphas = np.linspace(0.0, amount, 7)
    path = mu[index][None] + alphas[:, None] * direction[None]
    frames = decode_to_uint8(model.model, _tensor(path))
    centre = mu[data.labels == int(target)].mean(axis=0)
    left, right = st.columns([4, 1], gap="large")
    with left:
        st.image(
            grid_picture(frames, ncols=len(frames), cell=image_target(64)),
            caption=f"#{index} ({data.class_names[source]}) + α·d, α = "
            + ", ".join(f"{a:.2g}" for a in alphas),
            output_format="PNG",
        )
    with right:
        show_image(
            decoded_mean(model.model, centre),
            f"the average {data.class_names[int(target)]} code",
            image_target(84),
        )


# ---------------------------------------------------------------- 10. entanglement and β


def _sweep(model: ActiveModel, start: np.ndarray, dim: int, count: int = 9) -> np.ndarray:
    """Decode `start` with one latent dimension swept from −3 to 3 (the other values kept): (count, H, W) uint8."""
    path = np.repeat(np.asarray(start, dtype=np.float32)[None], count, axis=0)
    path[:, dim] = np.linspace(-3.0, 3.0, count, dtype=np.float32)
    return decode_to_uint8(model.model, _tensor(path))


def view_factors() -> None:
    """The shipped shapes pair (β = 1, β = 8): scores, the chosen model's MI heatmap and one dimension swept."""
    models = shipped_shapes_models()
    if len(models) < 2:
        st.info(
            "The shipped shapes models (assets/models/shapes_beta1.safetensors, shapes_betavae.safetensors) "
            "are not installed, so there is no β = 1 vs β = 8 pair to compare."
        )
        return
    dataset = builtin_dataset("shapes")
    st.markdown(factors_view.shipped_comparison(dataset))
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    pick = c1.radio(
        "Model", range(len(models)), format_func=lambda i: models[i].label, key="lesson_factor_model"
    )
    model = models[pick]
    info = factor_information(model, dataset)
    mu, logvar = latents(model, dataset)
    health = latent_health(mu, logvar)
    order = [int(d) for d in np.argsort(-health.kl_per_dim, kind="stable")]
    labels = factors_view.slider_labels(info, dataset.data.factor_names, health.active)
    dim = c2.selectbox(
        "Sweep one dimension (most used first)",
        order,
        format_func=lambda d: labels[d],
        key=f"lesson_factor_dim_{pick}",
    )
    st.image(
        grid_picture(_sweep(model, mu[0], int(dim)), ncols=9, cell=image_target(64)),
        caption=f"Sprite #0 with {labels[int(dim)].split(' ')[0]} swept from −3 to 3, the rest kept",
        output_format="PNG",
    )
    _chart(factors_view.mi_heatmap(info, dataset.data.factor_names, order), "lesson_factor_heatmap")
    st.caption(
        f"{health.active_units} of {health.latent_dim} dimensions active. "
        "Columns in order of KL; a disentangled code has one bright cell per row, each in its own column."
    )


# ---------------------------------------------------------------- 11. uses


def _uses_anomalies(model: ActiveModel, dataset: ActiveDataset) -> None:
    """The worst-explained digits (−ELBO), each beside its reconstruction, and where they sit in the histogram."""
    values = anomaly_scores(model, dataset)["neg_elbo"]
    order = rank_worst(values, 8)
    st.plotly_chart(
        figures.score_histogram(values, float(values[order[-1]]), "−ELBO"),
        key="lesson_uses_hist",
        config={"displayModeBar": False},
    )
    images = dataset.data.images[order]
    pairs = side_by_side(to_uint8(images), to_uint8(reconstruct(model.model, images)), gap=1)
    show_gallery(
        pairs,
        [f"#{i} · {label_text(dataset, int(i))} · {values[i]:.0f}" for i in order],
        target=image_target(72),
        ncols=4 if presenting() else 8,
    )
    st.caption("The 8 digits the model explains worst (original | reconstruction, −ELBO in nats).")


def _uses_augment(model: ActiveModel, dataset: ActiveDataset) -> None:
    """One image and decoded draws from its posterior at a chosen temperature."""
    c1, c2 = st.columns(2)
    with c1:
        index = _pick_image(dataset)
    temperature = c2.slider("Spread T", 0.0, 3.0, 1.0, 0.25, key="lesson_aug_temperature")
    data = dataset.data
    made = augment(model.model, data.images, data.labels, [index], 7, temperature, seed=0)
    st.image(
        grid_picture(
            np.concatenate([to_uint8(data.images[[index]]), to_uint8(made.images)]),
            ncols=8,
            cell=image_target(56),
        ),
        caption=f"#{index} ({label_text(dataset, index)}), then 7 draws z = μ + T·σ·ε decoded",
        output_format="PNG",
    )
    st.caption(directions_view.AUGMENT_FINDING)


def _uses_probe(model: ActiveModel, dataset: ActiveDataset) -> None:
    """Linear probes from the codes and from honest baselines to the labels."""
    scores = probe_table(model, dataset, shipped_autoencoder())
    st.markdown(directions_view.probe_summary(scores, FEATURES_LATENT, FEATURES_PIXELS))
    st.dataframe(directions_view.probe_rows(scores), hide_index=True)


def view_uses() -> None:
    """Three uses of the shipped VAE's latent space: anomaly detection, augmentation, a feature space."""
    model, dataset = _shipped()
    anomalies_tab, augment_tab, probe_tab = st.tabs(
        ["Anomaly detection", "Augmentation", "A feature space (probes)"]
    )
    with anomalies_tab:
        _uses_anomalies(model, dataset)
    with augment_tab:
        _uses_augment(model, dataset)
    with probe_tab:
        _uses_probe(model, dataset)


# ---------------------------------------------------------------- 12. curvature

CURVE_STEPS = 10


def view_curved() -> None:
    """The magnification map with the straight and the geodesic path between two digits, their frames, lengths."""
    model, dataset = _shipped()
    data = dataset.data
    mu, _ = latents(model, dataset)
    pca = pca_projection(model, dataset)
    c1, c2, _ = st.columns([1, 1, 2])
    start = int(c1.number_input("Start image", 0, len(data) - 1, 0, step=1, key="lesson_curve_start"))
    end = int(c2.number_input("End image", 0, len(data) - 1, 4, step=1, key="lesson_curve_end"))
    paths = {
        "linear": latent_path(model.model, mu[start], mu[end], CURVE_STEPS, "linear"),
        "geodesic": geodesic_path(model, dataset, mu[start], mu[end], CURVE_STEPS),
    }
    grid = magnification_grid(model, dataset)
    fig = gfig.magnification_map(
        grid.xs, grid.ys, grid.values, pca.coords, data.labels, data.class_names, height=MAP_HEIGHT + 60
    )
    gfig.add_paths(fig, {name: to_plane(pca, path) for name, path in paths.items()}, shown="")
    for trace in fig.data:
        if trace.name in paths:  # both paths are the subject here: bold, with a dot per frame
            trace.mode, trace.line.width, trace.line.dash = "lines+markers", 5, "solid"
            trace.marker = dict(
                size=9, color=gfig.PATH_COLOURS[trace.name], line=dict(color="white", width=1)
            )
    left, right = st.columns([3, 2], gap="large")
    with left:
        _chart(fig, "lesson_curve_map")
    with right:
        for name, path in paths.items():
            st.image(
                grid_picture(decode_to_uint8(model.model, _tensor(path)), ncols=5, cell=image_target(48)),
                caption=f"{name}: #{start} ({label_text(dataset, start)}) → #{end} ({label_text(dataset, end)})",
                output_format="PNG",
            )
    off_data = off_data_scale(model, dataset)
    stats = [path_stats(model.model, path, name, off_data) for name, path in paths.items()]
    st.dataframe(gfig.path_table(stats), hide_index=True)


# The live view of each step, by the name lesson_steps gives it.
VIEWS = {
    view.__name__: view
    for view in (
        view_latent_code,
        view_generative_path,
        view_posterior_cloud,
        view_reparameterisation,
        view_loss_terms,
        view_ae_vs_vae,
        view_interpolation,
        view_blurry,
        view_directions,
        view_factors,
        view_uses,
        view_curved,
    )
}
