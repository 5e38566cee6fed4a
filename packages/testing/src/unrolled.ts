/**
 * @file `scanUnrolled`: the explicit loop that `scan` means, as a test oracle (JAX's
 * `scan_reference`).
 *
 * It calls the step function once per step on slices of xs and stacks the ys with ordinary ops,
 * so its gradient falls out of the per-op VJP rules and owes nothing to `scan`'s own rule. Its
 * graph grows with the length; never use it outside tests.
 */
import * as T from "@rewind/tensor";
import {
  reshape,
  slice,
  stack,
  traceTree,
  treeLeaves,
  treeMap,
  treeUnflatten,
  type ScanFn,
  type Value,
} from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkFunction, checkInt, checkOptions, invalid } from "./args.js";
import { testingError } from "./failure.js";

/**
 * Options of `scanUnrolled` (the semantic options of `scan`; the others never change results).
 * @example scanUnrolled(f, init, null, { length: 4, reverse: true } satisfies UnrolledOptions)
 */
export interface UnrolledOptions {
  /** Number of steps when there are no xs (otherwise xs' leading size, which it must equal). */
  readonly length?: number;
  /** Run the steps from the last to the first; ys stay in xs order. */
  readonly reverse?: boolean;
}

/** Row `t` of every leaf of a stacked pytree. */
const rowOf = (xs: unknown, t: number): unknown =>
  treeMap((x) => reshape(slice(x, [{ start: t, stop: t + 1 }]), x.shape.slice(1)), xs);

/** The number of steps: xs' leading size (all leaves must agree) or `length`. */
const stepsOf = (xs: unknown, length: number | undefined): number => {
  const sizes = new Set(treeLeaves(xs).map((x) => x.shape[0]));
  if (sizes.size > 1 || sizes.has(undefined))
    throw testingError({
      _tag: "TestArgumentError",
      op: "scanUnrolled",
      detail: `scanUnrolled: xs leaves must share a leading axis, got sizes ${[...sizes].join(", ")}`,
    });
  const fromXs = [...sizes][0];
  if (fromXs !== undefined && length !== undefined && fromXs !== length)
    throw testingError({
      _tag: "TestArgumentError",
      op: "scanUnrolled",
      detail: `scanUnrolled: length ${length} but xs has ${fromXs} steps`,
    });
  const n = fromXs ?? length;
  if (n === undefined)
    throw testingError({
      _tag: "TestArgumentError",
      op: "scanUnrolled",
      detail: "scanUnrolled: pass { length } when xs has no leaves",
    });
  return n;
};

/**
 * The unrolled loop `scan(f, init, xs, { length, reverse })` stands for:
 * `carry = init; for t (backwards when reverse): [carry, ys[t]] = f(carry, xs[t])`, with ys
 * stacked on a new axis 0 in xs order. With zero steps, ys are empty tensors whose shapes come
 * from tracing `f` once (nothing is recorded in an enclosing trace).
 * @example scanUnrolled((c, x) => [add(c, x), c], scalar(0), tensor([1, 2, 3])) // [6, [0, 1, 3]]
 */
export const scanUnrolled = <C, X, Y>(
  f: ScanFn<C, X, Y>,
  init: C,
  xs: X | null | undefined,
  opts: UnrolledOptions = {},
): [C, Y] => {
  checkFunction("scanUnrolled", "f", f);
  checkOptions("scanUnrolled", "opts", opts, keysOf<UnrolledOptions>({ length: true, reverse: true }));
  checkInt("scanUnrolled", "opts.length", opts.length, 0);
  if (opts.reverse !== undefined && typeof opts.reverse !== "boolean")
    invalid("scanUnrolled", "opts.reverse", `must be true or false, got ${String(opts.reverse)}`);
  const step = (c: C, x: X): [C, Y] => {
    const r: unknown = f(c, x);
    if (!Array.isArray(r) || r.length !== 2)
      invalid(
        "scanUnrolled",
        "f",
        `must return [carry, y], got ${Array.isArray(r) ? `an array of ${r.length}` : r === null ? "null" : typeof r}`,
      );
    return r as [C, Y];
  };
  const xsTree = (xs ?? null) as X;
  const length = stepsOf(xsTree, opts.length);
  if (length === 0) {
    // A zero-length row of each xs leaf is only used for its aval.
    const x0 = treeMap((x) => T.zeros(x.shape.slice(1), x.dtype), xsTree);
    const { graph, outTree } = traceTree((c: C, x: X) => step(c, x)[1], [init, x0]);
    const empties = graph.outAvals.map((a) => T.zeros([0, ...a.shape], a.dtype));
    return [init, treeUnflatten<Y>(outTree, empties)];
  }
  const ys = new Array<Y>(length);
  let carry = init;
  for (let s = 0; s < length; s++) {
    const t = opts.reverse === true ? length - 1 - s : s;
    const [next, y] = step(carry, rowOf(xsTree, t) as X);
    carry = next;
    ys[t] = y;
  }
  const [first, ...rest] = ys as [Y, ...Y[]];
  return [carry, treeMap((...leaves: Value[]) => stack(leaves), first, ...rest)];
};
