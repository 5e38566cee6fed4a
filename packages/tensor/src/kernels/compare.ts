/**
 * @file Elementwise comparisons and logic with NumPy broadcasting, giving `bool` tensors, and
 * `where`, the elementwise select.
 *
 * Comparisons read both operands exactly, so mixed dtypes need no rounding and the answer is
 * the mathematical one: `less(int32Tensor, 2.5)` is fine. The one exception keeps JAX's weak
 * typing: a plain number met by a `float32` tensor is first rounded to `float32`, so
 * `equal(tensor([0.1]), 0.1)` is true. Logic ops treat every nonzero value (NaN included, as in
 * NumPy) as true. Two plain numbers are a `ValueError`, as for arithmetic.
 */
import { checkOperand, checkTensor } from "../check.js";
import { allocate, type DType } from "../DType.js";
import { broadcastShapes, sizeOf } from "../Shape.js";
import { defaultFloat, fromBuffer, type Tensor } from "../Tensor.js";
import { broadcastPlan, commonDType, lineOf, mapBinary, toView, type Operand } from "./binary.js";

const comparison = (op: string, f: (x: number, y: number) => number) => {
  const line = lineOf(f);
  return (a: Operand, b: Operand): Tensor => {
    const dtype = commonDType(op, a, b);
    return mapBinary(op, "bool", toView(op, "a", a, dtype, true), toView(op, "b", b, dtype, true), line);
  };
};

/**
 * Elementwise `a == b` as a `bool` tensor, with broadcasting (NaN equals nothing, not even NaN).
 * @example equal(tensor([1, 2, NaN]), tensor([1, 3, NaN])).data // Uint8Array [1, 0, 0]
 */
export const equal = comparison("equal", (x, y) => (x === y ? 1 : 0));

/**
 * Elementwise `a != b` as a `bool` tensor, with broadcasting (true wherever either side is NaN).
 * @example notEqual(tensor([1, 2, NaN]), 1).data // Uint8Array [0, 1, 1]
 */
export const notEqual = comparison("notEqual", (x, y) => (x !== y ? 1 : 0));

/**
 * Elementwise `a < b` as a `bool` tensor, with broadcasting.
 * @example less(tensor([1, 2, 3], "int32"), 2.5).data // Uint8Array [1, 1, 0]
 */
export const less = comparison("less", (x, y) => (x < y ? 1 : 0));

/**
 * Elementwise `a <= b` as a `bool` tensor, with broadcasting.
 * @example lessEqual(tensor([1, 2, 3]), 2).data // Uint8Array [1, 1, 0]
 */
export const lessEqual = comparison("lessEqual", (x, y) => (x <= y ? 1 : 0));

/**
 * Elementwise `a > b` as a `bool` tensor, with broadcasting.
 * @example greater(tensor([[1], [3]]), tensor([2, 0])).data // Uint8Array [0, 1, 1, 1]
 */
export const greater = comparison("greater", (x, y) => (x > y ? 1 : 0));

/**
 * Elementwise `a >= b` as a `bool` tensor, with broadcasting.
 * @example greaterEqual(tensor([1, 2, 3]), 2).data // Uint8Array [0, 1, 1]
 */
export const greaterEqual = comparison("greaterEqual", (x, y) => (x >= y ? 1 : 0));

const logical = (op: string, f: (x: number, y: number) => number) => {
  const line = lineOf(f);
  return (a: Operand, b: Operand): Tensor => {
    // Read exactly like comparisons: a number next to float32 still rounds first (so 1e-50 is
    // false there, as in JAX); otherwise truthiness needs no common dtype.
    const dtype = commonDType(op, a, b);
    return mapBinary(op, "bool", toView(op, "a", a, dtype, true), toView(op, "b", b, dtype, true), line);
  };
};

/**
 * Elementwise logical AND as a `bool` tensor: true where both sides are nonzero.
 * @example logicalAnd(tensor([0, 1, 2]), tensor([1, 1, 0])).data // Uint8Array [0, 1, 0]
 */
export const logicalAnd = logical("logicalAnd", (x, y) => (x !== 0 && y !== 0 ? 1 : 0));

/**
 * Elementwise logical OR as a `bool` tensor: true where either side is nonzero.
 * @example logicalOr(tensor([0, 0, 2]), tensor([0, 1, 0])).data // Uint8Array [0, 1, 1]
 */
export const logicalOr = logical("logicalOr", (x, y) => (x !== 0 || y !== 0 ? 1 : 0));

/**
 * Elementwise select: `a` where `cond` is nonzero (NaN counts as true), `b` elsewhere. All three
 * broadcast together. `a` and `b` promote like arithmetic operands (a number takes the other's
 * dtype; a number next to `bool` gives `int32`); if both are numbers the result is `float32`,
 * the default float of constructors.
 * @throws TensorException (`ShapeError`) naming `where` when the three shapes do not broadcast.
 * @example where(tensor([true, false]), tensor([1, 2]), 0).data // Float32Array [1, 0]
 */
export const where = (cond: Tensor, a: Operand, b: Operand): Tensor => {
  checkTensor("where", "cond", cond);
  checkOperand("where", "a", a);
  checkOperand("where", "b", b);
  const dtype: DType = typeof a === "number" && typeof b === "number" ? defaultFloat : commonDType("where", a, b);
  const av = toView("where", "a", a, dtype);
  const bv = toView("where", "b", b, dtype);
  const shape = broadcastShapes("where", cond.shape, av.shape, bv.shape);
  const n = sizeOf(shape);
  const out = allocate(dtype, n);
  const cd = cond.data;
  const ad = av.data;
  const bd = bv.data;
  // Equal sizes after a successful broadcast mean the same row-major layout as the output.
  if (cd.length === n && ad.length === n && bd.length === n) {
    for (let i = 0; i < n; i++) out[i] = cd[i] !== 0 ? ad[i]! : bd[i]!;
  } else if (n > 0) {
    const { inner, rows, starts, steps } = broadcastPlan(shape, [cond.shape, av.shape, bv.shape]);
    const [cs, as, bs] = starts as [Int32Array, Int32Array, Int32Array];
    const [cStep, aStep, bStep] = steps as [number, number, number];
    for (let r = 0, o = 0; r < rows; r++) {
      for (let i = 0, c = cs[r]!, j = as[r]!, k = bs[r]!; i < inner; i++, o++, c += cStep, j += aStep, k += bStep) {
        out[o] = cd[c] !== 0 ? ad[j]! : bd[k]!;
      }
    }
  }
  return fromBuffer(dtype, shape, out);
};
