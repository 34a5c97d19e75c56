"""Interpolate: walk from one code to another (linear or spherical), decode every step, scrub through the
frames, see the path on the map's PCA or t-SNE, and download it as a GIF."""

import streamlit as st

from explorer_ui import figures, geometry_figures, url_state
from explorer_ui.presenter import image_target
from explorer_ui.registry import page_file
from explorer_ui.state import (
    INTERP_END,
    INTERP_START,
    compare_paths,
    fragment,
    geodesic_path,
    latents,
    magnification_grid,
    pca_projection,
    stored_tsne,
)
from explorer_ui.widgets import (
    grid_picture,
    label_text,
    png_download,
    require_matching_pair,
    show_image,
    teaching_panel,
)
from vae_core.explore import Interpolation, interpolation, to_plane
from vae_core.generate import INTERPOLATIONS, decode_to_uint8, sample_latents
from vae_core.geometry import PATH_METHODS
from vae_core.images import fit_scale, gif_bytes, to_uint8
from vae_core.latent_input import clamp_int
from vae_core.latents import place_on_map

W_START, W_END = "interp_w_start", "interp_w_end"
SOURCES = {"data": "Dataset images (picked on the map or by index)", "random": "Random codes from the prior"}

st.title("Interpolate")
teaching_panel(
    "Pick two codes and decode the points between them. If the latent space is smooth, every step is a plausible "
    "image and the change is gradual. A **linear** path cuts through the middle of the space, where prior samples "
    "have unusually small norm in many dimensions; a **spherical** path (slerp) turns the direction while blending "
    "the length, keeping every step at a typical distance from the origin.",
    r"z_t = (1-t)\, z_0 + t\, z_1 \qquad\text{or}\qquad "
    r"z_t = \big((1-t)\lVert z_0\rVert + t\lVert z_1\rVert\big)\, "
    r"\frac{\sin((1-t)\Omega)\, \hat z_0 + \sin(t\Omega)\, \hat z_1}{\sin \Omega}",
)
teaching_panel(
    "Both are straight in z, but the decoder bends space (see the Geometry page): a **geodesic** is the path "
    "whose decoded images change least, found by minimising the curve energy in image space with the ends "
    "fixed. Off the data the decoder's pixels get a growing uncertainty σ(z), so the path stays near images.",
    r"\min_{z_1,\dots,z_{S-2}} \sum_{i} \lVert h(z_{i+1}) - h(z_i) \rVert^2,\qquad "
    r"h(z) = \big[f(z),\ \sqrt{P}\,\sigma(z)\big]",
)

model, dataset = require_matching_pair("interp_mismatch_train")
data = dataset.data
n = len(data)
mu, _ = latents(model, dataset)
pca = pca_projection(model, dataset)
LINK = {  # ?source=&path=&steps=&start=&end=&seed=: endpoints as dataset indices
    "source": url_state.choice_param("interp_source", "source", list(SOURCES), "data"),
    "path": url_state.choice_param("interp_method", "path", list(PATH_METHODS), PATH_METHODS[0]),
    "steps": url_state.int_param("interp_steps", "steps", 2, 48, 10),
    "start": url_state.int_param(INTERP_START, "start", 0, n - 1, 0),
    "end": url_state.int_param(INTERP_END, "end", 0, n - 1, min(1, n - 1)),
    "seed": url_state.int_param("interp_seed", "seed", 0, 2**31 - 1, 0),
}
url_state.restore("interpolate", LINK)
ss = st.session_state


def _clamped(value, fallback: int) -> int:
    return fallback if value is None else clamp_int(value, 0, n - 1, "interpolation endpoint")


def _on_index(which: str, widget: str) -> None:
    ss[which] = int(ss[widget])


source = st.segmented_control(
    "Endpoints",
    list(SOURCES),
    format_func=SOURCES.get,
    required=True,
    key="interp_source",
    persist_state="session",
)

c1, c2, c3 = st.columns([3, 2, 2])
with c2:
    method = st.radio(
        "Path", list(PATH_METHODS), horizontal=True, key="interp_method", persist_state="session"
    )
with c3:
    steps = st.slider("Steps", 2, 48, key="interp_steps", persist_state="session")

with c1:
    if source == "data":
        # the inputs mirror the shared endpoints (set on the map or here); written before they are drawn
        ss[W_START] = _clamped(ss.get(INTERP_START), 0)
        ss[W_END] = _clamped(ss.get(INTERP_END), min(1, n - 1))
        i1, i2 = st.columns(2)
        i1.number_input(
            "Start index", 0, n - 1, key=W_START, on_change=_on_index, args=(INTERP_START, W_START)
        )
        i2.number_input("End index", 0, n - 1, key=W_END, on_change=_on_index, args=(INTERP_END, W_END))
        start_index, end_index = int(ss[W_START]), int(ss[W_END])
        if ss.get(INTERP_START) is None or ss.get(INTERP_END) is None:
            st.caption("Tip: select a dot on the Latent map and press *Interpolation start / end*.")
            st.page_link(page_file("latent_map"), label="Open the latent map", icon="🗺️")
        if start_index == end_index:
            st.warning(
                "Start and end are the same image: pick two different points (on the map, select several "
                "dots and press *Interpolation start*, then *end*; the focus moves on by itself)."
            )
        z_start, z_end = mu[start_index].copy(), mu[end_index].copy()  # the stored latents are read-only
    else:
        seed = st.number_input("Seed", 0, 2**31 - 1, key="interp_seed", persist_state="session")
        draws = sample_latents(2, model.config.latent_dim, 1.0, int(seed)).numpy()
        z_start, z_end = draws[0], draws[1]

url_state.share("interpolate", LINK, key="interp_link")
paths = {name: interpolation(model.model, z_start, z_end, int(steps), name).path for name in INTERPOLATIONS}
paths["geodesic"] = geodesic_path(model, dataset, z_start, z_end, int(steps))
walk = Interpolation(paths[method], decode_to_uint8(model.model, paths[method]))
frames = walk.frames

st.subheader("The decoded path")
if source == "data":
    e1, e2 = st.columns(2)
    with e1:
        show_image(
            to_uint8(data.images[[start_index]])[0],
            f"start: #{start_index} ({label_text(dataset, start_index)})",
            84,
        )
    with e2:
        show_image(
            to_uint8(data.images[[end_index]])[0], f"end: #{end_index} ({label_text(dataset, end_index)})", 84
        )
strip = grid_picture(frames, ncols=len(frames), cell=max(40, min(image_target(96), 900 // len(frames))))
st.image(strip, caption=f"{len(frames)} frames, {method}, left → right", output_format="PNG")


def _gif(frames) -> bytes:
    """The walk as a looping GIF (built when asked for: a download click or the player)."""
    return gif_bytes(frames, frame_ms=120, scale=fit_scale(frames.shape[1], 112))


@fragment
def scrub_and_place(walk: Interpolation, paths: dict, method: str, strip) -> None:
    """The frame scrubber, downloads and the path on the map: scrubbing reruns only this part of the page."""
    frames = walk.frames
    left, right = st.columns([1, 2], gap="large")
    with left:
        frame = st.slider("Frame", 0, len(frames) - 1, 0, key="interp_frame")
        show_image(frames[frame], f"frame {frame} of {len(frames) - 1}", target=image_target(224))
        st.download_button(
            "Download GIF",
            lambda: _gif(frames),
            file_name=f"interpolation_{method}.gif",
            mime="image/gif",
            key="interp_gif",
            on_click="ignore",
            icon=":material/download:",
            type="primary",
        )
        png_download("Download strip (PNG)", strip, f"interpolation_{method}.png", "interp_png")
        if st.toggle("Play as a GIF", key="interp_play", help="The walk forth and back, as the GIF download"):
            st.image(_gif(frames), caption="loops forth and back")
    with right:
        place_paths(walk, paths, method, frame)


def place_paths(walk: Interpolation, paths: dict, method: str, frame: int) -> None:
    """The three paths on the plane the user looks at (PCA, or the map's t-SNE), the current frame marked."""
    tsne = stored_tsne(model, dataset)
    planes = ["pca"] + (["tsne"] if tsne is not None else [])
    looking_at = ss.get("map_method") if ss.get("map_method") in planes else "pca"
    plane = st.segmented_control(
        "Drawn on",
        planes,
        format_func={"pca": "PCA", "tsne": "t-SNE"}.get,
        default=looking_at,
        required=True,
        key="interp_plane",
    )
    if plane == "tsne":

        def place(path):
            return place_on_map(mu, tsne, path)

        background, titles = tsne, ("t-SNE 1", "t-SNE 2")
        note = (
            "Each step placed on the latent map's t-SNE among its 10 nearest dataset codes (distance-weighted "
            "mean of their positions): t-SNE has no formula for new points, so this is where the step's "
            "neighbours are, not a re-run of the layout."
        )
    else:

        def place(path):
            return to_plane(pca, path)

        background, titles = pca.coords, ("PC 1", "PC 2")
        note = (
            "The path's codes projected onto the PCA plane of the latent map (each step encoded as its latent "
            "point, not re-encoded from its picture)."
        )
    path_xy = place(walk.path)
    path_fig = figures.interpolation_path(background, data.labels, data.class_names, path_xy, frame, titles)
    geometry_figures.add_paths(path_fig, {name: place(p) for name, p in paths.items()}, method)
    if plane == "pca" and st.toggle(
        "Magnification underneath",
        key="interp_heat",
        persist_state="session",
        help="The decoder's magnification factor (Geometry page): bright = images change fast there",
    ):
        heat = magnification_grid(model, dataset, 64)
        geometry_figures.add_heat(path_fig, heat.xs, heat.ys, heat.values)
    st.plotly_chart(path_fig, key="interp_path", config={"displayModeBar": False})
    st.caption(note + ("" if tsne is not None else " Compute t-SNE on the Latent map to draw it there too."))


scrub_and_place(walk, paths, method, strip)

st.subheader("The three paths compared")
path_rows = compare_paths(model, dataset, paths)
st.dataframe(geometry_figures.path_table(path_rows), hide_index=True, key="interp_path_table")
st.caption(
    "Image-space length: Σ‖f(z_{i+1}) − f(z_i)‖ of the decoded means; the geodesic minimises it plus "
    "the off-data term (its own metric, next column). Largest step: the biggest jump between two "
    "frames. Frames' −ELBO: each decoded frame re-encoded and scored (nats; lower = more like the "
    "training images)."
)
