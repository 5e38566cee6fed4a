/**
 * @file Loop-invariant code motion for `scan`: equations of a body that read only its constants
 * (a weight's transpose, a bias broadcast to the batch) are computed once before the loop and
 * passed in as extra constants, instead of once per step. Every scan — the user's, the forward
 * pass that saves residuals, and the reverse scan of a VJP — is bound through `bindScan` (eager.ts).
 */
import { List } from "immutable";
import { evalGraph } from "../core.js";
import { Graph, type Eqn, type Var } from "../Graph.js";
import { rewriteScans, type Pass } from "./pass.js";

/** A body split in two: the loop-invariant prefix (consts → hoisted values) and the loop proper. */
export interface Hoisted {
  /** `(consts…) → (hoisted…)`. */
  readonly invariant: Graph;
  /** The body with the hoisted values as extra constants after the original ones. */
  readonly body: Graph;
}

/**
 * Splits off the equations of `body` that depend only on its first `numConsts` inputs (and
 * literals); `undefined` when there are none.
 * @example hoistInvariants(body, 2)?.invariant.eqns.size
 */
export const hoistInvariants = (body: Graph, numConsts: number): Hoisted | undefined => {
  const consts = body.inputs.slice(0, numConsts);
  const invariantIds = new Set(consts.map((v) => v.id));
  const invariantEqns: Eqn[] = [];
  const loopEqns: Eqn[] = [];
  for (const eqn of body.eqns) {
    if (eqn.inputs.every((a) => a._tag === "Literal" || invariantIds.has(a.id))) {
      invariantEqns.push(eqn);
      for (const v of eqn.outputs) invariantIds.add(v.id);
    } else {
      loopEqns.push(eqn);
    }
  }
  if (invariantEqns.length === 0) return undefined;
  // The hoisted values the loop still reads, in the order they were defined.
  const read = new Set<number>();
  for (const eqn of loopEqns) for (const a of eqn.inputs) if (a._tag === "Var") read.add(a.id);
  for (const a of body.outputs) if (a._tag === "Var") read.add(a.id);
  const constIds = new Set(consts.map((v) => v.id));
  const hoisted: Var[] = invariantEqns.flatMap((e) => e.outputs).filter((v) => read.has(v.id) && !constIds.has(v.id));
  return {
    invariant: new Graph(consts, List(invariantEqns), hoisted),
    body: new Graph([...consts, ...hoisted, ...body.inputs.slice(numConsts)], List(loopEqns), body.outputs),
  };
};

/**
 * Loop-invariant code motion for every scan of a graph: the body's equations that read only its
 * constants run once, before the loop, and enter it as extra constants. Changes no bits (the same
 * primitive on the same operands, run once instead of T times).
 * @example hoist.run(graph).changed // equations moved out of scan bodies
 */
export const hoist: Pass = {
  name: "hoist",
  run: (g) =>
    rewriteScans(g, {
      match: (p) => hoistInvariants(p.body, p.numConsts),
      size: (split) => split.invariant.eqns.size,
      apply: (split, ins, p, bindScan) => {
        const consts = ins.slice(0, p.numConsts);
        const hoisted = evalGraph(split.invariant, consts);
        return bindScan([...consts, ...hoisted, ...ins.slice(p.numConsts)], {
          ...p,
          body: split.body,
          numConsts: p.numConsts + hoisted.length,
        });
      },
    }),
};
