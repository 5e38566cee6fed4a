/**
 * @file Scan problems for the scan laws: small random bodies (an Elman RNN, an LSTM-like `{ h, c }`
 * carry, pytree xs and ys, a length-only scan with an int32 counter) with float64 weights, inputs
 * and a loss whose cotangent differs per element, drawn by `arbScanProblem` or built from parts.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { arbTensor, type TensorTree } from "./arbitraries.js";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkInt, checkOptions, checkRange, invalid } from "./args.js";

/**
 * The body families `arbScanProblem` draws from.
 * @example arbScanProblem({ families: ["lstm"] satisfies ScanFamily[] })
 */
export type ScanFamily = "rnn" | "lstm" | "pytreeYs" | "lengthOnly";

/**
 * Every scan body family, in the order `arbScanProblem` shrinks towards.
 * @example scanFamilies.map((f) => arbScanProblem({ families: [f] }))
 */
export const scanFamilies: readonly ScanFamily[] = ["rnn", "lstm", "pytreeYs", "lengthOnly"];

/**
 * Anything with the signature of `scan`: the implementation a law checks.
 * @example const remat: ScanImpl = (f, init, xs, opts) => scan(f, init, xs, { ...opts, remat: "carries" })
 */
export type ScanImpl = <C, X, Y>(
  f: A.ScanFn<C, X, Y>,
  init: C,
  xs: X | null | undefined,
  opts?: A.ScanOptions,
) => [C, Y];

/**
 * A step function over untyped pytrees.
 * @example const f: AnyScanFn = (c, x) => [c, x]
 */
export type AnyScanFn = A.ScanFn<unknown, unknown, unknown>;

/**
 * A small scan problem: a body with its weights, an initial carry, inputs and a loss.
 * @example const g = grad(p.loss, { argnums: [0, 1, 2] })(p.params, p.init, p.xs)
 */
export interface ScanProblem {
  /** Which body it is. */
  readonly family: ScanFamily;
  /** The body's weights (a pytree of float64 tensors); the body closes over them as constants. */
  readonly params: TensorTree;
  /** The initial carry (a pytree of float64 tensors, or an int32 counter for `lengthOnly`). */
  readonly init: unknown;
  /** Stacked inputs (axis 0 is time), or null for a length-only scan. */
  readonly xs: unknown;
  /** Number of steps (xs' leading size when there are xs). */
  readonly length: number;
  /** Whether the scan runs from the last step to the first. */
  readonly reverse: boolean;
  /** The body with explicit weights: `step(params)(carry, x_t) → [carry', y_t]`. */
  readonly step: (params: unknown) => AnyScanFn;
  /** `step(this.params)`. */
  readonly f: AnyScanFn;
  /** `[finalCarry, ys]` of the problem's scan, through `impl` (default `scan`) with extra options. */
  readonly run: (
    params: unknown,
    init: unknown,
    xs: unknown,
    impl?: ScanImpl,
    opts?: A.ScanOptions,
  ) => [unknown, unknown];
  /** A scalar float64 loss of `run(...)` whose cotangents differ per element. */
  readonly loss: (params: unknown, init: unknown, xs: unknown) => A.Value;
  /** `loss` with another scan implementation and extra options. */
  readonly lossWith: (impl: ScanImpl, opts?: A.ScanOptions) => (params: unknown, init: unknown, xs: unknown) => A.Value;
}

/**
 * A scalar of a pytree's float leaves, Σᵢ sum(sin((1 + i/4)·leafᵢ)): its cotangent varies per
 * element and per leaf, so a gradient bug cannot hide behind a uniform seed.
 * @example readout([tensor([0.5], "float64")]) // sin(0.5)
 */
export const readout = (tree: unknown): A.Value =>
  A.treeLeaves(tree)
    .filter((l) => T.isFloating(l.dtype))
    .reduce<A.Value>((acc, l, i) => A.add(acc, A.sum(A.sin(A.mul(l, 1 + i / 4)))), T.scalar(0, "float64"));

interface Dims {
  readonly batch: number;
  readonly hidden: number;
  readonly input: number;
}

interface FamilySpec {
  readonly params: (d: Dims) => Record<string, T.Shape>;
  readonly init: (d: Dims) => fc.Arbitrary<unknown>;
  readonly xs: (d: Dims, length: number) => fc.Arbitrary<unknown>;
  readonly step: (params: unknown) => AnyScanFn;
}

// Evenly spread values keep the bodies in their nonlinear range, where gradient bugs show.
const weight = (shape: T.Shape) => arbTensor({ shape, min: -0.8, max: 0.8, uniform: true });
const data = (shape: T.Shape) => arbTensor({ shape, min: -1.5, max: 1.5, uniform: true });
const v = (x: unknown): A.Value => x as A.Value;
/** The weights of a family, by name. */
type W<K extends string> = Readonly<Record<K, A.Value>>;

const families: Readonly<Record<ScanFamily, FamilySpec>> = {
  // Elman cell: h' = tanh(x Wx + h Wh + b), y = h'.
  rnn: {
    params: ({ hidden: h, input: i }) => ({ wx: [i, h], wh: [h, h], b: [h] }),
    init: ({ batch, hidden }) => data([batch, hidden]),
    xs: ({ batch, input }, n) => data([n, batch, input]),
    step: (params) => {
      const { wx, wh, b } = params as W<"wx" | "wh" | "b">;
      return (h, x) => {
        const next = A.tanh(A.add(A.add(A.matmul(v(x), wx), A.matmul(v(h), wh)), b));
        return [next, next];
      };
    },
  },
  // LSTM-like: a pytree carry { h, c } and four gates split from one matmul.
  lstm: {
    params: ({ hidden: h, input: i }) => ({ wx: [i, 4 * h], wh: [h, 4 * h], b: [4 * h] }),
    init: ({ batch, hidden }) => fc.record({ h: data([batch, hidden]), c: data([batch, hidden]) }),
    xs: ({ batch, input }, n) => data([n, batch, input]),
    step: (params) => {
      const { wx, wh, b } = params as W<"wx" | "wh" | "b">;
      return (carry, x) => {
        const { h, c } = carry as W<"h" | "c">;
        const z = A.add(A.add(A.matmul(v(x), wx), A.matmul(h, wh)), b);
        const [i, f, g, o] = A.split(z, 4, -1) as [A.Value, A.Value, A.Value, A.Value];
        const c2 = A.add(A.mul(A.sigmoid(f), c), A.mul(A.sigmoid(i), A.tanh(g)));
        const h2 = A.mul(A.sigmoid(o), A.tanh(c2));
        return [{ h: h2, c: c2 }, h2];
      };
    },
  },
  // Pytree xs [xa, xb] and pytree ys { out, pair: [...] }, one of them not touching the weights.
  pytreeYs: {
    params: ({ hidden: h, input: i }) => ({ wx: [i, h], wh: [h, h], wo: [h, 2] }),
    init: ({ batch, hidden }) => data([batch, hidden]),
    xs: ({ batch, hidden, input }, n) => fc.tuple(data([n, batch, input]), data([n, hidden])),
    step: (params) => {
      const { wx, wh, wo } = params as W<"wx" | "wh" | "wo">;
      return (h, x) => {
        const [xa, xb] = x as [A.Value, A.Value];
        const next = A.tanh(A.add(A.add(A.matmul(xa, wx), A.matmul(v(h), wh)), xb));
        return [next, { out: A.matmul(next, wo), pair: [A.sin(xa), A.mul(next, v(h))] }];
      };
    },
  },
  // No xs (length only), and an int32 step counter in the carry next to the float state.
  lengthOnly: {
    params: ({ hidden: h }) => ({ w: [h, h], b: [h] }),
    init: ({ batch, hidden }) =>
      fc.record({ h: data([batch, hidden]), step: fc.integer({ min: 0, max: 3 }).map((n) => T.scalar(n, "int32")) }),
    xs: () => fc.constant(null),
    step: (params) => {
      const { w, b } = params as W<"w" | "b">;
      return (carry) => {
        const { h, step } = carry as W<"h" | "step">;
        const drive = A.mul(A.astype(step, "float64"), 0.1);
        const next = A.tanh(A.add(A.add(A.matmul(h, w), b), drive));
        return [{ h: next, step: A.add(step, 1) }, A.sum(next, { axis: -1 })];
      };
    },
  },
};

/**
 * Bounds of `arbScanProblem`.
 * @example arbScanProblem({ maxLength: 4, reverse: true, maxHidden: 2 } satisfies ScanProblemOptions)
 */
export interface ScanProblemOptions {
  /** Fewest steps drawn (default 0: an empty scan is a case too). */
  readonly minLength?: number;
  /** Most steps drawn (default 8). */
  readonly maxLength?: number;
  /** The body families to draw from, non-empty (default all of `scanFamilies`). */
  readonly families?: readonly ScanFamily[];
  /** Fix the direction (random when omitted). */
  readonly reverse?: boolean;
  /** Largest batch size drawn (default 2). */
  readonly maxBatch?: number;
  /** Largest hidden size drawn (default 3). */
  readonly maxHidden?: number;
  /** Largest input size drawn (default 3). */
  readonly maxInput?: number;
}

/**
 * Builds a scan problem of `family` from its weights and data (what `arbScanProblem` draws).
 * @example scanProblem("rnn", { params, init, xs, length: 3, reverse: false }).loss(params, init, xs)
 */
export const scanProblem = (
  family: ScanFamily,
  parts: {
    readonly params: TensorTree;
    readonly init: unknown;
    readonly xs: unknown;
    readonly length: number;
    readonly reverse: boolean;
  },
): ScanProblem => {
  if (!scanFamilies.includes(family))
    invalid(
      "scanProblem",
      "family",
      `must be one of ${scanFamilies.join(", ")}, got ${JSON.stringify(family) ?? String(family)}`,
    );
  checkOptions("scanProblem", "parts", parts, ["params", "init", "xs", "length", "reverse"], false);
  checkInt("scanProblem", "parts.length", parts.length, 0);
  const { length, reverse } = parts;
  const step = (params: unknown): AnyScanFn => families[family].step(params);
  const run = (
    params: unknown,
    init: unknown,
    xs: unknown,
    impl: ScanImpl = A.scan,
    opts: A.ScanOptions = {},
  ): [unknown, unknown] => impl(step(params), init, xs, { length, reverse, ...opts });
  const lossWith =
    (impl: ScanImpl, opts: A.ScanOptions = {}) =>
    (params: unknown, init: unknown, xs: unknown): A.Value =>
      readout(run(params, init, xs, impl, opts));
  const avals = (name: string, tree: unknown) =>
    A.treeLeavesWithPaths(tree).map(
      ([path, l]) => `${name}${path === "<root>" ? "" : path}: ${l.dtype}[${l.shape.join(",")}]`,
    );
  const shapes = [...avals("init", parts.init), ...(parts.xs === null ? ["xs: null"] : avals("xs", parts.xs))];
  return {
    family,
    ...parts,
    step,
    f: step(parts.params),
    run,
    loss: lossWith(A.scan),
    lossWith,
    // fast-check prints counterexamples with this instead of dumping closures and buffers.
    [fc.toStringMethod]: () =>
      `ScanProblem(${family}, length ${length}, ${reverse ? "reverse" : "forward"}; ${shapes.join(", ")})`,
  } as ScanProblem;
};

/**
 * Random small scan problems: a body family (Elman tanh RNN, LSTM-like `{ h, c }` carry, pytree
 * xs/ys, length-only with an int32 counter), a length in [minLength, maxLength] (default 0–8), a
 * direction, sizes, then float64 weights and data. Weights are `params`, closed over by the body,
 * so laws can differentiate with respect to constants as well as `init` and `xs`.
 * @example fc.assert(fc.property(arbScanProblem(), (p) => { laws.bptt(p); }))
 */
export const arbScanProblem = (opts: ScanProblemOptions = {}): fc.Arbitrary<ScanProblem> => {
  checkOptions(
    "arbScanProblem",
    "opts",
    opts,
    keysOf<ScanProblemOptions>({
      minLength: true,
      maxLength: true,
      families: true,
      reverse: true,
      maxBatch: true,
      maxHidden: true,
      maxInput: true,
    }),
  );
  for (const k of ["minLength", "maxLength"] as const) checkInt("arbScanProblem", `opts.${k}`, opts[k], 0, 4096);
  for (const k of ["maxBatch", "maxHidden", "maxInput"] as const)
    checkInt("arbScanProblem", `opts.${k}`, opts[k], 1, 64);
  const {
    minLength = 0,
    maxLength = 8,
    families: fams = scanFamilies,
    maxBatch = 2,
    maxHidden = 3,
    maxInput = 3,
  } = opts;
  checkRange("arbScanProblem", "opts.minLength", "opts.maxLength", minLength, maxLength);
  const given: unknown = fams;
  if (!Array.isArray(given) || given.length === 0 || !given.every((f) => scanFamilies.includes(f as ScanFamily))) {
    invalid(
      "arbScanProblem",
      "opts.families",
      `must be a non-empty array of ${scanFamilies.join(", ")}, got ${JSON.stringify(given) ?? String(given)}`,
    );
  }
  if (opts.reverse !== undefined && typeof opts.reverse !== "boolean")
    invalid("arbScanProblem", "opts.reverse", `must be true or false, got ${String(opts.reverse)}`);
  return fc
    .record({
      family: fc.constantFrom(...fams),
      length: fc.integer({ min: minLength, max: maxLength }),
      reverse: opts.reverse === undefined ? fc.boolean() : fc.constant(opts.reverse),
      batch: fc.integer({ min: 1, max: maxBatch }),
      hidden: fc.integer({ min: 1, max: maxHidden }),
      input: fc.integer({ min: 1, max: maxInput }),
    })
    .chain((d) => {
      const spec = families[d.family];
      const shapes = spec.params(d);
      const params = fc.record(Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, weight(s)])));
      return fc
        .record({ params, init: spec.init(d), xs: spec.xs(d, d.length) })
        .map((parts) => scanProblem(d.family, { ...parts, length: d.length, reverse: d.reverse }));
    });
};
