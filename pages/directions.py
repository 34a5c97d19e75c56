"""Directions: steer the decoder along principal axes and attribute vectors, do latent arithmetic, probe
what the codes know against honest baselines, and make new training images from each image's posterior."""

import numpy as np
import streamlit as st

from explorer_ui import directions_view as view
from explorer_ui import url_state
from explorer_ui.latent_pad import render_pad
from explorer_ui.latent_pad_frontend.protocol import PadAxes
from explorer_ui.presenter import image_target
from explorer_ui.state import (
    DEFAULT_MODEL_KEY,
    SELECTION,
    fragment,
    latents,
    principal_directions_of,
    probe_table,
    shipped_autoencoder,
)
from explorer_ui.widgets import (
    grid_picture,
    label_text,
    require_matching_pair,
    show_gallery,
    show_image,
    teaching_panel,
)
from vae_core.augment import AugmentError, augment, npz_bytes, with_originals
from vae_core.directions import (
    AttributeVector,
    DirectionError,
    analogy,
    class_vector,
    group_vector,
    steps_along,
)
from vae_core.images import image_grid, to_uint8
from vae_core.probes import FEATURES_LATENT, FEATURES_PIXELS
from vae_core.sliders import starting_vector

ss = st.session_state
GROUP_A, GROUP_B = "directions_group_a", "directions_group_b"
# [model key, dataset key] pairs whose probe table this session asked for
PROBES_ASKED = "directions_probes_asked"
MAX_AXES = 16
STARTS = {
    "mean": "Data mean μ̄",
    "origin": "Origin (z = 0)",
    "image": "An image's μ",
    "random": "Random z ~ N(0, I)",
}

st.title("Directions")
teaching_panel(view.WHY_DIRECTIONS, *view.WHY_DIRECTIONS_FORMULAS)

model, dataset = require_matching_pair("directions_mismatch_train")
data = dataset.data
n = len(data)
latent_dim = int(model.config.latent_dim)
latent_means = latents(model, dataset)[0]
n_classes = max(1, len(data.class_names or []))
LINK = {  # ?start=&index=&seed=&a=&b=&alpha=: the principal pad's start, the attribute vector's classes
    "start": url_state.choice_param("directions_start", "start", list(STARTS), "mean"),
    "index": url_state.int_param("directions_start_index", "index", 0, n - 1, 0),
    "seed": url_state.int_param("directions_start_seed", "seed", 0, 2**31 - 1, 0),
    "a": url_state.int_param("directions_class_a", "a", 0, n_classes - 1, 0),
    "b": url_state.int_param("directions_class_b", "b", 0, n_classes - 1, min(1, n_classes - 1)),
    "alpha": url_state.float_param("directions_alpha", "alpha", -1.0, 2.0, 1.0, 0.05),
}
url_state.restore("directions", LINK)
url_state.share("directions", LINK, key="directions_link")


def direction_pad(origin: np.ndarray, basis: np.ndarray, labels: list[str], key: str) -> np.ndarray:
    """The live slider pad over a basis (z = origin + Σ vᵢ·basisᵢ, decoded in the browser when it fits); returns z."""
    axes = PadAxes(latent_dim, origin=np.asarray(origin, np.float64), basis=np.asarray(basis, np.float64))
    values = render_pad(
        model.model, model.key, list(range(axes.count)), None, key=key, axes=axes, labels=labels
    )
    return axes.latent(values)


def chosen_start(kind: str, index: int, seed: int) -> np.ndarray:
    """The start point: the data mean, the origin, an image's μ or a random draw."""
    if kind == "mean":
        return latent_means.astype(np.float64).mean(axis=0)
    if kind == "image":
        return latent_means[index].astype(np.float64)
    return starting_vector("random" if kind == "random" else "origin", latent_dim, seed=seed)


principal_tab, attribute_tab, probe_tab, augment_tab = st.tabs(
    ["Principal directions", "Attribute vectors & analogy", "Linear probes", "Augmentation"]
)

# ---------------------------------------------------------------- principal directions
with principal_tab:
    pcs = principal_directions_of(model, dataset)
    k = min(MAX_AXES, latent_dim)
    chart_col, text_col = st.columns([3, 2], vertical_alignment="center")
    chart_col.plotly_chart(
        view.explained_variance_chart(pcs.explained_variance_ratio[:k]), key="directions_variance"
    )
    top = pcs.explained_variance_ratio
    text_col.markdown(
        f"The first direction alone spreads **{100 * top[0]:.0f} %** of the variance of the {n:,} codes; "
        f"the first {min(3, latent_dim)} together **{100 * top[:3].sum():.0f} %**. A slider moves the start "
        "point by v standard deviations of the data along that direction (v = ±4), so each slider covers "
        "the data's own range."
    )
    c1, c2, c3 = st.columns([4, 2, 2], vertical_alignment="bottom")
    start_kind = c1.radio(
        "Start from",
        list(STARTS),
        format_func=STARTS.get,
        horizontal=True,
        key="directions_start",
        persist_state="session",
    )
    start_index = int(
        c2.number_input("Image index", 0, n - 1, key="directions_start_index", disabled=start_kind != "image")
    )
    start_seed = int(
        c3.number_input(
            "Random seed", 0, 2**31 - 1, key="directions_start_seed", disabled=start_kind != "random"
        )
    )
    origin = chosen_start(start_kind, start_index, start_seed)

    @fragment
    def principal_pad() -> None:
        """The sliders and their image: while one moves, only this reruns."""
        direction_pad(
            origin, pcs.basis()[:k], view.axis_labels(pcs.explained_variance_ratio[:k]), "directions_pad"
        )

    principal_pad()
    st.caption("Each strip beside a slider decodes that direction at −3 … +3 σ from the current point.")


# ---------------------------------------------------------------- attribute vectors and analogy
def pick_direction() -> tuple[AttributeVector, str, str] | None:
    """The attribute vector the user asks for (between two classes or two map selections), with its ends' names."""
    mode = st.radio(
        "Direction between",
        ["classes", "map selections"],
        horizontal=True,
        key="directions_attr_mode",
        disabled=data.labels is None,
        index=0 if data.labels is not None else 1,
    )
    try:
        if mode == "classes" and data.labels is not None:
            names = data.class_names
            c1, c2 = st.columns(2)
            class_a = c1.selectbox(
                "Class A", range(len(names)), format_func=names.__getitem__, key="directions_class_a"
            )
            class_b = c2.selectbox(
                "Class B",
                range(len(names)),
                format_func=names.__getitem__,
                key="directions_class_b",
            )
            vec = class_vector(latent_means, data.labels, class_a, class_b)
            title_a, title_b = f"class {names[class_a]}", f"class {names[class_b]}"
        else:
            selection = [int(i) for i in ss.get(SELECTION, []) if 0 <= int(i) < n]
            c1, c2, c3 = st.columns([2, 2, 3], vertical_alignment="bottom")
            if c1.button(
                f"Map selection → group A ({len(selection)})", key="directions_set_a", disabled=not selection
            ):
                ss[GROUP_A] = selection
            if c2.button(
                f"Map selection → group B ({len(selection)})", key="directions_set_b", disabled=not selection
            ):
                ss[GROUP_B] = selection
            c3.caption(
                f"Group A: {len(ss.get(GROUP_A, []))} images · group B: {len(ss.get(GROUP_B, []))} images. "
                "Select points on the Latent map (box or lasso), then come back here."
            )
            vec = group_vector(latent_means, ss.get(GROUP_A, []), ss.get(GROUP_B, []))
            title_a, title_b = "group A", "group B"
    except DirectionError as err:
        st.info(str(err))
        return None
    return vec, title_a, title_b


def attribute_slider(vec: AttributeVector, title_a: str, title_b: str) -> None:
    """A slider that moves a start point along the vector, its image and the strip from −0.5 to 1.5."""
    alpha = st.slider(f"α: start + α·({title_a} → {title_b})", -1.0, 2.0, step=0.05, key="directions_alpha")
    from_col, _ = st.columns([3, 1])
    attr_start = from_col.radio(
        "Start point",
        ["A's mean", "origin", "an image's μ"],
        horizontal=True,
        key="directions_attr_start",
    )
    attr_index = int(
        st.number_input("Image index (for 'an image's μ')", 0, n - 1, 0, key="directions_attr_index")
    )
    start = {
        "A's mean": vec.source_mean,
        "origin": np.zeros(latent_dim),
        "an image's μ": latent_means[attr_index].astype(np.float64),
    }[attr_start]
    amounts = np.linspace(-0.5, 1.5, 9)
    frames = view.decode_points(model.model, steps_along(start, vec.vector, np.append(amounts, alpha)))
    img_col, strip_col = st.columns([1, 4])
    with img_col:
        show_image(frames[-1], f"α = {alpha:+.2f}")
    with strip_col:
        show_image(
            image_grid(frames[:-1], ncols=len(amounts)),
            target=image_target(72),
            caption="α = " + ", ".join(f"{a:g}" for a in amounts) + f" · ‖vector‖ = {vec.length:.2f}",
        )
    st.caption(
        f"{title_a}: {vec.source_count} images · {title_b}: {vec.target_count} images. From A's mean, "
        "α = 1 lands exactly on B's mean; from any other start it adds the same difference."
    )


def analogy_view() -> None:
    """Analogy a − b + c: the three images, the decoded result and its nearest data images."""
    st.subheader("Analogy: a − b + c")
    a_col, b_col, c_col, k_col = st.columns(4)
    idx_a = int(a_col.number_input("a (image index)", 0, n - 1, min(1, n - 1), key="directions_an_a"))
    idx_b = int(b_col.number_input("b", 0, n - 1, min(2, n - 1), key="directions_an_b"))
    idx_c = int(c_col.number_input("c", 0, n - 1, min(3, n - 1), key="directions_an_c"))
    n_near = int(k_col.number_input("nearest images", 1, 16, 8, key="directions_an_k"))
    result = analogy(latent_means, idx_a, idx_b, idx_c, k=n_near)
    pictures = to_uint8(data.images[[idx_a, idx_b, idx_c]])
    decoded = view.decode_points(model.model, result.latent[None])[0]
    show_gallery(
        [pictures[0], pictures[1], pictures[2], decoded],
        [
            f"a: {label_text(dataset, idx_a)}",
            f"− b: {label_text(dataset, idx_b)}",
            f"+ c: {label_text(dataset, idx_c)}",
            "= decoded a − b + c",
        ],
        ncols=4,
    )
    show_gallery(
        to_uint8(data.images[result.nearest]),
        [
            f"#{i} {label_text(dataset, int(i))} · {d:.2f}"
            for i, d in zip(result.nearest, result.nearest_distance)
        ],
    )
    st.caption("Nearest data images to a − b + c by latent distance (a, b and c left out).")


@fragment
def attribute_and_analogy() -> None:
    """Attribute vector (slider + strip) and analogy: their widgets rerun only this part."""
    picked = pick_direction()
    if picked is not None:
        attribute_slider(*picked)
    analogy_view()


with attribute_tab:
    attribute_and_analogy()

# ---------------------------------------------------------------- linear probes
with probe_tab:
    teaching_panel(
        view.WHAT_A_PROBE_SHOWS,
        r"\hat y = \arg\max_c\, (W \tilde\mu + b)_c,"
        r"\quad \tilde\mu = (\mu - m_{\text{train}}) / s_{\text{train}}",
    )
    twin = shipped_autoencoder() if model.key == DEFAULT_MODEL_KEY else None
    asked = ss.setdefault(PROBES_ASKED, [])
    pair = [model.key, dataset.key]
    if pair not in asked and st.button(
        "Fit the probes", key="directions_probe_run", icon=":material/science:"
    ):
        asked.append(pair)
    if pair in asked:
        if data.labels is None and getattr(data, "factors", None) is None:
            st.info("This dataset has neither labels nor factors: there is nothing for a probe to predict.")
        else:
            scores = probe_table(model, dataset, twin)
            st.dataframe(view.probe_rows(scores), hide_index=True, key="directions_probe_table")
            st.markdown(view.probe_summary(scores, FEATURES_LATENT, FEATURES_PIXELS))
            if twin is None:
                st.caption(
                    "No plain-autoencoder twin for this model (the shipped VAE has one), "
                    "so that row is absent."
                )


# ---------------------------------------------------------------- augmentation
@fragment
def augmentation() -> None:
    """Posterior draws around the chosen images, beside them, and the .npz download."""
    teaching_panel(
        view.AUGMENT_TEXT + " " + view.AUGMENT_FINDING,
        r"z^{(k)} = \mu_\phi(x) + T\,\sigma_\phi(x) \odot \varepsilon^{(k)},\quad"
        r" \varepsilon^{(k)} \sim \mathcal N(0, I),\quad x^{(k)} = \mathrm{decoder}_\theta(z^{(k)})",
    )
    sources = ["a class", "the map selection"] if data.labels is not None else ["the map selection"]
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    source = c1.radio("Augment", sources, horizontal=True, key="directions_aug_source")
    per_image = int(c2.slider("Draws per image K", 1, 16, 6, key="directions_aug_k"))
    temperature = float(c3.slider("Temperature T", 0.0, 2.0, 1.0, 0.05, key="directions_aug_t"))
    include = c4.checkbox("Export the originals too", True, key="directions_aug_include")
    if source == "a class":
        aug_class = st.selectbox(
            "Class",
            range(len(data.class_names)),
            format_func=data.class_names.__getitem__,
            key="directions_aug_class",
        )
        picks = np.flatnonzero(data.labels == aug_class)[:200]
        note = f"the first {len(picks)} images of class {data.class_names[aug_class]}"
    else:
        picks = np.array([int(i) for i in ss.get(SELECTION, []) if 0 <= int(i) < n][:200], dtype=np.int64)
        note = f"{len(picks)} images selected on the map"
    try:
        made = augment(model.model, data.images, data.labels, picks, per_image, temperature, seed=0)
    except AugmentError as err:
        st.info(str(err))
        made = None
    if made is not None:
        shown = min(6, len(picks))
        rows = [
            np.concatenate(
                [to_uint8(data.images[[r]]), to_uint8(made.images[j * per_image : (j + 1) * per_image])]
            )
            for j, r in enumerate(made.source_index[::per_image][:shown])
        ]
        st.image(
            grid_picture(np.concatenate(rows), per_image + 1, cell=image_target(56)),
            output_format="PNG",
            caption=f"Each row: the original, then {per_image} decoded draws at T = {temperature:g} "
            f"(first {shown} of {note})",
        )
        export_images, export_labels = (
            with_originals(made, data.images, data.labels) if include else (made.images, made.labels)
        )
        st.download_button(
            f"Download {len(export_images):,} images (.npz)",
            npz_bytes(export_images, export_labels, data.class_names or None),
            file_name=f"augmented_K{per_image}_T{temperature:g}.npz",
            mime="application/octet-stream",
            key="directions_aug_download",
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(
            "Load it back in the sidebar (upload) or as the spec `npz:FILE`: arrays `images` (uint8), "
            "`labels` and `class_names`."
        )


with augment_tab:
    augmentation()
