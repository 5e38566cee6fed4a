/**
 * @file The `toBeAllClose` matcher, independent of any test runner.
 *
 * It follows the `expect.extend` protocol shared by vitest and Jest (a function of the received
 * value returning `{ pass, message }`), but imports neither: `vitest.ts` registers it, and other
 * runners can call `closeWithPaths` or `assertAllClose` directly.
 */
import * as T from "@rewind/tensor";
import { treeDefKey, treeFlatten, treeLeavesWithPaths } from "@rewind/autodiff";
import { allClose, checkCloseOptions, type CloseOptions, type CloseResult } from "./allClose.js";
import { testingError } from "./failure.js";

const isTree = (x: unknown): boolean =>
  !T.isTensor(x) && (Array.isArray(x) ? x.some((e) => !isPlain(e)) : typeof x === "object" && x !== null);

/** A number or nested array of numbers (what `allClose` accepts as plain data). */
const isPlain = (x: unknown): boolean =>
  typeof x === "number" || typeof x === "boolean" || (Array.isArray(x) && x.every(isPlain));

/**
 * `allClose`, but a mismatch inside a pytree is reported by its path (`.h`, `[1].w`) instead of
 * its leaf index, with `label` in front (default "value").
 * @example closeWithPaths({ h: tensor([1]) }, { h: tensor([2]) }).message // "value.h: 1 of 1 elements differ ..."
 */
export const closeWithPaths = (
  actual: unknown,
  expected: unknown,
  opts: CloseOptions = {},
  label = "value",
): CloseResult => {
  checkCloseOptions("closeWithPaths", opts);
  if (!isTree(actual) && !isTree(expected)) {
    const r = allClose(actual, expected, opts);
    return r.pass ? r : { pass: false, message: r.message.replace(/^value/, label) };
  }
  const [, da] = treeFlatten(actual);
  const [, db] = treeFlatten(expected);
  if (treeDefKey(da) !== treeDefKey(db)) {
    return { pass: false, message: `${label}: pytree structures differ: ${treeDefKey(da)} vs ${treeDefKey(db)}` };
  }
  const a = treeLeavesWithPaths(actual);
  const b = treeLeavesWithPaths(expected);
  for (let i = 0; i < a.length; i++) {
    const [path, x] = a[i]!;
    const y = b[i]![1];
    const where = `${label}${path === "<root>" ? "" : path}`;
    if (!T.isTensor(x) || !T.isTensor(y))
      return { pass: false, message: `${where}: a traced value, not a tensor (compare outside transforms)` };
    if (x.dtype !== y.dtype) return { pass: false, message: `${where}: dtypes differ: ${x.dtype} vs ${y.dtype}` };
    const r = allClose(x, y, opts);
    if (!r.pass) return { pass: false, message: r.message.replace(/^value/, where) };
  }
  return { pass: true, message: `${label}: all ${a.length} leaves close` };
};

/**
 * Throws an `Error` (prefixed with `what`) when `actual` and `expected` are not all close.
 * @example assertAllClose("grad", g, tensor([2, 4]), { rtol: 1e-9 })
 */
export const assertAllClose = (
  what: string,
  actual: unknown,
  expected: unknown,
  opts: CloseOptions = {},
  label = "value",
): void => {
  checkCloseOptions("assertAllClose", opts);
  const r = closeWithPaths(actual, expected, opts, label);
  if (!r.pass) throw testingError({ _tag: "TestFailure", op: what, detail: `${what}: ${r.message}` });
};

/**
 * What an `expect.extend` matcher returns.
 * @example const r: MatcherResult = toBeAllClose.call(undefined, x, y); r.pass
 */
export interface MatcherResult {
  /** Whether the assertion holds. */
  readonly pass: boolean;
  /** The text the test runner prints, built only when it is needed. */
  readonly message: () => string;
  /** The received value, for the runner's diff. */
  readonly actual?: unknown;
  /** The expected value, for the runner's diff. */
  readonly expected?: unknown;
}

/**
 * Matcher: the received tensor, number, nested array or pytree is elementwise close to
 * `expected` (|a − b| ≤ atol + rtol·|b|; defaults rtol 1e-5, atol 1e-8). The failure message
 * names the pytree path, how many elements differ and the worst index with both values.
 * Register it with `expect.extend({ toBeAllClose })`, or import "@rewind/testing/vitest".
 * @example expect(grad(f)(x)).toBeAllClose(tensor([2, 4]), { rtol: 1e-9 })
 */
export function toBeAllClose(
  this: unknown,
  received: unknown,
  expected: unknown,
  opts: CloseOptions = {},
): MatcherResult {
  checkCloseOptions("toBeAllClose", opts);
  const r = closeWithPaths(received, expected, opts, "received");
  return {
    pass: r.pass,
    message: () =>
      r.pass
        ? `expected values not to be all close, but ${r.message}`
        : `expected values to be all close: ${r.message}`,
  };
}
