/**
 * @file The reverse-mode driver: evaluate a graph forward keeping a tape of residuals, then walk
 * the tape backward calling each primitive's VJP rule.
 *
 * Both passes go through `bind`, so on concrete tensors they compute, and under an enclosing
 * transform they record: the backward pass of a traced function is itself a graph. That is how
 * `grad(grad(f))`, `jvp` of `grad`, and `scan`'s reverse-scan VJP are all built from this file.
 * Cotangents live in a map from variable id; a missing entry is a symbolic zero, and equations
 * that no differentiated input reaches are never taped.
 */
import { isFloating, zeros } from "@rewind/tensor";
import { bind, type Value } from "./core.js";
import { debugState, duringVjpOf } from "./debugState.js";
import { internalError, zipStrict } from "./errors.js";
import type { Atom, Eqn, Graph } from "./Graph.js";
import { noGradient } from "./Primitive.js";
import type { Kit } from "./kit.js";
import { GRAD_PIPELINE, optimize } from "./passes/index.js";

/** What the forward pass saved for one differentiated equation. */
export interface TapeEntry {
  readonly eqn: Eqn;
  readonly ins: readonly Value[];
  readonly outs: readonly Value[];
  readonly residuals: readonly Value[];
  readonly aux: unknown;
  readonly needs: readonly boolean[];
}

/** The forward pass's record: taped equations in order and the ids of differentiated variables. */
export interface Tape {
  readonly entries: readonly TapeEntry[];
  readonly active: ReadonlySet<number>;
}

/** The result of linearizing a graph at a point: its outputs and a pullback for cotangents. */
export interface Linearized {
  /** The graph's outputs at the point, computed now. */
  readonly outs: readonly Value[];
  /** Maps output cotangents (`null` = zero) to input cotangents (`null` where not needed or zero). */
  readonly pullback: (cts: ReadonlyArray<Value | null>) => ReadonlyArray<Value | null>;
}

const isActiveIn =
  (active: ReadonlySet<number>) =>
  (a: Atom): boolean =>
    a._tag === "Var" && active.has(a.id);

/**
 * Evaluates `graph` on `inputs`, taping every equation reached by an input with `needs[i]`
 * (float inputs only). Primitives with a `forward` hook run it instead of plain `bind`.
 * @example forwardPass(kit, g, [x], [true]).outs
 */
export const forwardPass = (
  kit: Kit,
  graph: Graph,
  inputs: readonly Value[],
  needs: readonly boolean[],
): { readonly outs: readonly Value[]; readonly tape: Tape } => {
  const env = new Map<number, Value>();
  const active = new Set<number>();
  for (const [[v, x], need] of zipStrict(zipStrict(graph.inputs, inputs), needs)) {
    env.set(v.id, x);
    if (need && isFloating(v.aval.dtype)) active.add(v.id);
  }
  const read = (a: Atom): Value =>
    a._tag === "Literal" ? a.value : (env.get(a.id) ?? internalError(`unbound variable ${a.id}`));
  const isActive = isActiveIn(active);
  const entries: TapeEntry[] = [];
  for (const eqn of graph.eqns) {
    const ins = eqn.inputs.map(read);
    const eqnNeeds = eqn.inputs.map(isActive);
    let outs: readonly Value[];
    if (eqn.prim.vjp !== noGradient && eqnNeeds.some(Boolean)) {
      const fwd = eqn.prim.forward?.(ins, eqn.params, kit, eqnNeeds) ?? {
        outs: bind(eqn.prim, ins, eqn.params, eqn.source),
        residuals: [],
      };
      outs = fwd.outs;
      entries.push({ eqn, ins, outs, residuals: fwd.residuals, aux: fwd.aux, needs: eqnNeeds });
      for (const v of eqn.outputs) if (isFloating(v.aval.dtype)) active.add(v.id);
    } else {
      outs = bind(eqn.prim, ins, eqn.params, eqn.source);
    }
    for (const [v, x] of zipStrict(eqn.outputs, outs)) env.set(v.id, x);
  }
  return { outs: graph.outputs.map(read), tape: { entries, active } };
};

/**
 * Pulls output cotangents back through a tape to the cotangents of the graph's inputs
 * (`null` for inputs that were not differentiated or received nothing).
 * @example backwardPass(kit, g, tape, [ones([])])
 */
export const backwardPass = (
  kit: Kit,
  graph: Graph,
  tape: Tape,
  cts: ReadonlyArray<Value | null>,
): ReadonlyArray<Value | null> => {
  const isActive = isActiveIn(tape.active);
  const ctMap = new Map<number, Value>();
  const accumulate = (a: Atom, ct: Value): void => {
    if (a._tag !== "Var") return;
    const prev = ctMap.get(a.id);
    ctMap.set(a.id, prev === undefined ? ct : kit.add(prev, ct));
  };
  for (const [a, ct] of zipStrict(graph.outputs, cts)) if (ct !== null && isActive(a)) accumulate(a, ct);
  for (let i = tape.entries.length - 1; i >= 0; i--) {
    const { eqn, ins, outs, residuals, aux, needs } = tape.entries[i]!;
    const outCts = eqn.outputs.map((v) => ctMap.get(v.id) ?? null);
    const rule = eqn.prim.vjp;
    if (rule === noGradient || outCts.every((c) => c === null)) continue;
    // Multi-output primitives (scan) get explicit zeros for outputs nobody used.
    const filled = outCts.map((c, j) => c ?? zeros(eqn.outputs[j]!.aval.shape, eqn.outputs[j]!.aval.dtype));
    const ctx = { ins, outs, params: eqn.params, residuals, aux, needs };
    // Under withDebugNans, ops the rule emits are reported as part of this equation's VJP.
    const inCts = debugState.nans
      ? duringVjpOf(eqn.prim.name, eqn.source, () => rule(filled, ctx, kit))
      : rule(filled, ctx, kit);
    for (const [[a, ct], need] of zipStrict(zipStrict(eqn.inputs, inCts), needs))
      if (ct !== null && need) accumulate(a, ct);
  }
  return graph.inputs.map((v) => (tape.active.has(v.id) ? (ctMap.get(v.id) ?? null) : null));
};

/**
 * Linearizes `graph` at `inputs`: runs the forward pass now and returns a pullback.
 * @example vjpGraphWith(kit, g, [x], [true]).pullback([ones([])])
 */
export const vjpGraphWith = (
  kit: Kit,
  graph: Graph,
  inputs: readonly Value[],
  needs: readonly boolean[],
): Linearized => {
  const { outs, tape } = forwardPass(kit, graph, inputs, needs);
  return { outs, pullback: (cts) => backwardPass(kit, graph, tape, cts) };
};

/**
 * What the differentiation transforms do to a traced function: run `GRAD_PIPELINE` (hoist, lift, dce)
 * on its graph, then linearize it at `inputs`. Lifting comes first because it changes the
 * derivative program (after lifting, dW of an input projection is one matmul outside the loop).
 * `grad` and the memory estimates both call this, so what grad stores and what the estimates
 * say it stores come from one code path.
 * @example linearizeGraph(kit, closed.graph, [...closed.consts, ...leaves], needs).pullback([seed])
 */
export const linearizeGraph = (
  kit: Kit,
  graph: Graph,
  inputs: readonly Value[],
  needs: readonly boolean[],
): Linearized & { readonly tape: Tape } => {
  const prepared = optimize(graph, GRAD_PIPELINE).graph;
  const { outs, tape } = forwardPass(kit, prepared, inputs, needs);
  return { outs, tape, pullback: (cts) => backwardPass(kit, prepared, tape, cts) };
};

/**
 * Every distinct value saved on a tape, in first-seen order.
 * @example tapeValues(tape).length
 */
export const tapeValues = (tape: Tape): Value[] => {
  const seen = new Set<Value>();
  for (const e of tape.entries) for (const v of [...e.ins, ...e.outs, ...e.residuals]) seen.add(v);
  return [...seen];
};
