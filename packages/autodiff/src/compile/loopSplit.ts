/**
 * @file A fused loop cut in two along its outermost axis, for kernel threads: the first rows run
 * in the main thread while a kernel thread runs the rest (`ThreadedArena.loops`), as products are
 * split by rows. An LSTM cell's gates at B 32 are a 32 × 128 loop run once per step; split, each
 * thread computes 16 rows.
 *
 * Each part is the same loop over fewer rows: its reads' views start `r0` rows further on, and
 * its outputs, which a loop kernel writes densely in loop order from the address it is given,
 * start `shift` elements further on (the caller moves the address). Every element is computed by
 * the same lane arithmetic as in the whole loop, so the parts together write the same bits. Reads
 * through a window (the pads of a VJP's concatenation) are left whole: their windows are
 * positions along the axis, which a part would have to renumber.
 */
import type { LoopSpec } from "./loopgen.js";

/**
 * Loops with less work stay whole: a hand-off to a kernel thread and back costs a few microseconds,
 * about what half of a cheap loop takes. Work is elements × units per element (`workUnits`); this
 * is ~12 µs of loop here. Measured on the LSTM step at B 32 (2 cores): the cell's forward gates,
 * 32 × 128 with three logistics and two tanh, take 34 µs (692 k units) and pay to split; a
 * 32 × 512 loop of a few adds and products takes 5 µs (115 k units) and does not.
 */
export const MIN_SPLIT_WORK = 250_000;

/** The float32 polynomials (e^x, tanh, the logistic): ~1.5 ns an element each, 30 times a plain op. */
const POLYNOMIALS: ReadonlySet<string> = new Set(["exp", "tanh", "logistic"]);

/**
 * Work units per element of `spec`: 30 per polynomial member, 1 per other member, read and store.
 * @example workUnits({ members: [{ op: "tanh", … }], reads: [x], stores: [y], … }) // 32
 */
export const workUnits = (spec: LoopSpec): number =>
  spec.members.reduce((u, m) => u + (POLYNOMIALS.has(m.op) ? 30 : 1), 0) + spec.reads.length + spec.stores.length;

/** The two parts of a split loop. */
export interface LoopParts {
  readonly first: LoopSpec;
  readonly second: LoopSpec;
  /** Elements of each output before the second part's first one. */
  readonly shift: number;
}

/** `spec` over rows `[r0, r1)` of its outermost axis. */
const rows = (spec: LoopSpec, r0: number, r1: number): LoopSpec => ({
  ...spec,
  shape: [r1 - r0, ...spec.shape.slice(1)],
  reads: spec.reads.map((r) => ({
    ...r,
    view: {
      shape: [r1 - r0, ...r.view.shape.slice(1)],
      strides: r.view.strides,
      offset: r.view.offset + r0 * r.view.strides[0]!,
    },
  })),
});

/**
 * The loop's two halves along its outermost axis, or undefined when it stays whole: less work
 * than `MIN_SPLIT_WORK`, fewer than 2 rows, or a read through a window.
 * @example loopParts({ shape: [32, 128], … })?.shift // 2048
 */
export const loopParts = (spec: LoopSpec): LoopParts | undefined => {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const d0 = spec.shape[0] ?? 0;
  if (size * workUnits(spec) < MIN_SPLIT_WORK || d0 < 2 || spec.reads.some((r) => r.guard !== undefined))
    return undefined;
  if (spec.reads.some((r) => r.view.shape.length !== spec.shape.length)) return undefined;
  const h = Math.floor(d0 / 2);
  return { first: rows(spec, 0, h), second: rows(spec, h, d0), shift: (h * size) / d0 };
};
