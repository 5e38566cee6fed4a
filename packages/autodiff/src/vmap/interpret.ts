/**
 * @file The batching interpreter: evaluates a graph traced for one example on values that carry a
 * batch axis, equation by equation, through each primitive's `batch` rule. Rules emit ordinary
 * ops, so on tensors this computes and under an enclosing transform it records: `jit(vmap(f))`,
 * `grad(vmap(f))`, `vmap(grad(f))` and `vmap(vmap(f))` need nothing else.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import { zipStrict, internalError } from "../errors.js";
import { avalOf, describeAval, type Atom, type Aval, type Eqn, type Graph } from "../Graph.js";
import type { Kit } from "../kit.js";
import { batchByLoop, type AnyPrimitive, type BatchDim, type BatchResult } from "../Primitive.js";
import { insertAt } from "../primitives/batching.js";

/** A value under vmap: the data and the axis that indexes the examples (`null`: shared by all). */
export interface Batched {
  /** The data, with the batch axis (if any). */
  readonly value: Value;
  /** Where the batch axis is, or null. */
  readonly dim: BatchDim;
}

/**
 * Runs `graph` (traced for one example) on `inputs` whose batch axes are `dims`, for `size`
 * examples, with the graph ops of `kit` (a parameter, so that scan's rule can batch its body
 * without an import cycle). Returns each output and its batch axis (`null`: no input reaches it).
 * @example batchGraph(kit, g, [xs], [0], 8) // g's outputs for the 8 rows of xs, and their batch axes
 */
export const batchGraph = (
  kit: Kit,
  graph: Graph,
  inputs: readonly Value[],
  dims: readonly BatchDim[],
  size: number,
): readonly Batched[] => {
  const env = new Map<number, Batched>();
  zipStrict(graph.inputs, inputs).forEach(([v, value], i) => env.set(v.id, { value, dim: dims[i]! }));
  const read = (a: Atom): Batched =>
    a._tag === "Literal" ? { value: a.value, dim: null } : (env.get(a.id) ?? internalError(`vmap: ${a.id} unset`));
  for (const eqn of graph.eqns) {
    const ins = eqn.inputs.map(read);
    const outs = batchEqn(kit, eqn, ins, size);
    for (const [v, x] of zipStrict(eqn.outputs, outs)) env.set(v.id, x);
  }
  return graph.outputs.map(read);
};

/** One equation: unbatched inputs run as they are; otherwise the primitive's rule (or the loop). */
const batchEqn = (kit: Kit, eqn: Eqn, ins: readonly Batched[], size: number): readonly Batched[] => {
  const values = ins.map((b) => b.value);
  const dims = ins.map((b) => b.dim);
  if (dims.every((d) => d === null)) {
    return bind(eqn.prim, values, eqn.params, eqn.source).map((value) => ({ value, dim: null }));
  }
  const rule = eqn.prim.batch;
  const [outs, outDims] =
    rule === undefined || rule === batchByLoop
      ? batchLoop(kit, eqn.prim, values, dims, size, eqn.params)
      : rule(values, { params: eqn.params, dims, size, bind: (xs, p) => bind(eqn.prim, xs, p, eqn.source) }, kit);
  const expected = eqn.outputs.map((v) => v.aval);
  return zipStrict(outs, outDims).map(([value, dim], i) => checked(eqn.prim.name, value, dim, expected[i]!, size));
};

/** A rule's output must be the per-example aval with the batch axis inserted (a wrong rule fails here, named). */
const checked = (name: string, value: Value, dim: BatchDim, aval: Aval, size: number): Batched => {
  const want = dim === null ? aval.shape : insertAt(aval.shape, dim, size);
  if (value.dtype !== aval.dtype || !T.shapesEqual(value.shape, want)) {
    internalError(
      `vmap: the batching rule of ${name} returned ${describeAval(avalOf(value))} with batch axis ${dim}, ` +
        `expected ${describeAval({ shape: want, dtype: aval.dtype })}`,
    );
  }
  return { value, dim };
};

/** Example `b` of a value batched at `dim`. */
const exampleOf = (kit: Kit, x: Value, dim: number, b: number): Value => {
  const start = x.shape.map((_, i) => (i === dim ? b : 0));
  const window = { start, step: x.shape.map(() => 1), size: x.shape.map((n, i) => (i === dim ? 1 : n)) };
  return kit.reshape(
    kit.sliceWindow(x, window),
    x.shape.filter((_, i) => i !== dim),
  );
};

/**
 * The generic fallback (`batch: batchByLoop`, or a primitive defined without a rule): applies the
 * primitive to each example and stacks the results. Correct for any primitive, but it records
 * `size` copies of the equation; primitives of the registry that still use it are listed in the
 * README.
 */
const batchLoop = (
  kit: Kit,
  prim: AnyPrimitive,
  ins: readonly Value[],
  dims: readonly BatchDim[],
  size: number,
  params: unknown,
): BatchResult => {
  if (size === 0) {
    const avals = prim.abstractEval(
      ins.map((x, i) => ({
        shape: dims[i] === null ? x.shape : x.shape.filter((_, j) => j !== dims[i]),
        dtype: x.dtype,
      })),
      params,
    );
    return [avals.map((a) => kit.broadcastTo(T.scalar(0, a.dtype), [0, ...a.shape])), avals.map(() => 0)];
  }
  const per = Array.from({ length: size }, (_, b) =>
    bind(
      prim,
      ins.map((x, i) => (dims[i] === null ? x : exampleOf(kit, x, dims[i]!, b))),
      params,
    ),
  );
  return [
    per[0]!.map((_, j) =>
      kit.stack(
        per.map((outs) => outs[j]!),
        0,
      ),
    ),
    per[0]!.map(() => 0),
  ];
};
