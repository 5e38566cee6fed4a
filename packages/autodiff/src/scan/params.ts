/**
 * @file The params of `scan` and the arithmetic on them shared by its rules and its VJP.
 */
import type { Aval, Graph } from "../Graph.js";

/** What the forward pass of a differentiated scan stores per step. */
export type ScanPolicy = "all" | "carries";

/** Params of `scan`. */
export interface ScanParams {
  /** `(consts…, carry…, x_t…) → (carry'…, y_t…)`, closed. */
  readonly body: Graph;
  /** How many of the body's first inputs are constants (the same at every step). */
  readonly numConsts: number;
  /** How many inputs after the constants (and outputs first) are the carry. */
  readonly numCarry: number;
  /** Number of steps; the xs' leading size. */
  readonly length: number;
  /** Run from the last step to the first (ys stay in xs order). */
  readonly reverse: boolean;
  /** What the forward pass keeps for the VJP. */
  readonly policy: ScanPolicy;
  /**
   * How many of the first carries are zero-initialised gradient accumulators (`θ̄ += θ̄_t`). Only
   * scan's VJP sets it, on its reverse scan; the `accumulate` pass reads it, so a user's scan
   * with a running sum is never rewritten. Absent (or 0) everywhere else.
   */
  readonly accumulators?: number;
}

/** How many consts, carries, xs and ys a scan has. */
export const counts = (p: ScanParams) => {
  const nc = p.numConsts;
  const nk = p.numCarry;
  return { nc, nk, nx: p.body.inputs.length - nc - nk, ny: p.body.outputs.length - nk };
};

/** The aval of `length` values of aval `a` stacked on a new leading axis. */
export const stacked = (a: Aval, length: number): Aval => ({ shape: [length, ...a.shape], dtype: a.dtype });
/** The per-step aval of a stacked value. */
export const unstacked = (a: Aval): Aval => ({ shape: a.shape.slice(1), dtype: a.dtype });
