// Latent pad: one range input per latent direction (a coordinate, or any basis vector) that reports values to
// Python WHILE they move. The protocol (what `data` holds, the state values sent back, the decoder's layer list and
// the axes z = origin + Σ vᵢ·basisᵢ) is documented once, in protocol.py beside this file.
//
// Flow control: at most one message in flight; the next one leaves when the previous one's image has come back
// (or after WATCHDOG_MS) and at least `throttle_ms` after the previous send. A release (`change` event) with a new
// value is sent at once; a release whose value already went out sends a "drag over" message in turn (Python skips
// the traversal strips while dragging and redraws them then). A frame for a newly released value comes back with
// the old strips and `strips_stale` (the image first, one decode); the pad then asks for the strips the same way. Python never re-sends the values the user is
// dragging: the pad keeps its own values and adopts Python's only on a new generation (reset, new start, new model)
// or a fresh mount.
//
// Local decoding: when Python sends `decoder_key` (and, once per model and tab, `decoder`: the layer list), the pad
// runs the decoder itself (LAYERS below) on every `input` event and paints the result at once; nothing goes to
// Python while dragging, the released value is sent as usual, and Python's answer (the same image, the strips)
// follows. The pad reports the decoder it holds in the state value "decoder", so Python sends the weights only once.
// The caption and the image's data-path ("browser" | "server") say which path drew the frame shown.
//
// For tests and benchmarks, window.__latentPad records every send {seq, tInput, tSent, release, dragEndOnly}, every
// frame received {seq, t, pythonMs} and every frame painted {seq, t, changed} (a frame decoded here: seq null, plus
// local, tInput and decodeMs) (performance.now() clock, shared with event.timeStamp); the image carries data-seq
// and data-painted-at. The decoder core (buildDecoder, decodeValues, LAYERS) is exported for the browser tests.

const decoders = window.__latentPadDecoders || (window.__latentPadDecoders = new Map()); // model key → decoder
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

// ---------------------------------------------------------------- the browser decoder
// Reads the layer list of explorer_ui/latent_pad_frontend/protocol.py (decoder_spec): one reader per kind in
// LAYERS, each `build(layer, shape)` → {shape: output shape, run(input) → output}. Every step owns its output
// buffer (Float32Array, allocated once), so a frame allocates nothing and a residual body can read its input.
// Plain typed-array loops (no WebGL, no WebAssembly; WebGL was not measured): headless Chromium on a 2-core box
// has no GPU, so WebGL would run on SwiftShader on the same CPU, plus a synchronous readPixels per frame, and
// WebAssembly needs a toolchain the project does not have. The decoders the app trains are a few million
// multiply-adds (the MNIST default conv: 4.1 M), decoded on the main thread in a requestAnimationFrame callback,
// so every ms here is a ms the page cannot take input events (issue 12: ~28 input events/s while dragging).
//
// What was measured (benchmarks/bench_pad_decoder.py: Node 20, old and new pad.js interleaved in one process;
// and the same in a blank headless-Chromium page; a 2-core box under other load, so ratios, not final figures):
// the MNIST default conv decoder went from 9.7 to 4.8 ms in Node (2.0×; shipped MLP 0.36 → 0.26 ms) and from
// 7.3 to 4.1 ms in Chromium (1.8×), within 3e-7 of the old float64 outputs (every family: 0 grey levels apart).
// Per layer (Node, fastest of 200): linear 256→3136 0.80 → 0.67 ms, the two transposed convs 0.97 / 1.09 ms
// (direct, waste-free gather) → 0.73 / 0.60 ms (Winograd), the last conv 0.19 → 0.14 ms, SiLU ~0.2 ms in all.
//  - Winograd F(2×2, 2×2) for ConvTranspose2d(k=4, s=2, p=1), the decoders' only upsampling step: each of its
//    four output phases is a 2×2 correlation, done with 9 multiplications per output tile and channel pair
//    instead of 16 (the 7×7-input one wastes its half tiles, so it gains less). Other convolutions: a gather
//    over precomputed (tap, input pixel) lists in blocks of 4 output channels × 2 pixels that share their taps.
//  - float32 activations and weights (as PyTorch computes; V8 computes in doubles): half the memory traffic;
//    z enters as float32 too, so every layer sees one array type and V8 keeps the loops monomorphic (with four
//    rows × two columns per step, the 3136-row linear went 0.80 → 0.67 ms). The conv scratch buffers (the
//    re-laid-out input, the gather's weights) stay float64: measured up to 10 % faster there.
//  - SiLU and the sigmoid as their own loops: one shared loop calling a passed-in function was 2× slower.
//  - Tried, no gain: the four channels' weights interleaved, float64 linear weights, a polynomial exp
//    (as fast as V8's Math.exp), eight rows per linear step (within noise of four rows × two columns).
//  - Not done: decoding in a Web Worker (would free the main thread entirely; the paint path, the test hooks
//    and the fallback would change with it).

function expect(ok, message) {
  if (!ok) throw new Error(message);
}

function weights(text, length, what) {
  const w = float32FromBase64(text);
  expect(w.length === length, `${what}: ${w.length} weights, expected ${length}`);
  return w;
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

function convGeometry(l, shape) {
  expect(shape.length === 3 && shape[0] === l.in, `${l.kind}: input ${shape} does not have ${l.in} channels`);
  const [kh, kw] = l.kernel;
  const [sh, sw] = l.stride;
  const [ph, pw] = l.padding;
  return { c: shape[0], h: shape[1], w: shape[2], kh, kw, sh, sw, ph, pw };
}

// SiLU and the sigmoid as their own loops: one shared loop calling a passed-in function was measured 2× slower
// (V8 cannot inline a call that sees both functions).
function elementwise(runner) {
  return {
    build(l, shape) {
      const out = new Float32Array(size(shape));
      return { shape, run: (x) => runner(x, out) };
    },
  };
}

function siluInto(x, out) {
  for (let i = 0; i < out.length; i++) {
    const v = x[i];
    out[i] = v / (1 + Math.exp(-v));
  }
  return out;
}

function sigmoidInto(x, out) {
  for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  return out;
}

// Both convolutions as one gather: each output pixel sums, over the kernel taps that reach it, a (out × in)
// weight block times the input pixel's channels. Which (tap, input pixel) pairs reach each output pixel is worked
// out once here, so the frame loop has no bounds tests and no wasted taps (a stride-2 transposed conv reaches
// each output pixel with only a quarter of its taps). Weights are re-laid out as (tap, out, in) and the input is
// made channel-last, so the inner loop runs over contiguous input channels. Output pixels that the same taps
// reach (the same phase of a transposed conv, the interior of a conv) are taken up to four at a time, and the
// loop computes a block of four output channels × two pixels (eight sums in registers, six loads per eight
// multiply-adds) or, for the last channels (an image's 1 or 3), one channel × up to four pixels.
function gatherConv(l, g, oh, ow, weightAt, source) {
  const { c: cin, h, w: iw, kh, kw, sh, sw, ph, pw } = g;
  const cout = l.out;
  const b = weights(l.bias, cout, `${l.kind} bias`);
  const ntaps = kh * kw;
  const wt = new Float64Array(ntaps * cout * cin);
  for (let t = 0; t < ntaps; t++) {
    for (let oc = 0; oc < cout; oc++) {
      for (let ic = 0; ic < cin; ic++) wt[(t * cout + oc) * cin + ic] = weightAt(ic, oc, t);
    }
  }
  // per output pixel: the taps that reach it (weight block offset) and the input pixel each reads (offset)
  const reach = [];
  const phases = [];
  for (let py = 0; py < Math.min(sh, oh); py++) {
    for (let px = 0; px < Math.min(sw, ow); px++) phases.push([py, px]);
  }
  for (const [py, px] of phases) {
    // a transposed conv's output pixels of one phase (oy mod sh, ox mod sw) share their taps; walk them in rows
    for (let oy = py; oy < oh; oy += sh) {
      for (let ox = px; ox < ow; ox += sw) {
        const taps = [];
        const inputs = [];
        for (let ky = 0; ky < kh; ky++) {
          const iy = source(oy, ky, sh, ph);
          if (iy < 0 || iy >= h || !Number.isInteger(iy)) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = source(ox, kx, sw, pw);
            if (ix < 0 || ix >= iw || !Number.isInteger(ix)) continue;
            taps.push((ky * kw + kx) * cout * cin);
            inputs.push((iy * iw + ix) * cin);
          }
        }
        reach.push({ pix: oy * ow + ox, taps, inputs, key: taps.join(",") });
      }
    }
  }
  // groups of up to four consecutive pixels with the same taps: [pixel count, tap count, pixels…, then per tap
  // the weight offset and each pixel's input offset]
  const plan = [];
  for (let i = 0; i < reach.length; ) {
    let n = 1;
    while (n < 4 && i + n < reach.length && reach[i + n].key === reach[i].key) n++;
    const group = reach.slice(i, i + n);
    plan.push(n, group[0].taps.length, ...group.map((r) => r.pix));
    group[0].taps.forEach((tap, q) => plan.push(tap, ...group.map((r) => r.inputs[q])));
    i += n;
  }
  const steps = Int32Array.from(plan);
  const xt = new Float64Array(h * iw * cin); // the input, channel-last
  const out = new Float32Array(cout * oh * ow);
  const plane = oh * ow;
  const cout4 = cout - (cout % 4);
  return {
    shape: [cout, oh, ow],
    run(x) {
      const hw = h * iw;
      for (let ic = 0; ic < cin; ic++) {
        for (let p = 0, o = ic; p < hw; p++, o += cin) xt[o] = x[ic * hw + p];
      }
      for (let s = 0; s < steps.length; ) {
        const n = steps[s];
        const ntap = steps[s + 1];
        const pix = s + 2; // the group's pixels
        const first = pix + n; // its taps: [weight offset, n input offsets] each
        const stride = n + 1;
        for (let oc = 0; oc < cout4; oc += 4) {
          // four channels × pixel pairs (and a last single pixel)
          for (let j = 0; j < n; j += 2) {
            const pair = j + 1 < n;
            let a0 = b[oc];
            let a1 = b[oc + 1];
            let a2 = b[oc + 2];
            let a3 = b[oc + 3];
            let c0 = a0;
            let c1 = a1;
            let c2 = a2;
            let c3 = a3;
            for (let q = 0, t = first; q < ntap; q++, t += stride) {
              const w0 = steps[t] + oc * cin;
              const w1 = w0 + cin;
              const w2 = w1 + cin;
              const w3 = w2 + cin;
              const xa = steps[t + 1 + j];
              if (pair) {
                const xb = steps[t + 2 + j];
                for (let ic = 0; ic < cin; ic++) {
                  const u = xt[xa + ic];
                  const v = xt[xb + ic];
                  const k0 = wt[w0 + ic];
                  const k1 = wt[w1 + ic];
                  const k2 = wt[w2 + ic];
                  const k3 = wt[w3 + ic];
                  a0 += k0 * u;
                  c0 += k0 * v;
                  a1 += k1 * u;
                  c1 += k1 * v;
                  a2 += k2 * u;
                  c2 += k2 * v;
                  a3 += k3 * u;
                  c3 += k3 * v;
                }
              } else {
                for (let ic = 0; ic < cin; ic++) {
                  const u = xt[xa + ic];
                  a0 += wt[w0 + ic] * u;
                  a1 += wt[w1 + ic] * u;
                  a2 += wt[w2 + ic] * u;
                  a3 += wt[w3 + ic] * u;
                }
              }
            }
            const pa = steps[pix + j] + oc * plane;
            out[pa] = a0;
            out[pa + plane] = a1;
            out[pa + 2 * plane] = a2;
            out[pa + 3 * plane] = a3;
            if (pair) {
              const pb = steps[pix + j + 1] + oc * plane;
              out[pb] = c0;
              out[pb + plane] = c1;
              out[pb + 2 * plane] = c2;
              out[pb + 3 * plane] = c3;
            }
          }
        }
        for (let oc = cout4; oc < cout; oc++) {
          // the last channels: one channel × the group's pixels (up to four)
          let a0 = b[oc];
          let a1 = a0;
          let a2 = a0;
          let a3 = a0;
          for (let q = 0, t = first; q < ntap; q++, t += stride) {
            const w0 = steps[t] + oc * cin;
            const x0 = steps[t + 1];
            if (n === 4) {
              const x1 = steps[t + 2];
              const x2 = steps[t + 3];
              const x3 = steps[t + 4];
              for (let ic = 0; ic < cin; ic++) {
                const k = wt[w0 + ic];
                a0 += k * xt[x0 + ic];
                a1 += k * xt[x1 + ic];
                a2 += k * xt[x2 + ic];
                a3 += k * xt[x3 + ic];
              }
            } else {
              for (let j = 0; j < n; j++) {
                const xj = steps[t + 1 + j];
                let sum = 0;
                for (let ic = 0; ic < cin; ic++) sum += wt[w0 + ic] * xt[xj + ic];
                if (j === 0) a0 += sum;
                else if (j === 1) a1 += sum;
                else a2 += sum;
              }
            }
          }
          const base = oc * plane;
          out[base + steps[pix]] = a0;
          if (n > 1) out[base + steps[pix + 1]] = a1;
          if (n > 2) out[base + steps[pix + 2]] = a2;
          if (n > 3) out[base + steps[pix + 3]] = a3;
        }
        s = first + ntap * stride;
      }
      return out;
    },
  };
}

// M[oc·T + t] = Σₖ U[oc·K + k] · V[t·K + k] (all at the given offsets): four rows × two columns at a time.
function gemm(M, mo, U, uo, V, vo, rows, T, K) {
  const rows4 = rows - (rows % 4);
  for (let r = 0; r < rows4; r += 4) {
    const u0 = uo + r * K;
    const u1 = u0 + K;
    const u2 = u1 + K;
    const u3 = u2 + K;
    let t = 0;
    for (; t + 1 < T; t += 2) {
      const va = vo + t * K;
      const vb = va + K;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (let k = 0; k < K; k++) {
        const x = V[va + k];
        const y = V[vb + k];
        const k0 = U[u0 + k];
        const k1 = U[u1 + k];
        const k2 = U[u2 + k];
        const k3 = U[u3 + k];
        a0 += k0 * x;
        c0 += k0 * y;
        a1 += k1 * x;
        c1 += k1 * y;
        a2 += k2 * x;
        c2 += k2 * y;
        a3 += k3 * x;
        c3 += k3 * y;
      }
      const m = mo + r * T + t;
      M[m] = a0;
      M[m + 1] = c0;
      M[m + T] = a1;
      M[m + T + 1] = c1;
      M[m + 2 * T] = a2;
      M[m + 2 * T + 1] = c2;
      M[m + 3 * T] = a3;
      M[m + 3 * T + 1] = c3;
    }
    if (t < T) {
      const va = vo + t * K;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < K; k++) {
        const x = V[va + k];
        a0 += U[u0 + k] * x;
        a1 += U[u1 + k] * x;
        a2 += U[u2 + k] * x;
        a3 += U[u3 + k] * x;
      }
      const m = mo + r * T + t;
      M[m] = a0;
      M[m + T] = a1;
      M[m + 2 * T] = a2;
      M[m + 3 * T] = a3;
    }
  }
  for (let r = rows4; r < rows; r++) {
    const u0 = uo + r * K;
    for (let t = 0; t < T; t++) {
      const va = vo + t * K;
      let a0 = 0;
      for (let k = 0; k < K; k++) a0 += U[u0 + k] * V[va + k];
      M[mo + r * T + t] = a0;
    }
  }
}

// The decoders' upsampling step, ConvTranspose2d(k=4, s=2, p=1), with Winograd's F(2×2, 2×2). Output pixel
// (2a + py, 2b + px) of phase (py, px) is a 2×2 correlation of the input, zero-padded by one pixel:
// Σᵢⱼ xpad[a + py + i][b + px + j] · w[3 − py − 2i][3 − px − 2j]. Per phase, each 2×2 tile of its outputs comes
// from a 3×3 input patch with 9 multiplications per (in, out) pair instead of 16: V = Bᵀ d B (input patch),
// U = G g Gᵀ (weights, once), M = Σ_in U ⊙ V (nine matrix products over the input channels), Y = Aᵀ M A.
// 1-D: V = (d0 − d1, d1, d2 − d1), U = (g0, g0 + g1, g1), y0 = M0 + M1, y1 = M1 + M2 (exact in real arithmetic;
// only additions and subtractions of like-sized terms, so doubles keep it within ~1e-15 of the direct sum).
function winogradUpsample(l, g, oh, ow, w) {
  const { c: cin, h, w: iw } = g;
  const cout = l.out;
  const b = weights(l.bias, cout, `${l.kind} bias`);
  const phases = [];
  let ph = h + 2;
  let pw = iw + 2;
  for (let py = 0; py < 2; py++) {
    for (let px = 0; px < 2; px++) {
      const ny = Math.ceil((oh - py) / 2); // outputs of this phase down and across
      const nx = Math.ceil((ow - px) / 2);
      const ty = Math.ceil(ny / 2); // 2×2 tiles
      const tx = Math.ceil(nx / 2);
      ph = Math.max(ph, 2 * ty + 2);
      pw = Math.max(pw, 2 * tx + 2);
      // U[ξ][out][in], ξ = 3u + v
      const U = new Float32Array(9 * cout * cin);
      for (let oc = 0; oc < cout; oc++) {
        for (let ic = 0; ic < cin; ic++) {
          const at = (i, j) => w[((ic * cout + oc) * 4 + 3 - py - 2 * i) * 4 + 3 - px - 2 * j];
          const k = [
            [at(0, 0), at(0, 1)],
            [at(1, 0), at(1, 1)],
          ];
          const rows = [k[0], [k[0][0] + k[1][0], k[0][1] + k[1][1]], k[1]]; // G g
          for (let u = 0; u < 3; u++) {
            const [r0, r1] = rows[u];
            const cols = [r0, r0 + r1, r1]; // (G g) Gᵀ
            for (let v = 0; v < 3; v++) U[((3 * u + v) * cout + oc) * cin + ic] = cols[v];
          }
        }
      }
      phases.push({ py, px, ny, nx, ty, tx, U });
    }
  }
  const maxTiles = Math.max(...phases.map((p) => p.ty * p.tx));
  const xp = new Float64Array(ph * pw * cin); // the input zero-padded (one pixel, more below/right), channel-last
  const V = new Float64Array(9 * maxTiles * cin); // [ξ][tile][in]
  const M = new Float64Array(9 * cout * maxTiles); // [ξ][out][tile]
  const out = new Float32Array(cout * oh * ow);
  const plane = oh * ow;
  const hw = h * iw;
  return {
    shape: [cout, oh, ow],
    run(x) {
      for (let ic = 0; ic < cin; ic++) {
        for (let y = 0; y < h; y++) {
          let o = ((y + 1) * pw + 1) * cin + ic;
          for (let i = ic * hw + y * iw, end = i + iw; i < end; i++, o += cin) xp[o] = x[i];
        }
      }
      for (const { py, px, ny, nx, ty, tx, U } of phases) {
        const T = ty * tx;
        const plan = T * cin;
        for (let r = 0; r < ty; r++) {
          for (let c = 0; c < tx; c++) {
            const t = r * tx + c;
            const p0 = ((2 * r + py) * pw + 2 * c + px) * cin; // the patch's corner
            const p1 = p0 + pw * cin;
            const p2 = p1 + pw * cin;
            for (let ic = 0; ic < cin; ic++) {
              const d00 = xp[p0 + ic];
              const d01 = xp[p0 + cin + ic];
              const d02 = xp[p0 + 2 * cin + ic];
              const d10 = xp[p1 + ic];
              const d11 = xp[p1 + cin + ic];
              const d12 = xp[p1 + 2 * cin + ic];
              const d20 = xp[p2 + ic];
              const d21 = xp[p2 + cin + ic];
              const d22 = xp[p2 + 2 * cin + ic];
              // Bᵀ d: rows (d0 − d1, d1, d2 − d1)
              const e00 = d00 - d10;
              const e01 = d01 - d11;
              const e02 = d02 - d12;
              const e20 = d20 - d10;
              const e21 = d21 - d11;
              const e22 = d22 - d12;
              // (Bᵀ d) B: the same on columns
              const v = t * cin + ic;
              V[v] = e00 - e01;
              V[plan + v] = e01;
              V[2 * plan + v] = e02 - e01;
              V[3 * plan + v] = d10 - d11;
              V[4 * plan + v] = d11;
              V[5 * plan + v] = d12 - d11;
              V[6 * plan + v] = e20 - e21;
              V[7 * plan + v] = e21;
              V[8 * plan + v] = e22 - e21;
            }
          }
        }
        const mplan = cout * T;
        for (let xi = 0; xi < 9; xi++) gemm(M, xi * mplan, U, xi * cout * cin, V, xi * plan, cout, T, cin);
        for (let oc = 0; oc < cout; oc++) {
          const bias = b[oc];
          const base = oc * plane;
          for (let r = 0; r < ty; r++) {
            for (let c = 0; c < tx; c++) {
              const m = oc * T + r * tx + c;
              const m0 = M[m];
              const m1 = M[mplan + m];
              const m2 = M[2 * mplan + m];
              const m3 = M[3 * mplan + m];
              const m4 = M[4 * mplan + m];
              const m5 = M[5 * mplan + m];
              const m6 = M[6 * mplan + m];
              const m7 = M[7 * mplan + m];
              const m8 = M[8 * mplan + m];
              // Aᵀ M: rows (M0 + M1, M1 + M2), then the same on columns
              const s0 = m0 + m3;
              const s1 = m1 + m4;
              const s2 = m2 + m5;
              const q0 = m3 + m6;
              const q1 = m4 + m7;
              const q2 = m5 + m8;
              const a = 2 * r; // this tile's first output of the phase, down and across
              const bx = 2 * c;
              const row0 = base + (2 * a + py) * ow + px;
              const row1 = row0 + 2 * ow;
              out[row0 + 2 * bx] = bias + s0 + s1;
              if (bx + 1 < nx) out[row0 + 2 * bx + 2] = bias + s1 + s2;
              if (a + 1 < ny) {
                out[row1 + 2 * bx] = bias + q0 + q1;
                if (bx + 1 < nx) out[row1 + 2 * bx + 2] = bias + q1 + q2;
              }
            }
          }
        }
      }
      return out;
    },
  };
}

export const LAYERS = {
  linear: {
    build(l, shape) {
      expect(size(shape) === l.in, `linear: input of ${size(shape)} values, expected ${l.in}`);
      const w = weights(l.weight, l.out * l.in, "linear");
      const b = weights(l.bias, l.out, "linear bias");
      const out = new Float32Array(l.out);
      const cols = l.in;
      const rows = l.out;
      return {
        shape: [l.out],
        run(x) {
          // four rows at a time share each x[c] load (measured ~5× faster than one row at a time in Chromium),
          // two columns per step (~10 % faster in Node than eight rows at a time)
          const even = cols - (cols % 2);
          let r = 0;
          for (; r + 4 <= rows; r += 4) {
            const o0 = r * cols;
            const o1 = o0 + cols;
            const o2 = o1 + cols;
            const o3 = o2 + cols;
            let a0 = b[r];
            let a1 = b[r + 1];
            let a2 = b[r + 2];
            let a3 = b[r + 3];
            for (let c = 0; c < even; c += 2) {
              const xc = x[c];
              const xd = x[c + 1];
              a0 += w[o0 + c] * xc + w[o0 + c + 1] * xd;
              a1 += w[o1 + c] * xc + w[o1 + c + 1] * xd;
              a2 += w[o2 + c] * xc + w[o2 + c + 1] * xd;
              a3 += w[o3 + c] * xc + w[o3 + c + 1] * xd;
            }
            if (even < cols) {
              const xc = x[even];
              a0 += w[o0 + even] * xc;
              a1 += w[o1 + even] * xc;
              a2 += w[o2 + even] * xc;
              a3 += w[o3 + even] * xc;
            }
            out[r] = a0;
            out[r + 1] = a1;
            out[r + 2] = a2;
            out[r + 3] = a3;
          }
          for (; r < rows; r++) {
            let acc = b[r];
            const off = r * cols;
            for (let c = 0; c < cols; c++) acc += w[off + c] * x[c];
            out[r] = acc;
          }
          return out;
        },
      };
    },
  },
  conv2d: {
    build(l, shape) {
      const g = convGeometry(l, shape);
      const oh = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1;
      const ow = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
      const w = weights(l.weight, l.out * l.in * g.kh * g.kw, "conv2d"); // (out, in, kh, kw)
      // output pixel (oy, ox) reads input (oy·sh + ky − ph, ox·sw + kx − pw)
      const source = (o, k, s, p) => o * s + k - p;
      return gatherConv(l, g, oh, ow, (ic, oc, t) => w[(oc * l.in + ic) * g.kh * g.kw + t], source);
    },
  },
  conv_transpose2d: {
    build(l, shape) {
      const g = convGeometry(l, shape);
      const [oph, opw] = l.output_padding;
      const oh = (g.h - 1) * g.sh - 2 * g.ph + g.kh + oph;
      const ow = (g.w - 1) * g.sw - 2 * g.pw + g.kw + opw;
      const w = weights(l.weight, l.in * l.out * g.kh * g.kw, "conv_transpose2d"); // (in, out, kh, kw)
      // output pixel (oy, ox) reads input ((oy + ph − ky)/sh, …) where that divides exactly
      const source = (o, k, s, p) => ((o + p - k) % s === 0 ? (o + p - k) / s : -1);
      if (g.kh === 4 && g.kw === 4 && g.sh === 2 && g.sw === 2 && g.ph === 1 && g.pw === 1) {
        return winogradUpsample(l, g, oh, ow, w);
      }
      return gatherConv(l, g, oh, ow, (ic, oc, t) => w[(ic * l.out + oc) * g.kh * g.kw + t], source);
    },
  },
  silu: elementwise(siluInto),
  sigmoid: elementwise(sigmoidInto),
  reshape: {
    build(l, shape) {
      expect(size(shape) === size(l.shape), `reshape: ${size(shape)} values cannot be viewed as ${l.shape}`);
      return { shape: l.shape.slice(), run: (x) => x };
    },
  },
  add_bias: {
    build(l, shape) {
      expect(size(shape) === size(l.shape), `add_bias: input ${shape}, bias ${l.shape}`);
      const b = weights(l.bias, size(l.shape), "add_bias");
      const out = new Float32Array(b.length);
      return {
        shape,
        run(x) {
          for (let i = 0; i < out.length; i++) out[i] = x[i] + b[i];
          return out;
        },
      };
    },
  },
  residual: {
    build(l, shape) {
      const body = buildLayers(l.body, shape);
      expect(size(body.shape) === size(shape), "residual: the body changes the shape");
      const out = new Float32Array(size(shape));
      return {
        shape,
        run(x) {
          const y = body.run(x);
          for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i];
          return out;
        },
      };
    },
  },
};

function buildLayers(layers, shape) {
  const steps = [];
  layers.forEach((l, i) => {
    const reader = Object.prototype.hasOwnProperty.call(LAYERS, l.kind) ? LAYERS[l.kind] : null;
    expect(reader, `layer ${i}: no reader for kind ${JSON.stringify(l.kind)}`);
    const step = reader.build(l, shape);
    steps.push(step);
    shape = step.shape;
  });
  return {
    shape,
    run(x) {
      for (const step of steps) x = step.run(x);
      return x;
    },
  };
}

// The decoder spec (protocol.py decoder_spec) → {run(z) → pixels in [0, 1] (C·H·W, channel-major), shape};
// throws when the spec is inconsistent (the pad then decodes on the server).
export function buildDecoder(spec) {
  expect(spec && spec.format === 1, `decoder format ${spec && spec.format} is not 1`);
  const net = buildLayers(spec.layers, [spec.latent_dim]);
  expect(size(net.shape) === size(spec.shape), `the decoder draws ${net.shape}, expected ${spec.shape}`);
  return { run: (z) => net.run(Float32Array.from(z)), shape: spec.shape.slice(), latentDim: spec.latent_dim };
}

// Slider values v → z = origin + Σᵢ vᵢ·basisᵢ (protocol.py PadAxes; null basis: identity, null origin: zeros).
export function latentFromValues(axes, values, latentDim) {
  const z = new Float64Array(latentDim);
  if (axes && axes.basis) {
    axes.basis.forEach((row, i) => {
      for (let d = 0; d < latentDim; d++) z[d] += values[i] * row[d];
    });
  } else {
    for (let d = 0; d < latentDim; d++) z[d] = values[d];
  }
  if (axes && axes.origin) for (let d = 0; d < latentDim; d++) z[d] += axes.origin[d];
  return z;
}

// Pixels (C·H·W in [0, 1]) → uint8 (H, W[, C] interleaved, as vae_core's to_uint8) and RGBA for a canvas.
export function toPixels(x, shape) {
  const [c, h, w] = shape;
  const pixels = new Uint8Array(c * h * w);
  const rgba = new Uint8ClampedArray(4 * h * w);
  for (let i = 0; i < h * w; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = x[(c === 1 ? 0 : ch) * h * w + i];
      const level = Math.round(Math.min(1, Math.max(0, v || 0)) * 255);
      rgba[4 * i + ch] = level;
      if (ch < c) pixels[i * c + ch] = level;
    }
    rgba[4 * i + 3] = 255;
  }
  return { pixels, rgba };
}

// One decode, timed: slider values → uint8 pixels.
export function decodeValues(net, axes, values) {
  const started = performance.now();
  const x = net.run(latentFromValues(axes, values, net.latentDim));
  const { pixels, rgba } = toPixels(x, net.shape);
  return { pixels, rgba, ms: performance.now() - started };
}

function paintLocal(pad, tInput) {
  const net = pad.local;
  if (!net) return;
  const { pixels, rgba, ms } = decodeValues(net, pad.axes, pad.values);
  const [c, h, w] = net.shape;
  const canvas = pad.canvas || (pad.canvas = document.createElement("canvas"));
  canvas.width = w;
  canvas.height = h;
  canvas.getContext("2d").putImageData(new ImageData(rgba, w, h), 0, 0);
  log.lastLocal = { values: pad.values.slice(), pixels: Array.from(pixels), shape: [h, w, c], ms };
  pad.localKey = pad.values.join(",");
  const z = latentFromValues(pad.axes, pad.values, net.latentDim);
  const norm = Math.sqrt(z.reduce((a, v) => a + v * v, 0));
  pad.caption.textContent = `‖z‖ = ${norm.toFixed(2)} (a draw from N(0, I) has about ` +
    `${Math.sqrt(net.latentDim).toFixed(1)}) · decoded in your browser · ${ms.toFixed(1)} ms`;
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
    axes: null, // slider values → z (protocol.py PadAxes); null: the values are z
    localKey: null, // the values the last local decode drew
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
    img.dataset.path = local ? "browser" : "server";
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
  pad.axes = data.axes || null;
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
  if (pad.local && (!current || pad.localKey === pad.values.join(","))) {
    // A frame for a value the pad has already left, or one it already drew itself: keep the local image.
    log.lastPaintedSeq = Math.max(log.lastPaintedSeq, seq);
  } else {
    pad.caption.textContent = data.caption || "";
    if (data.image) paint(pad, data.image, seq);
  }

  if (data.strips_stale && current && !pad.dragging && !pad.pending) {
    // Python sent the image first and kept the old traversal strips: ask for them (same values, drag over).
    pad.pending = { tFirstInput: t, tLastInput: t, dim: null, dragEnd: true };
    schedule(pad);
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
