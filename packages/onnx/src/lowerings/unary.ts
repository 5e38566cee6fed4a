/**
 * @file Lowerings of the elementwise unary primitives. ONNX has no `Expm1`, `Log1p` or a
 * cancellation-free `Softplus`, so those are written with Kahan's corrections (below); integer
 * inputs of the rounding ops are passed through as Rewind does.
 */
import type { DType } from "@rewind/tensor";
import type { GraphBuilder } from "../builder.js";
import type { Lowering, PartialTable } from "../types.js";

/** A one-operator unary lowering. */
const simple =
  (op: string): Lowering<void> =>
  ({ b, ins }) => [b.op(op, [ins[0]!])];

/** Rounding ops: the identity on int32 and bool (ONNX's Floor/Ceil/Round take floats only). */
const rounding =
  (op: string): Lowering<void> =>
  ({ b, ins, inAvals }) => {
    const float = inAvals[0]!.dtype === "float32" || inAvals[0]!.dtype === "float64";
    return [b.op(float ? op : "Identity", [ins[0]!])];
  };

/**
 * log1p(y) without losing y where 1 + y rounds to 1 (Kahan): u = 1 + y; u == 1 ? y : log(u)·y/(u − 1).
 * @example log1pOf(b, y, "float32")
 */
export const log1pOf = (b: GraphBuilder, y: string, dtype: DType): string => {
  const one = b.scalar(1, dtype);
  const u = b.op("Add", [one, y]);
  const um1 = b.op("Sub", [u, one]);
  const isOne = b.op("Equal", [um1, b.scalar(0, dtype)]);
  // The divisor is made 1 where u == 1 so that branch computes no 0/0 (Where evaluates both).
  const safe = b.op("Where", [isOne, one, um1]);
  const ratio = b.op("Div", [b.op("Mul", [b.op("Log", [u]), y]), safe]);
  return b.op("Where", [isOne, y, ratio]);
};

/** expm1(x) (Kahan): u = e^x; u == 1 ? x : u − 1 == −1 ? −1 : (u − 1)·x/log(u). */
const expm1Of = (b: GraphBuilder, x: string, dtype: DType): string => {
  const one = b.scalar(1, dtype);
  const u = b.op("Exp", [x]);
  const um1 = b.op("Sub", [u, one]);
  const isOne = b.op("Equal", [um1, b.scalar(0, dtype)]);
  const isMinusOne = b.op("Equal", [um1, b.scalar(-1, dtype)]);
  const special = b.op("Or", [isOne, isMinusOne]);
  // log(u) is 0 where u == 1 and −∞ where u == 0; both branches are replaced below.
  const logU = b.op("Where", [special, one, b.op("Log", [u])]);
  const ratio = b.op("Div", [b.op("Mul", [um1, x]), logU]);
  return b.op("Where", [isOne, x, b.op("Where", [isMinusOne, um1, ratio])]);
};

/** Casts a value of any dtype to bool (nonzero → true), as Rewind's predicates read their input. */
const truthy = (b: GraphBuilder, x: string, dtype: DType): string => b.cast(x, dtype, "bool");

/** The unary primitives' lowerings. */
export const unaryLowerings: PartialTable<
  | "neg"
  | "abs"
  | "exp"
  | "expm1"
  | "log"
  | "log1p"
  | "sqrt"
  | "sin"
  | "cos"
  | "tanh"
  | "logistic"
  | "softplus"
  | "sign"
  | "floor"
  | "ceil"
  | "round"
  | "isNaN"
  | "isFinite"
  | "logicalNot"
> = {
  neg: simple("Neg"),
  abs: simple("Abs"),
  exp: simple("Exp"),
  expm1: ({ b, ins, inAvals }) => [expm1Of(b, ins[0]!, inAvals[0]!.dtype)],
  log: simple("Log"),
  log1p: ({ b, ins, inAvals }) => [log1pOf(b, ins[0]!, inAvals[0]!.dtype)],
  sqrt: simple("Sqrt"),
  sin: simple("Sin"),
  cos: simple("Cos"),
  tanh: simple("Tanh"),
  logistic: simple("Sigmoid"),
  // max(x, 0) + log1p(e^−|x|), as Rewind's kernel: no overflow, and the tiny tail is kept.
  softplus: ({ b, ins, inAvals }) => {
    const dtype = inAvals[0]!.dtype;
    const x = ins[0]!;
    const tail = log1pOf(b, b.op("Exp", [b.op("Neg", [b.op("Abs", [x])])]), dtype);
    return [b.op("Add", [b.op("Relu", [x]), tail])];
  },
  sign: simple("Sign"),
  floor: rounding("Floor"),
  ceil: rounding("Ceil"),
  // ONNX's Round breaks ties to even, as Rewind's does.
  round: rounding("Round"),
  isNaN: ({ b, ins, inAvals }) => {
    const dtype = inAvals[0]!.dtype;
    if (dtype === "float32" || dtype === "float64") return [b.op("IsNaN", [ins[0]!])];
    // An integer is never NaN: false of the input's shape.
    return [b.op("Not", [b.op("Equal", [ins[0]!, ins[0]!])])];
  },
  // Finite means x − x == 0 (false for ±∞ and NaN), Rewind's own test.
  isFinite: ({ b, ins, inAvals }) => {
    const dtype = inAvals[0]!.dtype === "bool" ? "int32" : inAvals[0]!.dtype;
    const x = b.cast(ins[0]!, inAvals[0]!.dtype, dtype);
    return [b.op("Equal", [b.op("Sub", [x, x]), b.scalar(0, dtype)])];
  },
  logicalNot: ({ b, ins, inAvals }) => [b.op("Not", [truthy(b, ins[0]!, inAvals[0]!.dtype)])],
};
