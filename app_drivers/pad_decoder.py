"""pad.js's decoder core in a bare Chromium page, without the app: load the module, hand it a decoder spec,
decode slider values, read the pixels back. Used by tests/browser/test_pad_decoder.py and
benchmarks/bench_browser.py.
"""

from __future__ import annotations

import json

from app_drivers.browser import REPO

PAD_JS = REPO / "explorer_ui" / "latent_pad_frontend" / "pad.js"

# Imports pad.js from a blob URL into window.__pad (an ES module; its default export, the component, is not
# called).
LOAD_MODULE = """
async (source) => {
  const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
  window.__pad = await import(url);
  return Object.keys(window.__pad.LAYERS);
}
"""

# Builds the decoder from a spec (JSON text), decodes each vector of slider values (after `warmup` untimed
# decodes), returns the uint8 pixels and the decode times.
DECODE = """
([specText, axes, vectors, warmup]) => {
  const net = window.__pad.buildDecoder(JSON.parse(specText));
  for (let i = 0; i < warmup; i++) window.__pad.decodeValues(net, axes, vectors[i % vectors.length]);
  return vectors.map((v) => {
    const r = window.__pad.decodeValues(net, axes, v);
    return {pixels: Array.from(r.pixels), ms: r.ms};
  });
}
"""


def load_pad_module(page) -> list[str]:
    """Load pad.js into a blank page; returns the layer kinds its LAYERS table reads."""
    page.goto("about:blank")
    return page.evaluate(LOAD_MODULE, PAD_JS.read_text(encoding="utf-8"))


def browser_decode(
    page, spec: dict, vectors: list[list[float]], axes: dict | None = None, warmup: int = 0
) -> list[dict]:
    """Decode each vector in the page with pad.js's decoder: [{pixels: flat uint8 (H, W[, C]), ms}]."""
    return page.evaluate(DECODE, [json.dumps(spec), axes, vectors, warmup])
