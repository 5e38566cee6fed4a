/**
 * @file The first-order linear recurrence along one axis, h_t = a_t · h_{t−1} + b_t (h before the
 * start is 0; with `reverse`, h_t = a_t · h_{t+1} + b_t from the end). One sequential pass, with
 * the running h in a JavaScript double and each output rounded once when stored, as the cumulative
 * kernels do. The VJPs of cumprod, cummax/cummin and logcumsumexp are made of it.
 */
import type { ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { checkTensor } from "../check.js";
import { allocate, isFloating } from "../DType.js";
import { fail, formatShape } from "../errors.js";
import { shapesEqual } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { cumulativeArgs, type CumulativeOptions } from "./cumulative.js";

/**
 * h_t = a_t · h_{t−1} + b_t along `axis` (default the last), h_{−1} = 0; `reverse` runs from the
 * end: h_t = a_t · h_{t+1} + b_t. `a` and `b` are float tensors of one shape and dtype.
 * @example linearScan(tensor([1, 2, 3]), tensor([1, 1, 1])).data // Float32Array [1, 3, 10]
 */
export const linearScan = (a: Tensor, b: Tensor, opts: CumulativeOptions = {}): Tensor => {
  checkTensor("linearScan", "a", a);
  const [axis, reverse] = cumulativeArgs("linearScan", checkTensor("linearScan", "b", b), opts);
  if (!shapesEqual(a.shape, b.shape))
    fail({
      _tag: "ShapeError",
      op: "linearScan",
      arg: "b",
      shapes: [a.shape, b.shape],
      detail: `a has shape ${formatShape(a.shape)} but b has ${formatShape(b.shape)}`,
      fix: "pass a and b of one shape (broadcast them first)",
    });
  if (a.dtype !== b.dtype || !isFloating(a.dtype))
    fail({
      _tag: "DTypeError",
      op: "linearScan",
      arg: "b",
      detail: `a and b must share one float dtype, got ${a.dtype} and ${b.dtype}`,
      fix: "convert both with astype(x, 'float32') or astype(x, 'float64') first",
    });
  const out = allocate(a.dtype, a.data.length);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= a.shape[i]!;
  for (let i = axis + 1; i < a.shape.length; i++) inner *= a.shape[i]!;
  scanLoop(a.data, b.data, out, outer, a.shape[axis]!, inner, reverse);
  return fromBuffer(a.dtype, a.shape, out);
};

const scanLoop = (
  a: ReadonlyTypedArray,
  b: ReadonlyTypedArray,
  dst: WritableTypedArray,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void => {
  if (outer * n * inner === 0) return;
  const h = new Float64Array(inner);
  const step = reverse ? -inner : inner;
  for (let o = 0; o < outer; o++) {
    h.fill(0);
    let p = (o * n + (reverse ? n - 1 : 0)) * inner;
    for (let i = 0; i < n; i++, p += step)
      for (let k = 0; k < inner; k++) dst[p + k] = h[k] = a[p + k]! * h[k]! + b[p + k]!;
  }
};
