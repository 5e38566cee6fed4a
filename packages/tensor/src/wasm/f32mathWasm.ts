/**
 * @file The float32 e^x, logistic and tanh of `kernels/f32math.ts`, four lanes at a time, as
 * WebAssembly SIMD code emitted inline into a kernel's function body.
 *
 * Each emitter reads its argument from a v128 local and leaves the result on the stack. The
 * operations and their order are exactly those of the scalar definitions (see that file for the
 * algorithms and why the two agree bit for bit): where the scalar code branches, the vector code
 * computes both sides and picks lanes with `v128.bitselect`.
 */
import { EXP_HI, EXP_LO, EXP_POLY, LN2_HI, LN2_LO, LOG2E, TANH_POLY, TANH_SMALL } from "../kernels/f32math.js";
import { v128, type FunctionBuilder } from "./emitter.js";

/** Pushes 2^k for the i32 lanes of local `k` (−126 ≤ k ≤ 127), built from exponent bits. */
const pow2 = (f: FunctionBuilder, k: number): void => {
  f.get(k).i32x4Const(127).simd("i32x4Add").i32Const(23).simd("i32x4Shl");
};

/**
 * Pushes e^x for the f32 lanes of local `x`.
 * @example emitExpF32x4(f, x); f.set(y)
 */
export const emitExpF32x4 = (f: FunctionBuilder, x: number): void => {
  const xc = f.local(v128),
    n = f.local(v128),
    r = f.local(v128),
    p = f.local(v128),
    ni = f.local(v128),
    n1 = f.local(v128);
  // Clamped so the lanes the final selects replace still compute finite garbage.
  f.get(x).f32x4Const(EXP_HI).simd("f32x4Min").f32x4Const(EXP_LO).simd("f32x4Max").set(xc);
  f.get(xc).f32x4Const(LOG2E).simd("f32x4Mul").simd("f32x4Nearest").set(n);
  f.get(xc).get(n).f32x4Const(LN2_HI).simd("f32x4Mul").simd("f32x4Sub");
  f.get(n).f32x4Const(LN2_LO).simd("f32x4Mul").simd("f32x4Sub").set(r);
  f.f32x4Const(EXP_POLY[0]!).set(p);
  for (let i = 1; i < EXP_POLY.length; i++)
    f.get(p).get(r).simd("f32x4Mul").f32x4Const(EXP_POLY[i]!).simd("f32x4Add").set(p);
  // y = ((p · r²) + r) + 1, left on the stack
  f.get(p).get(r).get(r).simd("f32x4Mul").simd("f32x4Mul").get(r).simd("f32x4Add").f32x4Const(1).simd("f32x4Add");
  f.set(p);
  f.get(n).simd("i32x4TruncSatF32x4S").set(ni);
  f.get(ni).i32Const(1).simd("i32x4ShrS").set(n1);
  // (y · 2^n1) · 2^(n − n1): the first product is exact, the second rounds once.
  f.get(p);
  pow2(f, n1);
  f.simd("f32x4Mul");
  f.get(ni).get(n1).simd("i32x4Sub").set(ni);
  pow2(f, ni);
  f.simd("f32x4Mul").set(p);
  // Lanes above EXP_HI become +∞, below EXP_LO +0, and NaN lanes keep the input.
  f.f32x4Const(Infinity).get(p).get(x).f32x4Const(EXP_HI).simd("f32x4Gt").simd("v128Bitselect").set(p);
  f.v128Zero().get(p).get(x).f32x4Const(EXP_LO).simd("f32x4Lt").simd("v128Bitselect").set(p);
  f.get(x).get(p).get(x).get(x).simd("f32x4Ne").simd("v128Bitselect");
};

/**
 * Pushes the logistic 1 / (1 + e^−x) for the f32 lanes of local `x` (both branches of the
 * scalar definition, then a lane select on x ≥ 0).
 * @example emitSigmoidF32x4(f, x); f.set(y)
 */
export const emitSigmoidF32x4 = (f: FunctionBuilder, x: number): void => {
  const e = f.local(v128),
    d = f.local(v128);
  f.get(x).simd("f32x4Abs").simd("f32x4Neg").set(e);
  emitExpF32x4(f, e);
  f.set(e);
  f.f32x4Const(1).get(e).simd("f32x4Add").set(d);
  // x ≥ 0: 1/d; else (NaN included) e/d
  f.f32x4Const(1).get(d).simd("f32x4Div").get(e).get(d).simd("f32x4Div");
  f.get(x).v128Zero().simd("f32x4Ge").simd("v128Bitselect");
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
