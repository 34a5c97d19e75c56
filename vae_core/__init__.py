"""vae_core: Latent Explorer's VAE library (models, data, training, checkpoints, latent operations, CLI).

It never imports streamlit or plotly; the app and the CLI both call these functions.
"""

from pathlib import Path

__version__ = "0.1.0"

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_MODEL_PATH = ASSETS_DIR / "models" / "digits_default.safetensors"
DEFAULT_DATASET_SPEC = "digits"
