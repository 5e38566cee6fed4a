/**
 * @file The live loss chart: every step's loss (thin) and an exponential moving average (bold)
 * on a logarithmic axis, redrawn at most once per animation frame. Long runs are averaged into at
 * most `MAX_POINTS` buckets. The chart's element carries the figures the end-to-end test reads:
 * `data-steps`, `data-start-loss` (mean of the first 5 steps), `data-recent-loss` (mean of the
 * last 10) and `data-first-losses` (the first `FIRST_LOSSES` steps' losses, comma-separated, as
 * JavaScript prints them: exact, so two runs can be compared step for step).
 */
import { svg } from "../dom.js";
import { framed, linearScale, logScale, polyline, type Frame } from "./kit.js";

const MAX_POINTS = 400;
const FIRST_LOSSES = 50;
const FRAME: Frame = { width: 560, height: 250, left: 46, right: 12, top: 10, bottom: 32 };

/** The chart's controls. */
export interface LossChart {
  /** Forgets every loss (a new run). */
  readonly reset: () => void;
  /** Appends losses, one per step. */
  readonly add: (losses: readonly number[]) => void;
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Bucket means of `xs`: at most `n` points, each at the bucket's last step (1-based). */
const buckets = (xs: readonly number[], n: number): Array<readonly [number, number]> => {
  const size = Math.max(1, Math.ceil(xs.length / n));
  const out: Array<readonly [number, number]> = [];
  for (let i = 0; i < xs.length; i += size) out.push([Math.min(xs.length, i + size), meanOf(xs.slice(i, i + size))]);
  return out;
};

/** The bias-corrected exponential moving average (as Adam corrects its moments), so it starts at the first value. */
const ema = (xs: readonly number[], beta: number): number[] => {
  let m = 0;
  return xs.map((x, i) => ((m = beta * m + (1 - beta) * x), m / (1 - beta ** (i + 1))));
};

/**
 * A loss chart drawn into `host`.
 * @example const chart = createLossChart(byId("loss-chart", HTMLDivElement)); chart.add([2.3, 2.1])
 */
export const createLossChart = (host: HTMLElement): LossChart => {
  let losses: number[] = [];
  let pending = false;

  const draw = (): void => {
    pending = false;
    host.dataset["steps"] = String(losses.length);
    host.dataset["startLoss"] = losses.length === 0 ? "" : String(meanOf(losses.slice(0, 5)));
    host.dataset["recentLoss"] = losses.length === 0 ? "" : String(meanOf(losses.slice(-10)));
    host.dataset["firstLosses"] = losses.slice(0, FIRST_LOSSES).join(",");
    const finite = losses.filter((v) => Number.isFinite(v) && v > 0);
    if (finite.length === 0) {
      const empty = svg("svg", { viewBox: `0 0 ${FRAME.width} ${FRAME.height}` });
      empty.append(
        svg(
          "text",
          { x: String(FRAME.width / 2), y: String(FRAME.height / 2), "text-anchor": "middle", class: "empty" },
          "Press Start to train; the loss appears here.",
        ),
      );
      host.replaceChildren(empty);
      return;
    }
    const raw = buckets(losses, MAX_POINTS);
    // Smoothing over about 1/25 of the run: steady early on, and no long lag behind a short run.
    const smooth = buckets(ema(losses, 1 - 1 / Math.max(2, losses.length / 25)), MAX_POINTS);
    const lo = Math.min(...finite) * 0.9;
    const hi = Math.max(...finite) * 1.05;
    const x = linearScale(0, Math.max(losses.length, 10), FRAME.left, FRAME.width - FRAME.right);
    const y = logScale(lo, hi, FRAME.height - FRAME.bottom, FRAME.top);
    const root = framed(FRAME, x, y, "step");
    const at = (pts: Array<readonly [number, number]>): Array<readonly [number, number]> =>
      pts.map(([s, v]) => [x.at(s), v > 0 ? y.at(v) : NaN]);
    root.append(
      svg("path", { d: polyline(at(raw)), class: "raw" }),
      svg("path", { d: polyline(at(smooth)), class: "smooth" }),
    );
    host.replaceChildren(root);
  };

  const schedule = (): void => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(draw);
    }
  };
  draw();
  return {
    reset: () => ((losses = []), schedule()),
    add: (more) => (losses.push(...more), schedule()),
  };
};
