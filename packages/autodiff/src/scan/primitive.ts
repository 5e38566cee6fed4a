/**
 * @file `scan`: a loop primitive whose params hold a closed body graph, and whose VJP is a scan
 * running the other way — backpropagation through time as graph differentiation.
 *
 * Semantics are JAX's `lax.scan`: `scan :: (c -> a -> (c, b)) -> c -> [a] -> (c, [b])`.
 * The body maps `(consts…, carry…, x_t…) → (carry'…, y_t…)`; xs and ys are stacked on axis 0.
 *
 * Reverse mode: for `c_{t+1}, y_t = f(θ, c_t, x_t)` the cotangents obey
 * `(θ̄_t, c̄_t, x̄_t) = f*(θ, c_t, x_t)(c̄_{t+1}, ȳ_t)` with `θ̄ = Σ_t θ̄_t`, which is itself a scan
 * in the opposite direction. The forward pass saves per-step residuals as extra stacked outputs:
 * - policy "all": everything the body's VJP reads (its tape), so the backward scan only pulls back;
 * - policy "carries": only the carry entering each step, and the backward scan recomputes the
 *   step's forward pass before pulling back (less memory, one more forward pass).
 * The graph's size never depends on the sequence length.
 */
import * as T from "@rewind/tensor";
import { evalGraph } from "../core.js";
import { avalsEqual, type Aval } from "../Graph.js";
import { GraphException, graphFail, internalError } from "../errors.js";
import { definePrimitive, type AnyPrimitive, type BatchedPrimitive } from "../Primitive.js";
import { counts, stacked, unstacked, type ScanParams } from "./params.js";
import { scanForward, scanVjp } from "./vjp.js";
import { scanBatch } from "./batch.js";

export type { ScanParams, ScanPolicy } from "./params.js";

/** Row t of a stacked tensor, sharing its (immutable) buffer. */
const row = (x: T.Tensor, t: number): T.Tensor => {
  const shape = x.shape.slice(1);
  const n = T.sizeOf(shape);
  return T.fromBuffer(x.dtype, shape, x.data.subarray(t * n, (t + 1) * n));
};

const scanAbstractEval = (ins: readonly Aval[], p: ScanParams): Aval[] => {
  const { nc, nk } = counts(p);
  const bodyIns = p.body.inAvals;
  const ok =
    ins.length === bodyIns.length &&
    ins.every((a, i) =>
      i < nc + nk ? avalsEqual(a, bodyIns[i]!) : a.shape[0] === p.length && avalsEqual(unstacked(a), bodyIns[i]!),
    ) &&
    p.body.outAvals.slice(0, nk).every((a, i) => avalsEqual(a, bodyIns[nc + i]!));
  if (!ok) internalError("scan: operands do not match the body (the scan wrapper should have reported this)");
  return [...p.body.outAvals.slice(0, nk), ...p.body.outAvals.slice(nk).map((a) => stacked(a, p.length))];
};

/** Rethrows `e`; a `withDebugNans` report from the body gains the step it happened at. */
const atStep = (e: unknown, t: number, p: ScanParams): never => {
  if (e instanceof GraphException && e.error._tag === "NonFinite") {
    const order = p.reverse ? ", run last to first" : "";
    graphFail({ ...e.error, detail: `${e.error.detail}; at step t = ${t} of a scan of length ${p.length}${order}` });
  }
  throw e;
};

const scanImpl = (ins: readonly T.Tensor[], p: ScanParams): T.Tensor[] => {
  const { nc, nk } = counts(p);
  const consts = ins.slice(0, nc);
  const xs = ins.slice(nc + nk);
  let carry = ins.slice(nc, nc + nk);
  const yAvals = p.body.outAvals.slice(nk);
  const yBufs = yAvals.map((a) => T.allocate(a.dtype, p.length * T.sizeOf(a.shape)));
  for (let step = 0; step < p.length; step++) {
    const t = p.reverse ? p.length - 1 - step : step;
    let outs: readonly T.Tensor[];
    try {
      outs = evalGraph(p.body, [...consts, ...carry, ...xs.map((x) => row(x, t))]) as readonly T.Tensor[];
    } catch (e) {
      return atStep(e, t, p);
    }
    carry = outs.slice(0, nk);
    outs.slice(nk).forEach((y, j) => yBufs[j]!.set(y.data, t * y.data.length));
  }
  return [...carry, ...yBufs.map((b, j) => T.fromBuffer(yAvals[j]!.dtype, stacked(yAvals[j]!, p.length).shape, b))];
};

/** The loop primitive. */
export const scan: AnyPrimitive & BatchedPrimitive = definePrimitive<"scan", ScanParams>({
  name: "scan",
  abstractEval: scanAbstractEval,
  impl: scanImpl,
  forward: (ins, p, kit, needs) => scanForward(scan, ins, p, kit, needs),
  vjp: (cts, ctx, kit) => scanVjp(scan, cts, ctx, kit),
  printParams: (p) =>
    `length=${p.length} reverse=${p.reverse} consts=${p.numConsts} carry=${p.numCarry} policy=${p.policy}` +
    ((p.accumulators ?? 0) > 0 ? ` accumulators=${p.accumulators}` : ""),
  // a batched scan is a scan: carries and xs gain the batch axis, the body is batched once
  batch: scanBatch,
  subgraphs: (p) => [["body", p.body]],
});
