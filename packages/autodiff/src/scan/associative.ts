/**
 * @file `associativeScan`: all prefix combinations of an associative operator in O(log n) depth
 * (JAX's `lax.associative_scan`), over pytrees.
 *
 * For an associative `fn` (`fn(fn(a, b), c) = fn(a, fn(b, c))`) the prefixes
 * `r_i = x_0 ⊕ x_1 ⊕ … ⊕ x_i` need not be computed one after another. The odd/even recursion
 * (Ladner & Fischer 1980; Blelloch 1990, "Prefix sums and their applications"):
 *
 *     pairs   q_i = x_{2i} ⊕ x_{2i+1}          (one batched fn call, n/2 elements)
 *     odd     r_{2i+1} = prefix_i(q)             (the same problem, half the size)
 *     even    r_{2i+2} = r_{2i+1} ⊕ x_{2i+2},  r_0 = x_0   (one batched fn call)
 *
 * does O(n) combines in O(log n) levels. Every level is a few strided slices, two calls of `fn` on
 * whole slices and an interleave, all ordinary ops: the result is differentiable, jittable and
 * batchable with no rule of its own, and the traced graph has O(log n) equations however long
 * the sequence is (a `scan` would have one step body but n sequential steps).
 *
 * Floating-point addition is not exactly associative, so a cumulative sum this way rounds
 * differently from a running sum (the tree of additions differs); the values agree to rounding.
 */
import * as T from "@rewind/tensor";
import type { Value } from "../core.js";
import { expectFlag, expectFunction, expectOptions } from "../check.js";
import { graphFail } from "../errors.js";
import { avalOf, describeAval } from "../Graph.js";
import { concat, flip, reshape, sliceWindow, stack } from "../ops/shape.js";
import { treeDefKey, treeFlatten, treeLeavesWithPaths, treeUnflatten, type TreeDef } from "../Tree.js";

/** Options of `associativeScan`. */
export interface AssociativeScanOptions {
  /** The axis to scan along, in every leaf (default 0; negative counts from the end). */
  readonly axis?: number;
  /**
   * Scan from the last element to the first: `r_i = x_{n−1} ⊕ … ⊕ x_i`, combined in that order
   * (as scanning the flipped input and flipping the result back).
   */
  readonly reverse?: boolean;
}

const OP = "associativeScan";

/** Elements `start, start + step, …` (`size` of them) of `v` along `axis`. */
const take = (v: Value, axis: number, start: number, step: number, size: number): Value =>
  sliceWindow(v, {
    start: v.shape.map((_, a) => (a === axis ? start : 0)),
    step: v.shape.map((_, a) => (a === axis ? step : 1)),
    size: v.shape.map((d, a) => (a === axis ? size : d)),
  });

/** `evens[0], odds[0], evens[1], odds[1], …` along `axis` (evens has as many or one more). */
const interleave = (evens: Value, odds: Value, axis: number): Value => {
  const m = odds.shape[axis]!;
  const paired = reshape(stack([take(evens, axis, 0, 1, m), odds], axis + 1), [
    ...odds.shape.slice(0, axis),
    2 * m,
    ...odds.shape.slice(axis + 1),
  ]);
  return evens.shape[axis] === m ? paired : concat([paired, take(evens, axis, m, 1, 1)], axis);
};

/** The checked combine: `fn` on two lists of leaves, returning leaves shaped like `like`. */
type Combine = (a: readonly Value[], b: readonly Value[]) => Value[];

const makeCombine = (fn: (a: unknown, b: unknown) => unknown, def: TreeDef, axis: number): Combine => {
  const key = treeDefKey(def);
  return (a, b) => {
    const out = fn(treeUnflatten(def, a), treeUnflatten(def, b));
    const [leaves, outDef] = treeFlatten(out);
    if (treeDefKey(outDef) !== key) {
      graphFail({
        _tag: "InvalidArgument",
        op: OP,
        arg: "fn",
        detail: `fn returned the structure ${treeDefKey(outDef)}, but elems have ${key}`,
        fix: "return a pytree of the same structure as elems, e.g. [a0 * b0, a1 + b1] for [a, b] elems",
      });
    }
    leaves.forEach((l, i) => {
      const want = a[i]!.shape;
      if (!T.shapesEqual(l.shape, want) || l.dtype !== a[i]!.dtype) {
        const path = treeLeavesWithPaths(out)[i]?.[0] ?? `leaf ${i}`;
        graphFail({
          _tag: "InvalidArgument",
          op: OP,
          arg: "fn",
          detail:
            `fn's output ${path} is ${describeAval(avalOf(l))}, but its inputs there are ` +
            `${describeAval(avalOf(a[i]!))}: fn is called on whole slices of ${want[axis]} elements ` +
            `along axis ${axis} at once`,
          fix: "write fn elementwise over the scanned axis (it must keep every input's shape and dtype)",
        });
      }
    });
    return leaves;
  };
};

/** All prefixes of `xs` (one list of leaves, length `n` along `axis`) under `combine`. */
const prefixes = (xs: readonly Value[], combine: Combine, axis: number): Value[] => {
  const n = xs[0]!.shape[axis]!;
  if (n < 2) return [...xs];
  const half = n >> 1;
  const pairs = combine(
    xs.map((x) => take(x, axis, 0, 2, half)),
    xs.map((x) => take(x, axis, 1, 2, half)),
  );
  const odd = prefixes(pairs, combine, axis); // r_1, r_3, …
  // r_{2i+2} = r_{2i+1} ⊕ x_{2i+2} for the even positions after 0: ⌈n/2⌉ − 1 of them.
  const m = n - half - 1;
  const later =
    m === 0
      ? undefined
      : combine(
          odd.map((o) => take(o, axis, 0, 1, m)),
          xs.map((x) => take(x, axis, 2, 2, m)),
        );
  return xs.map((x, i) => {
    const first = take(x, axis, 0, 1, 1);
    const evens = later === undefined ? first : concat([first, later[i]!], axis);
    return interleave(evens, odd[i]!, axis);
  });
};

/**
 * All prefix combinations `r_i = x_0 ⊕ … ⊕ x_i` of an associative `fn` along `axis` of every leaf
 * of `elems`, in O(log n) depth (as `jax.lax.associative_scan`). `fn(a, b)` receives two pytrees
 * shaped like `elems` but holding whole slices along `axis` (a is the earlier part, b the later),
 * and must combine them elementwise along that axis. Built from ordinary ops: differentiable,
 * jittable and batchable by `vmap`.
 * @example associativeScan((a, b) => add(a, b), tensor([1, 2, 3, 4])) // [1, 3, 6, 10]
 * @example
 * // h_t = a_t h_{t−1} + b_t for all t at once: (a1, b1) ⊕ (a2, b2) = (a1 a2, a2 b1 + b2)
 * const [, h] = associativeScan(([a1, b1], [a2, b2]) => [mul(a1, a2), add(mul(a2, b1), b2)], [a, b]);
 */
export const associativeScan = <E>(fn: (a: E, b: E) => E, elems: E, options: AssociativeScanOptions = {}): E => {
  expectFunction(OP, "fn", fn);
  const o = expectOptions(OP, options, ["axis", "reverse"]);
  const reverse = expectFlag(OP, "options.reverse", o.reverse) ?? false;
  const [leaves, def] = treeFlatten(elems);
  const paths = treeLeavesWithPaths(elems).map(([p]) => p);
  if (leaves.length === 0) {
    graphFail({
      _tag: "InvalidArgument",
      op: OP,
      arg: "elems",
      detail: "elems has no tensor leaves",
      fix: "pass a tensor or a pytree of tensors to scan",
    });
  }
  const first = leaves[0] as Value;
  if (o.axis !== undefined && !Number.isSafeInteger(o.axis)) {
    graphFail({
      _tag: "InvalidArgument",
      op: OP,
      arg: "options.axis",
      detail: `axis must be an integer, got ${typeof o.axis === "number" ? o.axis : typeof o.axis}`,
      fix: "pass the axis to scan along, e.g. { axis: 1 } for [batch, time, features]",
    });
  }
  if (first.shape.length === 0) {
    graphFail({
      _tag: "InvalidArgument",
      op: OP,
      arg: `elems${paths[0]}`,
      detail: `elems${paths[0]} is a scalar (${describeAval(avalOf(first))}): there is no axis to scan along`,
      fix: "pass tensors with the scanned axis, e.g. [time] or [batch, time, features]",
    });
  }
  const axis = T.normalizeAxis(OP, "options.axis", (o.axis as number | undefined) ?? 0, first.shape.length);
  const n = first.shape[axis];
  leaves.forEach((l, i) => {
    if (l.shape.length <= axis || l.shape[axis] !== n) {
      graphFail({
        _tag: "InvalidArgument",
        op: OP,
        arg: `elems${paths[i]}`,
        detail:
          `elems${paths[i]} is ${describeAval(avalOf(l))} but elems${paths[0]} is ` +
          `${describeAval(avalOf(first))}: every leaf needs the same length along axis ${axis}`,
        fix: "give every leaf of elems the scanned axis with one length",
      });
    }
  });
  const flipped = (vs: readonly Value[]): Value[] => vs.map((v) => flip(v, axis));
  const combine = makeCombine(fn as (a: unknown, b: unknown) => unknown, def, axis);
  const input = reverse ? flipped(leaves) : leaves;
  const result = prefixes(input, combine, axis);
  return treeUnflatten<E>(def, reverse ? flipped(result) : result);
};
