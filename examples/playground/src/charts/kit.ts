/**
 * @file What the two charts share: scales (linear and logarithmic), tick values, a polyline's
 * path, and the frame with grid lines and labels, drawn in a fixed viewBox that CSS scales.
 */
import { svg } from "../dom.js";

/** The plotting area inside the viewBox. */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** A map from data to SVG units, and the tick values to label. */
export interface Scale {
  readonly at: (v: number) => number;
  readonly ticks: readonly number[];
}

/**
 * Round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
 * @example linearTicks(0, 1, 5) // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export const linearTicks = (lo: number, hi: number, count: number): number[] => {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
};

/**
 * A linear scale of [lo, hi] onto [from, to].
 * @example linearScale(0, 10, 0, 100).at(5) // 50
 */
export const linearScale = (lo: number, hi: number, from: number, to: number, tickCount = 5): Scale => {
  const span = hi > lo ? hi - lo : 1;
  return { at: (v) => from + ((v - lo) / span) * (to - from), ticks: linearTicks(lo, hi, tickCount) };
};

/**
 * A logarithmic scale of [lo, hi] (both > 0) onto [from, to], ticked at 1, 2 and 5 times powers
 * of ten (thinned for wide ranges), or linearly when the range is too narrow for three of those.
 * @example logScale(0.01, 1, 200, 0).at(0.1) // 100
 */
export const logScale = (lo: number, hi: number, from: number, to: number): Scale => {
  const a = Math.log10(lo);
  const b = hi > lo ? Math.log10(hi) : a + 1;
  const ticks: number[] = [];
  for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(6)));
    }
  }
  // Too many (a wide range): keep 1 and 5 times the powers of ten, or only the powers of ten.
  const mantissa = (v: number): number => Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
  const ones = ticks.filter((v) => mantissa(v) === 1);
  const shown =
    ticks.length <= 6
      ? ticks
      : ticks.filter((v) => mantissa(v) !== 2).length <= 6
        ? ticks.filter((v) => mantissa(v) !== 2)
        : ones;
  const at = (v: number): number => from + ((Math.log10(v) - a) / (b - a)) * (to - from);
  // A narrow range (less than a decade) has too few of those: tick it linearly instead.
  return { at, ticks: shown.length >= 3 ? shown : linearTicks(lo, hi, 5).filter((v) => v > 0) };
};

/**
 * The `d` of a polyline through the points (NaN points are skipped).
 * @example polyline([[0, 0], [10, 5]]) // "M0.0,0.0L10.0,5.0"
 */
export const polyline = (points: ReadonlyArray<readonly [number, number]>): string =>
  points
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    .map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`)
    .join("");

/** A number as a short tick label. */
export const tickLabel = (v: number): string =>
  Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k` : String(Number(v.toPrecision(3)));

/**
 * An `<svg>` with the frame's grid lines and tick labels; the caller appends its lines.
 * @example const root = framed(frame, xScale, yScale, "step"); root.append(svg("path", { d, class: "smooth" }))
 */
export const framed = (f: Frame, x: Scale, y: Scale, xLabel: string): SVGSVGElement => {
  const root = svg("svg", { viewBox: `0 0 ${f.width} ${f.height}`, role: "img" });
  const grid = svg("g", { class: "grid" });
  const labels = svg("g", { class: "axis" });
  for (const v of y.ticks) {
    const py = y.at(v).toFixed(1);
    grid.append(svg("line", { x1: String(f.left), x2: String(f.width - f.right), y1: py, y2: py }));
    labels.append(
      svg("text", { x: String(f.left - 6), y: py, "text-anchor": "end", "dominant-baseline": "middle" }, tickLabel(v)),
    );
  }
  for (const v of x.ticks) {
    const px = x.at(v).toFixed(1);
    labels.append(
      svg("line", { x1: px, x2: px, y1: String(f.height - f.bottom), y2: String(f.height - f.bottom + 4) }),
    );
    labels.append(svg("text", { x: px, y: String(f.height - f.bottom + 15), "text-anchor": "middle" }, tickLabel(v)));
  }
  labels.append(svg("text", { x: String(f.width - f.right), y: String(f.height - 2), "text-anchor": "end" }, xLabel));
  root.append(grid, labels);
  return root;
};
