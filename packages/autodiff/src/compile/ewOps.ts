/**
 * @file The elementwise ops the compiler fuses, one description each: the dtype each tensor
 * kernel really returns, the JavaScript expression computing one element exactly as the kernel
 * stores it, and — for the ops the WebAssembly SIMD loop runs — the lane form it computes four
 * float32 elements at a time with (`simdLanes.ts`). Where an op has a lane form, its float
 * JavaScript expression is rendered from the same lane expression (`lanes.ts`), so the two cannot
 * drift apart.
 *
 * A local in a fused loop always holds the number the kernel would have stored: float32 values
 * are rounded with `fr` (Math.fround) where the kernel writes a Float32Array, int32 results wrap
 * with `| 0` (or `Math.imul`), bools are 0/1. So a chain of fused ops rounds exactly where the
 * interpreter's chain of kernels does, and the results are bit-identical.
 *
 * Operands here are generated identifiers only; the prelude (`EW_PRELUDE`) defines the helpers
 * that need statements (the stable sigmoid, softplus, round-half-even, NumPy's pow); the float32
 * exp/tanh/logistic (`expf`, `tanhf`, `sigf`) are the tensor package's own, handed in by `module.ts`.
 *
 * The table is keyed by `EwOpName` (every unary and binary primitive, `convert`, and `copy`, less
 * the deliberately unfused `NOT_FUSED`), so a misspelt key, or an elementwise primitive added
 * with neither an entry nor a place in `NOT_FUSED`, fails to compile.
 */
import type { DType } from "@rewind/tensor";
import { emitExpF32x4, emitSigmoidF32x4, emitTanhF32x4, type FunctionBuilder } from "@rewind/tensor/internal/codegen";
import type { binaryPrimitives } from "../primitives/binary.js";
import type { unaryPrimitives } from "../primitives/unary.js";
import { arg, infix, pick, prefix, renderLane, truthy, type Lane } from "./lanes.js";

/** The elementwise primitives: every unary and binary primitive, and `convert`. */
export type ElementwiseName = keyof typeof unaryPrimitives | keyof typeof binaryPrimitives | "convert";

/**
 * Elementwise primitives the compiler deliberately does not fuse: lowering turns them into
 * fallback nodes calling the primitive's impl (right results, no fused loop). None today; a new
 * elementwise primitive can start here, and stays here when no JavaScript expression computes
 * exactly what its kernel stores.
 */
export const NOT_FUSED = [] as const satisfies readonly ElementwiseName[];

/** An elementwise primitive the compiler does not fuse (see `NOT_FUSED`). */
export type NotFusedName = (typeof NOT_FUSED)[number];

/** What a fused loop member computes: a fused elementwise primitive, or `copy` (materialising a view). */
export type EwOpName = Exclude<ElementwiseName, NotFusedName> | "copy";

type Expr = (a: readonly string[], out: DType, ins: readonly DType[], param: DType | undefined) => string;

/**
 * How the SIMD loop computes an op on four float32 lanes (operands and results float32, or lane
 * masks for bools), for the dtypes `accepts` allows: the lane expression the JavaScript form is
 * rendered from (`tree`), or WebAssembly code of its own (`emit`, given the operand's local) where
 * the op is no expression of float32x4 instructions (see each use).
 */
export type LaneForm = { readonly accepts: (out: DType, ins: readonly DType[]) => boolean } & (
  { readonly tree: Lane } | { readonly emit: (f: FunctionBuilder, x: number) => void }
);

/** One elementwise op (see the file comment). */
export interface EwOp {
  /** The kernel's result dtype for these operand dtypes, or undefined when the compiler does not handle them. */
  readonly result: (ins: readonly DType[], param: DType | undefined) => DType | undefined;
  readonly expr: Expr;
  /** The SIMD loop's form; absent: loops with this op stay in JavaScript. */
  readonly lanes?: LaneForm;
}

/** A JavaScript-only float form (no float32x4 counterpart, so no SIMD), or a lane expression. */
type Form = Lane | ((...x: string[]) => string);
const render = (form: Form, x: readonly string[]): string =>
  typeof form === "function" ? form(...x) : renderLane(form, x);

/** float32 in, float32 out: the lane form of an op with a float form, if it is a lane expression. */
const float32Lanes = (form: Form): LaneForm | undefined =>
  typeof form === "function"
    ? undefined
    : { tree: form, accepts: (out, ins) => out === "float32" && ins.every((d) => d === "float32") };

/** `{ lanes }` when there is a lane form (the property stays absent otherwise). */
const withLanes = (lanes: LaneForm | undefined): { lanes?: LaneForm } => (lanes === undefined ? {} : { lanes });

const A = arg(0);
const B = arg(1);

const isFloat = (d: DType): boolean => d === "float32" || d === "float64";

/** Rounds a double expression to what a store into `dtype` keeps. */
const store = (e: string, dtype: DType): string =>
  dtype === "float32" ? `fr(${e})` : dtype === "int32" ? `((${e}) | 0)` : e;

/** Float-only op: result dtype = operand dtype. */
const transcendental = (f: Form): EwOp => ({
  result: ([d]) => (isFloat(d!) ? d : undefined),
  expr: ([x], out) => store(render(f, [x!]), out),
  ...withLanes(float32Lanes(f)),
});

/**
 * A transcendental whose float32 kernel evaluates a float32 polynomial (tensor's `f32math.ts`):
 * on float32 the generated code calls that very function, whose result is already float32, and
 * the SIMD loop emits the same polynomial in float32x4 instructions (tensor's `f32mathWasm.ts`,
 * kept bit-identical to `f32math.ts` by the tensor package's tests). The polynomial is a sequence
 * of statements with range reduction and bit manipulation of the exponent, not an expression of
 * the lane operations above, hence two helpers instead of one lane expression.
 */
const float32Polynomial = (
  f: (x: string) => string,
  f32: string,
  simd: (f: FunctionBuilder, x: number) => void,
): EwOp => ({
  result: ([d]) => (isFloat(d!) ? d : undefined),
  expr: ([x], out) => (out === "float32" ? `${f32}(${x})` : f(x!)),
  lanes: { emit: simd, accepts: (out, [d]) => out === "float32" && d === "float32" },
});

/** Keeps float and int32 dtypes (bool would compute as int32, which the graph does not expect). */
const signLike = (float: Form, int: (x: string) => string): EwOp => ({
  result: ([d]) => (d === "bool" ? undefined : d),
  expr: ([x], out) => (out === "int32" ? int(x!) : render(float, [x!])),
  ...withLanes(float32Lanes(float)),
});

const predicate = (f: (x: string) => string): EwOp => ({ result: () => "bool", expr: ([x]) => `(${f(x!)} ? 1 : 0)` });

/** Binary arithmetic on one dtype; bool computes as int32 in the kernels, so it is not fused. */
const arithmetic = (float: Form, int: ((a: string, b: string) => string) | undefined): EwOp => ({
  result: ([d]) => (isFloat(d!) || (d === "int32" && int !== undefined) ? d : undefined),
  expr: ([a, b], out) => (out === "int32" ? int!(a!, b!) : store(render(float, [a!, b!]), out)),
  ...withLanes(float32Lanes(float)),
});

/**
 * A bool result: 0/1 in JavaScript; in SIMD the condition's lane mask, for float32 operands, and
 * for int32 ones under (in)equality (a one-hot's `ids == arange`), which compares the lanes' bits.
 */
const comparison = (f: Form): EwOp => ({
  result: () => "bool",
  expr: ([a, b]) => `(${render(f, [a!, b!])} ? 1 : 0)`,
  ...withLanes(
    typeof f === "function"
      ? undefined
      : {
          tree: f,
          accepts: (out, [x, y]) =>
            out === "bool" &&
            x === y &&
            (x === "float32" || (x === "int32" && f.k === "infix" && (f.op === "===" || f.op === "!=="))),
        },
  ),
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
  // bool → float32 only: a mask's lanes ANDed with the bits of 1.0 give 1 or +0, what `fr` of a
  // 0/1 gives. A bit operation on the mask representation, which JavaScript's 0/1 bools do not
  // have, so it is WebAssembly of its own rather than a lane expression.
  lanes: {
    emit: (f, x) => void f.get(x).f32x4Const(1).simd("v128And"),
    accepts: (out, [d]) => out === "float32" && d === "bool",
  },
};

/** select(c, x, y): x where c ≠ 0 (a bool mask, or a float32 compared with 0), else y. */
const SELECT = pick(truthy(arg(0)), arg(1), arg(2));

/** The first operand when `cmp` holds or it is NaN, else the second (NumPy's NaN-propagating max/min). */
const pickFirst = (cmp: ">" | "<"): Lane => pick(infix("||", infix(cmp, A, B), infix("!==", A, A)), A, B);

/** Every fusable elementwise primitive, plus `copy` (materialising a view). */
export const ewOps: { readonly [K in EwOpName]: EwOp } = {
  copy: {
    result: ([d]) => d,
    expr: ([x]) => x!,
    lanes: { tree: A, accepts: (out, [d]) => out === "float32" && d === "float32" },
  },
  neg: signLike(prefix("-", A), (x) => `((-${x}) | 0)`),
  abs: signLike(prefix("Math.abs", A), (x) => `(Math.abs(${x}) | 0)`),
  sign: signLike(
    (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : ${x} === 0 ? 0 : ${x})`,
    (x) => `(${x} > 0 ? 1 : ${x} < 0 ? -1 : 0)`,
  ),
  exp: float32Polynomial((x) => `Math.exp(${x})`, "expf", emitExpF32x4),
  // No float32x4 instruction computes these (WebAssembly has no transcendentals), so no lane form.
  expm1: transcendental((x) => `Math.expm1(${x})`),
  log: transcendental((x) => `Math.log(${x})`),
  log1p: transcendental((x) => `Math.log1p(${x})`),
  sqrt: transcendental(prefix("Math.sqrt", A)),
  sin: transcendental((x) => `Math.sin(${x})`),
  cos: transcendental((x) => `Math.cos(${x})`),
  tanh: float32Polynomial((x) => `Math.tanh(${x})`, "tanhf", emitTanhF32x4),
  logistic: float32Polynomial((x) => `sig(${x})`, "sigf", emitSigmoidF32x4),
  softplus: transcendental((x) => `spl(${x})`),
  // On int32 the rounding kernels return their input (lowering turns that into an alias).
  floor: transcendental((x) => `Math.floor(${x})`),
  ceil: transcendental((x) => `Math.ceil(${x})`),
  round: transcendental((x) => `rne(${x})`),
  isNaN: predicate((x) => `${x} !== ${x}`),
  isFinite: predicate((x) => `${x} - ${x} === 0`),
  logicalNot: predicate((x) => `${x} === 0`),
  add: arithmetic(infix("+", A, B), (a, b) => `((${a} + ${b}) | 0)`),
  sub: arithmetic(infix("-", A, B), (a, b) => `((${a} - ${b}) | 0)`),
  mul: arithmetic(infix("*", A, B), (a, b) => `Math.imul(${a}, ${b})`),
  div: arithmetic(infix("/", A, B), undefined),
  pow: arithmetic((a, b) => `pw(${a}, ${b})`, undefined),
  // max/min pick one operand, which is already stored exactly (the float32 store's `fr` keeps it).
  maximum: arithmetic(pickFirst(">"), (a, b) => `(${a} > ${b} ? ${a} : ${b})`),
  minimum: arithmetic(pickFirst("<"), (a, b) => `(${a} < ${b} ? ${a} : ${b})`),
  equal: comparison(infix("===", A, B)),
  notEqual: comparison(infix("!==", A, B)),
  less: comparison(infix("<", A, B)),
  lessEqual: comparison(infix("<=", A, B)),
  greater: comparison(infix(">", A, B)),
  greaterEqual: comparison(infix(">=", A, B)),
  // Bool operands only, which the SIMD loop never computes with (it only selects and converts them).
  logicalAnd: comparison((a, b) => `${a} !== 0 && ${b} !== 0`),
  logicalOr: comparison((a, b) => `${a} !== 0 || ${b} !== 0`),
  select: {
    result: ([, a]) => a,
    expr: (x) => renderLane(SELECT, x),
    lanes: {
      tree: SELECT,
      accepts: (out, [c, x, y]) =>
        out === "float32" && (c === "bool" || c === "float32") && x === "float32" && y === "float32",
    },
  },
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
