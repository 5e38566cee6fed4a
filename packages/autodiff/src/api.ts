/**
 * @file The differentiation transforms: grad, valueAndGrad, vjp, jvp (jacrev, jacfwd and hessian
 * are in jacobian.ts).
 *
 * Each traces the function into a graph, runs the reverse-mode driver on it, and rebuilds
 * pytrees. On concrete tensors the result is computed; under another transform it is recorded,
 * so transforms compose (`grad(grad(f))`, `jvp(grad(f))`). Forward mode is derived, not written
 * per primitive: a pullback is linear in its cotangent, so the VJP of the pullback is the JVP
 * (the "double-VJP" construction).
 */
import * as T from "@rewind/tensor";
import { isTracer, type Value } from "./core.js";
import { expectFlag, expectFunction, expectOptions } from "./check.js";
import { graphFail } from "./errors.js";
import { avalOf, avalsEqual, describeAval } from "./Graph.js";
import { kit } from "./kit.js";
import { broadcastTo } from "./ops/lift.js";
import { traceTreeAs } from "./trace.js";
import { treeDefKey, treeFlatten, treeLeavesWithPaths, treeUnflatten } from "./Tree.js";
import { linearizeGraph } from "./vjp.js";
import type { Concrete } from "./types.js";

/** Options of grad/valueAndGrad: which arguments to differentiate, and whether f returns [value, aux]. */
export interface GradOptions {
  /** Which arguments to differentiate: one index (default 0) or an array of indices. */
  readonly argnums?: number | readonly number[];
  /** The function returns `[loss, aux]`; `aux` is passed through undifferentiated. */
  readonly hasAux?: boolean;
}

/**
 * The static type of the gradients: the argument itself for one argnum (default 0), a tuple of
 * the arguments for an array of argnums (a gradient has its argument's pytree structure).
 */
export type GradsOf<Args extends unknown[], O extends GradOptions> = O extends {
  /** The argnums the options name (a literal type, or `number`). */
  readonly argnums: infer N;
}
  ? N extends number
    ? Args[N]
    : N extends readonly number[]
      ? { -readonly [K in keyof N]: N[K] extends number ? Args[N[K]] : never }
      : Args[0]
  : Args[0];

/**
 * The auxiliary output's type of an `f` that returns `[value, aux]` (`unknown` for any other result).
 * @example type A = AuxOf<[Value, { count: number }]> // { count: number }
 */
export type AuxOf<R> = R extends readonly [unknown, infer A] ? A : unknown;

/** What `grad` returns: the gradients, or `[gradients, aux]` with `hasAux` (aux typed from `f`'s result `R`). */
export type GradResult<Args extends unknown[], O extends GradOptions, R = unknown> = O extends {
  /** Options that ask for an auxiliary output. */
  readonly hasAux: true;
}
  ? [GradsOf<Args, O>, AuxOf<R>]
  : GradsOf<Args, O>;

/**
 * A function made by `valueAndGrad`: `[f's result, gradients]`, with tensors in both when every
 * argument is a tensor (a concrete call), traced values otherwise.
 */
export interface ValueAndGradFn<Args extends unknown[], R, O extends GradOptions> {
  (...args: Concrete<Args>): Concrete<[R, GradsOf<Args, O>]>;
  (...args: Args): [R, GradsOf<Args, O>];
}

/** A function made by `grad`: the gradients (and aux), with tensors on a concrete call. */
export interface GradFn<Args extends unknown[], R, O extends GradOptions> {
  (...args: Concrete<Args>): Concrete<GradResult<Args, O, R>>;
  (...args: Args): GradResult<Args, O, R>;
}

/**
 * Zeros shaped like `v` (a broadcast scalar, so nothing is allocated per element).
 * @internal Not re-exported from the package index.
 * @example zeroOf(tensor([1, 2])) // [0, 0]
 */
export const zeroOf = (v: Value): Value => broadcastTo(T.scalar(0, v.dtype), v.shape);

/**
 * `argnums` as a list, each index checked against the number of arguments `op` was called with.
 * @internal Not re-exported from the package index.
 * @example argnumList("grad", [0, 2], 3) // [0, 2]
 */
export const argnumList = (op: string, argnums: number | readonly number[], nargs: number): number[] => {
  if (typeof argnums !== "number" && !Array.isArray(argnums)) {
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "argnums",
      detail: `argnums must be an integer or an array of integers, got ${argnums === null ? "null" : typeof argnums}`,
      fix: "pass e.g. 0 or [0, 1]",
    });
  }
  // Typed from the declaration, not from the Array.isArray check above (which narrows to any[]).
  const given: number | readonly number[] = argnums;
  const list: number[] = typeof given === "number" ? [given] : Array.from(given);
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= nargs) {
      graphFail({
        _tag: "InvalidArgument",
        op,
        arg: "argnums",
        detail: `argnum ${a} is out of range for ${nargs} argument(s)`,
        fix: `use indices in [0, ${nargs - 1}]`,
      });
    }
  }
  return list;
};

/**
 * Linearizes `f` at `args`, differentiating the leaves of arguments in `argnums`. Returns the
 * output leaves, output structure and a pullback from output-leaf cotangents to per-argument
 * cotangent pytrees (zeros where nothing flows; int and bool leaves always get zeros).
 * @internal Not re-exported from the package index (grad, vjp and the Jacobians share it).
 * @example linearizeArgs("grad", (x) => sum(x), [tensor([1, 2])], [0]).pullback([scalar(1)]) // [[1, 1]]
 */
export const linearizeArgs = (
  op: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  argnums: readonly number[],
) => {
  const closed = traceTreeAs(op, f, args);
  const argLeaves = args.map((a) => treeFlatten(a));
  const leaves = argLeaves.flatMap(([l]) => l);
  const owner = argLeaves.flatMap(([l], i) => l.map(() => i));
  const needs = [...closed.consts.map(() => false), ...leaves.map((_, i) => argnums.includes(owner[i]!))];
  // Hoisting and lifting run before linearising: lifting changes what the derivative program is.
  const lin = linearizeGraph(kit, closed.graph, [...closed.consts, ...leaves], needs);
  const pullback = (cts: ReadonlyArray<Value | null>): unknown[] => {
    const inCts = lin.pullback(cts).slice(closed.consts.length);
    let at = 0;
    return argLeaves.map(([l, def], n) => {
      const mine = inCts.slice(at, (at += l.length));
      // Arguments not differentiated get no cotangent at all (not even zeros to compute).
      return argnums.includes(n)
        ? treeUnflatten(
            def,
            mine.map((ct, i) => ct ?? zeroOf(l[i]!)),
          )
        : undefined;
    });
  };
  return { outs: lin.outs, outTree: closed.outTree, pullback };
};

const scalarSeed = (op: string, v: Value): Value => {
  if (v.shape.length !== 0 || !T.isFloating(v.dtype)) graphFail({ _tag: "NonScalarOutput", op, aval: avalOf(v) });
  return T.scalar(1, v.dtype);
};

/** The error for an `f` whose value is not a tensor, saying what it returned. */
const notAValue = (op: string, value: unknown, hasAux: boolean): never => {
  const got = Array.isArray(value)
    ? `an array of length ${value.length}`
    : value === null
      ? "null"
      : typeof value === "number"
        ? `the plain number ${value} (a number computed outside Rewind's ops has no gradient)`
        : typeof value === "object"
          ? "an object"
          : typeof value;
  return graphFail({
    _tag: "InvalidArgument",
    op,
    arg: "f",
    detail: `${hasAux ? "with hasAux, the first element of f's result" : "f"} must be a scalar tensor, got ${got}`,
    fix:
      !hasAux && Array.isArray(value)
        ? "return one scalar tensor, e.g. sum(loss); if f returns [loss, aux], pass { hasAux: true }"
        : "return a scalar float tensor computed from the arguments with Rewind's ops, e.g. sum(loss)",
  });
};

/** valueAndGrad, reporting errors under the name the user called (`grad` or `valueAndGrad`). */
const valueAndGradAs =
  (op: string) =>
  <Args extends unknown[], R, const O extends GradOptions = Record<never, never>>(
    f: (...args: Args) => R,
    options: O = {} as O,
  ): ValueAndGradFn<Args, R, O> => {
    expectFunction(op, "f", f);
    const opts = expectOptions(op, options, ["argnums", "hasAux"]) as GradOptions;
    expectFlag(op, "options.hasAux", opts.hasAux);
    return ((...args: Args) => valueAndGradCall(op, f, opts, args)) as ValueAndGradFn<Args, R, O>;
  };

const valueAndGradCall = (
  op: string,
  f: (...args: never[]) => unknown,
  opts: GradOptions,
  args: readonly unknown[],
): [unknown, unknown] => {
  const nums = argnumList(op, opts.argnums === undefined ? 0 : opts.argnums, args.length);
  const { outs, outTree, pullback } = linearizeArgs(op, f, args, nums);
  const out = treeUnflatten<unknown>(outTree, outs);
  let value: Value;
  if (opts.hasAux ?? false) {
    if (!Array.isArray(out) || out.length !== 2) {
      graphFail({
        _tag: "InvalidArgument",
        op,
        arg: "f",
        detail: "with hasAux, f must return [value, aux]",
        fix: "return a two-element array",
      });
    }
    value = (out as unknown[])[0] as Value;
  } else {
    value = out as Value;
  }
  if (!T.isTensor(value) && !isTracer(value)) notAValue(op, value, opts.hasAux ?? false);
  // The value is the first output leaf (with hasAux, out = [value, aux] flattens value first);
  // seeding by position, not identity, keeps an aux that repeats the value from doubling it.
  const seed = scalarSeed(op, value);
  const grads = pullback(outs.map((_, i) => (i === 0 ? seed : null)));
  return [out, typeof opts.argnums === "object" ? nums.map((n) => grads[n]) : grads[nums[0]!]];
};

/**
 * `f` and its gradient with respect to the arguments in `argnums` (default 0), in one pass.
 * `f` must return a scalar float (or `[scalar, aux]` with `hasAux`).
 * @returns `[value, grads]` or `[[value, aux], grads]`; grads is one pytree, or a tuple when `argnums` is an array.
 * @throws GraphException (`NonScalarOutput`) when f's value is not a scalar float.
 * @example valueAndGrad((x) => sum(mul(x, x)))(tensor([1, 2])) // [5, [2, 4]]
 */
export const valueAndGrad = valueAndGradAs("valueAndGrad");

/**
 * The gradient of a scalar-valued `f` with respect to the arguments in `argnums` (default 0).
 * @example grad((x) => sum(mul(x, x)))(tensor([1, 2])) // [2, 4]
 */
export const grad = <Args extends unknown[], R, const O extends GradOptions = Record<never, never>>(
  f: (...args: Args) => R,
  opts: O = {} as O,
): GradFn<Args, R, O> => {
  const vg = valueAndGradAs("grad")(f, opts);
  return ((...args: Args) => {
    const [out, g] = vg(...args);
    return (opts.hasAux ?? false) ? [g, (out as unknown[])[1]] : g;
  }) as GradFn<Args, R, O>;
};

const checkCotangent = (op: string, outs: readonly Value[], outTreeKey: string, ct: unknown): Value[] => {
  const [leaves, def] = treeFlatten(ct);
  if (treeDefKey(def) !== outTreeKey) {
    graphFail({
      _tag: "TreeMismatch",
      op,
      path: "ct",
      detail: `the cotangent's structure ${treeDefKey(def)} differs from the output's ${outTreeKey}`,
      fix: "pass a cotangent shaped like f's output",
    });
  }
  const paths = treeLeavesWithPaths(ct);
  leaves.forEach((l, i) => {
    if (!avalsEqual(avalOf(l), avalOf(outs[i]!))) {
      graphFail({
        _tag: "TreeMismatch",
        op,
        path: `ct${paths[i]![0]}`,
        detail: `cotangent ${describeAval(avalOf(l))} does not match the output ${describeAval(avalOf(outs[i]!))}`,
        fix: "give each cotangent leaf the shape and dtype of its output leaf",
      });
    }
  });
  return leaves;
};

/**
 * Evaluates `f` at `primals` and returns its output with a pullback: `pullback(ct)` returns one
 * cotangent pytree per primal.
 * @example const [y, pb] = vjp((x) => mul(x, 2), tensor([1])); pb(tensor([1])) // [[2]]
 */
export function vjp<Args extends unknown[], R>(
  f: (...args: Args) => R,
  ...primals: Concrete<Args>
): [Concrete<R>, (ct: Concrete<R>) => Concrete<Args>];
export function vjp<Args extends unknown[], R>(f: (...args: Args) => R, ...primals: Args): [R, (ct: R) => Args];
export function vjp(f: (...args: never[]) => unknown, ...primals: unknown[]): [unknown, (ct: unknown) => unknown[]];
export function vjp<Args extends unknown[], R>(f: (...args: Args) => R, ...primals: Args): [R, (ct: R) => Args] {
  expectFunction("vjp", "f", f);
  const nums = primals.map((_, i) => i);
  const { outs, outTree, pullback } = linearizeArgs("vjp", f, primals, nums);
  const key = treeDefKey(outTree);
  return [treeUnflatten(outTree, outs), (ct) => pullback(checkCotangent("vjp", outs, key, ct)) as Args];
}

/**
 * Forward mode: `f(primals)` and the directional derivative J·tangents. Built by differentiating
 * the (linear) pullback, so every primitive with a VJP — scan included — has a JVP.
 * @example jvp((x) => mul(x, x), [tensor([3])], [tensor([1])]) // [[9], [6]]
 */
export function jvp<Args extends unknown[], R>(
  f: (...args: Args) => R,
  primals: Readonly<Concrete<Args>>,
  tangents: Readonly<Concrete<Args>>,
): [Concrete<R>, Concrete<R>];
export function jvp<Args extends unknown[], R>(
  f: (...args: Args) => R,
  primals: Readonly<Args>,
  tangents: Readonly<Args>,
): [R, R];
export function jvp(
  f: (...args: never[]) => unknown,
  primals: readonly unknown[],
  tangents: readonly unknown[],
): [unknown, unknown];
export function jvp(f: (...args: never[]) => unknown, primals: unknown, tangents: unknown): [unknown, unknown] {
  expectFunction("jvp", "f", f);
  const primalArgs = primals as readonly unknown[];
  if (!Array.isArray(primals) || !Array.isArray(tangents)) {
    graphFail({
      _tag: "InvalidArgument",
      op: "jvp",
      arg: Array.isArray(primals) ? "tangents" : "primals",
      detail: "primals and tangents must be arrays (one entry per argument of f)",
      fix: "call jvp(f, [x], [v])",
    });
  }
  if (treeDefKey(treeFlatten(primals)[1]) !== treeDefKey(treeFlatten(tangents)[1])) {
    graphFail({
      _tag: "TreeMismatch",
      op: "jvp",
      path: "tangents",
      detail: "tangents must have the structure of primals",
      fix: "pass one tangent pytree per primal",
    });
  }
  const primalLeaves = treeFlatten(primals)[0];
  treeLeavesWithPaths(tangents).forEach(([path, t], i) => {
    if (!avalsEqual(avalOf(t), avalOf(primalLeaves[i]!))) {
      graphFail({
        _tag: "TreeMismatch",
        op: "jvp",
        path: `tangents${path}`,
        detail:
          `tangent ${describeAval(avalOf(t))} does not match ` + `the primal ${describeAval(avalOf(primalLeaves[i]!))}`,
        fix: "give each tangent leaf the shape and dtype of its primal",
      });
    }
  });
  const [out, pullback] = vjp(f as (...a: unknown[]) => unknown, ...primalArgs);
  const [outLeaves, outTree] = treeFlatten(out);
  const ctTemplate = treeUnflatten(outTree, outLeaves.map(zeroOf));
  const [, pullbackOfPullback] = vjp((ct: unknown) => pullback(ct), ctTemplate);
  const [tangentOut] = pullbackOfPullback(tangents);
  return [out, tangentOut];
}
