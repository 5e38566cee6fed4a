/**
 * @file WGSL helper functions for the elementwise kernels, where WGSL's built-ins differ from
 * Rewind's CPU semantics: NaN tests on the bits (a compiler may fold `x != x`), NaN-propagating
 * max/min, `pow` of negative bases, Kahan's expm1 and log1p, a stable logistic and softplus,
 * float → int32 conversion that wraps like JavaScript's ToInt32, and integer powers.
 */

/** The helpers' source, prepended to every elementwise kernel (unused functions cost nothing). */
export const HELPERS = `

fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
fn nan_f() -> f32 { return bitcast<f32>(0x7fc00000u | rt_zero); }
fn inf_f() -> f32 { return bitcast<f32>(0x7f800000u | rt_zero); }
fn fexp(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72284) { return inf_f(); }
  if (x < -104.0) { return 0.0; }
  return exp(x);
}
fn flog(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan_f(); }
  if (x == 0.0) { return -inf_f(); }
  if (!is_finite(x)) { return x; }
  return log(x);
}
fn fsqrt(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan_f(); }
  if (!is_finite(x) || x == 0.0) { return x; }
  return sqrt(x);
}
// sin and cos: WGSL only bounds the built-ins' error absolutely (2^-11 on [-pi, pi]; SwiftShader's
// cos is 1e-5 off near 0), so they are computed here: Cody-Waite reduction by pi/2 in three parts,
// then Cephes' single-precision polynomials on [-pi/4, pi/4] (accurate to a few ulp for |x| < 1e4).
fn sin_poly(r: f32) -> f32 {
  let z = r * r;
  return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
}
fn cos_poly(r: f32) -> f32 {
  let z = r * r;
  return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
}
fn reduce_pio2(x: f32) -> vec2<f32> {
  let k = round(x * 0.63661977236758134);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  return vec2<f32>(r, k);
}
fn fsin(x: f32) -> f32 {
  if (!is_finite(x)) { return nan_f(); }
  let rk = reduce_pio2(x);
  let q = i32(rk.y) & 3;
  let v = select(sin_poly(rk.x), cos_poly(rk.x), (q & 1) == 1);
  return select(v, -v, q >= 2);
}
fn fcos(x: f32) -> f32 {
  if (!is_finite(x)) { return nan_f(); }
  let rk = reduce_pio2(x);
  let q = i32(rk.y) & 3;
  let v = select(cos_poly(rk.x), sin_poly(rk.x), (q & 1) == 1);
  return select(v, -v, q == 1 || q == 2);
}
fn fmax(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan_f(); } return select(b, a, a > b); }
fn fmin(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan_f(); } return select(b, a, a < b); }
fn fsign(x: f32) -> f32 { if (is_nan(x)) { return x; } return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }
fn fpow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f(); }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) { r = select(inf_f(), 0.0, b > 0.0); }
  else if (!is_finite(m)) { r = select(0.0, inf_f(), b > 0.0); }
  else { r = exp2(b * log2(m)); }
  if (a < 0.0 || (a == 0.0 && (bitcast<u32>(a) & 0x80000000u) != 0u)) {
    if (abs(b) < 16777216.0 && trunc(b) != b) { return nan_f(); }
    let odd = abs(b) < 16777216.0 && trunc(b * 0.5) != b * 0.5;
    return select(r, -r, odd);
  }
  return r;
}
fn fexpm1(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let u = fexp(x);
  let um1 = u - 1.0;
  if (um1 == 0.0) { return x; }
  if (um1 == -1.0) { return -1.0; }
  // Kahan's correction matters only near 0; elsewhere u − 1 loses nothing (and um1·x could overflow).
  if (!is_finite(u) || abs(x) > 0.5) { return um1; }
  return um1 * x / flog(u);
}
fn flog1p(y: f32) -> f32 {
  if (is_nan(y) || y < -1.0) { return nan_f(); }
  let u = 1.0 + y;
  let um1 = u - 1.0;
  if (um1 == 0.0) { return y; }
  if (!is_finite(u) || u == 0.0) { return flog(u); }
  return log(u) * y / um1;
}
fn flogistic(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x >= 0.0) { return 1.0 / (1.0 + fexp(-x)); }
  let e = fexp(x);
  return e / (1.0 + e);
}
fn fsoftplus(x: f32) -> f32 { if (is_nan(x)) { return x; } return max(x, 0.0) + flog1p(fexp(-abs(x))); }
fn ftanh(x: f32) -> f32 { if (is_nan(x)) { return x; } return tanh(clamp(x, -10.0, 10.0)); }
fn to_i32(x: f32) -> i32 {
  if (!is_finite(x)) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let bits = bitcast<u32>(t);
  let e = i32((bits >> 23u) & 0xffu) - 127;
  let shift = e - 23;
  if (shift >= 32) { return 0; }
  let m = ((bits & 0x7fffffu) | 0x800000u) << u32(shift);
  return select(bitcast<i32>(m), -bitcast<i32>(m), (bits & 0x80000000u) != 0u);
}
fn ipow(a: i32, b: i32) -> i32 {
  if (b < 0) { if (a == 1) { return 1; } if (a == -1) { return select(1, -1, (b & 1) != 0); } return 0; }
  var r = 1; var base = a; var e = b;
  loop { if (e == 0) { break; } if ((e & 1) != 0) { r = r * base; } base = base * base; e = e >> 1; }
  return r;
}
`;
