/**
 * @file Elementwise functions of one tensor: sign and magnitude, exponentials and logs,
 * trigonometry, activations, rounding, and the predicates `isNaN`/`isFinite`/`logicalNot`.
 *
 * Every op is a short definition on top of `mapUnary`, which owns the output buffer; most give a
 * per-element function, hot ones their own loop (see `loopOf`). Three dtype families decide
 * what comes out:
 * - transcendental (`exp`, `log`, `sqrt`, `sigmoid`, ...): `floatResultType`, so `int32` and
 *   `bool` give `float32`;
 * - sign-like (`neg`, `abs`, `sign`, `square`, `relu`): keep `int32`/floats; `bool` computes
 *   as `int32` (as in JAX, where arithmetic on booleans is integer arithmetic);
 * - rounding (`floor`, `ceil`, `round`): keep floats; the identity on `int32`; `bool` gives `int32`.
 * Values are computed in double precision; a `float32` result rounds once, on store. Except:
 * `exp`, `tanh` and `sigmoid` of float32 tensors evaluate float32 polynomials (`f32math.ts`,
 * within 2 ulp), the very operations the compiler's WebAssembly SIMD kernels run, so compiled and
 * interpreted results agree bit for bit.
 */
import type { ReadonlyTypedArray, WritableTypedArray } from "../Buffer.js";
import { checkTensor } from "../check.js";
import { allocate, floatResultType, type DType } from "../DType.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { mapF32Wasm, MAP_MIN, type MappedF32 } from "../wasm/unaryWasm.js";
import { kernelBackend } from "./backend.js";
import { expF32, sigmoidF32, tanhF32 } from "./f32math.js";

/** Fills `out[0..n)` from `src[0..n)`: the whole work of a unary op. */
type Loop = (out: WritableTypedArray, src: ReadonlyTypedArray, n: number) => void;

/**
 * The loop of an op given by its per-element function. Every such loop is the same function
 * literal, so once several ops have run V8 sees many `f`s at the call and stops inlining it
 * (about 3x slower on 1e6 elements). Ops on the training hot path (`neg`, `exp`, `log`, `sqrt`,
 * `tanh`, `sigmoid`) therefore write their own one-line `Loop`, where the body inlines.
 */
const loopOf =
  (f: (v: number) => number): Loop =>
  (out, src, n) => {
    for (let i = 0; i < n; i++) out[i] = f(src[i]!);
  };

/**
 * The float32 loop of `exp`/`tanh`/`sigmoid`: WebAssembly SIMD for arrays worth the copies (see
 * `unaryWasm.ts`), else `f` element by element; both compute the same bits.
 */
const float32Map =
  (op: MappedF32, f: (v: number) => number): Loop =>
  (out, src, n) => {
    const backend = kernelBackend();
    if (
      backend !== "js" &&
      (n >= MAP_MIN || backend === "wasm") &&
      mapF32Wasm(op, src as Float32Array, out as Float32Array, n)
    )
      return;
    for (let i = 0; i < n; i++) out[i] = f(src[i]!);
  };

const mapUnary = (x: Tensor, dtype: DType, loop: Loop): Tensor => {
  const n = x.data.length;
  const out = allocate(dtype, n);
  loop(out, x.data, n);
  return fromBuffer(dtype, x.shape, out);
};

const transcendental =
  (op: string, loop: Loop, float32Loop: Loop = loop) =>
  (x: Tensor): Tensor =>
    mapUnary(checkTensor(op, "x", x), floatResultType(x.dtype), x.dtype === "float32" ? float32Loop : loop);

/** `intLoop` exists for ops whose double result can exceed 2^53 on int32 input (it must wrap instead). */
const signLike =
  (op: string, loop: Loop, intLoop: Loop = loop) =>
  (x: Tensor): Tensor => {
    checkTensor(op, "x", x);
    const dtype = x.dtype === "bool" ? "int32" : x.dtype;
    return mapUnary(x, dtype, dtype === "int32" ? intLoop : loop);
  };

const identity = loopOf((v) => v);

const rounding =
  (op: string, loop: Loop) =>
  (x: Tensor): Tensor => {
    checkTensor(op, "x", x);
    // Integers are already whole; since tensors are immutable, returning `x` itself is safe.
    if (x.dtype === "int32") return x;
    if (x.dtype === "bool") return mapUnary(x, "int32", identity);
    return mapUnary(x, x.dtype, loop);
  };

const predicate =
  (op: string, loop: Loop) =>
  (x: Tensor): Tensor =>
    mapUnary(checkTensor(op, "x", x), "bool", loop);

/**
 * Elementwise negation `-x` (`int32` wraps like NumPy: `-(-2^31)` is `-2^31`).
 * @example neg(tensor([1, -2])).data // Float32Array [-1, 2]
 */
export const neg = signLike("neg", (out, src, n) => {
  for (let i = 0; i < n; i++) out[i] = -src[i]!;
});

/**
 * Elementwise absolute value `|x|`.
 * @example abs(tensor([-1.5, 2])).data // Float32Array [1.5, 2]
 */
export const abs = signLike("abs", loopOf(Math.abs));

/**
 * Elementwise sign: -1, 0 or 1; `sign(NaN)` is NaN and `sign(-0)` is `+0` (NumPy).
 * @example sign(tensor([-3, 0, 2])).data // Float32Array [-1, 0, 1]
 */
export const sign = signLike(
  "sign",
  loopOf((v) => (v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v)),
);

/**
 * Elementwise e^x.
 * @example exp(tensor([0, 1], "float64")).data // Float64Array [1, 2.718281828459045]
 */
export const exp = transcendental(
  "exp",
  (out, src, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.exp(src[i]!);
  },
  float32Map("exp", expF32),
);

/**
 * Elementwise e^x - 1, accurate for small x where `exp(x) - 1` cancels.
 * @example expm1(tensor([1e-10], "float64")).data // Float64Array [1.00000000005e-10]
 */
export const expm1 = transcendental("expm1", loopOf(Math.expm1));

/**
 * Elementwise natural logarithm; `log(0)` is -Infinity and negative inputs give NaN.
 * @example log(tensor([1, Math.E], "float64")).data // Float64Array [0, 1]
 */
export const log = transcendental("log", (out, src, n) => {
  for (let i = 0; i < n; i++) out[i] = Math.log(src[i]!);
});

/**
 * Elementwise log(1 + x), accurate for small x where `log(1 + x)` loses digits.
 * @example log1p(tensor([1e-10], "float64")).data // Float64Array [9.999999999500001e-11]
 */
export const log1p = transcendental("log1p", loopOf(Math.log1p));

/**
 * Elementwise square root; negative inputs give NaN.
 * @example sqrt(tensor([4, 9])).data // Float32Array [2, 3]
 */
export const sqrt = transcendental("sqrt", (out, src, n) => {
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(src[i]!);
});

/**
 * Elementwise reciprocal square root 1/√x.
 * @example rsqrt(tensor([4, 0.25])).data // Float32Array [0.5, 2]
 */
export const rsqrt = transcendental(
  "rsqrt",
  loopOf((v) => 1 / Math.sqrt(v)),
);

/**
 * Elementwise x² (`int32` wraps modulo 2^32 like NumPy, rather than losing bits in a double).
 * @example square(tensor([-3, 0.5])).data // Float32Array [9, 0.25]
 */
export const square = signLike(
  "square",
  loopOf((v) => v * v),
  loopOf((v) => Math.imul(v, v)),
);

/**
 * Elementwise 1/x; `reciprocal(0)` is Infinity.
 * @example reciprocal(tensor([2, -4])).data // Float32Array [0.5, -0.25]
 */
export const reciprocal = transcendental(
  "reciprocal",
  loopOf((v) => 1 / v),
);

/**
 * Elementwise sine (radians).
 * @example sin(tensor([0, Math.PI / 2], "float64")).data // Float64Array [0, 1]
 */
export const sin = transcendental("sin", loopOf(Math.sin));

/**
 * Elementwise cosine (radians).
 * @example cos(tensor([0, Math.PI], "float64")).data // Float64Array [1, -1]
 */
export const cos = transcendental("cos", loopOf(Math.cos));

/**
 * Elementwise hyperbolic tangent, saturating at ±1 without overflow.
 * @example tanh(tensor([0, 1e4])).data // Float32Array [0, 1]
 */
export const tanh = transcendental(
  "tanh",
  (out, src, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.tanh(src[i]!);
  },
  float32Map("tanh", tanhF32),
);

/**
 * Elementwise logistic function 1 / (1 + e^-x), finite and accurate for any |x|.
 * @example sigmoid(tensor([0, 1e4, -1e4])).data // Float32Array [0.5, 1, 0]
 */
export const sigmoid = transcendental(
  "sigmoid",
  (out, src, n) => {
    // NOTE: neither textbook form is safe alone. e^x / (1 + e^x) is Infinity / Infinity = NaN
    // once x > 709, and 1 / (1 + e^-x) overflows e^-x once x < -709 (giving 0 only by luck).
    // Taking 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0 only ever exponentiates a
    // non-positive number, so nothing overflows and each branch is accurate to a few ulps, the
    // left tail included (there the result is ~e^x, down to 0 only when e^x underflows, e.g.
    // sigmoid(-1e4)). NaN fails `v >= 0` and stays NaN in the second branch.
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        out[i] = e / (1 + e);
      }
    }
  },
  // float32: 1/(1 + e^−x) in float32 arithmetic, safe on both tails (see f32math.ts).
  float32Map("sigmoid", sigmoidF32),
);

/**
 * Elementwise softplus log(1 + e^x), the smooth ReLU; finite and accurate for any |x|.
 * @example softplus(tensor([0, 1e4, -1e4], "float64")).data // Float64Array [0.6931471805599453, 10000, 0]
 */
export const softplus = transcendental(
  "softplus",
  // NOTE: log(1 + e^x) overflows to Infinity for x > 709, and for x < -37 rounds to log(1) = 0,
  // losing the tiny true value ~e^x. The identity log(1 + e^x) = max(x, 0) + log1p(e^-|x|) only
  // exponentiates a non-positive number (no overflow), and log1p keeps e^-|x| exactly where
  // 1 + e^-|x| would round to 1, so softplus(-50) is 1.9e-22 rather than 0 and softplus(1e4) is
  // exactly 1e4. `v > 0 ? v : 0` (rather than Math.max) lets NaN flow through the log1p term.
  loopOf((v) => (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)))),
);

/**
 * Elementwise rectified linear unit max(x, 0); NaN stays NaN and -0 becomes +0.
 * @example relu(tensor([-2, 0, 3])).data // Float32Array [0, 0, 3]
 */
export const relu = signLike(
  "relu",
  loopOf((v) => (v > 0 || v !== v ? v : 0)),
);

/**
 * Elementwise largest integer ≤ x (the identity on `int32`).
 * @example floor(tensor([1.5, -1.5])).data // Float32Array [1, -2]
 */
export const floor = rounding("floor", loopOf(Math.floor));

/**
 * Elementwise smallest integer ≥ x (the identity on `int32`).
 * @example ceil(tensor([1.5, -1.5])).data // Float32Array [2, -1]
 */
export const ceil = rounding("ceil", loopOf(Math.ceil));

/**
 * Elementwise round to nearest, ties to even (NumPy's `round`), so 0.5 → 0 and 1.5 → 2.
 * @example round(tensor([0.5, 1.5, 2.5, -2.5])).data // Float32Array [0, 2, 2, -2]
 */
export const round = rounding(
  "round",
  loopOf((v) => {
    // Math.round breaks ties toward +Infinity; a tie is exactly where it moved by +0.5, and then
    // the even neighbour is one below whenever it picked the odd one.
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }),
);

/**
 * Elementwise test for NaN, as a `bool` tensor (always false for `int32`/`bool`).
 * @example isNaN(tensor([1, NaN])).data // Uint8Array [0, 1]
 */
export const isNaN = predicate(
  "isNaN",
  loopOf((v) => (v !== v ? 1 : 0)),
);

/**
 * Elementwise test for a finite value (not NaN or ±Infinity), as a `bool` tensor.
 * @example isFinite(tensor([1, Infinity, NaN])).data // Uint8Array [1, 0, 0]
 */
export const isFinite = predicate(
  "isFinite",
  loopOf((v) => (v - v === 0 ? 1 : 0)),
);

/**
 * Elementwise logical NOT as a `bool` tensor: true where `x` is zero (NaN counts as nonzero).
 * @example logicalNot(tensor([0, 2, NaN])).data // Uint8Array [1, 0, 0]
 */
export const logicalNot = predicate(
  "logicalNot",
  loopOf((v) => (v === 0 ? 1 : 0)),
);
