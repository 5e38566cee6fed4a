/**
 * @file Checks the state-space cells (`lru`, `selectiveSsm`) share: a parameter record against the
 * shapes its init makes, a whole sequence against the parameters, and the init options they take.
 */
import * as T from "@rewind/tensor";
import { isValue, type Value } from "@rewind/autodiff";
import type { InitOptions } from "../Cell.js";
import { checkInitOptions } from "../init.js";
import { checkFields } from "./common.js";

/**
 * Throws unless `p` holds every field of `want` with exactly that shape, all of one float dtype,
 * naming `op` and the first field that differs. Returns the dtype.
 * @example checkParamShapes("lru.step", p, { nu_log: [4], D: [3] }, "nu_log [N], D [H]")
 */
export const checkParamShapes = (
  op: string,
  p: unknown,
  want: Readonly<Record<string, readonly number[]>>,
  layout: string,
): T.DType => {
  const fields = Object.keys(want);
  checkFields(op, p, fields);
  const rec = p as Readonly<Record<string, Value>>;
  const wrong = fields.find((f) => !T.shapesEqual(rec[f]!.shape, want[f]!));
  if (wrong !== undefined)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: `params.${wrong}`,
      shapes: [rec[wrong]!.shape, want[wrong]!],
      detail:
        `${wrong} is ${T.formatShape(rec[wrong]!.shape)} but the other parameters make it ` +
        `${T.formatShape(want[wrong]!)} (the layout is ${layout})`,
      fix: "pass parameters made by this cell's init",
    });
  const dtypes = new Set(fields.map((f) => rec[f]!.dtype));
  const dtype = rec[fields[0]!]!.dtype;
  if (dtypes.size !== 1 || !T.isFloating(dtype))
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "params",
      detail: `the parameters must share one float dtype, got ${[...dtypes].join(", ")}`,
      fix: 'cast them all with astype(p, "float32") or "float64"',
    });
  return dtype;
};

/**
 * Checks a whole sequence `xs` `[batch, time, inputSize]` of the parameters' dtype for `op`
 * (`<cell>.sequence`); returns the batch.
 * @example checkSequenceXs("lru.sequence", xs, 3, "float32")
 */
export const checkSequenceXs = (op: string, xs: unknown, inputSize: number, dtype: T.DType): number => {
  if (!isValue(xs) || xs.shape.length !== 3 || xs.shape[2] !== inputSize)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "xs",
      shapes: isValue(xs) ? [xs.shape, [inputSize]] : [[inputSize]],
      detail: `xs must be [batch, time, ${inputSize}] for these parameters, got ${
        isValue(xs) ? T.formatShape(xs.shape) : xs === null ? "null" : typeof xs
      }`,
      fix: "pass the whole batch-major sequence; rnn(cell, params, xs, { mode: 'parallel' }) does",
    });
  const v = xs as Value;
  if (v.dtype !== dtype)
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "xs",
      detail: `xs is ${v.dtype} but the parameters are ${dtype}`,
      fix: `convert one of them with astype(…, "${dtype}")`,
    });
  return v.shape[0]!;
};

/**
 * Checks one step's input x_t `[batch, inputSize]` of the parameters' dtype for `<cell>.step`,
 * in the cell's own terms (the shared `checkStep` speaks of a `weight_ih` these cells lack).
 * @example checkStepX("lru", x, 3, "float32")
 */
export const checkStepX = (cell: string, x: unknown, inputSize: number, dtype: T.DType): void => {
  const op = `${cell}.step`;
  if (!isValue(x) || x.shape.length !== 2 || x.shape[1] !== inputSize)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "x",
      shapes: isValue(x) ? [x.shape, [inputSize]] : [[inputSize]],
      detail: `x_t must be [batch, ${inputSize}] (the parameters' input size), got ${
        isValue(x) ? T.formatShape(x.shape) : x === null ? "null" : typeof x
      }`,
      fix: "pass one time step [batch, features]; run whole sequences with rnn(cell, params, xs)",
    });
  if ((x as Value).dtype !== dtype)
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "x",
      detail: `x_t is ${(x as Value).dtype} but the parameters are ${dtype}`,
      fix: `convert one of them with astype(…, "${dtype}")`,
    });
};

/**
 * Checks that a carry leaf is `[batch, width]` of `dtype`, naming `op` and `arg`.
 * @example checkCarryLeaf("lru.sequence", "carry.re", h, 2, 8, "float32")
 */
export const checkCarryLeaf = (
  op: string,
  arg: string,
  leaf: unknown,
  batch: number,
  width: number,
  dtype: T.DType,
): void => {
  const want = [batch, width];
  if (!isValue(leaf) || !T.shapesEqual(leaf.shape, want) || leaf.dtype !== dtype)
    T.fail({
      _tag: "ShapeError",
      op,
      arg,
      shapes: isValue(leaf) ? [leaf.shape, want] : [want],
      detail: `${arg} must be ${dtype} ${T.formatShape(want)} (batch × state), got ${
        isValue(leaf) ? `${leaf.dtype} ${T.formatShape(leaf.shape)}` : leaf === null ? "null" : typeof leaf
      }`,
      fix: "start from cell.initialCarry(batch, params), with the batch of xs",
    });
};

/**
 * The init options of a cell whose weights follow its paper: dtype, and scheme only as
 * "default" (orthogonal and Glorot schemes are for PyTorch-layout gate matrices, which these cells
 * do not have, so asking for one is refused rather than silently ignored).
 * @example paperInitDType("lru", { dtype: "float64" }) // "float64"
 */
export const paperInitDType = (cell: string, options: InitOptions): "float32" | "float64" => {
  checkInitOptions(`${cell}.init`, options);
  if (options.scheme !== undefined && options.scheme !== "default")
    T.fail({
      _tag: "ValueError",
      op: `${cell}.init`,
      arg: "options.scheme",
      detail: `${cell} initialises its parameters as its paper does; scheme "${options.scheme}" has no meaning here`,
      fix: 'leave scheme out (or pass "default")',
    });
  return options.dtype ?? "float32";
};

/**
 * Row-major float64 draws mapped through `f`, as a tensor of `dtype` (init arithmetic in float64).
 * @example fromDraws(u, [4], (v) => Math.log(v), "float32")
 */
export const fromDraws = (
  draws: T.Tensor,
  shape: readonly number[],
  f: (v: number, i: number) => number,
  dtype: T.DType,
): T.Tensor =>
  T.fromDataOrThrow(
    Array.from(draws.data as ArrayLike<number>, (v, i) => f(v, i)),
    shape,
    dtype,
  );
