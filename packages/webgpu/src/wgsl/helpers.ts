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
fn fmax(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return bitcast<f32>(0x7fc00000u | rt_zero); } return select(b, a, a > b); }
fn fmin(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return bitcast<f32>(0x7fc00000u | rt_zero); } return select(b, a, a < b); }
fn fsign(x: f32) -> f32 { if (is_nan(x)) { return x; } return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }
fn fpow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return bitcast<f32>(0x7fc00000u | rt_zero); }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) { r = select(bitcast<f32>(0x7f800000u | rt_zero), 0.0, b > 0.0); }
  else { r = exp2(b * log2(m)); }
  if (a < 0.0 || (a == 0.0 && (bitcast<u32>(a) & 0x80000000u) != 0u)) {
    if (abs(b) < 16777216.0 && trunc(b) != b) { return bitcast<f32>(0x7fc00000u | rt_zero); }
    let odd = abs(b) < 16777216.0 && trunc(b * 0.5) != b * 0.5;
    return select(r, -r, odd);
  }
  return r;
}
fn fexpm1(x: f32) -> f32 {
  let u = exp(x);
  let um1 = u - 1.0;
  if (um1 == 0.0) { return x; }
  if (um1 == -1.0) { return -1.0; }
  if (!is_finite(u)) { return u; }
  return um1 * x / log(u);
}
fn flog1p(y: f32) -> f32 {
  let u = 1.0 + y;
  let um1 = u - 1.0;
  if (um1 == 0.0) { return y; }
  if (!is_finite(u)) { return log(u); }
  return log(u) * y / um1;
}
fn flogistic(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn fsoftplus(x: f32) -> f32 { if (is_nan(x)) { return x; } return max(x, 0.0) + flog1p(exp(-abs(x))); }
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
