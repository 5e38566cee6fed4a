/**
 * @file Primitives that shape differentiation itself: stopGradient, and remat (rematerialise:
 * recompute the body in the backward pass instead of storing its intermediates).
 */
import type { Graph } from "../Graph.js";
import { avalsEqual } from "../Graph.js";
import { evalGraph } from "../core.js";
import type { Tensor } from "@rewind/tensor";
import { definePrimitive } from "../Primitive.js";
import { batchBody } from "../vmap/subgraph.js";
import { sameLayoutBatch } from "./batching.js";
import { internalError } from "../errors.js";

/** The identity whose output carries no gradient (a constant to every transform above it). */
export const stopGradient = definePrimitive<"stopGradient", void>({
  name: "stopGradient",
  abstractEval: ([x]) => [x!],
  impl: ([x]) => [x!],
  // d stopGradient(x) = 0
  vjp: () => [null],
  batch: sameLayoutBatch,
});

/** Params of `remat`: the body graph it runs. */
export interface RematParams {
  /** The closed graph of the rematerialised function; its VJP re-runs it instead of storing residuals. */
  readonly body: Graph;
}

/** @deprecated Renamed `RematParams` ("checkpoint" now only means saved training state). */
export type CheckpointParams = RematParams;

/**
 * Runs a closed body; under differentiation only its inputs are stored and the body is recomputed
 * in the backward pass (JAX's `remat`).
 */
export const remat = definePrimitive<"remat", RematParams>({
  name: "remat",
  abstractEval: (ins, { body }) => {
    if (ins.length !== body.inputs.length || !ins.every((a, i) => avalsEqual(a, body.inputs[i]!.aval))) {
      internalError("remat: inputs do not match the body");
    }
    return body.outAvals;
  },
  impl: (ins, { body }) => evalGraph(body, ins) as readonly Tensor[],
  // d remat(f)(x) = the VJP of f, recomputing f's forward pass now
  vjp: (cts, { ins, params: { body }, needs }, { vjpGraph }) => vjpGraph(body, ins, needs).pullback(cts),
  // a batched remat: the body is batched once and still recomputed under grad
  batch: (ins, { dims, size, params: { body }, bind }, k) => {
    const b = batchBody(k, body, ins, dims, size);
    return [bind([...b.consts, ...b.args], { body: b.graph }), b.outDims];
  },
  printParams: () => "",
  subgraphs: ({ body }) => [["body", body]],
});
