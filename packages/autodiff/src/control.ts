/**
 * @file Function transforms that become one primitive: `remat` (rematerialise in the backward
 * pass; `checkpoint` is its deprecated old name) and `customVjp` (a user-supplied VJP).
 */
import { bind, type Value } from "./core.js";
import { graphFail } from "./errors.js";
import type { Graph } from "./Graph.js";
import { expectFunction } from "./check.js";
import { customVjp as customVjpPrim } from "./primitives/customVjp.js";
import { remat as rematPrim } from "./primitives/special.js";
import { GRAD_PIPELINE, optimize } from "./passes/index.js";
import { traceTreeAs } from "./trace.js";
import { treeFlatten, treeUnflatten } from "./Tree.js";
import type { Transformed } from "./types.js";

/**
 * A traced body as its primitive stores it: after the passes `grad` runs, so that its `impl`
 * (which evaluates the body) and its VJP (which linearises it) never see a raw scan, and an
 * eager call computes what a jitted one does.
 */
const prepared = (body: Graph): Graph => optimize(body, GRAD_PIPELINE).graph;

// One builder for both names, so an error names the function the user called.
const rematAs =
  (op: string) =>
  <Args extends unknown[], R>(f: (...args: Args) => R): Transformed<Args, R> => {
    expectFunction(op, "f", f);
    // On tensors the primitive evaluates its body, so the outputs are tensors (`Concrete<R>`).
    return ((...args: Args): R => {
      const closed = traceTreeAs(op, f, args);
      const leaves = treeFlatten(args)[0];
      const outs = bind(rematPrim, [...closed.consts, ...leaves], { body: prepared(closed.graph) });
      return treeUnflatten<R>(closed.outTree, outs);
    }) as Transformed<Args, R>;
  };

/**
 * Wraps `f` so that, when differentiated, only its inputs are stored and its body is recomputed
 * during the backward pass (rematerialisation, JAX's `remat`). Values are unchanged, bit for bit;
 * gradients are the same sums, with the cotangents of an input used both inside and outside the
 * body added in another order (the body's first), so their last bits may differ.
 * @example grad((x) => sum(remat((y) => tanh(tanh(y)))(x)))(x)
 */
export const remat: <Args extends unknown[], R>(f: (...args: Args) => R) => Transformed<Args, R> = rematAs("remat");

/**
 * The old name of `remat`; "checkpoint" now only means saved training state (@rewind/optim).
 * @deprecated Use `remat(f)`; same behaviour.
 * @example grad((x) => sum(checkpoint((y) => tanh(tanh(y)))(x)))(x)
 */
export const checkpoint: <Args extends unknown[], R>(f: (...args: Args) => R) => Transformed<Args, R> =
  rematAs("checkpoint");

/**
 * Gives `f` a hand-written VJP: `fwd(...args)` returns `[f(...args), residuals]` and
 * `bwd(residuals, ct)` returns one cotangent pytree per argument. Without differentiation `f`
 * runs as traced. `f` must not close over values being differentiated (pass them as arguments).
 * @example const clipGrad = customVjp((x) => x, (x) => [x, null], (_r, g) => [clip(g, -1, 1)])
 */
export const customVjp =
  <Args extends unknown[], R, Res>(
    f: (...args: Args) => R,
    fwd: (...args: Args) => readonly [R, Res],
    bwd: (residuals: Res, ct: R) => readonly unknown[],
  ) =>
  (...args: Args): R => {
    if (typeof f !== "function" || typeof fwd !== "function" || typeof bwd !== "function") {
      graphFail({
        _tag: "InvalidArgument",
        op: "customVjp",
        arg: "fwd, bwd",
        detail: "f, fwd and bwd must be functions",
        fix: "pass (f, fwd, bwd)",
      });
    }
    const closed = traceTreeAs("customVjp", f, args);
    const leaves: Value[] = treeFlatten(args)[0];
    const outs = bind(customVjpPrim, [...closed.consts, ...leaves], {
      body: prepared(closed.graph),
      numConsts: closed.consts.length,
      fwd,
      bwd,
      inDef: closed.inTree,
      outDef: closed.outTree,
    });
    return treeUnflatten<R>(closed.outTree, outs);
  };
