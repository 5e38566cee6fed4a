/**
 * @file Scan's VJP under policy "all" by partial evaluation: one joint trace of a step's forward
 * pass and pullback, split into the forward scan's body and the reverse scan's body.
 *
 * The joint step is `J(consts, c_t, x_t | acc θ̄, c̄, ȳ_t) → (c_{t+1}, y_t | acc θ̄ + θ̄_t, c̄_t, x̄_t)`:
 * `forwardPass` over the body, then `backwardPass` over its tape, in one trace. `partialEval` with
 * consts, c_t and x_t known splits it. The known half is the forward scan's body, minus the equations neither
 * the outputs nor the residuals need (dce); the residuals are what that scan stacks; the unknown half
 * is the reverse scan's body. The pullback is staged out whole (every equation traced after the
 * forward pass), so the forward body computes what `forwardPass` does and the backward body what
 * `backwardPass` does, in the same order, on the same values: the arithmetic is unchanged.
 * Residuals are stacked in the order the tape first saw them (as when the tape itself was stored);
 * residuals that are the body's consts pass as consts, and captured tensors as extra consts.
 */
import { List } from "immutable";
import { isTracer, traceToGraph, type ClosedGraph, type Value } from "../core.js";
import { internalError } from "../errors.js";
import { Graph, newVar, type Atom, type Var } from "../Graph.js";
import type { Kit } from "../kit.js";
import { backwardPass, forwardPass, tapeValues } from "../vjp.js";
import { deadCodeElimination } from "../passes/dce.js";
import { partialEval } from "../passes/partialEval.js";
import { counts, type ScanParams } from "./params.js";
import { backwardAvals, backwardOutputs, outputCts, type Plan } from "./plan.js";

/** The two bodies of a differentiated scan under "all". */
export interface SplitStep {
  /** `[forwardConsts…, consts, c_t, x_t] → [c_{t+1}, y_t, residuals_t…]`. */
  readonly forward: Graph;
  /** Captured tensors the forward body reads, passed before the scan's own consts. */
  readonly forwardConsts: readonly Value[];
  /**
   * The backward step, closed over the captured tensors it reads:
   * `[consts | acc θ̄, c̄ | residuals_t…, ȳ_t] → [acc θ̄ + θ̄_t, c̄_t | x̄_t]`.
   */
  readonly backward: ClosedGraph;
}

/** The variables of `vars` that `eqns` or `outputs` read, in the order they are first read. */
const firstRead = (
  vars: readonly Var[],
  eqns: Iterable<{ readonly inputs: readonly Atom[] }>,
  outputs: readonly Atom[],
) => {
  const wanted = new Set(vars.map((v) => v.id));
  const order: Var[] = [];
  const seen = new Set<number>();
  const visit = (a: Atom): void => {
    if (a._tag !== "Var" || !wanted.has(a.id) || seen.has(a.id)) return;
    seen.add(a.id);
    order.push(a);
  };
  for (const eqn of eqns) eqn.inputs.forEach(visit);
  outputs.forEach(visit);
  return order;
};

/**
 * Traces the joint step of a scan under "all" and splits it into its forward and backward bodies
 * (see the file comment).
 * @example splitStep(p, plan(p, ins, needs), kit).forward.outputs.length // nk + ny + residuals
 */
export const splitStep = (p: ScanParams, pl: Plan, kit: Kit): SplitStep => {
  const { nc, nk, ny } = counts(p);
  const nIn = p.body.inputs.length;
  const nAcc = pl.constIdx.length;
  const nCt = pl.carryIdx.length;
  // Variable ids grow in creation order, so every equation of the pullback defines a variable
  // with an id above this mark, and every equation of the forward pass one below it.
  let mark = Infinity;
  let saved: readonly Value[] = [];
  const joint = traceToGraph(
    (args) => {
      const body = args.slice(0, nIn);
      const acc = args.slice(nIn, nIn + nAcc);
      const ctCarry = args.slice(nIn + nAcc, nIn + nAcc + nCt);
      const ctY = args.slice(nIn + nAcc + nCt);
      const run = forwardPass(kit, p.body, body, pl.needsBody);
      saved = tapeValues(run.tape);
      mark = newVar({ shape: [], dtype: "float32" }).id;
      const inCts = backwardPass(kit, p.body, run.tape, outputCts(p, pl, ctCarry, ctY));
      return [...run.outs, ...backwardOutputs(pl, kit, nc, nk, acc, ctCarry, inCts)];
    },
    [...p.body.inAvals, ...backwardAvals(pl), ...pl.yIdx.map((k) => p.body.outAvals[nk + k]!)],
    "scan",
  );
  const g = joint.graph;
  const nCaptured = joint.consts.length;
  const split = partialEval(
    g,
    g.inputs.map((_, i) => i < nCaptured + nIn),
    { staged: (eqn) => eqn.outputs.some((v) => v.id > mark) },
  );
  // The forward outputs are known; a pullback output is known only when it is a literal: a
  // cotangent is linear in the cotangents coming in, so one that does not depend on them is a zero
  // (a structurally zero derivative, e.g. abs's sign when the pullback is differentiated again),
  // which the backward body returns as it is.
  if (split.outputKnown.some((k, i) => (i < nk + ny ? !k : k && g.outputs[i]!._tag !== "Literal")))
    internalError("scan: a forward output needs the cotangents, or a pullback output is known and not a literal");
  const captured = g.inputs.slice(0, nCaptured);
  const capturedIndex = new Map(captured.map((v, i) => [v.id, i] as const));
  const bodyIns = g.inputs.slice(nCaptured, nCaptured + nIn);
  const bodyConsts = new Set(bodyIns.slice(0, nc).map((v) => v.id));
  // Stacked residuals: everything but the consts and captured tensors, in the tape's order.
  const tapeOrder = new Map<number, number>();
  saved.forEach((v, i) => isTracer(v) && !tapeOrder.has(v.variable.id) && tapeOrder.set(v.variable.id, i));
  const stacked = split.residuals.filter((v) => !capturedIndex.has(v.id) && !bodyConsts.has(v.id));
  if (stacked.some((v) => !tapeOrder.has(v.id))) internalError("scan: a residual is not on the tape");
  stacked.sort((a, b) => tapeOrder.get(a.id)! - tapeOrder.get(b.id)!);

  const fwdOuts = g.outputs.slice(0, nk + ny);
  // Equations only; the scans nested in the forward body keep their inputs (jit's pipeline decides).
  const known = deadCodeElimination(new Graph(split.known.inputs, split.known.eqns, [...fwdOuts, ...stacked]), {
    scans: false,
  }).graph;
  const fwdCaptured = firstRead(captured, known.eqns, known.outputs);
  const forward = new Graph([...fwdCaptured, ...bodyIns], known.eqns, known.outputs);

  const backEqns = List(split.unknown.eqns);
  const backOuts = g.outputs.slice(nk + ny);
  const backCaptured = firstRead(captured, backEqns, backOuts);
  const rest = g.inputs.slice(nCaptured + nIn);
  const backward = new Graph(
    [...backCaptured, ...bodyIns.slice(0, nc), ...rest.slice(0, nAcc + nCt), ...stacked, ...rest.slice(nAcc + nCt)],
    backEqns,
    backOuts,
  );
  const valueOf = (v: Var): Value => joint.consts[capturedIndex.get(v.id)!]!;
  return {
    forward,
    forwardConsts: fwdCaptured.map(valueOf),
    backward: { graph: backward, consts: backCaptured.map(valueOf) },
  };
};
