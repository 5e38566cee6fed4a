/**
 * @file What generated code reads and how it names places: the scope a compiled runner's module is
 * instantiated with (`ModuleScope`: planned buffers, constants, helpers, SIMD kernels, the arena's
 * views and product helpers), the runner's signature, and the buffer-and-offset expressions
 * (`Loc`, `addOff`) the emitters write.
 */
import type { DType, Tensor, WritableTypedArray } from "@rewind/tensor";
import { expF32, sigmoidF32, tanhF32 } from "@rewind/tensor/internal/codegen";
import { int } from "./loopgen.js";
import { mm } from "./matmul.js";
import * as R from "./runtime.js";

/** Where a value lives in generated code: a buffer expression and an offset expression. */
export interface Loc {
  readonly buf: string;
  readonly off: string;
}

/**
 * `a + b` for offset expressions, simplified when either is a literal 0.
 * @example addOff("w3", 0) // "w3"
 */
export const addOff = (a: string, b: number | string): string => {
  const bs = typeof b === "number" ? int(b) : b;
  if (bs === "0") return a;
  if (a === "0") return bs;
  return `${a} + ${bs}`;
};

/** The helpers generated code may call, by the names it uses. */
export const HELPERS = {
  mm,
  takeInto: R.take,
  addAtInto: R.addAt,
  gatherInto: R.gather,
  addAlongInto: R.addAlongAxis,
  cumInto: R.cumulative,
  tensorAt: R.tensorAt,
  wrap: R.wrap,
  freshTensor: R.freshTensor,
  copy: R.copy,
  expf: expF32,
  tanhf: tanhF32,
  sigf: sigmoidF32,
} as const;

/**
 * What the generated module reads, bound once when it is instantiated: the planned buffers `P`,
 * objects `C`, scalars `S`, helpers `H`, SIMD kernels `W`, and with an arena its ArrayBuffer `AB`,
 * Float32Array `HF`, Int32Array `HI` and Uint8Array `HB` views, and the arena product helpers `mma`, `mmp`
 * (packs a b into a slot) and `mmq` (a product with b packed in a slot), see `arena.ts`.
 */
export interface ModuleScope {
  readonly P: unknown[];
  readonly C: unknown[];
  readonly S: number[];
  readonly H: typeof HELPERS;
  readonly W: unknown[];
  readonly AB?: ArrayBuffer;
  readonly HF?: Float32Array;
  readonly HI?: Int32Array;
  readonly HB?: Uint8Array;
  readonly mma?: unknown;
  readonly mmp?: unknown;
  readonly mmq?: unknown;
  /** Two products of one a, each k block of it packed once (see `arena.ts`). */
  readonly mm2?: unknown;
  /** Runs a split loop's second part on a kernel thread (`LoopSplit`), with kernel threads. */
  readonly SL?: unknown;
}

/**
 * The generated runner: inputs in graph order, and per output an array to write it into, or
 * undefined (or a missing entry) to allocate a fresh one.
 */
export type GeneratedRun = (
  inputs: readonly Tensor[],
  outs: ReadonlyArray<WritableTypedArray | undefined>,
) => readonly Tensor[];

/** Typed-array constructors by dtype, for per-call output buffers. */
export const ARRAY_OF: Readonly<Record<DType, string>> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};
