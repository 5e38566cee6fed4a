/**
 * @file The options of the laws in laws.ts and the `FunctionCase` that the laws not about scan
 * take: types only, kept apart so the laws' file stays small.
 */
import type * as T from "@rewind/tensor";
import type * as A from "@rewind/autodiff";
import type { ScanImpl } from "./scanProblems.js";

/**
 * Tolerances of a law's comparisons; the defaults, `LAW_TOLERANCES` (rtol 1e-10, atol 1e-12), are
 * every law's, the scan laws' and the RNN laws' alike.
 * @example laws.bptt(problem, { rtol: 1e-7 } satisfies LawOptions)
 */
export interface LawOptions {
  /** Relative tolerance (default 1e-10). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-12). */
  readonly atol?: number;
}

/**
 * Options of the scan laws: the implementation under test (default `scan`).
 * @example laws.reverse(problem, { scan: myScan } satisfies ScanLawOptions)
 */
export interface ScanLawOptions extends LawOptions {
  /** The scan under test (default `scan`). */
  readonly scan?: ScanImpl;
}

/**
 * A function and the arguments to check it at (laws that are not about scan take these).
 * @example laws.adjoint({ f: (x, w) => matmul(x, w), args: [x, w], name: "matmul" } satisfies FunctionCase)
 */
export interface FunctionCase {
  /** The function under test: pytrees of float64 tensors in, a pytree of tensors out. */
  readonly f: (...args: never[]) => unknown;
  /** The arguments to check it at, one per parameter of `f`. */
  readonly args: readonly unknown[];
  /** Shown in violation messages. */
  readonly name?: string;
}

/**
 * Options of the truncation law: the chunk size k (default 2).
 * @example laws.truncation(problem, { k: 3 } satisfies TruncationLawOptions)
 */
export interface TruncationLawOptions extends ScanLawOptions {
  /** Steps per chunk: the carry's gradient is stopped every k steps (default 2). */
  readonly k?: number;
}

/**
 * Options of the remat and unroll laws: which segment sizes to try.
 * @example laws.unroll(problem, { sizes: [2, 4] } satisfies SegmentLawOptions)
 */
export interface SegmentLawOptions extends ScanLawOptions {
  /** Default: 1, 2, 3 and length + 1. */
  readonly sizes?: readonly number[];
}

/**
 * Options of the jit law: the jit under test (default `jit`) and the cotangent's key.
 * @example laws.jit(scanCase(problem), { key: random.key(7) } satisfies JitLawOptions)
 */
export interface JitLawOptions extends LawOptions {
  /** The jit under test (default `jit`). */
  readonly jit?: <Args extends unknown[], R>(f: (...args: Args) => R) => (...args: Args) => R;
  /** Key of the random cotangent the VJPs are compared on. */
  readonly key?: T.Key;
}

/**
 * Options of the stopGradient law: the stopGradient under test and the cotangent's key.
 * @example laws.stopGradient(scanCase(problem), { key: random.key(7) } satisfies StopGradientLawOptions)
 */
export interface StopGradientLawOptions extends LawOptions {
  /** The stopGradient under test (default `stopGradient`). */
  readonly stopGradient?: (x: A.Value) => A.Value;
  /** Key of the random cotangent the VJPs are compared on. */
  readonly key?: T.Key;
}

/**
 * Options of the adjointness law: the random directions' key and the transforms under test.
 * @example laws.adjoint(scanCase(problem), { key: random.key(7) } satisfies AdjointLawOptions)
 */
export interface AdjointLawOptions extends LawOptions {
  /** Key of the random directions u and v. */
  readonly key?: T.Key;
  /** The jvp under test (default `jvp`). */
  readonly jvp?: JvpImpl;
  /** The vjp under test (default `vjp`). */
  readonly vjp?: VjpImpl;
}

/**
 * Anything with the (untyped) signature of `jvp`: `[f(primals), J·tangents]`.
 * @example const myJvp: JvpImpl = (f, primals, tangents) => jvp(f, primals, tangents)
 */
export type JvpImpl = (
  f: (...args: never[]) => unknown,
  primals: readonly unknown[],
  tangents: readonly unknown[],
) => [unknown, unknown];

/**
 * Anything with the (untyped) signature of `vjp`: `[f(...primals), pullback]`.
 * @example const myVjp: VjpImpl = (f, ...primals) => vjp(f, ...primals)
 */
export type VjpImpl = (
  f: (...args: never[]) => unknown,
  ...primals: unknown[]
) => [unknown, (ct: unknown) => unknown[]];

/**
 * Anything with the signature of `vmap` (the vmap law checks it).
 * @example const myVmap: VmapImpl = (f, o) => vmap(f, o)
 */
export type VmapImpl = <Args extends unknown[], R>(
  f: (...args: Args) => R,
  options?: A.VmapOptions,
) => (...args: Args) => R;

/**
 * Options of the vmap law: where the batch axes are (as `vmap` takes them), whether gradients are
 * compared, the weights' key and the transforms under test.
 * @example laws.vmap({ f: (x, w) => matmul(x, w), args: [xs, w] }, { inAxes: [0, null] } satisfies VmapLawOptions)
 */
export interface VmapLawOptions extends LawOptions {
  /** The batch axis of each argument, as `vmap` takes it (default 0: every leaf batched on its first axis). */
  readonly inAxes?: A.AxisSpec;
  /** Where the batch axis is in the result, as `vmap` takes it (default 0). */
  readonly outAxes?: A.AxisSpec;
  /** The number of examples, for `vmap` (needed only when no argument is batched). */
  readonly axisSize?: number;
  /** Compare gradients too (default true); off for a function that is not differentiable. */
  readonly grad?: boolean;
  /** Key of the random weights of the scalar the gradients are taken of. */
  readonly key?: T.Key;
  /** The vmap under test (default `vmap`). */
  readonly vmap?: VmapImpl;
  /** The jit under test (default `jit`): `jit(vmap(f))` must equal `vmap(f)` bit for bit. */
  readonly jit?: <Args extends unknown[], R>(f: (...args: Args) => R) => (...args: Args) => R;
}
