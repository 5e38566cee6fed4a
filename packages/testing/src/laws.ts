/**
 * @file The laws of Rewind's transforms, each as a check of one instance plus a fast-check
 * property over random instances: the scan laws here, the laws about any function (jit,
 * stopGradient, adjointness) in functionLaws.ts, and the vmap law in vmapLaw.ts.
 *
 * A law function returns nothing and throws a `RewindError` naming the law, the instance and the
 * first pytree path where the two sides differ, so it works under any runner. Scan laws take the
 * implementation to check as an option (default `scan`), which is also how the tests show that
 * each law fails on a broken scan. Every law checks with the toolkit of lawKit.ts, whose default
 * tolerances (rtol 1e-10, atol 1e-12) are tight: both sides compute the same mathematics in
 * float64 and may differ only by rounding.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { arbKey } from "./arbitraries.js";
import { arbScanProblem, type ScanImpl, type ScanProblem } from "./scanProblems.js";
import { scanUnrolled } from "./unrolled.js";
import { checkArbitrary, checkOptions, invalid } from "./args.js";
import { expectClose, expectSameOutcome, type LawCheck } from "./lawKit.js";
import { ADJOINT_LAW_KEYS, functionLaws, JIT_LAW_KEYS, STOP_GRADIENT_LAW_KEYS } from "./functionLaws.js";
import { vmapLaw, VMAP_LAW_KEYS } from "./vmapLaw.js";
import { arbVmapCase } from "./vmapCases.js";
import type {
  ScanLawOptions,
  FunctionCase,
  TruncationLawOptions,
  SegmentLawOptions,
  JitLawOptions,
  StopGradientLawOptions,
  AdjointLawOptions,
  VmapLawOptions,
} from "./lawOptions.js";

export type {
  LawOptions,
  ScanLawOptions,
  FunctionCase,
  TruncationLawOptions,
  SegmentLawOptions,
  JitLawOptions,
  StopGradientLawOptions,
  AdjointLawOptions,
  JvpImpl,
  VjpImpl,
  VmapLawOptions,
  VmapImpl,
} from "./lawOptions.js";

/**
 * Throws unless `p` is a scan problem (from `arbScanProblem` / `scanProblem`) and `o` an options
 * object of `known` keys (not checked without `known`).
 */
const checkProblem = (law: string, p: unknown, o: unknown, known?: readonly string[]): void => {
  const r = p as Partial<ScanProblem> | null;
  if (typeof r !== "object" || r === null || typeof r.lossWith !== "function" || typeof r.run !== "function") {
    invalid(
      `laws.${law}`,
      "p",
      `must be a ScanProblem (from arbScanProblem or scanProblem), got ${r === null ? "null" : typeof r}`,
    );
  }
  if (known !== undefined) checkOptions(`laws.${law}`, "o", o, known);
};

type Loss = (params: unknown, init: unknown, xs: unknown) => A.Value;

/** The outputs, loss and gradients (w.r.t. params, init and xs) of one way to run a problem. */
const outcome = (p: ScanProblem, impl: ScanImpl, opts: A.ScanOptions = {}) => {
  const loss: Loss = p.lossWith(impl, opts);
  const [value, grads] = A.valueAndGrad(loss, { argnums: [0, 1, 2] })(p.params, p.init, p.xs);
  const [params, init, xs] = grads;
  return { outputs: p.run(p.params, p.init, p.xs, impl, opts), loss: value, grad: { params, init, xs } };
};

const flipTime = <U>(tree: U): U => A.treeMap((x) => A.flip(x, 0), tree);

/** `flip ∘ scan(reverse = ¬r) ∘ flip` as a scan implementation. */
const flipped =
  (impl: ScanImpl): ScanImpl =>
  (f, init, xs, o = {}) => {
    const [c, ys] = impl(f, init, xs === null || xs === undefined ? xs : flipTime(xs), {
      ...o,
      reverse: !(o.reverse ?? false),
    });
    return [c, flipTime(ys)];
  };

const stopFloats = <U>(tree: U): U => A.treeMap((x) => (T.isFloating(x.dtype) ? A.stopGradient(x) : x), tree);

/**
 * Truncated BPTT written out: a scan over each chunk of k processed steps, with the gradient of
 * the carry stopped between chunks (in processing order, so a reverse scan's first chunk is the
 * last k rows of xs).
 */
const chunked =
  (impl: ScanImpl, k: number): ScanImpl =>
  <C, X, Y>(f: A.ScanFn<C, X, Y>, init: C, xs: X | null | undefined, o: A.ScanOptions = {}): [C, Y] => {
    const length = o.length ?? A.treeLeaves(xs)[0]?.shape[0] ?? 0;
    const reverse = o.reverse ?? false;
    if (length <= k) return impl(f, init, xs, { length, reverse });
    const pieces: Array<{ readonly lo: number; readonly ys: Y }> = [];
    let carry = init;
    for (let start = 0; start < length; start += k) {
      const stop = Math.min(start + k, length);
      const [lo, hi] = reverse ? [length - stop, length - start] : [start, stop];
      const chunk = A.treeMap<X>((x) => A.slice(x, [{ start: lo, stop: hi }]), xs ?? null);
      const [next, ys] = impl(f, start === 0 ? carry : stopFloats(carry), chunk, { length: hi - lo, reverse });
      carry = next;
      pieces.push({ lo, ys });
    }
    pieces.sort((a, b) => a.lo - b.lo);
    const [first, ...rest] = pieces.map((q) => q.ys) as [Y, ...Y[]];
    return [carry, A.treeMap((...leaves: A.Value[]) => A.concat(leaves), first, ...rest)];
  };

/**
 * A scan problem as a `FunctionCase` of `(params, init, xs)`: its outputs `[carry, ys]`
 * (default) or its scalar loss.
 * @example laws.adjoint(scanCase(problem))
 */
export const scanCase = (p: ScanProblem, output: "outputs" | "loss" = "outputs"): FunctionCase => {
  checkProblem("scanCase", p, undefined);
  if (output !== "outputs" && output !== "loss")
    invalid("scanCase", "output", `must be "outputs" or "loss", got ${String(output)}`);
  return {
    f: output === "loss" ? p.loss : (params: unknown, init: unknown, xs: unknown) => p.run(params, init, xs),
    args: [p.params, p.init, p.xs],
    name: `${output} of ${fc.stringify(p)}`,
  };
};

const SCAN_LAW_KEYS = keysOf<ScanLawOptions>({ rtol: true, atol: true, scan: true });
const SEGMENT_LAW_KEYS = keysOf<SegmentLawOptions>({ rtol: true, atol: true, scan: true, sizes: true });
const TRUNCATION_LAW_KEYS = keysOf<TruncationLawOptions>({ rtol: true, atol: true, scan: true, k: true });
const segmentSizes = (p: ScanProblem, o: SegmentLawOptions): number[] => [
  ...new Set(o.sizes ?? [1, 2, 3, p.length + 1]),
];

/** The remat law, reporting under `name` (its deprecated alias `checkpoint` keeps its own name). */
const rematLaw =
  (name: "remat" | "checkpoint") =>
  (p: ScanProblem, o: SegmentLawOptions = {}): void => {
    checkProblem(name, p, o, SEGMENT_LAW_KEYS);
    const impl = o.scan ?? A.scan;
    const ref = outcome(p, impl, { remat: "all" });
    expectSameOutcome(name, p, 'remat "carries" vs "all"', outcome(p, impl, { remat: "carries" }), ref, o);
    for (const k of segmentSizes(p, o)) {
      expectSameOutcome(name, p, `remat { every: ${k} } vs "all"`, outcome(p, impl, { remat: { every: k } }), ref, o);
    }
    const rematBody: ScanImpl = (f, init, xs, so) => impl(A.remat(f), init, xs, so);
    expectSameOutcome(name, p, "scan(remat(f)) vs scan(f)", outcome(p, rematBody), ref, o);
  };

/**
 * One check per law; each throws an `Error` describing the first violation.
 * @example for (const p of fc.sample(arbScanProblem(), 10)) laws.bptt(p)
 */
export const laws = {
  /**
   * BPTT law: values and gradients (w.r.t. params, init and xs) through `scan` equal those
   * through the explicitly unrolled loop `scanUnrolled`.
   * @example laws.bptt(fc.sample(arbScanProblem(), 1)[0]!)
   */
  bptt: (p: ScanProblem, o: ScanLawOptions = {}): void => {
    checkProblem("bptt", p, o, SCAN_LAW_KEYS);
    expectSameOutcome("BPTT", p, "scan vs scanUnrolled", outcome(p, o.scan ?? A.scan), outcome(p, scanUnrolled), o);
  },

  /**
   * Reverse law: `scan(f, { reverse: r })` equals `flip ∘ scan(f, { reverse: ¬r }) ∘ flip` (xs
   * and ys flipped on the time axis), for values and gradients.
   * @example laws.reverse(problem)
   */
  reverse: (p: ScanProblem, o: ScanLawOptions = {}): void => {
    checkProblem("reverse", p, o, SCAN_LAW_KEYS);
    const impl = o.scan ?? A.scan;
    expectSameOutcome(
      "reverse",
      p,
      "scan vs flip ∘ scan(¬reverse) ∘ flip",
      outcome(p, impl),
      outcome(p, flipped(impl)),
      o,
    );
  },

  /**
   * Remat invariance: the scan policies `remat: "carries"` and `{ every: k }`, and a body wrapped
   * in `remat`, give the values and gradients of `remat: "all"`.
   * @example laws.remat(problem, { sizes: [1, 2, 5] })
   */
  remat: rematLaw("remat"),

  /**
   * The old name of `laws.remat`: the same checks, reported under this name.
   * @deprecated Use `laws.remat`; "checkpoint" now only means saved training state.
   * @example laws.checkpoint(problem)
   */
  checkpoint: rematLaw("checkpoint"),

  /**
   * Unroll invariance: `unroll: k` (and `true`) gives the values and gradients of `unroll: 1`.
   * @example laws.unroll(problem)
   */
  unroll: (p: ScanProblem, o: SegmentLawOptions = {}): void => {
    checkProblem("unroll", p, o, SEGMENT_LAW_KEYS);
    const impl = o.scan ?? A.scan;
    const ref = outcome(p, impl, { unroll: 1 });
    for (const k of [...segmentSizes(p, o), true] as const) {
      expectSameOutcome("unroll", p, `unroll ${k} vs unroll 1`, outcome(p, impl, { unroll: k }), ref, o);
    }
  },

  /**
   * Truncation law: `truncate ≥ T` is full BPTT, and `truncate: k` equals running scan over
   * chunks of k steps with `stopGradient` on the carry between chunks. Values never change.
   * @example laws.truncation(problem, { k: 2 })
   */
  truncation: (p: ScanProblem, o: TruncationLawOptions = {}): void => {
    checkProblem("truncation", p, o, TRUNCATION_LAW_KEYS);
    const impl = o.scan ?? A.scan;
    const k = o.k ?? 2;
    if (!Number.isSafeInteger(k) || k < 1)
      invalid("laws.truncation", "o.k", `must be an integer ≥ 1, got ${String(k)}`);
    const full = outcome(p, impl);
    for (const big of new Set([Math.max(1, p.length), p.length + 3])) {
      expectSameOutcome(
        "truncation",
        p,
        `truncate ${big} ≥ length vs full BPTT`,
        outcome(p, impl, { truncate: big }),
        full,
        o,
      );
    }
    const truncated = outcome(p, impl, { truncate: k });
    const check: LawCheck = { law: "truncation", instance: p, options: o };
    expectClose(check, `values with truncate ${k} vs without`, truncated.outputs, full.outputs, "outputs");
    expectSameOutcome(
      "truncation",
      p,
      `truncate ${k} vs manual chunks of ${k}`,
      truncated,
      outcome(p, chunked(impl, k)),
      o,
    );
  },

  ...functionLaws,

  /**
   * vmap law: `vmap(f)(...c.args)` equals stacking `f` over the examples of the batched `c.args`
   * (each example checked alone, so a violation names it with the leaf), and the gradient of a
   * fixed random weighting of the batched outputs through `vmap(f)` equals the stack of the
   * per-example gradients (their sum for a shared argument, `inAxes` null); `jit(vmap(f))` and
   * `jit` of that gradient give the same bits as eager. float32 leaves are compared with
   * float32 tolerances (rtol 1e-5, atol 1e-6) unless `rtol`/`atol` are given.
   * @example
   * laws.vmap({ f: (x, w) => matmul(x, w), args: [random.normal(k, [4, 2, 3], "float64"), w] }, { inAxes: [0, null] })
   */
  vmap: vmapLaw,
};

/** The arbitrary a property draws from, checked (fast-check's own error would not name the property). */
/** Checks a property's arguments when it is built, so a misspelt option fails before any run. */
const arbOf = <A>(name: string, arb: fc.Arbitrary<A>, o: unknown, known: readonly string[]): fc.Arbitrary<A> => {
  checkArbitrary(`lawProperties.${name}`, "arb", arb);
  checkOptions(`lawProperties.${name}`, "o", o, known);
  return arb;
};

/**
 * fast-check properties of the laws over random instances (defaults: `arbScanProblem()`).
 * @example fc.assert(lawProperties.remat(arbScanProblem({ maxLength: 5 })), { numRuns: 20 })
 */
export const lawProperties = {
  /** The BPTT law on each drawn problem. @example fc.assert(lawProperties.bptt(), { numRuns: 20 }) */
  bptt: (arb: fc.Arbitrary<ScanProblem> = arbScanProblem(), o: ScanLawOptions = {}) =>
    fc.property(arbOf("bptt", arb, o, SCAN_LAW_KEYS), (p) => laws.bptt(p, o)),
  /**
   * The reverse law on each drawn problem.
   * @example fc.assert(lawProperties.reverse(arbScanProblem({ families: ["lstm"] })))
   */
  reverse: (arb: fc.Arbitrary<ScanProblem> = arbScanProblem(), o: ScanLawOptions = {}) =>
    fc.property(arbOf("reverse", arb, o, SCAN_LAW_KEYS), (p) => laws.reverse(p, o)),
  /** Remat invariance on each drawn problem. @example fc.assert(lawProperties.remat()) */
  remat: (arb: fc.Arbitrary<ScanProblem> = arbScanProblem(), o: SegmentLawOptions = {}) =>
    fc.property(arbOf("remat", arb, o, SEGMENT_LAW_KEYS), (p) => laws.remat(p, o)),
  /**
   * @deprecated Use `lawProperties.remat` (same property).
   * @example fc.assert(lawProperties.checkpoint())
   */
  checkpoint: (arb: fc.Arbitrary<ScanProblem> = arbScanProblem(), o: SegmentLawOptions = {}) =>
    fc.property(arbOf("checkpoint", arb, o, SEGMENT_LAW_KEYS), (p) => laws.checkpoint(p, o)),
  /** Unroll invariance on each drawn problem. @example fc.assert(lawProperties.unroll()) */
  unroll: (arb: fc.Arbitrary<ScanProblem> = arbScanProblem(), o: SegmentLawOptions = {}) =>
    fc.property(arbOf("unroll", arb, o, SEGMENT_LAW_KEYS), (p) => laws.unroll(p, o)),
  /** The truncation law, with k drawn in 1..4 for each problem. @example fc.assert(lawProperties.truncation()) */
  truncation: (arb: fc.Arbitrary<ScanProblem> = arbScanProblem(), o: ScanLawOptions = {}) =>
    fc.property(arbOf("truncation", arb, o, SCAN_LAW_KEYS), fc.integer({ min: 1, max: 4 }), (p, k) =>
      laws.truncation(p, { ...o, k }),
    ),
  /**
   * jit invariance on each drawn case.
   * @example fc.assert(lawProperties.jit(arbScanProblem().map((p) => scanCase(p, "loss"))))
   */
  jit: (arb: fc.Arbitrary<FunctionCase> = arbScanProblem().map((p) => scanCase(p)), o: JitLawOptions = {}) =>
    fc.property(arbOf("jit", arb, o, JIT_LAW_KEYS), arbKey(), (c, key) => laws.jit(c, { key, ...o })),
  /** The stopGradient law on each drawn case. @example fc.assert(lawProperties.stopGradient()) */
  stopGradient: (
    arb: fc.Arbitrary<FunctionCase> = arbScanProblem().map((p) => scanCase(p)),
    o: StopGradientLawOptions = {},
  ) =>
    fc.property(arbOf("stopGradient", arb, o, STOP_GRADIENT_LAW_KEYS), arbKey(), (c, key) =>
      laws.stopGradient(c, { key, ...o }),
    ),
  /** VJP/JVP adjointness on each drawn case and key. @example fc.assert(lawProperties.adjoint()) */
  adjoint: (arb: fc.Arbitrary<FunctionCase> = arbScanProblem().map((p) => scanCase(p)), o: AdjointLawOptions = {}) =>
    fc.property(arbOf("adjoint", arb, o, ADJOINT_LAW_KEYS), arbKey(), (c, key) => laws.adjoint(c, { key, ...o })),
  /**
   * The vmap law on each drawn case and key (default: `arbVmapCase()`, random compositions whose
   * arguments are batched on axis 0); `o.inAxes` applies to every case.
   * @example fc.assert(lawProperties.vmap(arbVmapCase({ shared: true }), { inAxes: [0, null] }), { numRuns: 20 })
   */
  vmap: (arb: fc.Arbitrary<FunctionCase> = arbVmapCase(), o: VmapLawOptions = {}) =>
    fc.property(arbOf("vmap", arb, o, VMAP_LAW_KEYS), arbKey(), (c, key) => laws.vmap(c, { key, ...o })),
};
