/**
 * @file customVjp's batching rule: one customVjp over the whole batch. Its body is batched once,
 * and the user's `fwd` and `bwd` are batched the same way (traced for one example, run through
 * the batching interpreter), so `grad` of a vmapped function still uses the user's VJP. Every
 * output and residual carries the batch axis at 0; an argument shared by all examples gets the
 * sum of its per-example cotangents.
 */
import type { Value } from "../core.js";
import type { Kit } from "../kit.js";
import type { BatchContext, BatchResult } from "../Primitive.js";
import { treeFlatten, treeUnflatten, type TreeDef } from "../Tree.js";
import { batchBody, batchFlat } from "../vmap/subgraph.js";
import type { Batched } from "../vmap/interpret.js";
import { materialize } from "./batching.js";
import type { CustomVjpParams } from "./customVjp.js";

type Fn = (...args: unknown[]) => unknown;

/** Keeps the user's function name, which printed graphs show (`fwd=…`). */
const named = <F extends Fn>(name: string, f: F): F => Object.defineProperty(f, "name", { value: name });

/** The batching rule of `customVjp` (see @file). */
export const customVjpBatch = (
  ins: readonly Value[],
  { dims, size, params: p, bind }: BatchContext<CustomVjpParams>,
  k: Kit,
): BatchResult => {
  const body = batchBody(k, p.body, ins, dims, size, true);
  const argDims = dims.slice(p.numConsts).map((d) => (d === null ? null : 0));
  const atZero = (outs: readonly Batched[]): Value[] => outs.map((o) => materialize(k, o.value, o.dim, size, 0));
  const fwd = named(p.fwd.name, (...args: unknown[]) => {
    let def: TreeDef | undefined;
    const outs = batchFlat(
      k,
      (leaves) => {
        const [l, d] = treeFlatten((p.fwd as Fn)(...treeUnflatten<unknown[]>(p.inDef, leaves)));
        def = d;
        return l;
      },
      treeFlatten(args)[0],
      argDims,
      size,
    );
    return treeUnflatten(def!, atZero(outs));
  });
  const bwd = named(p.bwd.name, (res: unknown, ct: unknown) => {
    const [resLeaves, resDef] = treeFlatten(res);
    const ctLeaves = treeFlatten(ct)[0];
    let def: TreeDef | undefined;
    const outs = batchFlat(
      k,
      (leaves) => {
        const r = treeUnflatten(resDef, leaves.slice(0, resLeaves.length));
        const c = treeUnflatten(p.outDef, leaves.slice(resLeaves.length));
        const [l, d] = treeFlatten((p.bwd as (r: unknown, c: unknown) => unknown)(r, c));
        def = d;
        return l;
      },
      [...resLeaves, ...ctLeaves],
      [...resLeaves, ...ctLeaves].map(() => 0),
      size,
    );
    // a shared argument's cotangent is the sum over the examples
    const cts = atZero(outs).map((g, i) => (argDims[i] === null ? k.sum(g, { axis: 0 }) : g));
    return treeUnflatten(def!, cts);
  });
  const outs = bind([...body.consts, ...body.args], {
    ...p,
    body: body.graph,
    numConsts: body.consts.length + p.numConsts,
    fwd: fwd as CustomVjpParams["fwd"],
    bwd: bwd as CustomVjpParams["bwd"],
  });
  return [outs, body.outDims];
};
