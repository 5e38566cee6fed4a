/**
 * @file The float32 e^x, logistic and tanh of `kernels/f32math.ts`, four lanes at a time, as
 * WebAssembly SIMD code emitted inline into a kernel's function body.
 *
 * Each emitter reads its argument from a v128 local and leaves the result on the stack. The
 * rounded arithmetic (every float32 sum, product and quotient, and their order) is exactly the
 * scalar definitions' (see that file for the algorithms and why the two agree bit for bit): where
 * the scalar code branches, the vector code computes both sides and picks lanes with
 * `v128.bitselect`. Around that arithmetic, cheaper instructions stand in where they give the
 * same lanes (see `emitExpF32x4`); f32math.test.ts holds both to the same bits on the inputs
 * where a stand-in could differ.
 */
import { EXP_HI, EXP_LO, EXP_POLY, LN2_HI, LN2_LO, LOG2E, TANH_POLY, TANH_SMALL } from "../kernels/f32math.js";
import { v128, type FunctionBuilder } from "./emitter.js";

/** Pushes 2^k for the i32 lanes of local `k` (−126 ≤ k ≤ 127), built from exponent bits. */
const pow2 = (f: FunctionBuilder, k: number): void => {
  f.get(k).i32x4Const(127).simd("i32x4Add").i32Const(23).simd("i32x4Shl");
};

/** 1.5 · 2^23: adding it to a float32 of magnitude below 2^22 rounds it to an integer, halves to even. */
const ROUND_MAGIC = 12582912;
/** The bits of `ROUND_MAGIC` as a float32 (0x4B400000): (bits of n + ROUND_MAGIC) − this = n. */
const ROUND_MAGIC_BITS = 0x4b400000;

/**
 * Pushes e^x for the f32 lanes of local `x`.
 *
 * Cheaper instructions than the scalar code's, with the same results in every lane (this runs in
 * every LSTM and GRU cell, and e^x was most of a compiled char-rnn step's elementwise time):
 * - the clamp uses `pmin`/`pmax` (one x64 instruction each, against several for the
 *   NaN-propagating `min`/`max`); with the constant first a NaN lane clamps to `EXP_HI`, and the
 *   last select puts its NaN back;
 * - n = round-half-even(v) as (v + 1.5·2^23) − 1.5·2^23, exact for |v| < 2^22 (here ≤ 151), and
 *   its integer from the same sum's bits, instead of `nearest` and the saturating conversion;
 * - no selects for x < `EXP_LO` and x > `EXP_HI`: those lanes compute e^EXP_LO, which rounds to
 *   +0, and e^EXP_HI, which rounds to +∞: the scalar code's results (f32math.test.ts checks both).
 * @example emitExpF32x4(f, x); f.set(y)
 */
export const emitExpF32x4 = (f: FunctionBuilder, x: number): void => {
  const xc = f.local(v128),
    n = f.local(v128),
    r = f.local(v128),
    p = f.local(v128),
    ni = f.local(v128),
    n1 = f.local(v128);
  // pmin(a, b) = b < a ? b : a; pmax(a, b) = a < b ? b : a.
  f.f32x4Const(EXP_HI).get(x).simd("f32x4Pmin").set(xc);
  f.f32x4Const(EXP_LO).get(xc).simd("f32x4Pmax").set(xc);
  // t = f32(xc·log2 e) + 1.5·2^23 (kept in ni), n = t − 1.5·2^23, and n's integer in ni.
  f.get(xc).f32x4Const(LOG2E).simd("f32x4Mul").f32x4Const(ROUND_MAGIC).simd("f32x4Add").set(ni);
  f.get(ni).f32x4Const(ROUND_MAGIC).simd("f32x4Sub").set(n);
  f.get(ni).i32x4Const(ROUND_MAGIC_BITS).simd("i32x4Sub").set(ni);
  f.get(xc).get(n).f32x4Const(LN2_HI).simd("f32x4Mul").simd("f32x4Sub");
  f.get(n).f32x4Const(LN2_LO).simd("f32x4Mul").simd("f32x4Sub").set(r);
  f.f32x4Const(EXP_POLY[0]!).set(p);
  for (let i = 1; i < EXP_POLY.length; i++)
    f.get(p).get(r).simd("f32x4Mul").f32x4Const(EXP_POLY[i]!).simd("f32x4Add").set(p);
  // y = ((p · r²) + r) + 1, left on the stack
  f.get(p).get(r).get(r).simd("f32x4Mul").simd("f32x4Mul").get(r).simd("f32x4Add").f32x4Const(1).simd("f32x4Add");
  f.set(p);
  f.get(ni).i32Const(1).simd("i32x4ShrS").set(n1);
  // (y · 2^n1) · 2^(n − n1): the first product is exact, the second rounds once.
  f.get(p);
  pow2(f, n1);
  f.simd("f32x4Mul");
  f.get(ni).get(n1).simd("i32x4Sub").set(ni);
  pow2(f, ni);
  f.simd("f32x4Mul").set(p);
  // NaN lanes keep the input.
  f.get(x).get(p).get(x).get(x).simd("f32x4Ne").simd("v128Bitselect");
};

/**
 * Pushes the logistic 1 / (1 + e^−x) for the f32 lanes of local `x`: the scalar definition's
 * numerator (1 where x ≥ 0, else e) picked per lane, then one division (the same quotient the
 * scalar code's branch computes, for half the divisions of computing both).
 * @example emitSigmoidF32x4(f, x); f.set(y)
 */
export const emitSigmoidF32x4 = (f: FunctionBuilder, x: number): void => {
  const e = f.local(v128);
  f.get(x).simd("f32x4Abs").simd("f32x4Neg").set(e);
  emitExpF32x4(f, e);
  f.set(e);
  // x ≥ 0: 1/d; else (NaN included) e/d, with d = 1 + e
  f.f32x4Const(1).get(e).get(x).v128Zero().simd("f32x4Ge").simd("v128Bitselect");
  f.f32x4Const(1).get(e).simd("f32x4Add").simd("f32x4Div");
};

/**
 * Pushes tanh(x) for the f32 lanes of local `x`.
 * @example emitTanhF32x4(f, x); f.set(y)
 */
export const emitTanhF32x4 = (f: FunctionBuilder, x: number): void => {
  const a = f.local(v128),
    z = f.local(v128),
    q = f.local(v128),
    big = f.local(v128),
    twoA = f.local(v128);
  f.get(x).simd("f32x4Abs").set(a);
  // small: a + (a·z)·Q(z), z = a²
  f.get(a).get(a).simd("f32x4Mul").set(z);
  f.f32x4Const(TANH_POLY[0]!).set(q);
  for (let i = 1; i < TANH_POLY.length; i++)
    f.get(q).get(z).simd("f32x4Mul").f32x4Const(TANH_POLY[i]!).simd("f32x4Add").set(q);
  f.get(a).get(a).get(z).simd("f32x4Mul").get(q).simd("f32x4Mul").simd("f32x4Add").set(q);
  // big: 1 − 2/(e^{2a} + 1)
  f.get(a).get(a).simd("f32x4Add").set(twoA);
  f.f32x4Const(1).f32x4Const(2);
  emitExpF32x4(f, twoA);
  f.f32x4Const(1).simd("f32x4Add").simd("f32x4Div").simd("f32x4Sub").set(big);
  // pick by |x| < TANH_SMALL (NaN lanes take `big`, which is NaN), then copy x's sign bit.
  f.get(q).get(big).get(a).f32x4Const(TANH_SMALL).simd("f32x4Lt").simd("v128Bitselect");
  f.get(x).get(a).simd("v128Xor").simd("v128Or");
};
