/**
 * @file Binding a scan: plainly under a trace (tracing records what was written; the entry point
 * that evaluates the graph runs the passes), and on tensors after running `SCAN_PIPELINE` on the
 * scan's own equation, so that an eager scan computes exactly what `jit` computes for it.
 *
 * That matters for bits, not only speed: lifting turns T `[B, in]` matmuls into one `[T·B, in]`
 * matmul, which rounds differently in float64 when B is not a multiple of 4 (docs/prototypes/
 * passes/README.md §1), so an eager run that skipped it would disagree with `jit`.
 */
import { List } from "immutable";
import { bind, evalGraph, isTracing, type Value } from "../core.js";
import { avalOf, Graph, newVar } from "../Graph.js";
import type { AnyPrimitive } from "../Primitive.js";
import type { ScanParams } from "../scan/params.js";
import { optimize, SCAN_PIPELINE, type Pass } from "./index.js";

/** `scan(ins; params)` as a graph of one equation. */
const oneEquation = (scan: AnyPrimitive, ins: readonly Value[], params: ScanParams): Graph => {
  const inputs = ins.map((v) => newVar(avalOf(v)));
  const outputs = scan
    .abstractEval(
      inputs.map((v) => v.aval),
      params,
    )
    .map((a) => newVar(a));
  return new Graph(inputs, List([Object.freeze({ prim: scan, inputs, params, outputs })]), outputs);
};

/**
 * Binds a scan: records it as it is under a trace; on tensors, runs `SCAN_PIPELINE` (hoist, then
 * lift, inner scans first) on it and computes the result. Passes in `always` run first in both
 * cases (scan's VJP factors its reverse scan's accumulators this way, eager or traced).
 * @example bindScan(scan, [...consts, ...init, ...xs], params)
 */
export const bindScan = (
  scan: AnyPrimitive,
  ins: readonly Value[],
  params: ScanParams,
  always: readonly Pass[] = [],
): readonly Value[] => {
  const pipeline = isTracing() ? always : [...always, ...SCAN_PIPELINE];
  if (pipeline.length === 0) return bind(scan, ins, params);
  return evalGraph(optimize(oneEquation(scan, ins, params), pipeline).graph, ins);
};
