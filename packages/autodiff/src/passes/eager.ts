/**
 * @file Binding a scan: its loop invariants hoisted (hoist.ts) and, under policy "all", its input
 * projections lifted out of the loop (lift.ts), both bound in the current context.
 */
import { bind, evalGraph, type Value } from "../core.js";
import type { AnyPrimitive } from "../Primitive.js";
import type { ScanParams } from "../scan/params.js";
import { hoistInvariants } from "./hoist.js";
import { evalLifted, liftInputs } from "./lift.js";

/**
 * Binds `scan` after moving its body's loop-invariant equations in front of the loop, and (for
 * the "all" policy) computing its input projections for all steps at once (see lift.ts).
 * Both are bound in the current context: computed now, or recorded in the enclosing graph.
 * @example bindScan(scan, ins, params)
 */
export const bindScan = (scan: AnyPrimitive, ins: readonly Value[], params: ScanParams): readonly Value[] => {
  let p = params;
  let args = ins;
  const split = hoistInvariants(p.body, p.numConsts);
  if (split !== undefined) {
    const consts = args.slice(0, p.numConsts);
    const hoisted = evalGraph(split.invariant, consts);
    args = [...consts, ...hoisted, ...args.slice(p.numConsts)];
    p = { ...p, body: split.body, numConsts: p.numConsts + hoisted.length };
  }
  const lift = p.policy === "all" && p.length > 1 ? liftInputs(p.body, p.numConsts, p.numCarry) : undefined;
  if (lift !== undefined) {
    const head = p.numConsts + p.numCarry;
    const xs = args.slice(head);
    const lifted = evalLifted(
      lift,
      p.body.inputs.slice(0, p.numConsts),
      args.slice(0, p.numConsts),
      p.body.inputs.slice(head),
      xs,
      p.length,
    );
    args = [...args.slice(0, head), ...lift.keptXs.map((i) => xs[i]!), ...lifted];
    p = { ...p, body: lift.body };
  }
  return bind(scan, args, p);
};
