/**
 * @file Helpers of the rnn, optim, testing and node fuzz suites, on top of `contract.ts`.
 *
 * A registry maps every runtime export of a package to a `Spec`: a function that runs that
 * export's cases (fast-check properties over valid arguments compared with a float64 reference,
 * pools of invalid arguments that must be rejected) and returns how many it ran, for the ledger.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import { expectRejected, type FuzzLedger } from "./contract.js";

/** Runs one export's cases and returns how many ran. */
export type Spec = () => number;

/**
 * One test per entry of `registry`, in name order: it runs the entry's spec (synchronous or not),
 * which must run cases, and records them in `ledger`.
 * @example testEachSpec({ psum: psumSpec }, ledger)
 */
export const testEachSpec = (
  registry: Readonly<Record<string, () => number | Promise<number>>>,
  ledger: FuzzLedger,
): void => {
  for (const entry of Object.keys(registry).sort())
    test(`fuzz ${entry}`, async () => {
      const cases = await registry[entry]!();
      expect(cases).toBeGreaterThan(0);
      ledger.record(entry, cases);
    });
};

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Every thunk must throw a library error naming one of `names`; returns the number of thunks.
 * @example rejectEach(["rnn"], { "lengths 1.5": () => rnn(lstm, p, xs, { lengths: [1.5] }) })
 */
export const rejectEach = (names: readonly string[], cases: Readonly<Record<string, () => unknown>>): number => {
  for (const [label, thunk] of Object.entries(cases)) {
    try {
      expectRejected(names, thunk);
    } catch (e) {
      throw new Error(`${label}: ${message(e)}`, { cause: e });
    }
  }
  return Object.keys(cases).length;
};

/**
 * A fast-check property run `runs` times (the root setup fixes the seed); returns `runs`.
 * @example prop(fc.integer(), (n) => expect(n + 0).toBe(n), 20)
 */
export const prop = <A>(arb: fc.Arbitrary<A>, predicate: (a: A) => void, runs: number): number => {
  fc.assert(fc.property(arb, predicate), { numRuns: runs });
  return runs;
};

/**
 * Hostile values for one argument slot, every one of them tried: each must be rejected with a
 * library error naming one of `names`. Returns the number of values.
 * @example rejectPool(["linear"], [0, -1, 1.5, NaN], (n) => linear(n as number))
 */
export const rejectPool = <V>(names: readonly string[], pool: readonly V[], thunk: (v: V) => unknown): number => {
  for (const v of pool) {
    try {
      expectRejected(names, () => thunk(v));
    } catch (e) {
      throw new Error(`hostile value ${show(v)}: ${message(e)}`, { cause: e });
    }
  }
  return pool.length;
};

/** A short rendering of a hostile value for failure messages. */
export const show = (v: unknown): string => {
  if (T.isTensor(v)) return `${v.dtype}${T.formatShape(v.shape)}`;
  if (typeof v === "number" || typeof v === "bigint" || v === undefined) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/** Wrong-typed values for an argument that should be a positive integer (a size, a count). */
export const BAD_SIZES: readonly unknown[] = [0, -1, 1.5, NaN, Infinity, -Infinity, "3", null, undefined, 2 ** 53, {}];
/** Wrong-typed values for a non-negative integer (a batch, a number of steps). */
export const BAD_COUNTS: readonly unknown[] = [-1, 1.5, NaN, Infinity, "2", null, {}, 2 ** 53];
/** Values that are not tensors, for tensor arguments. */
export const NOT_TENSORS: readonly unknown[] = [null, undefined, 3, "x", [1, 2], { shape: [2], dtype: "float32" }];
/** Values that are not booleans, for flags. */
export const NOT_FLAGS: readonly unknown[] = ["yes", 1, 0, null, {}];
/** Values that are not option objects. */
export const NOT_OPTIONS: readonly unknown[] = [null, 5, "x", true];

/** A float64 tensor from numbers. */
export const f64 = (data: readonly number[], shape: readonly number[]): T.Tensor =>
  T.fromDataOrThrow(data, shape, "float64");

/** Standard-normal float64 data of a shape from a seed (deterministic, shrinks with the seed). */
export const normal = (seed: number, shape: readonly number[], scale = 1): T.Tensor =>
  T.mul(T.random.normal(T.random.key(seed), shape, "float64"), scale);

/**
 * Throws unless `actual` (a concrete tensor) equals `expected` elementwise within
 * |a − e| ≤ atol + rtol·|e|, with the shape checked first.
 * @example expectNear("rnn outputs", out, reference, [2, 3, 4])
 */
export const expectNear = (
  what: string,
  actual: unknown,
  expected: ArrayLike<number>,
  shape: readonly number[],
  rtol = 1e-10,
  atol = 1e-12,
): void => {
  if (!T.isTensor(actual)) throw new Error(`${what}: expected a concrete tensor, got ${show(actual)}`);
  if (!T.shapesEqual(actual.shape, shape))
    throw new Error(`${what}: shape ${T.formatShape(actual.shape)}, expected ${T.formatShape(shape)}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual.data[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e} (shape ${T.formatShape(shape)})`);
    }
  }
};

/** The numbers of a concrete tensor (throws for anything else). */
export const dataOf = (v: unknown): number[] => {
  if (!T.isTensor(v)) throw new Error(`expected a concrete tensor, got ${show(v)}`);
  return Array.from(v.data as ArrayLike<number>);
};

/**
 * Runs a call that reports failure as a value: it must not throw, and must return a `Left` whose
 * message starts with `op` (the loader the user called).
 * @example expectLeft("restoreCheckpoint", "empty bytes", () => restoreCheckpoint(new Uint8Array(0), template))
 */
export const expectLeft = (op: string, label: string, thunk: () => E.Either<T.TensorError, unknown>): void => {
  let r: E.Either<T.TensorError, unknown>;
  try {
    r = thunk();
  } catch (e) {
    throw new Error(`${label}: ${op} threw (it must return a Left): ${message(e)}`, { cause: e });
  }
  if (!E.isLeft(r)) throw new Error(`${label}: expected a Left, got a Right`);
  expect(T.formatTensorError(r.left), label).toMatch(new RegExp(`^${op}: `));
};
