/**
 * @file Elementwise arithmetic of two operands with NumPy broadcasting: add, sub, mul, div, pow,
 * maximum, minimum; plus the operand handling and broadcast loop that `compare.ts` shares.
 *
 * Dtype rules (JAX's, on Rewind's lattice `bool < int32 < float32 < float64`):
 * - Two tensors compute in `promoteTypes(a.dtype, b.dtype)`: `int32 + float32` is `float32`.
 * - A plain JavaScript number is weakly typed: it takes the dtype of the tensor it meets and never
 *   widens it, so `add(x32, 0.1)` stays `float32` (0.1 rounds to float32 first). An `int32`
 *   computation accepts only integer numbers in range; anything else is a `ValueError` rather
 *   than a silent truncation. Two numbers have no dtype or shape to take: `ValueError`.
 * - Arithmetic on `bool` is integer arithmetic: `bool ⊕ bool` and `bool ⊕ number` compute in `int32`.
 * - `div` is true division: integer operands give `float32`.
 * Operands are read exactly and the result rounds once when stored (`float32` rounds on store,
 * `int32` wraps modulo 2^32 like NumPy; `mul` and `pow` use exact 32-bit multiplies for that).
 */
import type { ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { checkOperand } from "../check.js";
import { allocate, floatResultType, promoteTypes, type DType } from "../DType.js";
import { fail } from "../errors.js";
import { broadcastShapes, shapesEqual, sizeOf, type Shape } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { broadcastStrides, viewOffsets } from "./strided.js";

/** What a binary op accepts on either side: a tensor, or a weakly typed plain number. */
export type Operand = Tensor | number;

/**
 * An operand reduced to what a loop reads: a buffer and the shape it is laid out in.
 * @internal Shared by the elementwise kernels.
 * @example const v: View = { data: Float64Array.of(2), shape: [] }
 */
export interface View {
  readonly data: ReadonlyTypedArray;
  readonly shape: Shape;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * The dtype a binary op works in before any op-specific lift: promoted for two tensors, the
 * tensor's own dtype when the other side is a number (a number next to `bool` makes it `int32`).
 * @internal Shared by the elementwise kernels.
 * @throws TensorException (`ValueError`) naming `op` when both operands are plain numbers.
 * @example commonDType("add", tensor([1], "int32"), 2.0) // "int32"
 */
export const commonDType = (op: string, a: Operand, b: Operand): DType => {
  checkOperand(op, "a", a);
  checkOperand(op, "b", b);
  if (typeof a === "number") {
    if (typeof b === "number") {
      return fail({
        _tag: "ValueError",
        op,
        arg: "a, b",
        detail: `both operands are plain numbers (${a} and ${b}), so there is no tensor to take a dtype and shape from`,
        fix: `wrap one in a tensor, e.g. ${op}(scalar(${a}, "float64"), ${b}), or compute the number in JavaScript`,
      });
    }
    return b.dtype === "bool" ? "int32" : b.dtype;
  }
  if (typeof b === "number") return a.dtype === "bool" ? "int32" : a.dtype;
  return promoteTypes(a.dtype, b.dtype);
};

/**
 * A plain number as a rank-0 view holding its value in `dtype`: rounded for `float32`, checked
 * to be an in-range integer for `int32`/`bool`. With `exact`, only `float32` rounds, because a
 * comparison of an integer tensor with 2.5 has an exact answer and needs no common dtype.
 * @internal Shared by the elementwise kernels.
 * @throws TensorException (`ValueError`) naming `op` and `arg` for a number `dtype` cannot hold.
 * @example toView("add", "b", 2, "float32").shape // []
 */
export const toView = (op: string, arg: string, x: Operand, dtype: DType, exact = false): View => {
  if (typeof x !== "number") return x;
  if (dtype === "float32") return { data: Float64Array.of(Math.fround(x)), shape: [] };
  if (dtype === "float64" || exact) return { data: Float64Array.of(x), shape: [] };
  if (!Number.isInteger(x) || x < INT32_MIN || x > INT32_MAX) {
    return fail({
      _tag: "ValueError",
      op,
      arg,
      detail:
        `the number ${x} cannot take the ${dtype} dtype of the other operand ` +
        "(plain numbers are weakly typed and never widen a tensor)",
      fix: 'cast the tensor operand to a float first (astype(t, "float32")), or pass an integer in int32 range',
    });
  }
  return { data: Float64Array.of(x), shape: [] };
};

/**
 * How a loop walks a broadcast: the output is `rows` contiguous rows of `inner` elements, and
 * operand `k`'s row `r` starts at `starts[k][r]` and advances by `steps[k]` (0 where it broadcasts).
 * @internal Shared by the elementwise kernels.
 * @example broadcastPlan([2, 3], [[2, 1], [3]]).starts // [Int32Array [0, 1], Int32Array [0, 0]]
 */
export interface BroadcastPlan {
  readonly inner: number;
  readonly rows: number;
  readonly starts: readonly Int32Array[];
  readonly steps: readonly number[];
}

/**
 * Plans the row-by-row walk of `inShapes` broadcast to `outShape` (already checked to broadcast).
 * Trailing axes of size 1 are dropped first so the rows are as long as they can be.
 * @internal Shared by the elementwise kernels.
 * @example broadcastPlan([2, 3], [[2, 1], [3]]).inner // 3
 */
export const broadcastPlan = (outShape: Shape, inShapes: readonly Shape[]): BroadcastPlan => {
  let rank = outShape.length;
  while (rank > 0 && outShape[rank - 1] === 1) rank--;
  const outer = outShape.slice(0, Math.max(0, rank - 1));
  const strides = inShapes.map((s) => broadcastStrides(s, outShape).slice(0, rank));
  return {
    inner: rank > 0 ? outShape[rank - 1]! : 1,
    rows: sizeOf(outer),
    starts: strides.map((st) => viewOffsets(outer, st.slice(0, outer.length), 0)),
    steps: strides.map((st) => (rank > 0 ? st[rank - 1]! : 0)),
  };
};

/**
 * Writes `len` results to `out[o0..]`, reading `a` from `a0` by `as` and `b` from `b0` by `bs`.
 * Positional on purpose (issue 15 turned the other long parameter lists into descriptor objects):
 * a line runs once per output row of every eager elementwise op, the hottest call in the
 * package (an eager add of four elements takes about 0.5 µs), and an object per row would
 * allocate inside that loop. The nine parameters: out's (buffer, start), a's and b's (buffer, start,
 * step), and the length.
 * @internal Shared by the elementwise kernels.
 * @example
 * const twice: Line = (o, o0, a, a0, as, _b, _b0, _bs, len) => {
 *   for (let i = 0; i < len; i++) o[o0 + i] = 2 * a[a0 + i * as]!;
 * };
 */
export type Line = (
  out: WritableTypedArray,
  o0: number,
  a: ReadonlyTypedArray,
  a0: number,
  as: number,
  b: ReadonlyTypedArray,
  b0: number,
  bs: number,
  len: number,
) => void;

/**
 * The `Line` of an op given by its per-element function. Every such line is this one function
 * literal, so once several ops have run V8 sees many `f`s at the call and stops inlining it
 * (about 3x slower on 1e6 elements); `add`, `sub`, `mul` and `div` write their own line instead.
 * @internal Shared by the elementwise kernels.
 * @example const hypot: Line = lineOf((x, y) => Math.hypot(x, y))
 */
export const lineOf =
  (f: (x: number, y: number) => number): Line =>
  (out, o0, a, a0, as, b, b0, bs, len) => {
    for (let i = 0, j = a0, k = b0; i < len; i++, j += as, k += bs) out[o0 + i] = f(a[j]!, b[k]!);
  };

/**
 * Broadcasts `a` against `b` and fills a fresh `dtype` tensor with `line`. Equal-size and size-1
 * operands make one call over the whole buffer; other broadcasts make one call per output row.
 * `op` is the public name shape errors show.
 * @internal Shared by the elementwise kernels.
 * @example
 * const b = toView("add", "b", 3, "float64");
 * mapBinary("add", "float64", tensor([1, 2], "float64"), b, lineOf((x, y) => x + y)).data // Float64Array [4, 5]
 */
export const mapBinary = (op: string, dtype: DType, a: View, b: View, line: Line): Tensor => {
  // Equal shapes (the common case) need no broadcast; a tensor's shape is already validated.
  const shape =
    shapesEqual(a.shape, b.shape) && Object.isFrozen(a.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
  const n = sizeOf(shape);
  const out = allocate(dtype, n);
  const ad = a.data;
  const bd = b.data;
  // Same size after a successful broadcast means same row-major layout (only leading 1s differ).
  if (ad.length === n && bd.length === n) line(out, 0, ad, 0, 1, bd, 0, 1, n);
  else if (ad.length === 1 && bd.length === n) line(out, 0, ad, 0, 0, bd, 0, 1, n);
  else if (bd.length === 1 && ad.length === n) line(out, 0, ad, 0, 1, bd, 0, 0, n);
  else if (n > 0) {
    const { inner, rows, starts, steps } = broadcastPlan(shape, [a.shape, b.shape]);
    const [as, bs] = starts as [Int32Array, Int32Array];
    const [aStep, bStep] = steps as [number, number];
    for (let r = 0; r < rows; r++) line(out, r * inner, ad, as[r]!, aStep, bd, bs[r]!, bStep, inner);
  }
  return fromBuffer(dtype, shape, out);
};

/** `lift` maps the common dtype to the one the op computes and returns in. */
const arithmetic =
  (op: string, lift: (d: DType) => DType, line: Line, intLine: Line = line) =>
  (a: Operand, b: Operand): Tensor => {
    const dtype = lift(commonDType(op, a, b));
    return mapBinary(
      op,
      dtype,
      toView(op, "a", a, dtype),
      toView(op, "b", b, dtype),
      dtype === "int32" ? intLine : line,
    );
  };

const integerArithmetic = (d: DType): DType => (d === "bool" ? "int32" : d);

/**
 * Elementwise sum `a + b` with broadcasting; numbers take the tensor's dtype, mixed tensors promote.
 * @example add(tensor([1, 2]), 10).data // Float32Array [11, 12]
 */
export const add = arithmetic("add", integerArithmetic, (out, o0, a, a0, as, b, b0, bs, len) => {
  for (let i = 0, j = a0, k = b0; i < len; i++, j += as, k += bs) out[o0 + i] = a[j]! + b[k]!;
});

/**
 * Elementwise difference `a - b` with broadcasting; numbers take the tensor's dtype, mixed tensors promote.
 * @example sub(tensor([[1], [2]]), tensor([1, 2])).data // Float32Array [0, -1, 1, 0]
 */
export const sub = arithmetic("sub", integerArithmetic, (out, o0, a, a0, as, b, b0, bs, len) => {
  for (let i = 0, j = a0, k = b0; i < len; i++, j += as, k += bs) out[o0 + i] = a[j]! - b[k]!;
});

/**
 * Elementwise product `a * b` with broadcasting (`int32` wraps modulo 2^32, like NumPy).
 * @example mul(tensor([1, 2, 3], "int32"), 2).data // Int32Array [2, 4, 6]
 */
export const mul = arithmetic(
  "mul",
  integerArithmetic,
  (out, o0, a, a0, as, b, b0, bs, len) => {
    for (let i = 0, j = a0, k = b0; i < len; i++, j += as, k += bs) out[o0 + i] = a[j]! * b[k]!;
  },
  lineOf(Math.imul),
);

/**
 * Elementwise true division `a / b` with broadcasting: integer and `bool` operands give `float32`
 * (JAX), and x/0 follows IEEE (±Infinity, or NaN for 0/0).
 * @example div(tensor([1, 3], "int32"), 2).data // Float32Array [0.5, 1.5]
 */
export const div = arithmetic("div", floatResultType, (out, o0, a, a0, as, b, b0, bs, len) => {
  for (let i = 0, j = a0, k = b0; i < len; i++, j += as, k += bs) out[o0 + i] = a[j]! / b[k]!;
});

/** NumPy (C `pow`) answers 1 here, where JavaScript's `**` answers NaN. */
const powFloat = lineOf((x, y) => (x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y)));

/** Square-and-multiply with 32-bit wrapping multiplies, so large powers wrap exactly like NumPy's. */
const powInt = lineOf((x, y) => {
  let result = 1;
  let base = x;
  for (let e = y; e > 0; e >>>= 1) {
    if (e & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
  }
  return result;
});

const rejectNegativeExponent = (exponent: View): void => {
  const d = exponent.data;
  for (let i = 0; i < d.length; i++) {
    if (d[i]! < 0) {
      fail({
        _tag: "ValueError",
        op: "pow",
        arg: "b",
        detail: `integers to negative integer powers are not allowed (found exponent ${d[i]} at flat index ${i})`,
        fix: 'cast the base to a float first, e.g. pow(astype(a, "float32"), b)',
      });
    }
  }
};

/**
 * Elementwise power `a ** b` with broadcasting. On `int32` it stays `int32` (wrapping modulo 2^32)
 * and rejects negative exponents like NumPy; on floats it follows C's `pow` (so `pow(1, NaN)` is 1).
 * @throws TensorException (`ValueError`) when an integer exponent is negative.
 * @example pow(tensor([2, 3], "int32"), 2).data // Int32Array [4, 9]
 */
export const pow = (a: Operand, b: Operand): Tensor => {
  const dtype = integerArithmetic(commonDType("pow", a, b));
  const av = toView("pow", "a", a, dtype);
  const bv = toView("pow", "b", b, dtype);
  if (dtype !== "int32") return mapBinary("pow", dtype, av, bv, powFloat);
  // Broadcast first so a shape error wins, and an empty result never throws on unused data.
  if (sizeOf(broadcastShapes("pow", av.shape, bv.shape)) > 0) rejectNegativeExponent(bv);
  return mapBinary("pow", dtype, av, bv, powInt);
};

/**
 * Elementwise larger of `a` and `b` with broadcasting; NaN on either side gives NaN (NumPy).
 * @example maximum(tensor([1, 5, NaN]), 3).data // Float32Array [3, 5, NaN]
 */
export const maximum = arithmetic(
  "maximum",
  integerArithmetic,
  lineOf((x, y) => (x > y || x !== x ? x : y)),
);

/**
 * Elementwise smaller of `a` and `b` with broadcasting; NaN on either side gives NaN (NumPy).
 * @example minimum(tensor([1, 5, NaN]), 3).data // Float32Array [1, 3, NaN]
 */
export const minimum = arithmetic(
  "minimum",
  integerArithmetic,
  lineOf((x, y) => (x < y || x !== x ? x : y)),
);
