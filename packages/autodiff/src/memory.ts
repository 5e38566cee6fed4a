/**
 * @file How much a differentiated scan keeps alive between its forward and backward passes.
 */
import { byteSize, isFloating, sizeOf } from "@rewind/tensor";
import { traceToGraph, type Value } from "./core.js";
import { avalOf } from "./Graph.js";
import { kit } from "./kit.js";
import { scan, type ScanFn, type ScanOptions } from "./scan.js";
import { traceTree } from "./trace.js";
import { treeFlatten } from "./Tree.js";
import { forwardPass } from "./vjp.js";

/** The residual memory of one differentiated call. */
export interface ResidualEstimate {
  /** Bytes of the per-step values the forward pass stores for the backward pass. */
  readonly bytes: number;
  /** How many stored arrays those bytes are spread over. */
  readonly arrays: number;
}

/**
 * Estimates the bytes a `scan` call saves for its gradient under `opts.checkpoint` — without
 * computing anything (it traces abstractly). Policies change this number, never the results:
 * "all" stores the body's residuals per step, "carries" one carry per step, `{ every: k }` one
 * carry per k steps (the backward pass then holds one k-step segment at a time on top).
 * @example estimateScanResiduals(step, h0, xs, { checkpoint: "carries" }).bytes
 */
export const estimateScanResiduals = <C, X, Y>(f: ScanFn<C, X, Y>, init: C, xs: X | null, opts: ScanOptions = {}): ResidualEstimate => {
  const closed = traceTree((c: C, x: X | null) => scan(f, c, x, opts), [init, xs]);
  const leaves = treeFlatten([init, xs])[0];
  let bytes = 0;
  let arrays = 0;
  traceToGraph((args) => {
    const needs = args.map((a, i) => i >= closed.consts.length && isFloating(a.dtype));
    const { tape } = forwardPass(kit, closed.graph, args, needs);
    for (const entry of tape.entries) {
      if (entry.eqn.prim.name !== "scan") continue;
      for (const r of entry.residuals as readonly Value[]) {
        bytes += sizeOf(r.shape) * byteSize[r.dtype];
        arrays++;
      }
    }
    return [];
  }, [...closed.consts, ...leaves].map(avalOf));
  return { bytes, arrays };
};
