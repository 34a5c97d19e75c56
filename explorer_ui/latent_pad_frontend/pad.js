// Latent pad: one range input per latent dimension that reports values to Python WHILE they move.
//
// Python → here (`data`): the vector it decoded, the decoded image as a PNG data URL, one traversal strip per
// dimension, the display order with KL per dimension, a `generation` that changes when Python resets the vector,
// and `seq`, the sequence number of the pad message the image answers.
// Here → Python (state value "z"): {generation, seq, values, dragging}.
//
// Flow control: at most one message in flight; the next one leaves when the previous one's image has come back
// (or after WATCHDOG_MS) and at least `throttle_ms` after the previous send. A release (`change` event) with a new
// value is sent at once; a release whose value already went out sends a "drag over" message in turn (Python skips
// the traversal strips while dragging and redraws them then). Python never re-sends the vector the user is dragging: the pad keeps its own values and adopts
// Python's only on a new generation (reset, new start, new model) or a fresh mount.
//
// Local decoding: when Python sends `decoder_key` (and, once per model and tab, `decoder`: an MLP's layers as base64
// float32), the pad runs that MLP itself on every `input` event and paints the result at once; nothing goes to Python
// while dragging, the released value is sent as usual, and Python's answer (the same image, the strips) follows.
// The pad reports the decoder it holds in the state value "decoder", so Python sends the weights only once.
//
// For tests and benchmarks, window.__latentPad records every send {seq, tInput, tSent, release, dragEndOnly}, every
// frame received {seq, t, pythonMs} and every frame painted {seq, t, changed} (a frame decoded here: seq null, plus
// local, tInput and decodeMs) (performance.now() clock, shared with
// event.timeStamp); the image carries data-seq and data-painted-at.

const decoders = window.__latentPadDecoders || (window.__latentPadDecoders = new Map()); // model key → MLP
const WATCHDOG_MS = 400; // a message whose answer never came (script error, lost rerun) stops blocking after this
const LOG_MAX = 5000;

const log =
  window.__latentPad ||
  (window.__latentPad = {
    sent: [],
    received: [],
    painted: [],
    nextSeq: 1,
    lastSentSeq: 0,
    lastPaintedSeq: 0,
    clear() {
      this.sent.length = 0;
      this.received.length = 0;
      this.painted.length = 0;
    },
  });

function record(list, item) {
  list.push(item);
  if (list.length > LOG_MAX) list.splice(0, list.length - LOG_MAX);
}

function formatValue(v) {
  return (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(2);
}

function float32FromBase64(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer); // little-endian, as every browser's platform is
}

// {layers: [{rows, cols, weight, bias}], shape: [C, H, W]} → {layers: [{rows, cols, w, b}], shape}; throws if inconsistent.
function buildDecoder(spec) {
  const layers = spec.layers.map((l) => ({ rows: l.rows, cols: l.cols, w: float32FromBase64(l.weight), b: float32FromBase64(l.bias) }));
  const [c, h, w] = spec.shape;
  layers.forEach((l, i) => {
    if (l.w.length !== l.rows * l.cols || l.b.length !== l.rows) throw new Error(`layer ${i}: sizes do not match`);
    if (i > 0 && l.cols !== layers[i - 1].rows) throw new Error(`layer ${i}: input size does not match`);
  });
  if (!layers.length || layers[layers.length - 1].rows !== c * h * w) throw new Error("output size does not match the shape");
  return { layers, shape: [c, h, w] };
}

// z → pixels in [0, 1] (C·H·W, channel-major): Linear, SiLU, …, Linear, sigmoid — the model's decode().
function decodeLocal(net, values) {
  let input = Float64Array.from(values);
  const last = net.layers.length - 1;
  net.layers.forEach((layer, li) => {
    const { rows, cols, w, b } = layer;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let acc = b[r];
      const off = r * cols;
      for (let c = 0; c < cols; c++) acc += w[off + c] * input[c];
      out[r] = li < last ? acc / (1 + Math.exp(-acc)) : 1 / (1 + Math.exp(-acc));
    }
    input = out;
  });
  return input;
}

function paintLocal(pad, tInput) {
  const net = pad.local;
  if (!net) return;
  const started = performance.now();
  const x = decodeLocal(net, pad.values);
  const [c, h, w] = net.shape;
  const canvas = pad.canvas || (pad.canvas = document.createElement("canvas"));
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  const pixels = new Uint8Array(c * h * w); // the uint8 image, as Python's to_uint8 would give it (H, W[, 3])
  for (let i = 0; i < h * w; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = Math.round(Math.min(1, Math.max(0, x[(c === 1 ? 0 : ch) * h * w + i])) * 255);
      image.data[4 * i + ch] = v;
      if (ch < c) pixels[i * c + ch] = v;
    }
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  const ms = performance.now() - started;
  log.lastLocal = { values: pad.values.slice(), pixels: Array.from(pixels), shape: [h, w, c], ms };
  const norm = Math.sqrt(pad.values.reduce((a, v) => a + v * v, 0));
  pad.caption.textContent = `‖z‖ = ${norm.toFixed(2)} (a draw from N(0, I) has about ${Math.sqrt(pad.values.length).toFixed(1)}) · ` +
    `decoded in your browser in ${ms.toFixed(2)} ms`;
  paint(pad, canvas.toDataURL("image/png"), null, { tInput, decodeMs: ms });
}

function createPad(root) {
  const container = root.querySelector(".latent-pad");
  const pad = {
    root,
    container,
    img: container.querySelector(".lp-image"),
    caption: container.querySelector(".lp-caption"),
    rowsEl: container.querySelector(".lp-rows"),
    rows: new Map(), // dim → {input, output, stripImg, marker, row elements}
    layoutKey: null,
    generation: null,
    values: [],
    limit: 4,
    step: 0.05,
    throttleMs: 35,
    strip: null,
    lastSentDragging: false,
    imageSrc: null,
    paintToken: 0,
    inFlight: null, // {seq, tSent}
    pending: null, // {tFirstInput, tLastInput, dim}
    lastSentT: -Infinity,
    lastSentKey: null,
    lastSentSeq: 0,
    dragging: false,
    timer: null,
    setStateValue: null,
    local: null, // the decoder to run here, or null: Python decodes
    reportedDecoder: undefined, // what this pad last told Python it holds
    localFrame: 0, // requestAnimationFrame id of a local decode not yet done
  };

  pad.rowsEl.addEventListener("pointerdown", (e) => {
    if (e.target.classList && e.target.classList.contains("lp-range")) pad.dragging = true;
  });
  pad.onPointerUp = () => {
    pad.dragging = false; // also when the button comes up off the slider, or without changing the value
  };
  window.addEventListener("pointerup", pad.onPointerUp, true);
  pad.rowsEl.addEventListener("input", (e) => onInput(pad, e));
  pad.rowsEl.addEventListener("change", (e) => onRelease(pad, e));
  return pad;
}

function buildRows(pad, data) {
  const { order, labels, kl } = data;
  for (const r of pad.rows.values()) r.elements.forEach((el) => el.remove());
  pad.rows.clear();
  const maxKl = Math.max(1e-9, ...(kl || []).filter((x) => Number.isFinite(x)));
  for (const dim of order) {
    const label = document.createElement("label");
    label.className = "lp-label";
    label.htmlFor = `lp-dim-${dim}`;
    label.textContent = labels[dim];
    const klValue = kl ? kl[dim] : null;
    if (Number.isFinite(klValue)) {
      const klSpan = document.createElement("span");
      klSpan.className = "lp-kl";
      klSpan.textContent = `KL ${klValue.toFixed(2)}`;
      label.appendChild(klSpan);
    }
    const output = document.createElement("output");
    output.className = "lp-value";
    output.htmlFor = `lp-dim-${dim}`;
    const input = document.createElement("input");
    input.type = "range";
    input.className = "lp-range";
    input.id = `lp-dim-${dim}`;
    input.dataset.dim = String(dim);
    input.dataset.testid = `latentPadSlider-${dim}`;
    input.min = String(-pad.limit);
    input.max = String(pad.limit);
    input.step = String(pad.step);
    input.setAttribute(
      "aria-label",
      `${labels[dim]}${Number.isFinite(klValue) ? `, KL ${klValue.toFixed(2)} nats` : ""}`,
    );
    const strip = document.createElement("div");
    strip.className = "lp-strip";
    const stripImg = document.createElement("img");
    stripImg.alt = `${labels[dim]} set to −3 … +3`;
    const marker = document.createElement("span");
    marker.className = "lp-marker";
    strip.append(stripImg, marker);
    const elements = [label, output, input, strip];
    if (Number.isFinite(klValue) && klValue < 0.02 * maxKl) elements.forEach((el) => el.classList.add("lp-row-idle"));
    pad.rowsEl.append(...elements);
    pad.rows.set(dim, { input, output, stripImg, marker, strip, elements, stripSrc: null });
  }
}

function showValue(pad, dim) {
  const row = pad.rows.get(dim);
  if (!row) return;
  const v = pad.values[dim];
  row.output.textContent = formatValue(v);
  const s = pad.strip;
  if (s && s.values.length > 1 && row.stripSrc) {
    // centre of cell k sits at pad + k·(cell + pad) + cell/2 pixels of pad + n·(cell + pad) in all
    const lo = s.values[0];
    const spacing = (s.values[s.values.length - 1] - lo) / (s.values.length - 1);
    const k = (v - lo) / spacing;
    const total = s.pad + s.values.length * (s.cell + s.pad);
    const x = (s.pad + k * (s.cell + s.pad) + s.cell / 2) / total;
    row.marker.style.left = `${(100 * Math.min(1, Math.max(0, x))).toFixed(2)}%`;
    row.marker.hidden = false;
  } else {
    row.marker.hidden = true;
  }
}

function adoptValues(pad, values) {
  pad.values = values.slice();
  for (const [dim, row] of pad.rows) {
    row.input.value = String(pad.values[dim]);
    showValue(pad, dim);
  }
  pad.pending = null;
  pad.inFlight = null;
  pad.lastSentKey = pad.values.join(",");
  if (pad.timer) {
    clearTimeout(pad.timer);
    pad.timer = null;
  }
}

function onInput(pad, e) {
  const input = e.target;
  if (!input.classList || !input.classList.contains("lp-range")) return;
  const dim = Number(input.dataset.dim);
  pad.values[dim] = Number(input.value);
  showValue(pad, dim);
  if (pad.local) {
    // Decode here, at most once per animation frame; Python hears only the released value.
    const tInput = e.timeStamp;
    if (!pad.localFrame) {
      pad.localFrame = requestAnimationFrame(() => {
        pad.localFrame = 0;
        paintLocal(pad, tInput);
      });
    }
    return;
  }
  if (!pad.pending) pad.pending = { tFirstInput: e.timeStamp, tLastInput: e.timeStamp, dim };
  pad.pending.tLastInput = e.timeStamp;
  pad.pending.dim = dim;
  pad.pending.dragEnd = false;
  schedule(pad);
}

function onRelease(pad, e) {
  const input = e.target;
  if (!input.classList || !input.classList.contains("lp-range")) return;
  const dim = Number(input.dataset.dim);
  pad.values[dim] = Number(input.value);
  pad.dragging = false;
  showValue(pad, dim);
  if (pad.values.join(",") !== pad.lastSentKey || (pad.pending && !pad.pending.dragEnd)) {
    if (!pad.pending) pad.pending = { tFirstInput: e.timeStamp, tLastInput: e.timeStamp, dim };
    pad.pending.dragEnd = false;
    send(pad, true); // a new final value never waits for the throttle or the message in flight
  } else if (pad.lastSentDragging) {
    // The final value already went out during the drag, and Python skips the traversal strips while dragging:
    // say the drag is over so it redraws them. No hurry: this one waits its turn like a drag message.
    pad.pending = { tFirstInput: e.timeStamp, tLastInput: e.timeStamp, dim, dragEnd: true };
    schedule(pad);
  }
}

function schedule(pad) {
  if (!pad.pending || !pad.setStateValue) return;
  const now = performance.now();
  if (pad.inFlight) {
    const age = now - pad.inFlight.tSent;
    if (age < WATCHDOG_MS) {
      armTimer(pad, WATCHDOG_MS - age); // the answer re-runs schedule(); this timer only covers a lost answer
      return;
    }
  }
  const wait = pad.throttleMs - (now - pad.lastSentT);
  if (wait > 0) {
    armTimer(pad, wait);
    return;
  }
  send(pad, false);
}

function armTimer(pad, ms) {
  if (pad.timer) clearTimeout(pad.timer);
  pad.timer = setTimeout(() => {
    pad.timer = null;
    schedule(pad);
  }, Math.max(0, ms));
}

function send(pad, release) {
  if (!pad.setStateValue) return;
  const now = performance.now();
  const seq = log.nextSeq++;
  const values = pad.values.map((v) => Math.round(v * 1000) / 1000);
  const p = pad.pending || {};
  pad.setStateValue("z", { generation: pad.generation, seq, values, dragging: pad.dragging });
  record(log.sent, {
    seq,
    dim: p.dim ?? null,
    tInput: p.tLastInput ?? now,
    tFirstInput: p.tFirstInput ?? now,
    tSent: now,
    release: release || !!p.dragEnd,
    dragEndOnly: !!p.dragEnd, // same values as the previous message: no new image to wait for
  });
  log.lastSentSeq = seq;
  pad.inFlight = { seq, tSent: now };
  pad.lastSentT = now;
  pad.lastSentKey = pad.values.join(",");
  pad.lastSentSeq = seq;
  pad.lastSentDragging = pad.dragging;
  pad.pending = null;
  if (pad.timer) {
    clearTimeout(pad.timer);
    pad.timer = null;
  }
}

// seq null: a frame decoded here; `local` then says which input event it answers and how long the decode took.
function paint(pad, src, seq, local = null) {
  const token = ++pad.paintToken;
  const changed = src !== pad.imageSrc;
  const img = pad.img;
  const done = () => {
    if (token !== pad.paintToken) return; // a newer frame replaced this one before it reached the screen
    requestAnimationFrame(() => {
      const t = performance.now();
      record(log.painted, local ? { seq, t, changed, local: true, ...local } : { seq, t, changed });
      if (local) return;
      log.lastPaintedSeq = seq;
      img.dataset.seq = String(seq);
      img.dataset.paintedAt = t.toFixed(1);
    });
  };
  if (changed) {
    pad.imageSrc = src;
    img.src = src;
    img.decode().then(done, done);
  } else {
    done();
  }
}

function update(pad, data) {
  const t = performance.now();
  const seq = Number(data.seq) || 0;
  record(log.received, { seq, t, pythonMs: Number(data.python_ms) || 0 });
  pad.throttleMs = Number(data.throttle_ms) || pad.throttleMs;
  pad.strip = data.strip || null;
  if (data.image_px) pad.container.style.setProperty("--lp-image-size", `${data.image_px}px`);
  if (data.strip_px) pad.container.style.setProperty("--lp-strip-height", `${data.strip_px}px`);

  const layoutKey = JSON.stringify([data.order, data.labels, data.kl, data.limit, data.step]);
  if (layoutKey !== pad.layoutKey) {
    pad.limit = Number(data.limit) || pad.limit;
    pad.step = Number(data.step) || pad.step;
    buildRows(pad, data);
    pad.layoutKey = layoutKey;
    pad.generation = null; // rows are new: take Python's vector
  }
  if (data.generation !== pad.generation) {
    pad.generation = data.generation;
    adoptValues(pad, data.values || []);
  }

  const strips = data.strips || [];
  for (const [dim, row] of pad.rows) {
    const src = strips[dim] || null;
    if (src !== row.stripSrc) {
      row.stripSrc = src;
      if (src) row.stripImg.src = src;
      row.strip.hidden = !src;
    }
    showValue(pad, dim);
  }
  useDecoder(pad, data);
  const current = pad.values.length === (data.values || []).length &&
    pad.values.every((v, i) => Math.abs(v - data.values[i]) < 1e-3);
  if (pad.local && !current) {
    // A frame for a value the pad has already left (decoded here since): keep the newer local image.
    log.lastPaintedSeq = Math.max(log.lastPaintedSeq, seq);
  } else {
    pad.caption.textContent = data.caption || "";
    if (data.image) paint(pad, data.image, seq);
  }

  if (pad.inFlight && seq >= pad.inFlight.seq) {
    pad.inFlight = null;
    schedule(pad);
  }
}

// Take the decoder Python sent (once per model and tab) or the one already held, and tell Python what is held.
function useDecoder(pad, data) {
  const key = typeof data.decoder_key === "string" ? data.decoder_key : null;
  if (key && data.decoder) {
    try {
      decoders.set(key, buildDecoder(data.decoder));
    } catch (err) {
      console.warn("latent pad: decoding on the server, the decoder sent is unusable:", err);
    }
  }
  pad.local = key ? decoders.get(key) || null : null;
  const held = pad.local ? key : key ? "" : pad.reportedDecoder; // "": please send it (again)
  if (held !== pad.reportedDecoder && pad.setStateValue && held !== undefined) {
    pad.reportedDecoder = held;
    pad.setStateValue("decoder", held);
  }
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let pad = parentElement.__latentPadState;
  if (!pad) {
    pad = createPad(parentElement);
    parentElement.__latentPadState = pad;
  }
  pad.setStateValue = setStateValue;
  update(pad, data || {});
  return () => {
    // Streamlit also calls this for a superseded render; only a pad that left the page lets go of its timer.
    const host = parentElement.host || parentElement;
    if (host.isConnected) return;
    if (pad.timer) clearTimeout(pad.timer);
    pad.timer = null;
    if (pad.localFrame) cancelAnimationFrame(pad.localFrame);
    pad.localFrame = 0;
    window.removeEventListener("pointerup", pad.onPointerUp, true);
  };
}
