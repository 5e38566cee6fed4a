/**
 * @file Batching a primitive that holds a body graph (remat): the body is batched once into a new
 * closed graph whose batched inputs and outputs carry the batch axis first, so the primitive runs
 * once on the whole batch and keeps its meaning (remat still recomputes its body under `grad`).
 */
import { traceToGraph, type Value } from "../core.js";
import { avalOf, type Graph } from "../Graph.js";
import type { Kit } from "../kit.js";
import type { BatchDim } from "../Primitive.js";
import { materialize, moveAxis } from "../primitives/batching.js";
import { batchGraph, type Batched } from "./interpret.js";

/** A body batched once: its closed graph, the constants it captured, its arguments, its outputs' axes. */
export interface BatchedBody {
  /** Inputs `[...consts, ...args]`; batched args and outputs have the batch axis at 0. */
  readonly graph: Graph;
  /** Values the batched body captured (its first inputs). */
  readonly consts: readonly Value[];
  /** The primitive's inputs with their batch axes moved to 0. */
  readonly args: readonly Value[];
  /** 0 for a batched output, null for one no batched input reaches. */
  readonly outDims: readonly BatchDim[];
}

/**
 * Batches `body` for inputs `ins` whose batch axes are `dims` (see @file). With `allBatched`, every
 * output gets the batch axis, even one that no batched input reaches.
 * @example batchBody(kit, body, [xs], [1], 8).graph // the body for 8 examples at once
 */
export const batchBody = (
  k: Kit,
  body: Graph,
  ins: readonly Value[],
  dims: readonly BatchDim[],
  size: number,
  allBatched = false,
): BatchedBody => {
  const args = ins.map((x, i) => (dims[i] === null ? x : moveAxis(k, x, dims[i]!, 0)));
  const inner = dims.map((d) => (d === null ? null : 0));
  let outDims: BatchDim[] = [];
  const closed = traceToGraph(
    (tracers) => {
      const outs = batchGraph(k, body, tracers, inner, size);
      outDims = outs.map((o) => (o.dim === null && !allBatched ? null : 0));
      return outs.map((o) => (o.dim === null && !allBatched ? o.value : materialize(k, o.value, o.dim, size, 0)));
    },
    args.map(avalOf),
    "vmap",
  );
  return { graph: closed.graph, consts: closed.consts, args, outDims };
};

/**
 * Runs `fn` (on flat leaves, written for one example) on `leaves` batched at `dims`: traced once on
 * one example's avals, then batched (what `vmap` does, without pytrees or axis options).
 * @example batchFlat(kit, ([x]) => [exp(x!)], [xs], [0], 8) // [{ value: exp(xs), dim: 0 }]
 */
export const batchFlat = (
  k: Kit,
  fn: (leaves: readonly Value[]) => readonly Value[],
  leaves: readonly Value[],
  dims: readonly BatchDim[],
  size: number,
): readonly Batched[] => {
  const avals = leaves.map((x, i) => ({
    shape: dims[i] === null ? x.shape : x.shape.filter((_, j) => j !== dims[i]),
    dtype: x.dtype,
  }));
  const { graph, consts } = traceToGraph(fn, avals, "vmap");
  return batchGraph(k, graph, [...consts, ...leaves], [...consts.map(() => null), ...dims], size);
};
