/**
 * @file The elementwise primitives the compiler fuses: the dtype each tensor kernel really
 * returns, and the JavaScript expression computing one element exactly as the kernel stores it.
 *
 * A local in a fused loop always holds the number the kernel would have stored: float32 values
 * are rounded with `fr` (Math.fround) where the kernel writes a Float32Array, int32 results wrap
 * with `| 0` (or `Math.imul`), bools are 0/1. So a chain of fused ops rounds exactly where the
 * interpreter's chain of kernels does, and the results are bit-identical.
 *
 * Operands here are generated identifiers only; the prelude (`EW_PRELUDE`) defines the helpers
 * that need statements (the stable sigmoid, softplus, round-half-even, NumPy's pow); the float32
 * exp/tanh/logistic (`expf`, `tanhf`, `sigf`) are the tensor package's own, handed in by `module.ts`.
 */
import type { DType } from "@rewind/tensor";

type Expr = (a: readonly string[], out: DType, ins: readonly DType[], param: DType | undefined) => string;

interface EwOp {
  /** The kernel's result dtype for these operand dtypes, or undefined when the compiler does not handle them. */
  readonly result: (ins: readonly DType[], param: DType | undefined) => DType | undefined;
  readonly expr: Expr;
}

const isFloat = (d: DType): boolean => d === "float32" || d === "float64";

/** Rounds a double expression to what a store into `dtype` keeps. */
const store = (e: string, dtype: DType): string =>
  dtype === "float32" ? `fr(${e})` : dtype === "int32" ? `((${e}) | 0)` : e;

/** Float-only transcendental: result dtype = operand dtype. */
const transcendental = (f: (x: string) => string): EwOp => ({
  result: ([d]) => (isFloat(d!) ? d : undefined),
  expr: ([x], out) => store(f(x!), out),
});

/**
 * A transcendental whose float32 kernel evaluates a float32 polynomial (tensor's `f32math.ts`):
 * on float32 the generated code calls that very function, whose result is already float32.
 */
const float32Polynomial = (f: (x: string) => string, f32: string): EwOp => ({
  result: ([d]) => (isFloat(d!) ? d : undefined),
  expr: ([x], out) => (out === "float32" ? `${f32}(${x})` : f(x!)),
});

/** Keeps float and int32 dtypes (bool would compute as int32, which the graph does not expect). */
const signLike = (float: (x: string) => string, int: (x: string) => string): EwOp => ({
  result: ([d]) => (d === "bool" ? undefined : d),
  expr: ([x], out) => (out === "int32" ? int(x!) : float(x!)),
});

const predicate = (f: (x: string) => string): EwOp => ({ result: () => "bool", expr: ([x]) => `(${f(x!)} ? 1 : 0)` });

/** Binary arithmetic on one dtype; bool computes as int32 in the kernels, so it is not fused. */
const arithmetic = (
  float: (a: string, b: string) => string,
  int: ((a: string, b: string) => string) | undefined,
): EwOp => ({
  result: ([d]) => (isFloat(d!) || (d === "int32" && int !== undefined) ? d : undefined),
  expr: ([a, b], out) => (out === "int32" ? int!(a!, b!) : store(float(a!, b!), out)),
});

const comparison = (f: (a: string, b: string) => string): EwOp => ({
  result: () => "bool",
  expr: ([a, b]) => `(${f(a!, b!)} ? 1 : 0)`,
});

const convert: EwOp = {
  result: (_, param) => param,
  expr: ([x], out) => {
    switch (out) {
      case "float32":
        return `fr(${x})`;
      case "float64":
        return x!;
      case "int32":
        return `(${x} | 0)`;
      case "bool":
        return `(${x} !== 0 ? 1 : 0)`;
    }
  },
};

/** Every fusable elementwise primitive, plus `copy` (materialising a view). */
export const ewOps: Readonly<Record<string, EwOp>> = {
  copy: { result: ([d]) => d, expr: ([x]) => x! },
  neg: signLike(
    (x) => `(-${x})`,
    (x) => `((-${x}) | 0)`,
  ),
  abs: signLike(
    (x) => `Math.abs(${x})`,
    (x) => `(Math.abs(${x}) | 0)`,
  ),
  sign: signLike(
    (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : ${x} === 0 ? 0 : ${x})`,
    (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : 0)`,
  ),
  exp: float32Polynomial((x) => `Math.exp(${x})`, "expf"),
  expm1: transcendental((x) => `Math.expm1(${x})`),
  log: transcendental((x) => `Math.log(${x})`),
  log1p: transcendental((x) => `Math.log1p(${x})`),
  sqrt: transcendental((x) => `Math.sqrt(${x})`),
  sin: transcendental((x) => `Math.sin(${x})`),
  cos: transcendental((x) => `Math.cos(${x})`),
  tanh: float32Polynomial((x) => `Math.tanh(${x})`, "tanhf"),
  logistic: float32Polynomial((x) => `sig(${x})`, "sigf"),
  softplus: transcendental((x) => `spl(${x})`),
  // On int32 the rounding kernels return their input (lowering turns that into an alias).
  floor: transcendental((x) => `Math.floor(${x})`),
  ceil: transcendental((x) => `Math.ceil(${x})`),
  round: transcendental((x) => `rne(${x})`),
  isNaN: predicate((x) => `${x} !== ${x}`),
  isFinite: predicate((x) => `${x} - ${x} === 0`),
  logicalNot: predicate((x) => `${x} === 0`),
  add: arithmetic(
    (a, b) => `${a} + ${b}`,
    (a, b) => `((${a} + ${b}) | 0)`,
  ),
  sub: arithmetic(
    (a, b) => `${a} - ${b}`,
    (a, b) => `((${a} - ${b}) | 0)`,
  ),
  mul: arithmetic(
    (a, b) => `${a} * ${b}`,
    (a, b) => `Math.imul(${a}, ${b})`,
  ),
  div: arithmetic((a, b) => `${a} / ${b}`, undefined),
  pow: arithmetic((a, b) => `pw(${a}, ${b})`, undefined),
  // max/min pick one operand, which is already stored exactly: no rounding.
  maximum: arithmetic(
    (a, b) => `(${a} > ${b} || ${a} !== ${a} ? ${a} : ${b})`,
    (a, b) => `(${a} > ${b} ? ${a} : ${b})`,
  ),
  minimum: arithmetic(
    (a, b) => `(${a} < ${b} || ${a} !== ${a} ? ${a} : ${b})`,
    (a, b) => `(${a} < ${b} ? ${a} : ${b})`,
  ),
  equal: comparison((a, b) => `${a} === ${b}`),
  notEqual: comparison((a, b) => `${a} !== ${b}`),
  less: comparison((a, b) => `${a} < ${b}`),
  lessEqual: comparison((a, b) => `${a} <= ${b}`),
  greater: comparison((a, b) => `${a} > ${b}`),
  greaterEqual: comparison((a, b) => `${a} >= ${b}`),
  logicalAnd: comparison((a, b) => `${a} !== 0 && ${b} !== 0`),
  logicalOr: comparison((a, b) => `${a} !== 0 || ${b} !== 0`),
  select: { result: ([, a]) => a, expr: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})` },
  convert,
};

/**
 * Helpers the generated code calls; each computes exactly what its tensor kernel computes
 * (see packages/tensor/src/kernels/unary.ts and binary.ts for the reasoning behind each form).
 */
export const EW_PRELUDE = `const fr = Math.fround;
function sig(v) { if (v >= 0) return 1 / (1 + Math.exp(-v)); const e = Math.exp(v); return e / (1 + e); }
function spl(v) { return (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v))); }
function rne(v) { const r = Math.round(v); return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r; }
function pw(x, y) { return x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y); }
`;
