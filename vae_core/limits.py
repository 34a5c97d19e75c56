"""The one table of caps: what any input (dataset, archive, checkpoint, config) may cost, and its budget.

Design rule for every loading module (vae_core.data.*, vae_core.safe_archive, vae_core.checkpoint):
**account before you spend.** An input's cost (bytes read, bytes allocated, decoded pixels, parameters,
CPU-seconds) is computed from its headers and metadata and checked against these caps *before* the work;
reads go in bounded chunks, and nothing is materialised larger than the final float32 result. A refusal is
the library's own error (vae_core.errors) with a message saying what to do.

A new format adds its rows here (and to README's table, which tests/test_limits.py compares with this module).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from .errors import DatasetError

KIB, MIB, GIB = 2**10, 2**20, 2**30

# ---------------------------------------------------------------- models (config.py, checkpoint.py)

MIN_SIDE, MAX_SIDE = 8, 64  # image sides a model is built for
MAX_LATENT_DIM = 512
MAX_HIDDEN = 4096  # one fully connected width
MAX_HIDDEN_LAYERS = 6
MAX_CHANNELS = 512  # one conv stage's width
MAX_CONV_STAGES = 4
MAX_PARAMETERS = (
    25_000_000  # weights in one model (100 MB as float32); counted from the config before building
)
MAX_CHECKPOINT_BYTES = 200 * 1024 * 1024  # one .safetensors file (200 MB)
MAX_HEADER_BYTES = 1024 * 1024  # its JSON header
MAX_SUMMARY_TEXT = 10_000  # characters in one training-summary string

# ---------------------------------------------------------------- precomputed latents (latents_file.py)

# One .npz written by `python -m vae_core encode`/`project`: μ and log σ² (140,000 × 512 × 2 float32 is 547 MiB),
# maps and scores. Read whole (it becomes the app's arrays), so this is also what it may allocate.
LATENTS_MAX_BYTES = 640 * MIB  # unpacked members of one file
LATENTS_MAX_MEMBERS = 16

# ---------------------------------------------------------------- dataset specs

SPEC_ROOT_ENV = "LATENT_EXPLORER_SPEC_ROOT"  # typed idx:/npz:/images: paths must resolve inside this folder
DATA_CACHE_ENV = "LATENT_EXPLORER_DATA"  # where MNIST-family downloads live


@dataclass(frozen=True)
class DataLimits:
    """Caps that keep an oversized or hostile dataset source from exhausting memory or time."""

    max_images: int = 140_000  # two MNISTs; more is refused
    max_side: int = MAX_SIDE  # larger images are downscaled to fit (aspect kept), with a note
    min_side: int = MIN_SIDE  # smaller sides are refused (the models need 8 pixels a side)
    max_source_side: int = (
        2048  # larger images are refused before decoding (one 2048² RGB image is 48 MiB as float32)
    )
    max_upload_bytes: int = 200 * MIB  # one .npz/.zip handed to load_uploaded
    max_zip_members: int = 200_000  # entries in one zip; also files scanned in an images: folder
    max_uncompressed_bytes: int = (
        GIB  # bytes read (streamed) out of one zip, npz, IDX folder or images: folder
    )
    max_file_bytes: int = 64 * MIB  # one image file, or one labels/class_names array
    max_decoded_pixels: int = (
        2**28
    )  # source pixels decoded across the whole input (268 million), from headers
    max_classes: int = 1_000  # distinct labels / class folders / class names
    max_class_name_chars: int = 200  # one class name
    max_factors: int = 64  # columns of a 'factors' array (known generative factors per image)
    max_array_bytes: int = 512 * MIB  # the float32 image array handed back
    max_decode_seconds: float = 60.0  # wall-clock time to decode one input; over it the load stops
    chunk_bytes: int = 32 * MIB  # float32 temporaries per conversion step (source chunks are smaller)


DEFAULT_LIMITS = DataLimits()
# An upload is small on the wire (Streamlit: 50 MB) but may unpack big: it may become less than a typed spec.
UPLOAD_LIMITS = replace(
    DEFAULT_LIMITS,
    max_images=70_000,
    max_array_bytes=256 * MIB,
    max_uncompressed_bytes=512 * MIB,
    max_decode_seconds=30.0,
)


# The app solves a geodesic on at most APP_GEODESIC_POINTS points with APP_GEODESIC_EVALUATIONS evaluations
# and resamples it to more frames (`vae_core.geometry.resample_path`): a page run must stay cheap when a class
# shares one server. Over 20 random pairs, each path resampled to 48 points and measured in the geodesic's
# metric (1 thread): shipped digits MLP, 16 points × 60 evaluations: median length 0.980 of the straight line's
# in 180 ms; 12 × 40: 0.981 in 76 ms. Shapes β = 1 MLP: 0.971 in 185 ms against 0.967 in 90 ms. The CLI and
# the benches keep the full solve.
APP_GEODESIC_POINTS = 12
APP_GEODESIC_EVALUATIONS = 40


def size_text(n_bytes: int) -> str:
    """A byte count for messages: '900 bytes', '12.5 MiB', '2.0 GiB'."""
    if n_bytes < MIB:
        return f"{n_bytes:,} bytes"
    return f"{n_bytes / MIB:.1f} MiB" if n_bytes < GIB else f"{n_bytes / GIB:.1f} GiB"


@dataclass
class Budget:
    """What one load may still spend: decoded pixels and wall-clock seconds, shared by all its files."""

    source: str  # named in messages
    limits: DataLimits = DEFAULT_LIMITS
    pixels_left: int = field(init=False)
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.pixels_left = self.limits.max_decoded_pixels
        self.deadline = time.monotonic() + self.limits.max_decode_seconds

    def spend_pixels(self, count: int) -> None:
        """Account for `count` source pixels about to be decoded; refuse when the load would pass its cap."""
        self.pixels_left -= count
        if self.pixels_left < 0:
            raise DatasetError(
                f"{self.source}: the images hold more than {self.limits.max_decoded_pixels:,} pixels in all "
                f"before downscaling. Shrink them (to {self.limits.max_side} pixels a side) or use fewer."
            )

    def check_time(self) -> None:
        """Refuse once decoding has run past its time budget."""
        if time.monotonic() > self.deadline:
            raise DatasetError(
                f"{self.source}: decoding took longer than {self.limits.max_decode_seconds:g} s, the limit "
                f"for one dataset. Shrink the images (to {self.limits.max_side} pixels a side) or use fewer, "
                "then load again."
            )


def _mb(n_bytes: int) -> str:
    """Bytes as README writes them: '512 MiB', '1 GiB', else an exact count."""
    if n_bytes % GIB == 0:
        return f"{n_bytes // GIB} GiB"
    if n_bytes % MIB == 0:
        return f"{n_bytes // MIB} MiB"
    return f"{n_bytes:,} bytes"


def readme_rows() -> list[str]:
    """README's "What the defaults cap" rows that this module sets (tests/test_limits.py compares them)."""
    d, u = DEFAULT_LIMITS, UPLOAD_LIMITS
    checkpoints = (
        "`.safetensors` with Latent Explorer metadata only; pickles and `torch.save` files are refused, "
        f"never unpickled; ≤ {_mb(MAX_CHECKPOINT_BYTES)}; header ≤ {_mb(MAX_HEADER_BYTES)}; float32 only; "
        f"≤ {MAX_PARAMETERS:,} parameters, counted from the config on the `meta` device before any model is "
        "built; config values type-checked (no strings for numbers, no booleans for integers); "
        f"latent size ≤ {MAX_LATENT_DIM}, widths ≤ {MAX_HIDDEN:,} (≤ {MAX_HIDDEN_LAYERS} layers), "
        f"conv widths ≤ {MAX_CHANNELS} (≤ {MAX_CONV_STAGES} stages), images {MIN_SIDE}–{MAX_SIDE} px; "
        "tensor names, shapes and bytes must match the config exactly; NaN/Inf weights refused"
    )
    datasets = (
        f"≤ {d.max_images:,} images; sides {d.min_side}–{d.max_source_side:,} px, larger than {d.max_side} "
        f"downscaled with a note; ≤ {d.max_decoded_pixels:,} source pixels in all and "
        f"≤ {d.max_decode_seconds:g} s of decoding per load; ≤ {_mb(d.max_uncompressed_bytes)} read per "
        f"archive or folder, ≤ {_mb(d.max_file_bytes)} per image file; ≤ {d.max_zip_members:,} entries per "
        f"archive or folder; ≤ {d.max_classes:,} classes, names ≤ {d.max_class_name_chars} characters; "
        f"≤ {_mb(d.max_array_bytes)} as float32; read in chunks of ≤ {_mb(d.chunk_bytes)}"
    )
    uploads = (
        f"as above, but ≤ {u.max_images:,} images, ≤ {_mb(u.max_array_bytes)} as float32, "
        f"≤ {_mb(u.max_uncompressed_bytes)} unpacked, ≤ {u.max_decode_seconds:g} s of decoding; no `..` or "
        "absolute member names, no encryption, only stored/deflate; object (pickled) arrays refused; labels "
        "kept exactly or refused"
    )
    paths = (
        f"with `{SPEC_ROOT_ENV}` set: only inside that folder, links followed, relative paths start there; "
        "every file read inside an `images:` or `idx:` folder is resolved and kept inside it too, and must "
        "be a regular file (no pipes or devices)"
    )
    latents = (
        f"`.npz` of plain arrays only (never unpickled), ≤ {LATENTS_MAX_MEMBERS} members, "
        f"≤ {_mb(LATENTS_MAX_BYTES)} unpacked; ≤ {d.max_images:,} codes of ≤ {MAX_LATENT_DIM} dimensions, float, "
        "finite; used only with the model and dataset whose fingerprints it carries"
    )
    return [
        f"| checkpoints | {checkpoints} | `vae_core.checkpoint`, `vae_core.limits` |",
        f"| datasets (`idx:`, `npz:`, `images:` specs) | {datasets} | `vae_core.limits` |",
        f"| uploaded datasets (`.npz`, `.zip` of PNG/JPEG) | {uploads} | `vae_core.limits.UPLOAD_LIMITS` |",
        f"| precomputed latents (`python -m vae_core encode`) | {latents} "
        "| `vae_core.latents_file`, `vae_core.limits` |",
        f'| paths typed in the "Dataset spec" box | {paths} | `vae_core.data.load_dataset(spec_root=…)` |',
    ]
