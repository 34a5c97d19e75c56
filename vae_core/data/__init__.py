"""Dataset loading: every source becomes (N, C, H, W) float32 images in [0, 1] with optional labels.

By concern: `specs` parses spec strings and confines paths; one reader per format (`builtin` for digits and
the MNIST family, `idx`, `npz`, `images` for folders and zips); `convert` turns raw arrays into the final
images chunk by chunk; every cap comes from the one table in vae_core.limits. Files are untrusted: nothing
is unpickled, every cost is accounted from headers before it is spent, and every refusal is a DatasetError
whose message says what is wrong and what to do.
"""

from ..errors import DatasetError
from ..limits import DEFAULT_LIMITS, UPLOAD_LIMITS, DataLimits
from .dataset import ImageDataset, default_cache_dir, make_dataset, split_indices
from .specs import DATASET_SPECS_HELP, PATH_LOADERS, load_dataset, load_uploaded, spec_root_from_env

__all__ = [
    "DATASET_SPECS_HELP",
    "DEFAULT_LIMITS",
    "PATH_LOADERS",
    "UPLOAD_LIMITS",
    "DataLimits",
    "DatasetError",
    "ImageDataset",
    "default_cache_dir",
    "load_dataset",
    "load_uploaded",
    "make_dataset",
    "spec_root_from_env",
    "split_indices",
]
