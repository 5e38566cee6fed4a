/**
 * @file Random samples on the device: Threefry-2x32-20 in WGSL's u32 arithmetic (wrapping adds,
 * rotations, xor — the same integer operations as @rewind/tensor's `threefry.ts`, so the words are
 * the CPU's bit for bit), one block per element at counter `(0, i)` under the element's key.
 * `bits` and `bernoulli` are exact: bernoulli compares the 53-bit integer of the CPU's `unit53`
 * with ⌈p·2⁵³⌉ as two u32 halves, never a float. `uniform` and `normal` follow the CPU's formulas
 * in float32 where the CPU computes in float64 and rounds once (within the float32 tolerance;
 * normal's log is taken as log1p of an exact small integer, so samples near 0 keep their size).
 */
import type { SampleParams } from "@rewind/autodiff";
import { uniformRange } from "@rewind/tensor/internal/codegen";
import { bindings, flatKernel, literal, sizeOf, type KernelInput } from "./common.js";
import { HELPERS } from "./helpers.js";

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1): Random123's rotations and key schedule. */
const THREEFRY = `
fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
  let ks = array<u32, 3>(k0, k1, k0 ^ k1 ^ 0x1bd11bdau);
  let rot = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
  var x0 = c0 + k0;
  var x1 = c1 + k1;
  for (var g = 0u; g < 5u; g = g + 1u) {
    for (var r = 0u; r < 4u; r = r + 1u) {
      x0 = x0 + x1;
      x1 = rotl(x1, rot[(g * 4u + r) % 8u]) ^ x0;
    }
    let s = g + 1u;
    x0 = x0 + ks[s % 3u];
    x1 = x1 + ks[(s + 1u) % 3u] + s;
  }
  return vec2<u32>(x0, x1);
}
`;

/** The statement computing `v` (the sample of element `j`'s block `w`) for `p`; undefined: not here. */
const sampleOf = (p: SampleParams): string | undefined => {
  switch (p.dist) {
    case "bits":
      return "out0[i] = bitcast<i32>(w.x ^ w.y);";
    case "bernoulli": {
      // unit53 = ((w0 >>> 5)·2²⁶ + (w1 >>> 6)) / 2⁵³ < p  ⇔  that integer < ⌈p·2⁵³⌉
      // (p·2⁵³ is exact: a power-of-two scaling).
      const t = Math.ceil(p.p * 2 ** 53);
      const hi = Math.floor(t / 2 ** 26);
      const lo = t - hi * 2 ** 26;
      return `let h = w.x >> 5u; let l = w.y >> 6u;
out0[i] = select(0u, 1u, h < ${hi}u || (h == ${hi}u && l < ${lo}u));`;
    }
    case "uniform": {
      // The CPU's range of samples (its rounding of the bounds), then its formula in float32.
      const range = p.dtype === "float32" ? uniformRange(p.min, p.max, "float32") : undefined;
      if (range === undefined) return undefined;
      const [lo, hi, halfSpan] = range;
      return `let u = f32((w.x ^ w.y) >> 9u) / 8388608.0;
let v = ${literal(p.min, "float32")} + 2.0 * (u * ${literal(halfSpan, "float32")});
out0[i] = clamp(v, ${literal(lo, "float32")}, ${literal(hi, "float32")});`;
    }
    case "normal":
      if (p.dtype !== "float32") return undefined;
      // u1 = (w0 + 1) / 2³²: below ½ its log directly; above, u1 = 1 − d / 2³² with d = 2³² − 1 − w0
      // (exact) and ln u1 = log1p(−d / 2³²), which keeps the size of samples near 0.
      return `let ln1 = select(flog1p(-(f32(0xffffffffu - w.x) / 4294967296.0)),
  flog(f32(w.x + 1u) / 4294967296.0), w.x < 0x80000000u);
let r = sqrt(-2.0 * ln1);
out0[i] = r * fcos(6.283185307179586 * (f32(w.y) / 4294967296.0));`;
  }
};

/**
 * The kernel drawing `p` for every key of `keys` (int32 `[...lead, 2]`), laid out
 * `[...lead, ...p.shape]`; undefined when this sampler stays on the CPU (float64, infinite bounds).
 * @example randomKernel(keys, { dist: "bits", shape: [4] })
 */
export const randomKernel = (keys: KernelInput, p: SampleParams): string | undefined => {
  const draw = sampleOf(p);
  if (draw === undefined) return undefined;
  const size = Math.max(1, sizeOf(p.shape));
  const count = sizeOf(keys.shape.slice(0, -1));
  const out = p.dist === "bits" ? "int32" : p.dist === "bernoulli" ? "bool" : "float32";
  const body = `let key = i / ${size}u;
let w = threefry(bitcast<u32>(${keys.name!}[2u * key]), bitcast<u32>(${keys.name!}[2u * key + 1u]), 0u, i % ${size}u);
${draw}`;
  return flatKernel(bindings([keys], [out]), count * sizeOf(p.shape), body, HELPERS + THREEFRY);
};
