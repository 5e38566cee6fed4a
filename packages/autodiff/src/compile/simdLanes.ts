/**
 * @file The SIMD side of an elementwise op's description (`ewOps.ts`): its lane form compiled to
 * float32x4 instructions, leaving the member's four lanes on the WebAssembly stack. A lane
 * expression (`lanes.ts`) compiles node by node to the instructions that compute, per lane,
 * what its JavaScript rendering computes per element.
 */
import type { DType } from "@rewind/tensor";
import type { FunctionBuilder, SimdOp } from "@rewind/tensor/internal/codegen";
import type { LaneForm } from "./ewOps.js";
import type { Infix, Lane, Prefix } from "./lanes.js";

/** Each JavaScript operator's float32x4 counterpart (on masks, for `||`). */
const INFIX: { readonly [K in Infix]: SimdOp } = {
  "+": "f32x4Add",
  "-": "f32x4Sub",
  "*": "f32x4Mul",
  "/": "f32x4Div",
  ">": "f32x4Gt",
  "<": "f32x4Lt",
  ">=": "f32x4Ge",
  "<=": "f32x4Le",
  "===": "f32x4Eq",
  "!==": "f32x4Ne",
  "||": "v128Or",
};

const PREFIX: { readonly [K in Prefix]: SimdOp } = {
  "-": "f32x4Neg",
  "Math.abs": "f32x4Abs",
  "Math.sqrt": "f32x4Sqrt",
};

/**
 * Emits `form` over the operands held in the v128 locals `operands` (of dtypes `inDtypes`: a
 * bool operand's lanes are masks), leaving the result on the stack.
 * @example emitLanes(f, ewOps.add.lanes!, [a, b], ["float32", "float32"])
 */
export const emitLanes = (
  f: FunctionBuilder,
  form: LaneForm,
  operands: readonly number[],
  inDtypes: readonly DType[],
): void => {
  if ("emit" in form) return form.emit(f, operands[0]!);
  const go = (t: Lane): void => {
    switch (t.k) {
      case "arg":
        f.get(operands[t.i]!);
        return;
      case "infix":
        go(t.a);
        go(t.b);
        // int32 operands only reach here under === and !== (see `comparison` in ewOps.ts).
        if (t.a.k === "arg" && inDtypes[t.a.i] === "int32") f.simd(t.op === "===" ? "i32x4Eq" : "i32x4Ne");
        else f.simd(INFIX[t.op]);
        return;
      case "prefix":
        go(t.a);
        f.simd(PREFIX[t.op]);
        return;
      case "pick":
        // v128.bitselect(a, b, mask): a's bits where the mask is set, else b's.
        go(t.a);
        go(t.b);
        go(t.c);
        f.simd("v128Bitselect");
        return;
      case "truthy":
        go(t.a);
        if (!(t.a.k === "arg" && inDtypes[t.a.i] === "bool")) f.f32x4Const(0).simd("f32x4Ne");
        return;
    }
  };
  go(form.tree);
};
