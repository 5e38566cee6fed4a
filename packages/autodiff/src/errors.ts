/**
 * @file Errors found while building or transforming graphs, and the internal-invariant helpers.
 *
 * Mistakes found at trace time (a carry whose shape changes, `grad` of a non-scalar, a tracer
 * used after its transform returned) are values of the tags of `GraphError`, thrown as a
 * `GraphException`. Both the tags and the class belong to @rewind/tensor's one error union and
 * one formatter (`RewindErrorValue`, `formatError`): every package's errors have the same fields
 * (`_tag`, `op`, `arg`, `shapes`, `detail`, `fix`) and one sentence shape. This module re-exports
 * them under autodiff's names.
 */
import { fail, formatError, type GraphErrorValue } from "@rewind/tensor";
import { formatGraphError, GraphException } from "@rewind/tensor/internal/check";

export { formatError, formatGraphError, GraphException };

/** A mistake in how a transform or op was used: the autodiff tags of `RewindErrorValue`. */
export type GraphError = GraphErrorValue;

/**
 * Throws the `RewindError` for `error` (a `GraphException` for autodiff's tags): @rewind/tensor's
 * `fail` under autodiff's older name.
 * @example const x = ok ? 1 : graphFail({ _tag: "InvalidArgument", op: "scan", arg: "length",
 *   detail: "negative", fix: "pass ≥ 0" })
 */
export const graphFail: typeof fail = fail;

/**
 * Throws an internal-invariant error (a bug in Rewind, not in user code).
 * @example if (a.length !== b.length) internalError("zip: lengths differ")
 */
export const internalError = (message: string): never => {
  throw new Error(`Rewind internal error: ${message}`);
};

/**
 * Zips two arrays, throwing when their lengths differ instead of truncating (JAX's `safe_zip`).
 * @example zipStrict([1, 2], ["a", "b"]) // [[1, "a"], [2, "b"]]
 */
export const zipStrict = <A, B>(as: readonly A[], bs: readonly B[]): Array<readonly [A, B]> => {
  if (as.length !== bs.length) internalError(`zipStrict: lengths ${as.length} and ${bs.length} differ`);
  return as.map((a, i) => [a, bs[i]!] as const);
};
