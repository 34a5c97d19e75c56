// pad.js's browser decoder timed in Node (V8, the engine Chromium runs it on), without a browser: the decode
// alone, as decodeValues measures it (slider values → uint8 pixels). Prints JSON lines {"name", "value", "unit"}.
//
// benchmarks/bench_pad_decoder.py writes the inputs (decoder specs from protocol.py and vae_core's own pixels for
// a few z) and runs this; by hand:
//   node benchmarks/bench_pad_decoder.mjs --cases DIR --pad current=PATH [--pad baseline=PATH] [--rounds N]
// Each case file in DIR is {name, spec, timed: bool, checks: [{values, pixels}]}. Every pad module must draw
// vae_core's pixels within one grey level for every check (else the script fails: a fast wrong decoder is no
// result). Timed cases are decoded round-robin across the pads (the same run, interleaved, so machine load hits
// them alike); the figure is the median over rounds of the mean decode time in a round (min_ms: the fastest
// round, steadier on a loaded machine).

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

// pad.js keeps its decoder cache and test log on `window`; Node has none.
globalThis.window = globalThis.window || {};

function parseArgs(argv) {
  const args = { cases: null, pads: [], rounds: 15, decodes: 20 };
  for (let i = 0; i < argv.length; i++) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--cases") args.cases = value;
    else if (key === "--pad") {
      const at = value.indexOf("=");
      args.pads.push({ name: value.slice(0, at), path: value.slice(at + 1) });
    } else if (key === "--rounds") args.rounds = Number(value);
    else if (key === "--decodes") args.decodes = Number(value);
    else throw new Error(`unknown argument ${key}`);
    i++;
  }
  if (!args.cases || !args.pads.length) throw new Error("need --cases DIR and at least one --pad NAME=PATH");
  return args;
}

async function importPad(path) {
  // a data: URL, so a copy of an old pad.js (any file name, no package.json) loads as an ES module
  const source = readFileSync(path, "utf-8");
  return import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
}

function emit(name, value, unit, extra = {}) {
  console.log(JSON.stringify({ name, value: Math.round(value * 10000) / 10000, unit, ...extra }));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const args = parseArgs(process.argv.slice(2));
const pads = [];
for (const p of args.pads) pads.push({ ...p, module: await importPad(p.path) });
const cases = readdirSync(args.cases)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(args.cases, f), "utf-8")));

for (const c of cases) {
  const nets = pads.map((p) => p.module.buildDecoder(c.spec));
  pads.forEach((p, i) => {
    let worst = 0;
    for (const check of c.checks) {
      const { pixels } = p.module.decodeValues(nets[i], null, check.values);
      if (pixels.length !== check.pixels.length) throw new Error(`${c.name}/${p.name}: ${pixels.length} pixels`);
      for (let k = 0; k < pixels.length; k++) worst = Math.max(worst, Math.abs(pixels[k] - check.pixels[k]));
    }
    if (worst > 1) throw new Error(`${c.name}: pad ${p.name} differs from vae_core by ${worst} grey levels`);
    emit(`pad_decode_max_grey_diff_${c.name}_${p.name}`, worst, "grey levels");
  });
  if (!c.timed) continue;
  const values = c.checks.map((check) => check.values);
  for (let i = 0; i < pads.length; i++) {
    for (let w = 0; w < 30; w++) pads[i].module.decodeValues(nets[i], null, values[w % values.length]); // JIT
  }
  const perRound = pads.map(() => []);
  for (let r = 0; r < args.rounds; r++) {
    for (let i = 0; i < pads.length; i++) {
      const started = performance.now();
      for (let k = 0; k < args.decodes; k++) pads[i].module.decodeValues(nets[i], null, values[k % values.length]);
      perRound[i].push((performance.now() - started) / args.decodes);
    }
  }
  const ms = perRound.map(median);
  pads.forEach((p, i) => {
    const suffix = p.name === "current" ? "" : `_${p.name}`;
    const fastest = Math.round(Math.min(...perRound[i]) * 10000) / 10000;
    emit(`pad_decode_ms_${c.name}_node${suffix}`, ms[i], "ms", { min_ms: fastest, macs: c.spec.macs });
  });
  const base = pads.findIndex((p) => p.name === "baseline");
  const cur = pads.findIndex((p) => p.name === "current");
  if (base >= 0 && cur >= 0) emit(`pad_decode_speedup_${c.name}_node`, ms[base] / ms[cur], "×");
}
