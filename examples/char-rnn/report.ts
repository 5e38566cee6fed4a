/**
 * @file What the run leaves behind: its history (losses and samples, kept as JSON next to the
 * checkpoint so a resumed run can draw the whole curve), the loss curves as a terminal chart
 * (asciichart), and a self-contained HTML report with the curves as an inline SVG drawn here (no
 * scripts, fonts or other network assets) and the samples.
 */
import asciichart from "asciichart";
import type { Config } from "./config.js";
import { formatDuration } from "./progress.js";

export interface History {
  /** Training loss of every step: index i holds step i + 1's. */
  readonly train: number[];
  /** `[step, loss]` at each held-out measurement. */
  readonly heldOut: Array<[number, number]>;
  readonly samples: Array<{ readonly step: number; readonly text: string }>;
}

export const emptyHistory = (): History => ({ train: [], heldOut: [], samples: [] });

/** A history read back from JSON, cut at `step` (a checkpoint may be older than the history beside it). */
export const historyUpTo = (json: unknown, step: number): History => {
  const h = json as Partial<History> | null;
  const ok = h !== null && Array.isArray(h.train) && Array.isArray(h.heldOut) && Array.isArray(h.samples);
  if (!ok) return emptyHistory();
  return {
    train: h.train.slice(0, step).filter((x) => typeof x === "number"),
    heldOut: h.heldOut.filter(([s, l]) => typeof s === "number" && typeof l === "number" && s <= step),
    samples: h.samples.filter((x) => typeof x?.step === "number" && typeof x.text === "string" && x.step <= step),
  };
};

/** Mean training loss over `n` equal buckets of steps: a readable curve from a noisy per-step one. */
const bucketMeans = (losses: readonly number[], n: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.floor((i * losses.length) / n);
    const b = Math.max(a + 1, Math.floor(((i + 1) * losses.length) / n));
    const part = losses.slice(a, b);
    out.push(part.reduce((x, y) => x + y, 0) / part.length);
  }
  return out;
};

/** The held-out curve at `x` (a step), linear between measurements and flat beyond them. */
const interpolate = (points: ReadonlyArray<readonly [number, number]>, x: number): number => {
  if (x <= points[0]![0]) return points[0]![1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x0, y0] = points[i - 1]!;
    if (x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return points[points.length - 1]![1];
};

/** A "nice" tick spacing (1, 2 or 5 × 10^k) giving about `count` ticks over `range`. */
const tickStep = (range: number, count: number): number => {
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
};

/** The loss curves (train, held-out, unigram baseline) as a terminal chart, `width` columns wide; ANSI colours only when `color`. */
export const terminalChart = (h: History, unigram: number, color: boolean, width = 64): string => {
  const steps = h.train.length;
  if (steps < 2 || h.heldOut.length === 0) return "(too few steps for a chart)";
  const n = Math.min(width, steps);
  const train = bucketMeans(h.train, n);
  const stepAt = (i: number): number => ((i + 0.5) * steps) / n;
  const held = train.map((_, i) => interpolate(h.heldOut, stepAt(i)));
  const base = train.map(() => unigram);
  const [grey, blue, green, reset] = color
    ? [asciichart.darkgray, asciichart.blue, asciichart.green, asciichart.reset]
    : ["", "", "", ""];
  const series = [base, held, train];
  const height = 14;
  const lines = asciichart
    .plot(series, {
      height,
      ...(color ? { colors: [grey, green, blue] } : {}),
      format: (x: number) => x.toFixed(2).padStart(6),
    })
    .split("\n");
  // Name each curve at its right end, on the row asciichart drew its last point (its own rounding),
  // so the chart reads without colours too.
  const all = series.flat();
  const ratio = height / (Math.max(...all) - Math.min(...all) || 1);
  const min2 = Math.round(Math.min(...all) * ratio);
  const rows = Math.round(Math.max(...all) * ratio) - min2;
  const labels = new Map<number, string[]>();
  ["unigram", "held-out", "train"].forEach((name, j) => {
    const row = rows - (Math.round(series[j]![n - 1]! * ratio) - min2);
    labels.set(row, [...(labels.get(row) ?? []), name]);
  });
  const chart = lines.map((l, i) => (labels.has(i) ? `${l} ${labels.get(i)!.join(", ")}` : l)).join("\n");
  // asciichart puts the 6-character labels, a space and the axis before column 0 of the data.
  const pad = " ".repeat(8);
  const ticks = Array.from({ length: n + 8 }, () => " ");
  const every = tickStep(steps, 4);
  for (let at = 0; at <= steps; at += every) {
    const col = Math.min(n - 1, Math.max(0, Math.round((at * n) / steps - 0.5)));
    const label = String(at);
    const start = Math.min(col, n + 8 - label.length);
    if (ticks.slice(start, start + label.length + 1).every((c) => c === " "))
      label.split("").forEach((c, i) => (ticks[start + i] = c));
  }
  const axis = `${pad}${ticks.join("").trimEnd()}   (step)`;
  const legend = `${pad}${blue}── train (mean per column)${reset}   ${green}── held-out${reset}   ${grey}── unigram baseline ${unigram.toFixed(3)}${reset}`;
  return `${chart}\n${axis}\n${legend}`;
};

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The curves as an SVG: training loss (per step, faint, and smoothed), held-out points joined by a line, the baseline dashed. */
export const svgChart = (h: History, unigram: number, width = 760, height = 360): string => {
  const m = { left: 56, right: 16, top: 16, bottom: 44 };
  const steps = Math.max(1, h.train.length);
  const ys = [...h.train, ...h.heldOut.map(([, l]) => l), unigram].filter(Number.isFinite);
  const yMin = Math.floor(Math.min(...ys) * 10) / 10;
  const yMax = Math.ceil(Math.max(...ys) * 10) / 10;
  const X = (s: number): number => m.left + (s / steps) * (width - m.left - m.right);
  const Y = (l: number): number => m.top + ((yMax - l) / (yMax - yMin || 1)) * (height - m.top - m.bottom);
  const path = (pts: ReadonlyArray<readonly [number, number]>): string =>
    pts.map(([s, l], i) => `${i === 0 ? "M" : "L"}${X(s).toFixed(1)},${Y(l).toFixed(1)}`).join("");
  const raw = h.train.map((l, i) => [i + 1, l] as const);
  let ema = h.train[0] ?? 0;
  const smooth = h.train.map((l, i) => [i + 1, (ema = 0.95 * ema + 0.05 * l)] as const);
  const yStep = tickStep(yMax - yMin, 6);
  const xStep = tickStep(steps, 8);
  const grid: string[] = [];
  for (let v = Math.ceil(yMin / yStep) * yStep; v <= yMax + 1e-9; v += yStep) {
    grid.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" class="grid"/>`,
    );
    grid.push(`<text x="${m.left - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  for (let s = 0; s <= steps; s += xStep) {
    grid.push(
      `<line x1="${X(s).toFixed(1)}" x2="${X(s).toFixed(1)}" y1="${m.top}" y2="${height - m.bottom}" class="grid"/>`,
    );
    grid.push(`<text x="${X(s).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${s}</text>`);
  }
  const dots = h.heldOut.map(
    ([s, l]) =>
      `<circle cx="${X(s).toFixed(1)}" cy="${Y(l).toFixed(1)}" r="3" class="held"><title>step ${s}: ${l.toFixed(3)}</title></circle>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="loss curves">
<style>text{font:11px sans-serif;fill:#444}.grid{stroke:#e4e4e4}.raw{fill:none;stroke:#9ab8e0;stroke-width:1}.train{fill:none;stroke:#1f5fbf;stroke-width:2}.heldline{fill:none;stroke:#2a9d4a;stroke-width:2}.held{fill:#2a9d4a}.base{stroke:#888;stroke-dasharray:6 4}</style>
${grid.join("\n")}
<line x1="${m.left}" x2="${width - m.right}" y1="${Y(unigram).toFixed(1)}" y2="${Y(unigram).toFixed(1)}" class="base"/>
<path d="${path(raw)}" class="raw"/>
<path d="${path(smooth)}" class="train"/>
<path d="${path(h.heldOut)}" class="heldline"/>
${dots.join("\n")}
<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">step</text>
<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">nats/char</text>
</svg>`;
};

/** What the report says about the run. */
export interface Summary {
  readonly config: Config;
  readonly unigram: number;
  readonly heldOutCount: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  readonly stopped: boolean;
  readonly checkpoint: string;
}

/** A self-contained HTML page: the numbers, the curves, the samples, the configuration. */
export const htmlReport = (h: History, s: Summary): string => {
  const last = h.heldOut[h.heldOut.length - 1];
  const heldOut = last === undefined ? "–" : `${last[1].toFixed(3)} nats/char at step ${last[0]}`;
  const lastTrain = h.train.slice(-50);
  const train = lastTrain.length === 0 ? "–" : (lastTrain.reduce((a, b) => a + b, 0) / lastTrain.length).toFixed(3);
  const rows: Array<[string, string]> = [
    [
      "held-out loss",
      `${heldOut} (unigram baseline ${s.unigram.toFixed(3)}; ${s.heldOutCount.toLocaleString("en-US")} held-out characters, the last 5% of the book)`,
    ],
    ["training loss", `${train} nats/char (mean of the last ${lastTrain.length} steps)`],
    ["steps", `${h.train.length} of ${s.config.steps}${s.stopped ? " (stopped early)" : ""}`],
    ["run time", `${formatDuration(s.seconds)} (${s.stepsPerSecond.toFixed(1)} training steps/s in this session)`],
    ["checkpoint", s.checkpoint],
  ];
  const table = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n");
  const samples = h.samples
    .map((x) => `<h3>step ${x.step}</h3>\n<pre>${escapeHtml(s.config.prime)}<b>${escapeHtml(x.text)}</b></pre>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>char-rnn on Moby Dick</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:820px;margin:2em auto;padding:0 1em;color:#222}th{text-align:left;padding-right:1em;vertical-align:top}pre{white-space:pre-wrap;background:#f6f6f4;padding:.6em .8em;border-radius:4px}pre b{font-weight:normal;color:#1f4f9f}.legend span{margin-right:1.5em}</style></head>
<body>
<h1>char-rnn on Moby Dick</h1>
<p>A character-level ${escapeHtml(s.config.cell.toUpperCase())} language model (hidden ${s.config.hidden}) trained with Rewind: truncated BPTT over ${s.config.chunk}-character chunks, ${s.config.batch} streams per batch, Adam with global-norm clipping.</p>
<table>${table}</table>
<h2>Loss</h2>
<p class="legend"><span style="color:#1f5fbf">━ training (smoothed; faint: per step)</span><span style="color:#2a9d4a">● held-out</span><span style="color:#888">┅ unigram baseline</span></p>
${svgChart(h, s.unigram)}
<h2>Samples</h2>
<p>Each continues the prime <code>${escapeHtml(JSON.stringify(s.config.prime))}</code> at temperature ${s.config.temperature}.</p>
${samples}
<h2>Configuration</h2>
<pre>${escapeHtml(JSON.stringify(s.config, null, 2))}</pre>
</body></html>
`;
};
