"""Small render helpers shared by the pages: crisp pictures, the teaching panel, the model/dataset guard."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import streamlit as st

from vae_core.images import fit_scale, image_grid, png_bytes, upscale

from .figures import class_name
from .registry import page_file
from .state import ActiveDataset, ActiveModel, active_dataset, active_model, shapes_match

# Every page carries this style (the sidebar injects it).
# 1. Pictures scale with nearest neighbour too (crisp when a column is narrower).
# 2. The header is not quite opaque. In a GPU-less Chromium (headless, or a blocklisted GPU: WebGL runs on
#    SwiftShader) the compositor culls a WebGL canvas that lies under an opaque fixed layer with a wrong rectangle:
#    under Streamlit's fixed 60 px header a WebGL map (over figures.SVG_MAX_POINTS points, on the map, Interpolate
#    or Geometry) lost its bottom 60 px plus twice as many rows as had scrolled above the window, so a map
#    scrolled ~300 px into its lower part showed no dot at all. A 2-D canvas, SVG, or the same canvas without a
#    fixed header over it draws fine; a header that is not quite opaque is not used to cull what lies under it,
#    and at 0.999 it looks the same.
PAGE_CSS = """<style>
[data-testid="stImage"] img, [data-testid="stFullScreenFrame"] img { image-rendering: pixelated; }
[data-testid="stHeader"] { opacity: 0.999; }
</style>"""


def page_style() -> None:
    """The app's page-wide style (PAGE_CSS): crisp pictures, and WebGL maps that keep their dots when scrolled."""
    st.html(PAGE_CSS)


def grid_columns(count: int, max_columns: int = 8) -> int:
    """Columns for a near-square grid of `count` pictures (at most max_columns)."""
    return max(1, min(max_columns, math.ceil(math.sqrt(max(1, count)))))


def teaching_panel(text: str, *formulas: str) -> None:
    """A bordered box with a few sentences and the formula(s) the page illustrates (LaTeX)."""
    with st.container(border=True):
        st.markdown(text)
        for formula in formulas:
            st.latex(formula)


def crisp(image: np.ndarray, target: int = 112) -> np.ndarray:
    """Nearest-neighbour upscale of one uint8 image so its shorter side is about `target` pixels."""
    return upscale(np.asarray(image, dtype=np.uint8), fit_scale(min(image.shape[:2]), target))


def show_image(image: np.ndarray, caption: str | None = None, target: int = 112) -> None:
    """One uint8 image, upscaled with nearest neighbour and sent as PNG (never a blurred JPEG)."""
    st.image(crisp(image, target), caption=caption, output_format="PNG")


def show_gallery(
    images: np.ndarray | Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    target: int = 84,
    ncols: int = 8,
) -> None:
    """Images in rows of `ncols` columns, each upscaled crisply, drawn at its own pixel width, as PNG."""
    count = len(images)
    for row in range(0, count, ncols):
        columns = st.columns(ncols, gap="small")
        for column, i in zip(columns, range(row, min(count, row + ncols))):
            picture = crisp(images[i], target)
            column.image(
                picture,
                caption=captions[i] if captions is not None else None,
                width="content",
                output_format="PNG",
            )  # natural size, never wider than its column


def grid_picture(images: np.ndarray, ncols: int, cell: int = 56) -> np.ndarray:
    """Tile uint8 images into one grid with 1-pixel white gaps, then upscale the whole grid crisply."""
    grid = image_grid(np.asarray(images, dtype=np.uint8), ncols)
    return upscale(grid, fit_scale(images.shape[1], cell))


def show_grid(images: np.ndarray, ncols: int, caption: str | None = None, cell: int = 56) -> np.ndarray:
    """Show a crisp grid picture (see grid_picture) and return it (e.g. for a download)."""
    picture = grid_picture(images, ncols, cell)
    st.image(picture, caption=caption, output_format="PNG")
    return picture


def png_download(label: str, picture: np.ndarray, file_name: str, key: str) -> None:
    """A download button for one uint8 picture as PNG."""
    st.download_button(
        label,
        png_bytes(picture),
        file_name=file_name,
        mime="image/png",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def shape_text(shape: Sequence[int]) -> str:
    """(1, 28, 28) → '1×28×28'."""
    return "×".join(str(v) for v in shape)


def label_text(dataset: ActiveDataset, index: int) -> str:
    """The class name of one image (or '–' for an unlabelled dataset)."""
    data = dataset.data
    if data.labels is None:
        return "–"
    return class_name(data.class_names, data.labels[index])


def mismatch_notice(model: ActiveModel, dataset: ActiveDataset, key: str) -> None:
    """Say that the dataset does not fit the model, and offer the Train page (which trains on the active dataset)."""
    st.warning(
        f"**{model.label}** expects {shape_text(model.config.input_shape)} images, but "
        f"**{dataset.display_name}** has {shape_text(dataset.data.image_shape)}. Pick a matching model or "
        "dataset in the sidebar, or train a model on this dataset.",
        icon=":material/straighten:",
    )
    if st.button("Train a model on this dataset", key=key, icon=":material/model_training:"):
        st.switch_page(page_file("train"))


def require_matching_pair(key: str = "page_mismatch_train") -> tuple[ActiveModel, ActiveDataset]:
    """The active model and dataset; when their image shapes differ, explain and stop the page here."""
    model, dataset = active_model(), active_dataset()
    if not shapes_match(model, dataset):
        mismatch_notice(model, dataset, key)
        st.stop()
    return model, dataset
