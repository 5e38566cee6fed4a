/**
 * @file matmul with NumPy semantics on values: 1-D operands and broadcast batch axes become
 * explicit reshapes and broadcasts around the rank-≥2 primitive.
 */
import * as T from "@rewind/tensor";
import { bind, type Value } from "../core.js";
import * as L from "../primitives/linalg.js";
import { astype, broadcastTo, expectValue } from "./lift.js";
import { reshape } from "./shape.js";

/**
 * Matrix product with NumPy `matmul` semantics (1-D operands, broadcast batch axes).
 * @example matmul(ones([2, 3]), ones([3])).shape // [2]
 */
export const matmul = (a: Value, b: Value): Value => {
  const x = expectValue("matmul", "a", a);
  const y = expectValue("matmul", "b", b);
  if (x.shape.length === 0 || y.shape.length === 0) {
    T.fail({
      _tag: "ShapeError",
      op: "matmul",
      arg: x.shape.length === 0 ? "a" : "b",
      shapes: [x.shape, y.shape],
      detail: "scalars have no matrix axes",
      fix: "use mul for scalars",
    });
  }
  const a2 = x.shape.length === 1 ? reshape(x, [1, x.shape[0]!]) : x;
  const b2 = y.shape.length === 1 ? reshape(y, [y.shape[0]!, 1]) : y;
  const [m, k] = a2.shape.slice(-2) as [number, number];
  const [k2, n] = b2.shape.slice(-2) as [number, number];
  if (k !== k2) {
    T.fail({
      _tag: "ShapeError",
      op: "matmul",
      arg: "a, b",
      shapes: [x.shape, y.shape],
      detail: `inner dimensions differ (${k} vs ${k2})`,
      fix: "make a.shape[-1] equal b.shape[-2] (b.shape[0] for a 1-D b); transpose one operand if needed",
    });
  }
  const batch = T.broadcastShapes("matmul", a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const dtype = T.promoteTypes(a2.dtype, b2.dtype);
  const lhs = broadcastTo(astype(a2, dtype), [...batch, m, k]);
  const rhs = broadcastTo(astype(b2, dtype), [...batch, k, n]);
  const out = bind(L.matmul, [lhs, rhs], undefined)[0]!;
  const shape = [...batch, ...(x.shape.length === 1 ? [] : [m]), ...(y.shape.length === 1 ? [] : [n])];
  return reshape(out, shape);
};
