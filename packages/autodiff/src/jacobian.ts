/**
 * @file The Jacobian transforms, jacrev, jacfwd and hessian, over pytrees of arguments and
 * outputs, with `argnums` and `hasAux` (JAX's semantics).
 *
 * The differentiated argument leaves are one vector space (their elements concatenated, in
 * pytree order), and so are the output leaves. `jacrev` runs the pullback once, vmapped over the
 * rows of the identity of the output space; `jacfwd` runs the pushforward (the VJP of the linear
 * pullback, as `jvp` does) once, vmapped over the rows of the identity of the input space. Each
 * result is then cut into one block per (output leaf, input leaf) pair: one batched pass, however
 * many leaves there are.
 */
import * as T from "@rewind/tensor";
import { type Value } from "./core.js";
import { expectFlag, expectFunction, expectOptions } from "./check.js";
import { argnumList, linearizeArgs, vjp, zeroOf } from "./api.js";
import { graphFail } from "./errors.js";
import { reshape, split, transpose } from "./ops/shape.js";
import { treeFlatten, treeLeavesWithPaths, treeUnflatten, type TreeDef } from "./Tree.js";
import { vmap } from "./vmap/api.js";

/** Options of `jacrev`, `jacfwd` and `hessian`. */
export interface JacobianOptions {
  /** Which arguments to differentiate: one index (default 0), or an array of distinct indices. */
  readonly argnums?: number | readonly number[];
  /** `f` returns `[out, aux]`; only `out` is differentiated and the result is `[jacobian, aux]`. */
  readonly hasAux?: boolean;
}

/** The second argument of a Jacobian transform: options, or `argnums` alone (`jacrev(f, 1)`). */
export type JacobianSpec = JacobianOptions | number | readonly number[];

/**
 * The static type of a Jacobian: `Value` when one tensor argument (one argnum) maps to a tensor
 * output; otherwise `unknown`, whose run-time structure is described on `jacrev`. (The helper
 * types are written inline so that the documented type stands on its own.)
 */
export type JacobianOf<F, S> = F extends (...args: infer P) => infer R
  ? (
      S extends number | readonly number[]
        ? S
        : S extends {
              /** The argnums the options name (a literal type, or `number`). */
              readonly argnums: infer A;
            }
          ? A
          : 0
    ) extends infer N
    ? (
        S extends {
          /** Options that ask for an auxiliary output. */
          readonly hasAux: true;
        }
          ? R extends readonly [infer O, unknown]
            ? O
            : unknown
          : R
      ) extends infer Out
      ? [N, Out] extends [number, Value]
        ? [N extends keyof P ? P[N] : unknown] extends [Value]
          ? Value
          : unknown
        : unknown
      : unknown
    : unknown
  : unknown;

/** What a Jacobian transform returns: the Jacobian, or `[jacobian, aux]` with `hasAux`. */
export type JacobianResult<F, S> = S extends {
  /** Options that ask for an auxiliary output. */
  readonly hasAux: true;
}
  ? [JacobianOf<F, S>, F extends (...args: never[]) => readonly [unknown, infer X] ? X : unknown]
  : JacobianOf<F, S>;

interface Resolved {
  readonly argnums: number | readonly number[];
  readonly hasAux: boolean;
}

const describe = (x: unknown): string =>
  typeof x === "number"
    ? String(x)
    : x === null
      ? "null"
      : Array.isArray(x)
        ? "an array"
        : typeof x === "string"
          ? `the string ${JSON.stringify(x)}`
          : typeof x;

const badArgnums = (op: string, arg: string, detail: string): never =>
  graphFail({
    _tag: "InvalidArgument",
    op,
    arg,
    detail,
    fix: "pass an argument index such as 0, or distinct indices such as [0, 1]",
  });

/** Checks what `argnums` can be checked before the arguments arrive (their count is checked per call). */
const checkArgnums = (op: string, arg: string, argnums: unknown): number | readonly number[] => {
  const isIndex = (a: unknown): boolean => Number.isSafeInteger(a) && (a as number) >= 0;
  if (typeof argnums === "number") {
    if (!isIndex(argnums)) badArgnums(op, arg, `argnums must be a non-negative integer, got ${argnums}`);
    return argnums;
  }
  if (!Array.isArray(argnums)) {
    return badArgnums(op, arg, `argnums must be an integer or an array of integers, got ${describe(argnums)}`);
  }
  const list = argnums as readonly unknown[];
  if (list.length === 0) badArgnums(op, arg, "argnums is an empty array, so there is nothing to differentiate");
  list.forEach((a, i) => {
    if (!isIndex(a)) badArgnums(op, arg, `argnums[${i}] must be a non-negative integer, got ${describe(a)}`);
    if (list.indexOf(a) !== i) badArgnums(op, arg, `argnums lists argument ${a as number} twice`);
  });
  return Object.freeze([...(list as number[])]);
};

/** The second argument of a Jacobian transform, checked once when the transform is built. */
const resolveSpec = (op: string, spec: unknown): Resolved => {
  if (typeof spec === "number" || Array.isArray(spec))
    return { argnums: checkArgnums(op, "argnums", spec), hasAux: false };
  if (spec !== undefined && (spec === null || typeof spec !== "object")) {
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "options",
      detail: `expected argnums (an integer or an array of them) or an options object, got ${describe(spec)}`,
      fix: `call ${op}(f), ${op}(f, 1) or ${op}(f, { argnums: [0, 1], hasAux: true })`,
    });
  }
  const opts = expectOptions(op, spec, ["argnums", "hasAux"]) as JacobianOptions;
  return {
    argnums: opts.argnums === undefined ? 0 : checkArgnums(op, "options.argnums", opts.argnums),
    hasAux: expectFlag(op, "options.hasAux", opts.hasAux) ?? false,
  };
};

/** The leaves of a differentiated argument: at least one, all floating point. */
const floatLeaves = (op: string, arg: unknown, n: number): [Value[], TreeDef] => {
  const [leaves, def] = treeFlatten(arg);
  if (leaves.length === 0) {
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: `args[${n}]`,
      detail: `argument ${n} is differentiated (argnums) but holds no tensor, got ${describe(arg)}`,
      fix: "pass a float tensor or a pytree of them, or leave the argument out of argnums",
    });
  }
  // Paths are spelt out only for the error: the common case walks the tree once.
  if (leaves.every((l) => T.isFloating(l.dtype))) return [leaves, def];
  for (const [path, leaf] of treeLeavesWithPaths(arg)) {
    if (!T.isFloating(leaf.dtype)) {
      graphFail({
        _tag: "InvalidArgument",
        op,
        arg: `args[${n}]${path}`,
        detail: `a Jacobian needs float inputs, but args[${n}]${path} is ${leaf.dtype}`,
        fix: "cast it with astype(x, 'float64'), or leave its argument out of argnums (close over it instead)",
      });
    }
  }
  return [leaves, def];
};

/** The output part of f's result: all of it, or `out` of `[out, aux]` with hasAux. */
const splitAux = (op: string, result: unknown, hasAux: boolean): [unknown, unknown] => {
  if (!hasAux) return [result, undefined];
  if (!Array.isArray(result) || result.length !== 2) {
    graphFail({
      _tag: "InvalidArgument",
      op,
      arg: "f",
      detail: `with hasAux, f must return [out, aux], got ${describe(result)}`,
      fix: "return a two-element array, or drop { hasAux: true }",
    });
  }
  return [(result as unknown[])[0], (result as unknown[])[1]];
};

const checkFloatOutputs = (op: string, out: unknown, leaves: readonly Value[]): void => {
  if (leaves.every((l) => T.isFloating(l.dtype))) return;
  for (const [path, leaf] of treeLeavesWithPaths(out)) {
    if (!T.isFloating(leaf.dtype)) {
      graphFail({
        _tag: "InvalidArgument",
        op,
        arg: "f",
        detail: `a Jacobian needs float outputs, but f's output out${path} is ${leaf.dtype}`,
        fix: "cast it with astype(y, 'float64'), or return it as aux with { hasAux: true }",
      });
    }
  }
};

/** The stacked unit vectors of a space of `total` elements, restricted to one leaf at `offset`. */
const basisPart = (total: number, offset: number, leaf: Value): Value =>
  T.reshape(T.eye(total, T.sizeOf(leaf.shape), -offset, leaf.dtype), [total, ...leaf.shape]);

/** The one unit vector of a one-element leaf. */
const unit = (leaf: Value): T.Tensor => T.reshape(T.eye(1, 1, 0, leaf.dtype), leaf.shape);

/** Cuts axis 0 of `v` into parts of the given sizes (no op for one part). */
const cut = (v: Value, sizes: readonly number[]): Value[] => {
  if (sizes.length === 1) return [v];
  const points: number[] = [];
  let at = 0;
  for (const s of sizes.slice(0, -1)) points.push((at += s));
  return split(v, points, 0);
};

const sizes = (leaves: readonly Value[]): number[] => leaves.map((l) => T.sizeOf(l.shape));
const total = (ns: readonly number[]): number => ns.reduce((a, b) => a + b, 0);
const offsets = (ns: readonly number[]): number[] => {
  let at = 0;
  return ns.map((n) => (at += n) - n);
};

type Mode = "rev" | "fwd";

/**
 * Every block of the Jacobian, `blocks[k][j]` for output leaf k and differentiated input leaf j,
 * shaped `[...out_k.shape, ...in_j.shape]`, from one vmapped pullback (rev) or pushforward (fwd).
 */
const jacobianBlocks = (
  mode: Mode,
  pullback: (cts: readonly Value[]) => Value[],
  outs: readonly Value[],
  ins: readonly Value[],
): Value[][] => {
  const outSizes = sizes(outs);
  const inSizes = sizes(ins);
  if (mode === "rev") {
    const n = total(outSizes);
    if (outs.length === 1 && n === 1) {
      // One output element (a scalar loss, as in hessian's inner jacrev): one plain pullback, as
      // grad does, without vmap's extra trace.
      const rows = pullback([unit(outs[0]!)]);
      return [ins.map((x, j) => reshape(rows[j]!, [...outs[0]!.shape, ...x.shape]))];
    }
    const at = offsets(outSizes);
    const basis = outs.map((y, k) => basisPart(n, at[k]!, y));
    // Row r of each result is the pullback of the r-th unit cotangent: one vmapped pass.
    const rows = vmap((cts: Value[]) => pullback(cts), { axisSize: n })(basis);
    const parts = rows.map((r) => cut(r, outSizes));
    return outs.map((y, k) => ins.map((x, j) => reshape(parts[j]![k]!, [...y.shape, ...x.shape])));
  }
  const m = total(inSizes);
  // The pullback is linear in its cotangents, so its VJP (at any point, here zeros) pushes forward.
  const [, pushforward] = vjp((cts: Value[]) => pullback(cts), outs.map(zeroOf));
  if (ins.length === 1 && m === 1) {
    // One input element: one plain pushforward, without vmap's extra trace.
    const cols = pushforward([unit(ins[0]!)])[0];
    return outs.map((y, k) => [reshape(cols[k]!, [...y.shape, ...ins[0]!.shape])]);
  }
  const at = offsets(inSizes);
  const basis = ins.map((x, j) => basisPart(m, at[j]!, x));
  const cols = vmap((ts: Value[]) => pushforward(ts)[0], { axisSize: m })(basis);
  const parts = cols.map((c) => cut(c, inSizes));
  return outs.map((y, k) =>
    ins.map((x, j) => {
      const block = reshape(parts[k]![j]!, [inSizes[j]!, outSizes[k]!]);
      return reshape(transpose(block), [...y.shape, ...x.shape]);
    }),
  );
};

const jacobianCall = (
  op: string,
  mode: Mode,
  f: (...args: never[]) => unknown,
  opts: Resolved,
  args: readonly unknown[],
): unknown => {
  const nums = argnumList(op, opts.argnums, args.length);
  const diff = nums.map((n) => floatLeaves(op, args[n], n));
  const ins = diff.flatMap(([leaves]) => leaves);
  const { outs, outTree, pullback } = linearizeArgs(op, f, args, nums);
  const [out, aux] = splitAux(op, treeUnflatten(outTree, outs), opts.hasAux);
  // With hasAux, out's leaves come first among f's output leaves ([out, aux] flattens in order).
  const [outLeaves, outDef] = treeFlatten(out);
  checkFloatOutputs(op, out, outLeaves);
  const toLeaves = (cts: readonly Value[]): Value[] => {
    const cotangents = pullback(outs.map((_, i) => (i < outLeaves.length ? cts[i]! : null)));
    return nums.flatMap((n) => treeFlatten(cotangents[n])[0]);
  };
  const blocks = jacobianBlocks(mode, toLeaves, outLeaves, ins);
  const starts = offsets(diff.map(([leaves]) => leaves.length));
  const perOutput = blocks.map((row) => {
    const perArg = diff.map(([leaves, def], a) => treeUnflatten(def, row.slice(starts[a], starts[a]! + leaves.length)));
    return typeof opts.argnums === "number" ? perArg[0] : perArg;
  });
  const jacobian = treeUnflatten(outDef, perOutput);
  return opts.hasAux ? [jacobian, aux] : jacobian;
};

/** A Jacobian transform reporting errors under `op` (hessian names itself, not jacfwd). */
const jacobianAs =
  (op: string, mode: Mode) =>
  (f: (...args: never[]) => unknown, opts: Resolved) =>
  (...args: readonly unknown[]): unknown =>
    jacobianCall(op, mode, f, opts, args);

/**
 * The Jacobian of `f` in reverse mode: one pullback, vmapped over the unit vectors of f's output.
 * Cheaper than `jacfwd` when the output has fewer elements than the differentiated arguments.
 *
 * `options` is `{ argnums, hasAux }`, or argnums alone (`jacrev(f, 1)`, `jacrev(f, [0, 1])`).
 * The differentiated arguments may be any pytrees of float tensors, and f may return any pytree
 * of float tensors. The result has f's output structure; each output leaf of shape O becomes,
 * for one argnum, that argument's pytree with each leaf of shape I replaced by its block of shape
 * `[...O, ...I]`, and for an array of argnums, an array of such pytrees (one per argnum). For a
 * tensor argument and a tensor output it is one tensor of shape `[...O, ...I]`. With hasAux, f
 * returns `[out, aux]` and the result is `[jacobian, aux]`. Each block takes the dtype of its
 * input leaf.
 * @typeParam F - The type of `f`; with `S`, it gives the result's static type (`JacobianResult`).
 * @typeParam S - The type of `options` (a literal type, so `argnums` and `hasAux` are known statically).
 * @throws GraphException (`InvalidArgument`) for bad argnums or options, a differentiated
 *   argument with no tensor or with an int/bool leaf, or an int/bool output.
 * @example jacrev((x) => mul(x, x))(tensor([1, 2])) // [[2, 0], [0, 4]]
 * @example
 * const f = (p: { w: Value; b: Value }, x: Value) => add(matmul(p.w, x), p.b);
 * jacrev(f)({ w, b }, x) // { w: [out, ...w.shape], b: [out, out] }
 * jacrev(f, [0, 1])({ w, b }, x) // [{ w, b }, dx]
 */
export const jacrev = <F extends (...args: never[]) => unknown, const S extends JacobianSpec = Record<never, never>>(
  f: F,
  options: S = {} as S,
) => {
  expectFunction("jacrev", "f", f);
  const run = jacobianAs("jacrev", "rev")(f, resolveSpec("jacrev", options));
  return (...args: readonly unknown[]) => run(...args) as JacobianResult<F, S>;
};

/**
 * The Jacobian of `f` in forward mode: one pushforward, vmapped over the unit vectors of the
 * differentiated arguments. Cheaper than `jacrev` when the arguments have fewer elements than the
 * output. Takes the same options and returns the same structure as `jacrev` (see there); each
 * block takes the dtype of its output leaf.
 * @typeParam F - The type of `f`; with `S`, it gives the result's static type (`JacobianResult`).
 * @typeParam S - The type of `options` (a literal type, so `argnums` and `hasAux` are known statically).
 * @throws GraphException (`InvalidArgument`) as `jacrev`.
 * @example jacfwd((x) => mul(x, x))(tensor([1, 2])) // [[2, 0], [0, 4]]
 * @example jacfwd((a, b) => mul(a, b), { argnums: [0, 1] })(tensor([2]), tensor([3])) // [[[3]], [[2]]]
 */
export const jacfwd = <F extends (...args: never[]) => unknown, const S extends JacobianSpec = Record<never, never>>(
  f: F,
  options: S = {} as S,
) => {
  expectFunction("jacfwd", "f", f);
  const run = jacobianAs("jacfwd", "fwd")(f, resolveSpec("jacfwd", options));
  return (...args: readonly unknown[]) => run(...args) as JacobianResult<F, S>;
};

/**
 * The Hessian of `f`: `jacfwd(jacrev(f, options), options)` (forward over reverse, as JAX). For a
 * scalar f of one tensor argument it is a tensor of shape `[...x.shape, ...x.shape]`. In general
 * each output leaf holds, per argnum i (an array when argnums is an array) and per leaf of
 * argument i, the second block over argnum j and the leaves of argument j, shaped
 * `[...O, ...I_i, ...I_j]`. With hasAux the result is `[hessian, aux]`.
 * @typeParam F - The type of `f`; with `S`, it gives the result's static type (`JacobianResult`).
 * @typeParam S - The type of `options` (a literal type, so `argnums` and `hasAux` are known statically).
 * @throws GraphException (`InvalidArgument`) as `jacrev`.
 * @example hessian((x) => sum(mul(x, mul(x, x))))(tensor([1, 2])) // [[6, 0], [0, 12]]
 * @example
 * // [[∂²/∂a², ∂²/∂a∂b], [∂²/∂b∂a, ∂²/∂b²]], each block [1, 1]
 * hessian((a, b) => sum(mul(a, b)), { argnums: [0, 1] })(tensor([1]), tensor([2])) // [[[[0]], [[1]]], [[[1]], [[0]]]]
 */
export const hessian = <F extends (...args: never[]) => unknown, const S extends JacobianSpec = Record<never, never>>(
  f: F,
  options: S = {} as S,
) => {
  expectFunction("hessian", "f", f);
  const opts = resolveSpec("hessian", options);
  const gradient = jacobianAs("hessian", "rev")(f, opts);
  const run = jacobianAs("hessian", "fwd")(gradient, opts);
  return (...args: readonly unknown[]) => run(...args) as JacobianResult<F, S>;
};
