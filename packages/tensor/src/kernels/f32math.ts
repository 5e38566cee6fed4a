/**
 * @file float32 e^x, tanh and the logistic function, defined as sequences of float32 operations
 * so that a WebAssembly SIMD kernel (`wasm/f32mathWasm.ts`, four lanes at a time) and this
 * scalar JavaScript give the same bits.
 *
 * Why not `Math.fround(Math.exp(x))`: WebAssembly has no exp, and a vector kernel must evaluate a
 * polynomial. For the compiled and the interpreted paths to agree bit for bit (jit invariance),
 * both evaluate the same polynomial with the same roundings. Here every operation is rounded with
 * `Math.fround`: a float64 sum, difference, product or quotient of two float32 values rounded
 * once to float32 equals the float32 operation (53 ≥ 2·24 + 2), and WebAssembly SIMD has no
 * fused multiply-add, so the two agree exactly. float64 tensors keep `Math.exp` and friends.
 *
 * The algorithms (Cephes `expf` and `tanhf`, S. L. Moshier; coefficients from its sources):
 * - e^x: n = round-half-even(x·log2 e), r = x − n·C1 − n·C2 (ln 2 split so n·C1 is exact), a
 *   degree-5 polynomial for (e^r − 1 − r)/r², then y = 1 + r + r²·P(r), scaled by 2^n as two
 *   factors 2^⌊n/2⌋ and 2^(n−⌊n/2⌋) built from exponent bits, so both are normal float32 values
 *   and the one rounding happens in the last product (subnormal results round once, correctly).
 *   Above `EXP_HI` the result is +∞, below `EXP_LO` it is +0 (e^−104 < 2^−150), NaN stays NaN.
 *   Accuracy: within 2 ulp of the float64 e^x over the whole range (tested).
 * - tanh: for |x| < 0.625, |x| + |x|·z·Q(z) with z = x²; elsewhere 1 − 2/(e^{2|x|} + 1), which
 *   saturates to 1 once e^{2|x|} overflows; then x's sign (so tanh(−0) = −0).
 * - logistic: with e = e^−|x|, 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0: only a non-positive
 *   number is exponentiated, so nothing overflows, and the left tail keeps its relative accuracy
 *   down to the subnormals (σ(−100) ≈ 3.8e−44, not 0), as the float64 kernel does.
 */

const fr = Math.fround;

/** Above this, e^x overflows float32: the result is +∞. */
export const EXP_HI = fr(88.72283935546875);
/** Below this, e^x is under half the smallest subnormal: the result is +0. */
export const EXP_LO = -104;
/** log2(e) as float32. */
export const LOG2E = fr(1.4426950408889634);
/** ln 2 = C1 − C2 split: C1 has 9 significant bits, so n·C1 is exact for |n| ≤ 150. */
export const LN2_HI = 0.693359375;
export const LN2_LO = fr(-2.1219444e-4);
/** Cephes expf polynomial, highest degree first. */
export const EXP_POLY: readonly number[] = [
  1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
].map(fr);
/** Where tanh switches from its odd polynomial to the exponential form. */
export const TANH_SMALL = 0.625;
/** Cephes tanhf polynomial in z = x², highest degree first. */
export const TANH_POLY: readonly number[] = [
  -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1,
].map(fr);

/** 2^k for k in [−75, 64], the range of the two scale factors. */
const POW2_OFFSET = 75;
const POW2 = Float64Array.from({ length: 140 }, (_, i) => 2 ** (i - POW2_OFFSET));

// The polynomial's coefficients as locals of this module, so the hot loop reads no arrays.
const [E0, E1, E2, E3, E4, E5] = EXP_POLY as [number, number, number, number, number, number];
const [T0, T1, T2, T3, T4] = TANH_POLY as [number, number, number, number, number];
/** 1.5 · 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to an integer, halves to even. */
const ROUNDER = 6755399441055744;

/**
 * e^x in float32 arithmetic (see the file comment); `x` must be a float32 value.
 * @example expF32(0) // 1
 */
export const expF32 = (x: number): number => {
  if (!(x <= EXP_HI)) return x > EXP_HI ? Infinity : x; // NaN stays NaN
  if (x < EXP_LO) return 0;
  // Round half to even, as `f32x4.nearest` (|x·log2 e| ≤ 151, far below 2^51).
  const n = fr(x * LOG2E) + ROUNDER - ROUNDER;
  const r = fr(fr(x - fr(n * LN2_HI)) - fr(n * LN2_LO));
  let p = fr(fr(E0 * r) + E1);
  p = fr(fr(p * r) + E2);
  p = fr(fr(p * r) + E3);
  p = fr(fr(p * r) + E4);
  p = fr(fr(p * r) + E5);
  const y = fr(fr(fr(p * fr(r * r)) + r) + 1);
  const n1 = n >> 1;
  return fr(fr(y * POW2[n1 + POW2_OFFSET]!) * POW2[n - n1 + POW2_OFFSET]!);
};

/**
 * The logistic 1 / (1 + e^−x) in float32 arithmetic; `x` must be a float32 value.
 * @example sigmoidF32(0) // 0.5
 */
export const sigmoidF32 = (x: number): number => {
  const e = expF32(-Math.abs(x));
  const d = fr(1 + e);
  return x >= 0 ? fr(1 / d) : fr(e / d);
};

/**
 * tanh(x) in float32 arithmetic; `x` must be a float32 value.
 * @example tanhF32(-0) // -0
 */
export const tanhF32 = (x: number): number => {
  const a = Math.abs(x);
  let t: number;
  if (a < TANH_SMALL) {
    const z = fr(a * a);
    let q = fr(fr(T0 * z) + T1);
    q = fr(fr(q * z) + T2);
    q = fr(fr(q * z) + T3);
    q = fr(fr(q * z) + T4);
    t = fr(a + fr(fr(a * z) * q));
  } else {
    t = fr(1 - fr(2 / fr(expF32(fr(a + a)) + 1)));
  }
  return x < 0 || (x === 0 && 1 / x < 0) ? -t : t;
};
