"""explorer_ui: the Streamlit side of Latent Explorer (state, sidebar, figures, widgets, the page registry).

Importing it keeps a page opened by URL on a fresh server behind the router (see registry.ensure_router).
"""

from .registry import ensure_router

ensure_router()
