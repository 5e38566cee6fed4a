/**
 * @file The `debugNans` switch and its check: name the first primitive that makes a NaN (or turns
 * finite inputs into an infinity), or the first one to use a NaN that came in from outside.
 */
import { formatShape, isFloating, type Tensor } from "@rewind/tensor";
import { graphFail } from "./errors.js";

/**
 * @internal Process-wide debug state. `nans` changes only through `withDebugNans`; `vjpOf` is set
 * by the backward pass (`duringVjpOf`) while a VJP rule runs, so the ops it emits are reported as
 * part of that rule, at the line where the differentiated op was traced.
 */
export const debugState: { nans: boolean; vjpOf: string | undefined } = { nans: false, vjpOf: undefined };

const countNaN = (t: Tensor): number => {
  if (!isFloating(t.dtype)) return 0;
  let n = 0;
  for (let i = 0; i < t.data.length; i++) if (t.data[i] !== t.data[i]) n++;
  return n;
};

const countNonFinite = (t: Tensor): number => {
  if (!isFloating(t.dtype)) return 0;
  let n = 0;
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) n++;
  return n;
};

const shapeOf = (t: Tensor): string => formatShape(t.shape);

/** What a NaN in output `i` means, given what the inputs held. */
const nanDetail = (ins: readonly Tensor[], out: Tensor, i: number, bad: number): string => {
  const nanIn = ins.findIndex((t) => countNaN(t) > 0);
  if (nanIn >= 0) {
    // Every checked primitive throws on the first NaN it makes, so a NaN input was made elsewhere.
    return (
      `output ${i} (shape ${shapeOf(out)}) has ${bad} NaN value(s) because input ${nanIn} ` +
      `(shape ${shapeOf(ins[nanIn]!)}) already held ${countNaN(ins[nanIn]!)} NaN value(s) that no checked ` +
      "primitive produced: the NaN came in from outside (an argument, a captured constant, or a value " +
      "computed before withDebugNans); this is the first primitive that used it"
    );
  }
  if (ins.some((t) => countNonFinite(t) > 0)) {
    return (
      `output ${i} (shape ${shapeOf(out)}) has ${bad} NaN value(s) although no input held a NaN ` +
      "(an input held ±Inf: e.g. Inf − Inf, 0 · Inf or Inf / Inf); this is the first primitive that produced one"
    );
  }
  return (
    `output ${i} (shape ${shapeOf(out)}) has ${bad} NaN/Inf value(s) although all inputs were finite; ` +
    "this is the first primitive that produced one"
  );
};

/**
 * @internal Throws `NonFinite` for the first primitive whose output holds a NaN (whatever its
 * inputs: the check stops at the first one, so an earlier NaN is either this primitive's doing or
 * came from outside, and the message says which), or an ±Inf although every input was finite
 * (an Inf passed on from an input is not blamed: −Inf masks are legitimate).
 */
export const checkFinite = (op: string, ins: readonly Tensor[], outs: readonly Tensor[], source: string): void => {
  outs.forEach((t, i) => {
    const nans = countNaN(t);
    if (nans > 0) graphFail({ _tag: "NonFinite", op, detail: nanDetail(ins, t, i, nans), source });
  });
  if (ins.some((t) => countNonFinite(t) > 0)) return;
  outs.forEach((t, i) => {
    const bad = countNonFinite(t);
    if (bad > 0) graphFail({ _tag: "NonFinite", op, detail: nanDetail(ins, t, i, bad), source });
  });
};

/**
 * @internal Runs a VJP rule under `withDebugNans` so that the ops it emits are reported as
 * `<where the differentiated op was traced> (in the VJP of <op>)`; nested rules (a scan body's
 * inside the scan's) report the innermost.
 */
export const duringVjpOf = <A>(op: string, source: string | undefined, rule: () => A): A => {
  const before = debugState.vjpOf;
  debugState.vjpOf = `${source === undefined || source === "" ? "" : `${source} `}(in the VJP of ${op})`;
  try {
    return rule();
  } finally {
    debugState.vjpOf = before;
  }
};

/**
 * Runs `thunk` with NaN/Inf checking on: every primitive evaluated inside (eagerly, or by running
 * a graph traced inside — `jit` then runs the interpreter) is checked, and the first one whose
 * output holds a NaN, or an Inf made from finite inputs, throws a `GraphException` naming it, the
 * line where it was traced, the VJP it belongs to in a backward pass, and the scan step it ran at.
 * @example withDebugNans(() => grad(f)(x))
 */
export const withDebugNans = <A>(thunk: () => A): A => {
  if (typeof thunk !== "function") {
    graphFail({
      _tag: "InvalidArgument",
      op: "withDebugNans",
      arg: "thunk",
      detail: `expected a function, got ${thunk === null ? "null" : typeof thunk}`,
      fix: "pass () => computation",
    });
  }
  const before = debugState.nans;
  debugState.nans = true;
  try {
    return thunk();
  } finally {
    debugState.nans = before;
  }
};
