/**
 * @file What the combinators share about dropout and widths: a cell's input size, the rate
 * check, one step's keep mask and inverted dropout, and passing an optional cell field on.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { check, numberIn, withFix } from "@rewind/tensor/internal/check";
import { isValue, mul, where, type Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { checkCell } from "./custom.js";

/**
 * Input features of `cell` for `params`: the cell's own `inputSize` when it has one, else the
 * columns of a PyTorch-layout `weight_ih`.
 * @throws TensorException naming `op` when neither is available.
 * @example inputSizeOf("dropout", lstm, lstm.init(random.key(0), { inputSize: 3, hiddenSize: 4 })) // 3
 */
export const inputSizeOf = <P, C, X = undefined>(op: string, cell: Cell<P, C, X>, params: NoInfer<P>): number => {
  const sized = checkCell(op, "cell", cell);
  if (sized.inputSize !== undefined) return sized.inputSize(params);
  const w =
    typeof params === "object" && params !== null ? (params as Record<string, unknown>)["weight_ih"] : undefined;
  if (isValue(w) && w.shape.length === 2) return w.shape[1]!;
  return T.fail({
    _tag: "ValueError",
    op,
    arg: "cell",
    detail: `cannot tell the input size of cell ${cell.name}: it has no inputSize(params) and no weight_ih`,
    fix:
      "give the cell inputSize (defineCell({ …, inputSize: (p) => … })), or apply the dropout where the width is " +
      "known",
  });
};

const rateRule = withFix(
  numberIn(0, 1, "[)"),
  "pass the probability of dropping a unit, e.g. 0.2 (0 turns dropout off)",
);
/**
 * Throws unless `rate` is a dropout probability in [0, 1); returns it.
 * @example checkRate("dropout", "rate", 0.2) // 0.2
 */
export const checkRate = (op: string, arg: string, rate: unknown): number => check(op, arg, rate, rateRule) as number;

/**
 * One step's keep mask `[batch, width]`: true (kept) with probability 1 − rate.
 * @example keepMask(random.key(0), 0.5, 2, 3) // bool [2, 3]
 */
export const keepMask = (key: Key, rate: number, batch: number, width: number): T.Tensor =>
  T.random.bernoulli(key, 1 - rate, [batch, width]);

/**
 * Inverted dropout: kept units are scaled by 1/(1 − rate) so the expected value is unchanged.
 * @example applyMask("dropout", x, keepMask(random.key(0), 0.5, 2, 3), 0.5)
 */
export const applyMask = (op: string, x: Value, mask: Value, rate: number): Value => {
  if (!T.shapesEqual(x.shape, mask.shape)) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "x",
      shapes: [x.shape, mask.shape],
      detail: "the values to drop and the drawn mask differ in shape",
      fix: "make the cell's inputSize/outputSize report the width it really reads/returns",
    });
  }
  return where(mask, mul(x, 1 / (1 - rate)), 0);
};

/**
 * `{ [key]: value }`, or `{}` when the value is undefined (an optional cell field passed on).
 * @example ({ ...optional("sequence", cell.sequence) })
 */
export const optional = <K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } =>
  value === undefined ? {} : ({ [key]: value } as { [k in K]: V });
