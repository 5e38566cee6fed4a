/**
 * @file Lowerings of the elementwise primitives (unary, binary, comparisons, select, convert): one
 * kernel each, through the expressions of wgsl/elementwise.ts.
 */
import type { DTypeParams } from "@rewind/autodiff";
import type { DType } from "@rewind/tensor";
import type { Fusible, LowerContext, Lowering, PartialTable } from "../types.js";
import { convertExpr, ELEMENTWISE, elementwiseKernel } from "../wgsl/elementwise.js";

/** The lowering of the elementwise primitive `name` (a kernel of its own, or fused by compile.ts). */
const ew = (name: string): Lowering<unknown> & Fusible =>
  Object.assign(
    ({ ins, outAvals, fresh, launch }: LowerContext) => {
      const out = fresh(outAvals[0]!);
      launch(ins, [out], (inputs) => elementwiseKernel(ELEMENTWISE[name]!, inputs, outAvals[0]!));
      return [out];
    },
    { fuse: ELEMENTWISE[name]! },
  );

/** The elementwise primitives' lowerings. */
export const elementwiseLowerings: PartialTable<
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
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "equal"
  | "notEqual"
  | "less"
  | "lessEqual"
  | "greater"
  | "greaterEqual"
  | "logicalAnd"
  | "logicalOr"
  | "select"
  | "convert"
> = {
  neg: ew("neg"),
  abs: ew("abs"),
  exp: ew("exp"),
  expm1: ew("expm1"),
  log: ew("log"),
  log1p: ew("log1p"),
  sqrt: ew("sqrt"),
  sin: ew("sin"),
  cos: ew("cos"),
  tanh: ew("tanh"),
  logistic: ew("logistic"),
  softplus: ew("softplus"),
  sign: ew("sign"),
  floor: ew("floor"),
  ceil: ew("ceil"),
  round: ew("round"),
  isNaN: ew("isNaN"),
  isFinite: ew("isFinite"),
  logicalNot: ew("logicalNot"),
  add: ew("add"),
  sub: ew("sub"),
  mul: ew("mul"),
  div: ew("div"),
  pow: ew("pow"),
  maximum: ew("maximum"),
  minimum: ew("minimum"),
  equal: ew("equal"),
  notEqual: ew("notEqual"),
  less: ew("less"),
  lessEqual: ew("lessEqual"),
  greater: ew("greater"),
  greaterEqual: ew("greaterEqual"),
  logicalAnd: ew("logicalAnd"),
  logicalOr: ew("logicalOr"),
  select: ew("select"),
  convert: Object.assign(
    ({ ins, outAvals, fresh, launch }: LowerContext, { dtype }: DTypeParams) => {
      const x = ins[0]!;
      // A conversion to the same dtype is the value itself (same buffer).
      if (x.aval.dtype === dtype && x.slot !== undefined) return [{ slot: x.slot, aval: outAvals[0]! }];
      const out = fresh(outAvals[0]!);
      launch([x], [out], (inputs) =>
        elementwiseKernel((args, [d]) => convertExpr(args[0]!, d!, dtype), inputs, outAvals[0]!),
      );
      return [out];
    },
    {
      fuse: (args: readonly string[], [d]: readonly DType[], _out: DType, params: unknown) =>
        convertExpr(args[0]!, d!, (params as DTypeParams).dtype),
    },
  ),
};
