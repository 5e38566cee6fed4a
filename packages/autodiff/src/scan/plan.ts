/**
 * @file What scan's VJP differentiates (the plan: which consts, carries and xs get cotangents)
 * and the backward step's inputs and outputs around the body's pullback, shared by both policies.
 */
import * as T from "@rewind/tensor";
import type { Value } from "../core.js";
import { avalOf, type Aval } from "../Graph.js";
import type { Kit } from "../kit.js";
import { counts, unstacked, type ScanParams } from "./params.js";

/** Which inputs of the scan get cotangents, as index lists. */
export interface Plan {
  readonly consts: readonly Value[];
  readonly init: readonly Value[];
  readonly xs: readonly Value[];
  /** Body inputs differentiated: needed float consts, float carries, needed float xs. */
  readonly needsBody: readonly boolean[];
  readonly constIdx: readonly number[];
  readonly carryIdx: readonly number[];
  readonly xIdx: readonly number[];
  readonly yIdx: readonly number[];
}

/**
 * Which of a scan's inputs its VJP differentiates, given the transform's `needs`.
 * @example plan(p, ins, needs).constIdx // the consts that get an accumulated cotangent
 */
export const plan = (p: ScanParams, ins: readonly Value[], needs: readonly boolean[]): Plan => {
  const { nc, nk, ny } = counts(p);
  const needsBody = ins.map((v, i) => T.isFloating(v.dtype) && (i < nc || i >= nc + nk ? needs[i]! : true));
  const pick = (from: number, n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => needsBody[from + i]);
  return {
    consts: ins.slice(0, nc),
    init: ins.slice(nc, nc + nk),
    xs: ins.slice(nc + nk),
    needsBody,
    constIdx: pick(0, nc),
    carryIdx: pick(nc, nk),
    xIdx: pick(nc + nk, ins.length - nc - nk),
    yIdx: Array.from({ length: ny }, (_, k) => k).filter((k) => T.isFloating(p.body.outputs[nk + k]!.aval.dtype)),
  };
};

/**
 * The backward step's inputs after consts and residuals: accumulators θ̄, then the carries' c̄.
 * @example backwardAvals(pl).length // pl.constIdx.length + pl.carryIdx.length
 */
export const backwardAvals = (pl: Plan): Aval[] => [
  ...pl.constIdx.map((i) => avalOf(pl.consts[i]!)),
  ...pl.carryIdx.map((j) => avalOf(pl.init[j]!)),
];

/**
 * The backward step's outputs from the body's input cotangents:
 * `[acc θ̄ + θ̄_t (needed consts), c̄_t (float carries) | x̄_t (needed xs)]`.
 * @example backwardOutputs(pl, kit, nc, nk, acc, ctCarry, pullback(outputCts(p, pl, ctCarry, ctY)))
 */
export const backwardOutputs = (
  pl: Plan,
  kit: Kit,
  nc: number,
  nk: number,
  acc: readonly Value[],
  ctCarry: readonly Value[],
  inCts: ReadonlyArray<Value | null>,
): Value[] => {
  const zero = (a: Aval) => kit.broadcastTo(T.scalar(0, a.dtype), a.shape);
  return [
    ...pl.constIdx.map((i, n) => (inCts[i] ? kit.add(acc[n]!, inCts[i]) : acc[n]!)),
    ...pl.carryIdx.map((j, n) => inCts[nc + j] ?? zero(avalOf(ctCarry[n]!))),
    ...pl.xIdx.map((k) => inCts[nc + nk + k] ?? zero(unstacked(avalOf(pl.xs[k]!)))),
  ];
};

/**
 * The body's output cotangents (`null` where not differentiated) from the step's c̄ and ȳ_t.
 * @example backwardPass(kit, p.body, tape, outputCts(p, pl, ctCarry, ctY))
 */
export const outputCts = (p: ScanParams, pl: Plan, ctCarry: readonly Value[], ctY: readonly Value[]) => {
  const { nk, ny } = counts(p);
  const outCts = new Array<Value | null>(nk + ny).fill(null);
  pl.carryIdx.forEach((j, n) => (outCts[j] = ctCarry[n]!));
  pl.yIdx.forEach((k, n) => (outCts[nk + k] = ctY[n]!));
  return outCts;
};
