/**
 * @file The `debugNans` switch and its check: name the first primitive that turns finite inputs
 * into a NaN or an infinity.
 */
import { isFloating, type Tensor } from "@rewind/tensor";
import { graphFail } from "./errors.js";

/** @internal Process-wide debug switches; changed only through `withDebugNans`. */
export const debugState = { nans: false };

const countNonFinite = (t: Tensor): number => {
  if (!isFloating(t.dtype)) return 0;
  let n = 0;
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) n++;
  return n;
};

/**
 * @internal Throws `NonFinite` when `outs` hold a NaN/Inf although every input was finite, so the
 * report names the primitive that produced it, not one that merely passed it on.
 */
export const checkFinite = (op: string, ins: readonly Tensor[], outs: readonly Tensor[], source: string): void => {
  if (ins.some((t) => countNonFinite(t) > 0)) return;
  outs.forEach((t, i) => {
    const bad = countNonFinite(t);
    if (bad > 0) {
      graphFail({
        _tag: "NonFinite",
        op,
        detail: `output ${i} (shape [${t.shape.join(", ")}]) has ${bad} NaN/Inf value(s) although all inputs were finite; this is the first primitive that produced one`,
        source,
      });
    }
  });
};

/**
 * Runs `thunk` with NaN/Inf checking on: every primitive evaluated inside (eagerly, or by running
 * a graph traced inside) is checked, and the first one to produce a NaN/Inf from finite inputs
 * throws a `GraphException` naming it and, for traced graphs, the line where it was traced.
 * @example withDebugNans(() => grad(f)(x))
 */
export const withDebugNans = <A>(thunk: () => A): A => {
  const before = debugState.nans;
  debugState.nans = true;
  try {
    return thunk();
  } finally {
    debugState.nans = before;
  }
};
