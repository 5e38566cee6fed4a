/**
 * @file How much a differentiated function keeps alive between its forward and backward passes.
 */
import { byteSize, isFloating, sizeOf } from "@rewind/tensor";
import { expectFunction, expectOptions } from "./check.js";
import { isTracer, traceToGraph, type Value } from "./core.js";
import { avalOf } from "./Graph.js";
import { kit } from "./kit.js";
import { scan, SCAN_OPTION_KEYS, scanRemat, type ScanFn, type ScanOptions } from "./scan/api.js";
import { traceTreeAs } from "./trace.js";
import { treeFlatten } from "./Tree.js";
import { linearizeGraph, tapeValues, type Tape } from "./vjp.js";

/** The residual memory of one differentiated call. */
export interface ResidualEstimate {
  /** Bytes of the intermediate values the forward pass keeps for the backward pass. */
  readonly bytes: number;
  /** How many arrays those bytes are spread over. */
  readonly arrays: number;
}

const sizeInBytes = (v: Value): number => sizeOf(v.shape) * byteSize[v.dtype];

/** Traces `f(...args)` abstractly and hands the forward tape of its differentiation to `count`. */
const withTape = (
  op: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  count: (tape: Tape, inputs: ReadonlySet<Value>) => void,
): void => {
  const closed = traceTreeAs(op, f, args);
  const leaves = treeFlatten(args)[0];
  traceToGraph(
    (inputs) => {
      const needs = inputs.map((a, i) => i >= closed.consts.length && isFloating(a.dtype));
      // What grad does (vjp.ts): the same passes, then the forward pass, so the estimate counts what it keeps.
      count(linearizeGraph(kit, closed.graph, inputs, needs).tape, new Set(inputs));
      return [];
    },
    [...closed.consts, ...leaves].map(avalOf),
    op,
  );
};

/**
 * Estimates the bytes that differentiating `f(...args)` with respect to all float arguments
 * keeps between the forward and the backward pass: every value on the tape counted once
 * (arguments and captured constants excluded — they exist anyway). Reshapes are counted as
 * copies although they share buffers, so this is an upper bound. Nothing is computed.
 * @example estimateResiduals((x) => sum(tanh(tanh(x))), zeros([1000], "float64")).bytes // ≈ 16000
 */
export const estimateResiduals = (f: (...args: never[]) => unknown, ...args: readonly unknown[]): ResidualEstimate => {
  expectFunction("estimateResiduals", "f", f);
  let bytes = 0;
  let arrays = 0;
  withTape("estimateResiduals", f, args, (tape, inputs) => {
    for (const v of tapeValues(tape)) {
      if (!isTracer(v) || inputs.has(v)) continue;
      bytes += sizeInBytes(v);
      arrays++;
    }
  });
  return { bytes, arrays };
};

/**
 * Estimates the bytes a `scan` call stores for its gradient (the per-step residuals its forward
 * pass stacks) under `opts.remat`. Policies change this number, never the results: "all"
 * stores what the body's VJP reads at every step, plus the input projections computed for all
 * steps before the loop (see passes/lift.ts) and what their differentiation keeps; "carries" one
 * carry per step; `{ every: k }` one carry per k steps (its backward pass then holds one k-step
 * segment at a time on top). As in `estimateResiduals`, reshapes count as copies.
 * @example estimateScanResiduals(step, h0, xs, { remat: "carries" }).bytes
 */
export const estimateScanResiduals = <C, X, Y>(
  f: ScanFn<C, X, Y>,
  init: C,
  xs: X | null,
  opts: ScanOptions = {},
): ResidualEstimate => {
  expectOptions("estimateScanResiduals", opts, SCAN_OPTION_KEYS);
  const liftsOut = scanRemat(opts) === "all";
  let bytes = 0;
  let arrays = 0;
  const count = (v: Value): void => {
    bytes += sizeInBytes(v);
    arrays++;
  };
  withTape(
    "estimateScanResiduals",
    (c: C, x: X | null) => scan(f, c, x, opts),
    [init, xs],
    (tape, inputs) => {
      for (const entry of tape.entries) {
        if (entry.eqn.prim.name === "scan") {
          entry.residuals.forEach(count);
        } else if (liftsOut) {
          // Only "all" lifts work out of the loop; what the lifted equations produce stays alive.
          for (const v of entry.outs) if (isTracer(v) && !inputs.has(v)) count(v);
        }
      }
    },
  );
  return { bytes, arrays };
};
