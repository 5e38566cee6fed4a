/**
 * @file The vmap law, as a harness for the per-primitive table (vmap-law.test.ts): `vmap(f)` of
 * stacked examples equals stacking `f` over the examples, bit for bit, eager and under `jit`, with
 * the batch axis first, last, or absent on the arguments that may be shared.
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { AxisSpec, Value } from "../src/index.js";

/** A float dtype the law runs in. */
export type FloatDType = "float32" | "float64";

/** A tiny deterministic generator (an LCG), so each case is reproducible from its seed. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#s = (Math.imul(this.#s, 1664525) + 1013904223) >>> 0;
    return this.#s / 2 ** 32;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** Values on a grid of 1/8 in [lo, hi], so ties (max, comparisons, round) happen. */
export const floats = (rng: Rng, shape: readonly number[], dtype: FloatDType, lo = -2, hi = 2): T.Tensor =>
  T.fromDataOrThrow(
    Array.from({ length: T.sizeOf(shape) }, () => Math.round((lo + (hi - lo) * rng.next()) * 8) / 8),
    shape,
    dtype,
  );

/** int32 values in [lo, hi]. */
export const ints = (rng: Rng, shape: readonly number[], lo: number, hi: number): T.Tensor =>
  T.fromDataOrThrow(
    Array.from({ length: T.sizeOf(shape) }, () => rng.int(lo, hi)),
    shape,
    "int32",
  );

/** One row of the table: one example's arguments, the function, and which arguments may be shared. */
export interface LawSpec {
  /** One example's arguments (fresh random values per call). */
  readonly args: (rng: Rng, dtype: FloatDType) => T.Tensor[];
  /** The function vmapped; may return a pytree. */
  readonly f: (...args: Value[]) => unknown;
  /** Indices of arguments also tried unbatched (inAxes null), one at a time. */
  readonly shared?: readonly number[];
}

const call = (f: LawSpec["f"], args: readonly Value[]): Value[] => A.treeLeaves(f(...args));

/** Exact equality of two tensors (shape, dtype, every bit pattern up to NaN payloads). */
export const expectSameBits = (actual: Value, expected: Value, what: string): void => {
  const a = actual as T.Tensor;
  const e = expected as T.Tensor;
  expect(a.shape, `${what}: shape`).toEqual(e.shape);
  expect(a.dtype, `${what}: dtype`).toBe(e.dtype);
  expect(Array.from(a.data), what).toEqual(Array.from(e.data));
};

/**
 * Checks the law for one spec: B examples, batched at axis 0, at the last axis, and with each
 * `shared` argument unbatched; eager, or under jit.
 */
export const checkVmapLaw = (spec: LawSpec, dtype: FloatDType, mode: "eager" | "jit", seed = 1): void => {
  const rng = new Rng(seed);
  const B = 3;
  const examples = Array.from({ length: B }, () => spec.args(rng, dtype));
  const n = examples[0]!.length;
  const layouts: Array<{ readonly name: string; readonly axes: ReadonlyArray<number | null> }> = [
    { name: "axis 0", axes: examples[0]!.map(() => 0) },
    { name: "last axis", axes: examples[0]!.map((x) => x.shape.length) },
    ...(spec.shared ?? []).map((s) => ({
      name: `arg ${s} shared`,
      axes: Array.from({ length: n }, (_, i) => (i === s ? null : 0)),
    })),
  ];
  for (const { name, axes } of layouts) {
    const perExample = examples.map((ex) => ex.map((x, i) => (axes[i] === null ? examples[0]![i]! : x)));
    const batched = axes.map((ax, i) =>
      ax === null
        ? examples[0]![i]!
        : A.stack(
            examples.map((ex) => ex[i]!),
            ax,
          ),
    );
    const expected = perExample.map((ex) => call(spec.f, ex));
    const vf = A.vmap(spec.f, { inAxes: axes as AxisSpec });
    const run = mode === "jit" ? A.jit(vf) : vf;
    const actual = A.treeLeaves(run(...batched));
    expect(actual.length, `${name}: output leaves`).toBe(expected[0]!.length);
    actual.forEach((leaf, j) =>
      expectSameBits(leaf, A.stack(expected.map((outs) => outs[j]!)), `${name}, output ${j}`),
    );
  }
};
