/**
 * @file `customVjp`: a function whose forward pass is a traced body and whose VJP is the user's.
 */
import * as T from "@rewind/tensor";
import { evalGraph } from "../core.js";
import { graphFail } from "../errors.js";
import type { Graph } from "../Graph.js";
import { avalsEqual, avalOf, describeAval } from "../Graph.js";
import { definePrimitive } from "../Primitive.js";
import { customVjpBatch } from "./customVjpBatch.js";
import { treeDefKey, treeFlatten, treeUnflatten, type TreeDef } from "../Tree.js";

/** Params of customVjp: the body of `f`, the user's fwd/bwd, and the argument/output structures. */
export interface CustomVjpParams {
  /** The traced graph of `f`, run when no gradient is taken. */
  readonly body: Graph;
  /** How many of the body's first inputs are captured constants (they get no cotangent). */
  readonly numConsts: number;
  /** The user's forward rule: the arguments to `[output, residuals]`. */
  readonly fwd: (...args: never[]) => readonly [unknown, unknown];
  /** The user's backward rule: residuals and the output's cotangent to one cotangent per argument. */
  readonly bwd: (residuals: never, ct: never) => readonly unknown[];
  /** The structure of `f`'s arguments. */
  readonly inDef: TreeDef;
  /** The structure of `f`'s output. */
  readonly outDef: TreeDef;
}

/** A primitive whose VJP is supplied by the user (see `customVjp` in control.ts). */
export const customVjp = definePrimitive<"customVjp", CustomVjpParams>({
  name: "customVjp",
  abstractEval: (_, { body }) => body.outAvals,
  impl: (ins, { body }) => evalGraph(body, ins) as readonly T.Tensor[],
  forward: (ins, p, _kit, needs) => {
    if (needs.slice(0, p.numConsts).some(Boolean)) {
      graphFail({
        _tag: "InvalidArgument",
        op: "customVjp",
        arg: "f",
        detail: "f closes over a value that is being differentiated, so its gradient would be lost",
        fix: "pass that value to f as an argument instead of closing over it",
      });
    }
    const args = treeUnflatten<unknown[]>(p.inDef, ins.slice(p.numConsts));
    const pair = (p.fwd as (...a: unknown[]) => unknown)(...args);
    if (!Array.isArray(pair) || pair.length !== 2) {
      graphFail({
        _tag: "InvalidArgument",
        op: "customVjp",
        arg: "fwd",
        detail: "fwd must return [output, residuals]",
        fix: "return a two-element array, e.g. [f(x), x]",
      });
    }
    const [out, res] = pair as [unknown, unknown];
    const [outs, outDef] = treeFlatten(out);
    if (
      treeDefKey(outDef) !== treeDefKey(p.outDef) ||
      !outs.every((v, i) => avalsEqual(avalOf(v), p.body.outAvals[i]!))
    ) {
      graphFail({
        _tag: "TreeMismatch",
        op: "customVjp",
        path: "fwd(...)[0]",
        detail: "fwd's output does not match f's output structure, shapes or dtypes",
        fix: "make fwd return [f(...args), residuals]",
      });
    }
    const [residuals, resDef] = treeFlatten(res);
    return { outs, residuals, aux: resDef };
  },
  // the cotangents are whatever the user's bwd says (on the arguments; none on closed-over constants)
  vjp: (cts, { ins, params: p, residuals, aux }) => {
    const res = treeUnflatten(aux as TreeDef, residuals);
    const ct = treeUnflatten(p.outDef, cts);
    const argCts = (p.bwd as (r: unknown, c: unknown) => readonly unknown[])(res, ct);
    const [leaves, def] = treeFlatten(argCts);
    const argIns = ins.slice(p.numConsts);
    if (treeDefKey(def) !== treeDefKey(p.inDef)) {
      graphFail({
        _tag: "TreeMismatch",
        op: "customVjp",
        path: "bwd(...)",
        detail: "bwd must return an array with one cotangent pytree per argument of f, shaped like the arguments",
        fix: "return [ct_arg0, ct_arg1, ...]",
      });
    }
    leaves.forEach((l, i) => {
      if (!avalsEqual(avalOf(l), avalOf(argIns[i]!))) {
        const [got, want] = [describeAval(avalOf(l)), describeAval(avalOf(argIns[i]!))];
        graphFail({
          _tag: "TreeMismatch",
          op: "customVjp",
          path: `bwd(...) leaf ${i}`,
          detail: `cotangent ${got} does not match its argument ${want}`,
          fix: "return cotangents with the shapes and dtypes of the arguments",
        });
      }
    });
    return [...ins.slice(0, p.numConsts).map(() => null), ...leaves];
  },
  // one customVjp over the batch: body, fwd and bwd are batched once
  batch: customVjpBatch,
  printParams: (p) => `fwd=${p.fwd.name || "anonymous"} bwd=${p.bwd.name || "anonymous"}`,
  subgraphs: (p) => [["body", p.body]],
});
