/**
 * @file Shape rules shared by families of primitives (elementwise, same-aval operands).
 */
import { fail, formatShape, isFloating, shapesEqual } from "@rewind/tensor";
import type { Aval } from "../Graph.js";

/**
 * Checks that all operands of an elementwise primitive have one shape and one dtype (the ops layer
 * inserts explicit `broadcastTo` and `convert` equations first) and returns that aval.
 * @example sameAval("add", [a, b]) // a
 */
export const sameAval = (op: string, ins: readonly Aval[]): Aval => {
  const first = ins[0]!;
  for (const a of ins) {
    if (!shapesEqual(a.shape, first.shape) || a.dtype !== first.dtype) {
      fail({
        _tag: "ShapeError",
        op,
        arg: "operands",
        shapes: ins.map((x) => x.shape),
        detail:
          `primitive operands must share shape and dtype, got ` +
          `${ins.map((x) => `${x.dtype}${formatShape(x.shape)}`).join(" and ")}`,
        fix: "call the op through @rewind/autodiff's ops, which broadcast and promote explicitly",
      });
    }
  }
  return first;
};

/**
 * The aval check of a primitive defined on floats only (its ops wrapper converts ints first).
 * @example floatAval("exp", [{ shape: [2], dtype: "float32" }]) // same aval
 */
export const floatAval = (op: string, ins: readonly Aval[]): Aval => {
  const a = sameAval(op, ins);
  if (!isFloating(a.dtype)) {
    fail({
      _tag: "DTypeError",
      op,
      arg: "x",
      detail: `expects a float tensor, got ${a.dtype}`,
      fix: "convert with astype(x, 'float32') first (the ops wrappers do this for you)",
    });
  }
  return a;
};

/** The aval of a boolean result with the given shape. */
export const boolAval = (a: Aval): Aval => ({ shape: a.shape, dtype: "bool" });

/**
 * The aval check of an arithmetic primitive: one shape and dtype, not bool (the ops layer computes
 * bool arithmetic in int32, as the kernels do, so the aval always matches the value).
 * @example numericAval("add", [{ shape: [2], dtype: "int32" }, { shape: [2], dtype: "int32" }])
 */
export const numericAval = (op: string, ins: readonly Aval[]): Aval => {
  const a = sameAval(op, ins);
  if (a.dtype === "bool") {
    fail({
      _tag: "DTypeError",
      op,
      arg: "operands",
      detail: "arithmetic primitives take numbers, got bool",
      fix: "convert with astype(x, 'int32') first (the ops wrappers do this for you)",
    });
  }
  return a;
};
