/**
 * @file Elementwise kernels: one thread per output element, each operand read at the same flat
 * index (a one-element operand, as a scalar literal, at index 0). Every unary, binary, comparison,
 * select and convert primitive is one WGSL expression here, over values in their storage type
 * (f32, i32, or u32 0/1 for bool).
 */
import type { DType } from "@rewind/tensor";
import { bindings, flatKernel, literal, load, sizeOf, wgslType, type KernelInput } from "./common.js";
import { HELPERS } from "./helpers.js";

/** Builds the WGSL expression of an op from its operands' expressions and dtypes. */
export type ExprOf = (args: readonly string[], ins: readonly DType[], out: DType) => string;

/** An operand as f32 (int32 and bool operands of transcendental functions compute in float32). */
const asF32 = (x: string, d: DType): string => (d === "float32" ? x : `f32(${x})`);
/**
 * An operand as a WGSL bool (nonzero is true, NaN included): on the bits for floats, since a
 * float comparison with NaN is not reliable in WGSL and a subnormal may compare equal to 0.
 */
const truthy = (x: string, d: DType): string =>
  d === "bool" ? `(${x} != 0u)` : d === "int32" ? `(${x} != 0)` : `((bitcast<u32>(${x}) & 0x7fffffffu) != 0u)`;
/** A WGSL bool as stored bool (u32 0/1). */
const stored = (cond: string): string => `select(0u, 1u, ${cond})`;

const floatFn =
  (fn: string): ExprOf =>
  ([x], [d]) =>
    `${fn}(${asF32(x!, d!)})`;

/** Keeps int32 as it is (rounding an integer is the identity), applies `fn` to floats. */
const rounding =
  (fn: string): ExprOf =>
  ([x], [d]) =>
    d === "float32" ? `${fn}(${x!})` : x!;

/** A comparison; with a float NaN operand only `!=` holds (IEEE), spelled out for WGSL. */
const compare =
  (op: string): ExprOf =>
  ([a, b], [d]) =>
    d !== "float32"
      ? stored(`${a!} ${op} ${b!}`)
      : op === "!="
        ? stored(`is_nan(${a!}) || is_nan(${b!}) || ${a!} != ${b!}`)
        : stored(`!is_nan(${a!}) && !is_nan(${b!}) && ${a!} ${op} ${b!}`);

/** The expression of every elementwise primitive. */
export const ELEMENTWISE: Readonly<Record<string, ExprOf>> = {
  neg: ([x]) => `-(${x!})`,
  abs: ([x]) => `abs(${x!})`,
  exp: floatFn("fexp"),
  expm1: floatFn("fexpm1"),
  log: floatFn("flog"),
  log1p: floatFn("flog1p"),
  sqrt: floatFn("fsqrt"),
  sin: floatFn("fsin"),
  cos: floatFn("fcos"),
  tanh: floatFn("ftanh"),
  logistic: floatFn("flogistic"),
  softplus: floatFn("fsoftplus"),
  sign: ([x], [d]) => (d === "float32" ? `fsign(${x!})` : `sign(${x!})`),
  floor: rounding("floor"),
  ceil: rounding("ceil"),
  // WGSL's round is round-half-to-even, as Rewind's.
  round: rounding("round"),
  isNaN: ([x], [d]) => (d === "float32" ? stored(`is_nan(${x!})`) : "0u"),
  isFinite: ([x], [d]) => (d === "float32" ? stored(`is_finite(${x!})`) : "1u"),
  logicalNot: ([x], [d]) => stored(`!${truthy(x!, d!)}`),
  add: ([a, b]) => `(${a!} + ${b!})`,
  sub: ([a, b]) => `(${a!} - ${b!})`,
  mul: ([a, b]) => `(${a!} * ${b!})`,
  div: ([a, b], [d]) => `(${asF32(a!, d!)} / ${asF32(b!, d!)})`,
  pow: ([a, b], [d]) => (d === "int32" ? `ipow(${a!}, ${b!})` : `fpow(${a!}, ${b!})`),
  maximum: ([a, b], [d]) => (d === "float32" ? `fmax(${a!}, ${b!})` : `max(${a!}, ${b!})`),
  minimum: ([a, b], [d]) => (d === "float32" ? `fmin(${a!}, ${b!})` : `min(${a!}, ${b!})`),
  equal: compare("=="),
  notEqual: compare("!="),
  less: compare("<"),
  lessEqual: compare("<="),
  greater: compare(">"),
  greaterEqual: compare(">="),
  logicalAnd: ([a, b], [da, db]) => stored(`${truthy(a!, da!)} && ${truthy(b!, db!)}`),
  logicalOr: ([a, b], [da, db]) => stored(`${truthy(a!, da!)} || ${truthy(b!, db!)}`),
  select: ([c, a, b], [dc]) => `select(${b!}, ${a!}, ${truthy(c!, dc!)})`,
};

/**
 * `x` (stored as dtype `from`) converted to dtype `to`, as Rewind's `astype` converts: floats to
 * int32 truncate and wrap modulo 2³² (NaN and ±Inf give 0), anything to bool is "nonzero".
 * @example convertExpr("v0", "float32", "int32") // "to_i32(v0)"
 */
export const convertExpr = (x: string, from: DType, to: DType): string => {
  if (from === to) return x;
  if (to === "bool") return stored(truthy(x, from));
  if (to === "float32") return `f32(${x})`;
  return from === "float32" ? `to_i32(${x})` : `i32(${x})`;
};

/**
 * The kernel computing `expr` of the operands into an output of `out`'s dtype and size.
 * @example elementwiseKernel(ELEMENTWISE.add!, [a, b], { dtype: "float32", shape: [4] })
 */
export const elementwiseKernel = (
  expr: ExprOf,
  ins: readonly KernelInput[],
  out: { readonly dtype: DType; readonly shape: readonly number[] },
): string => {
  const n = sizeOf(out.shape);
  const values = ins.map((x, k) => `let v${k}: ${wgslType(x.dtype)} = ${load(x, sizeOf(x.shape) === 1 ? "0u" : "i")};`);
  const e = expr(
    ins.map((_, k) => `v${k}`),
    ins.map((x) => x.dtype),
    out.dtype,
  );
  return flatKernel(bindings(ins, [out.dtype]), n, `${values.join("\n")}\nout0[i] = ${e};`, HELPERS);
};

/** A scalar operand (a literal of the graph) as a kernel input. */
export const literalInput = (value: number, dtype: DType): KernelInput => ({
  lit: literal(value, dtype),
  dtype,
  shape: [],
});
