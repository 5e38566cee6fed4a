/**
 * @file The public `scan`: pytree carries and xs, options, and the trace-time checks with paths.
 *
 * `scan(f, init, xs)` means (as JAX's `lax.scan`):
 *
 *     carry = init; ys = []
 *     for x of xs: [carry, y] = f(carry, x); ys.push(y)
 *     return [carry, stack(ys)]
 *
 * The options are rewrites into plain `scan` primitives, so every one of them keeps the values
 * and the gradient laws for free:
 * - `remat: { every: k }` (rematerialisation; `checkpoint` is its deprecated old name) is a scan
 *   over segments of k steps whose body is an inner scan; the outer scan saves one carry per
 *   segment and the backward pass recomputes a segment at a time (memory ~ T/k + k carries);
 * - `unroll: k` is a scan over segments whose body applies `f` k times inline;
 * - `truncate: k` stops the gradient of the carry entering every k-th step (truncated BPTT).
 */
import * as T from "@rewind/tensor";
import { traceToGraph, type Value } from "../core.js";
import { graphFail } from "../errors.js";
import { expectFlag, expectOptions } from "../check.js";
import { avalOf, avalsEqual, describeAval, type Aval } from "../Graph.js";
import { where } from "../ops/elementwise.js";
import { concat, reshape, slice } from "../ops/shape.js";
import { stopGradient } from "../ops/special.js";
import { bindScan } from "../passes/eager.js";
import { scan as scanPrim, type ScanPolicy } from "./primitive.js";
import { treeDiff, treeFlatten, treeLeavesWithPaths, treeMap, treeUnflatten, type TreeDef } from "../Tree.js";
import type { Concrete } from "../types.js";

/** Options of `scan`. */
export interface ScanOptions {
  /** Number of steps; required when `xs` is omitted, otherwise must match xs' leading axis. */
  readonly length?: number;
  /** Process xs from last to first (ys stay aligned with xs). */
  readonly reverse?: boolean;
  /** Apply the body k times per loop iteration (a speed knob; values are identical). */
  readonly unroll?: number | boolean;
  /**
   * What the forward pass keeps for the gradient: `"all"` (every residual; fastest backward),
   * `"carries"` (one carry per step; the backward pass recomputes each step), or `{ every: k }`
   * (one carry per k steps; segments are recomputed). Values and gradients agree to rounding.
   * Under `"all"` the body's input projections (`x_t · W`, embedding lookups) are also computed
   * for all steps before the loop and weight gradients reduced after it (one large matmul each;
   * see passes/lift.ts and passes/accumulate.ts), which stores them stacked over T: use
   * `"carries"` or `{ every: k }` when memory, not speed, is what matters.
   */
  readonly remat?: RematPolicy;
  /**
   * The old name of `remat`; "checkpoint" now only means saved training state. Giving both is an error.
   * @deprecated Use `remat`; same values and meaning.
   */
  readonly checkpoint?: RematPolicy;
  /** Stop the gradient across every k-th step boundary (truncated BPTT). */
  readonly truncate?: number;
}

/**
 * What a scan's forward pass keeps for the gradient (`ScanOptions.remat`): `"all"`, `"carries"`
 * or `{ every: k }`.
 */
export type RematPolicy =
  | ScanPolicy
  | {
      /** Segment length k: one carry is kept per k steps. */
      readonly every: number;
    };

/** A scan step: `(carry, x_t) → [carry', y_t]`. */
export type ScanFn<C, X, Y> = (carry: C, x: X) => readonly [C, Y];

const optionError = (arg: string, detail: string, fix: string): never =>
  graphFail({ _tag: "InvalidArgument", op: "scan", arg, detail, fix });

const positiveInt = (arg: string, v: number): number =>
  Number.isSafeInteger(v) && v >= 1
    ? v
    : optionError(arg, `${arg} must be a positive integer, got ${v}`, "pass 1, 2, 3, ...");

/** The length implied by xs' leaves (all must agree) and by `opts.length`. */
const scanLength = (xs: unknown, length: number | undefined): number => {
  const leaves = treeLeavesWithPaths(xs);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    optionError("length", `length must be a non-negative integer, got ${length}`, "pass the number of steps");
  }
  for (const [path, x] of leaves) {
    if (x.shape.length === 0)
      optionError(
        `xs${path}`,
        `xs${path === "<root>" ? "" : path} is a scalar; every xs leaf needs a leading time axis`,
        "stack the per-step values along axis 0",
      );
  }
  const lengths = new Set(leaves.map(([, x]) => x.shape[0]!));
  if (lengths.size > 1) {
    optionError(
      "xs",
      `leaves have different leading sizes: ${leaves.map(([p, x]) => `xs${p}: ${describeAval(avalOf(x))}`).join(", ")}`,
      "give every xs leaf the same number of steps on axis 0",
    );
  }
  const fromXs = [...lengths][0];
  if (fromXs === undefined)
    return (
      length ?? optionError("length", "xs has no leaves and no length was given", "pass { length } when xs is omitted")
    );
  if (length !== undefined && length !== fromXs)
    optionError("length", `length is ${length} but xs has ${fromXs} steps`, "drop length or make it match xs");
  return fromXs;
};

/** Checks a step's returned carry against the input carry, naming the first differing path. */
const checkCarry = (carryDef: TreeDef, inAvals: readonly Aval[], out: unknown): Value[] => {
  const [leaves, def] = treeFlatten(out);
  const diff = treeDiff(carryDef, def);
  if (diff !== undefined) {
    graphFail({
      _tag: "CarryMismatch",
      op: "scan",
      path: `carry${diff.path}`,
      expected: diff.expected,
      actual: diff.actual,
    });
  }
  const paths = treeLeavesWithPaths(out);
  leaves.forEach((l, i) => {
    if (!avalsEqual(avalOf(l), inAvals[i]!)) {
      graphFail({
        _tag: "CarryMismatch",
        op: "scan",
        path: `carry${paths[i]![0] === "<root>" ? "" : paths[i]![0]}`,
        expected: inAvals[i]!,
        actual: avalOf(l),
      });
    }
  });
  return leaves;
};

/** One `scan` primitive: trace the body once and bind. */
const scanOnce = <C, X, Y>(
  f: ScanFn<C, X, Y>,
  init: C,
  xs: X,
  length: number,
  reverse: boolean,
  policy: ScanPolicy,
): [C, Y] => {
  const [carryLeaves, carryDef] = treeFlatten(init);
  const [xLeaves, xDef] = treeFlatten(xs);
  const carryAvals = carryLeaves.map(avalOf);
  let yDef: TreeDef | undefined;
  const body = traceToGraph(
    (args) => {
      const carry = treeUnflatten<C>(carryDef, args.slice(0, carryLeaves.length));
      const x = treeUnflatten<X>(xDef, args.slice(carryLeaves.length));
      const result = f(carry, x);
      if (!Array.isArray(result) || result.length !== 2) {
        return optionError(
          "f",
          "the step function must return [carry, y]",
          "return a two-element array (use null for no y)",
        );
      }
      const cLeaves = checkCarry(carryDef, carryAvals, result[0]);
      const [yLeaves, def] = treeFlatten(result[1]);
      yDef = def;
      return [...cLeaves, ...yLeaves];
    },
    [...carryAvals, ...xLeaves.map((x) => ({ shape: x.shape.slice(1), dtype: x.dtype }))],
    "scan",
  );
  const outs = bindScan(scanPrim, [...body.consts, ...carryLeaves, ...xLeaves], {
    body: body.graph,
    numConsts: body.consts.length,
    numCarry: carryLeaves.length,
    length,
    reverse,
    policy,
  });
  return [
    treeUnflatten<C>(carryDef, outs.slice(0, carryLeaves.length)),
    treeUnflatten<Y>(yDef!, outs.slice(carryLeaves.length)),
  ];
};

const rows = (tree: unknown, start: number, stop: number): unknown => treeMap((x) => slice(x, [{ start, stop }]), tree);
const fold = (tree: unknown, q: number, k: number): unknown =>
  treeMap((x) => reshape(x, [q, k, ...x.shape.slice(1)]), tree);
const unfold = (tree: unknown): unknown =>
  treeMap((x) => reshape(x, [x.shape[0]! * x.shape[1]!, ...x.shape.slice(2)]), tree);

/** A scan run in segments of k steps (by `segmented`): `remat: { every }` or `unroll`. */
interface SegmentedScan<C, X, Y> {
  readonly f: ScanFn<C, X, Y>;
  readonly init: C;
  readonly xs: X;
  readonly length: number;
  readonly reverse: boolean;
  /** Steps per segment. */
  readonly k: number;
  /** The remat policy of the scan over segments and of the plain scan over the remaining steps. */
  readonly policy: ScanPolicy;
  /** The body over one segment of k steps (xs with a leading axis of k, ys likewise). */
  readonly segment: (carry: C, xSeg: X) => readonly [C, Y];
}

/**
 * Runs `segment` over the first q·k processed steps as a scan over q segments of k steps, and
 * plain `scanOnce` over the remaining r steps, keeping ys aligned with xs.
 */
const segmented = <C, X, Y>(s: SegmentedScan<C, X, Y>): [C, Y] => {
  const { f, init, xs, length, k, reverse, policy, segment } = s;
  const q = Math.floor(length / k);
  const r = length - q * k;
  if (q === 0) return scanOnce(f, init, xs, length, reverse, policy);
  // Forward order processes [0, qk) then [qk, T); reverse order processes [r, T) then [0, r).
  const [mainLo, mainHi] = reverse ? [r, length] : [0, q * k];
  const [tailLo, tailHi] = reverse ? [0, r] : [q * k, length];
  const [c1, ysMain] = scanOnce(segment, init, fold(rows(xs, mainLo, mainHi), q, k) as X, q, reverse, policy);
  if (r === 0) return [c1, unfold(ysMain) as Y];
  const [c2, ysTail] = scanOnce(f, c1, rows(xs, tailLo, tailHi) as X, r, reverse, policy);
  const first = reverse ? ysTail : unfold(ysMain);
  const second = reverse ? unfold(ysMain) : ysTail;
  return [c2, treeMap<Y>((a, b) => concat([a, b]), first, second)];
};

/** The body applied k times inline over a segment of k steps (ys stacked in xs order). */
const unrolledSegment =
  <C, X, Y>(f: ScanFn<C, X, Y>, k: number, reverse: boolean) =>
  (carry: C, xSeg: X): readonly [C, Y] => {
    const ys: unknown[] = new Array<unknown>(k);
    let c = carry;
    for (let s = 0; s < k; s++) {
      const j = reverse ? k - 1 - s : s;
      const [next, y] = f(
        c,
        treeMap<X>((x) => reshape(slice(x, [{ start: j, stop: j + 1 }]), x.shape.slice(1)), xSeg),
      );
      c = next;
      ys[j] = y;
    }
    const stacked = treeMap(
      (...leaves) => concat(leaves.map((l) => reshape(l, [1, ...l.shape]))),
      ys[0],
      ...ys.slice(1),
    );
    return [c, stacked as Y];
  };

/** The keys of `ScanOptions`. */
export const SCAN_OPTION_KEYS: readonly (keyof ScanOptions)[] = [
  "length",
  "reverse",
  "unroll",
  "remat",
  "checkpoint",
  "truncate",
];

/**
 * The remat policy of scan options ("all" when absent), from `remat` or its deprecated alias
 * `checkpoint`, validated; the error names the option the caller used.
 * @example scanRemat({ checkpoint: "carries" }) // "carries"
 */
export const scanRemat = (opts: ScanOptions): RematPolicy => {
  if (opts.remat !== undefined && opts.checkpoint !== undefined)
    optionError(
      "checkpoint",
      "options.remat and options.checkpoint were both given (checkpoint is the deprecated old name of remat)",
      "pass only options.remat",
    );
  const name = opts.remat === undefined && opts.checkpoint !== undefined ? "checkpoint" : "remat";
  // Not `??`: an explicit null is a bad policy to refuse, not a request for the default.
  const policy: unknown =
    opts.remat !== undefined ? opts.remat : opts.checkpoint !== undefined ? opts.checkpoint : "all";
  if (typeof policy === "string" ? policy !== "all" && policy !== "carries" : typeof policy !== "object" || !policy) {
    const got = typeof policy === "string" ? JSON.stringify(policy) : policy === null ? "null" : typeof policy;
    optionError(name, `unknown ${name} policy ${got}`, 'use "all", "carries" or { every: k }');
  }
  if (typeof policy === "object") expectOptions("scan", policy, ["every"], `options.${name}`);
  return policy as RematPolicy;
};

// The implementation: `Scan`'s two signatures share it (on tensors its outputs are tensors).
const scanAny = <C, X, Y>(f: ScanFn<C, X, Y>, init: C, xs: X | null | undefined, options: ScanOptions = {}): [C, Y] => {
  if (typeof f !== "function")
    optionError("f", "f must be a function (carry, x) => [carry, y]", "pass a step function");
  const opts = expectOptions("scan", options, SCAN_OPTION_KEYS) as ScanOptions;
  const length = scanLength(xs ?? null, opts.length);
  const reverse = expectFlag("scan", "options.reverse", opts.reverse) ?? false;
  const ckpt = scanRemat(opts);
  if (opts.unroll !== undefined && typeof opts.unroll !== "boolean" && typeof opts.unroll !== "number")
    optionError("unroll", "unroll must be a positive integer or a boolean", "pass e.g. 4, or true to unroll fully");
  const unroll =
    opts.unroll === true
      ? Math.max(1, length)
      : opts.unroll === false || opts.unroll === undefined
        ? 1
        : positiveInt("unroll", opts.unroll);
  const xsTree = (xs ?? null) as X;

  if (opts.truncate !== undefined) {
    const k = positiveInt("truncate", opts.truncate);
    if (k < length) {
      // cut[t] marks the steps whose incoming carry starts a new chunk (in processing order).
      const cut = T.fromDataOrThrow(
        Array.from({ length }, (_, t) => {
          const step = reverse ? length - 1 - t : t;
          return step > 0 && step % k === 0 ? 1 : 0;
        }),
        [length],
        "bool",
      );
      const inner: ScanFn<C, { x: X; cut: Value }, Y> = (carry, { x, cut: c }) =>
        f(
          treeMap<C>((leaf) => (T.isFloating(leaf.dtype) ? where(c, stopGradient(leaf), leaf) : leaf), carry),
          x,
        );
      return scan(inner, init, { x: xsTree, cut }, { ...opts, truncate: undefined as never, length });
    }
  }
  if (typeof ckpt === "object") {
    const every = positiveInt(opts.remat === undefined ? "checkpoint.every" : "remat.every", ckpt.every);
    if (unroll > 1) optionError("unroll", "unroll cannot be combined with remat: { every }", "choose one of them");
    const inner = (carry: C, xSeg: X): readonly [C, Y] => scanOnce(f, carry, xSeg, every, reverse, "carries");
    return segmented({ f, init, xs: xsTree, length, reverse, k: every, policy: "carries", segment: inner });
  }
  if (unroll > 1)
    return segmented({
      f,
      init,
      xs: xsTree,
      length,
      reverse,
      k: unroll,
      policy: ckpt,
      segment: unrolledSegment(f, unroll, reverse),
    });
  return scanOnce(f, init, xsTree, length, reverse, ckpt);
};

/**
 * `scan`'s signatures: on tensors (an `init` and `xs` with no traced value) the final carry and
 * the stacked outputs are tensors (`Concrete`); on traced values, `[C, Y]` as `f` types them.
 * @example const [total, prefix] = scan((c: Value, x: Value) => [add(c, x), c], scalar(0), xs); // Tensors
 */
export interface Scan {
  /** On tensors: tensors. */
  <C, X, Y>(
    f: ScanFn<C, X, Y>,
    init: C & Concrete<C>,
    xs: (X & Concrete<X>) | null | undefined,
    options?: ScanOptions,
  ): Concrete<[C, Y]>;
  /** On traced values (inside another transform), or arguments typed `Value`. */
  <C, X, Y>(f: ScanFn<C, X, Y>, init: C, xs: X | null | undefined, options?: ScanOptions): [C, Y];
}

/**
 * Loops `f` over the leading axis of `xs`, threading a carry: JAX's `lax.scan`. The carry and
 * xs/ys are pytrees; constants closed over by `f` become graph constants. Differentiating it
 * runs a scan in the opposite direction (BPTT), whose graph does not grow with the length.
 * @param f the step `(carry, x_t) → [carry', y_t]`; the carry must keep its structure, shapes and dtypes.
 * @param xs stacked inputs (axis 0 is time), or null with `{ length }`.
 * @returns `[finalCarry, ys]` with ys stacked on axis 0.
 * @throws GraphException (`CarryMismatch`) naming the carry path whose aval changed.
 * @example scan((c, x) => [add(c, x), c], scalar(0), tensor([1, 2, 3])) // [6, [0, 1, 3]]
 */
export const scan: Scan = scanAny;
