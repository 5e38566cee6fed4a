/**
 * @file take / gather and their transposes addAt / addAlongAxis. The scatter-adds are written as
 * gathers: each output element loops over the indices in order and adds the values whose index
 * hits it, so no two threads write one element and no float atomics are needed (deterministic,
 * and in the CPU's order of accumulation). Negative indices count from the end; an index out of
 * range reads NaN (0 for int32) in take/gather and adds nothing in the scatters — the CPU throws
 * there, the device cannot (README: semantics).
 */
import type { Shape } from "@rewind/tensor";
import { bindings, flatKernel, literal, load, sizeOf, type KernelInput } from "./common.js";

/** The sizes before the axis (P), along it (n) and after it (Q) of a shape. */
export const around = (shape: Shape, axis: number): { p: number; n: number; q: number } => ({
  p: sizeOf(shape.slice(0, axis)),
  n: shape[axis]!,
  q: sizeOf(shape.slice(axis + 1)),
});

/** The index read from `idx` at `at`, made non-negative (still possibly out of range). */
const wrapped = (idx: KernelInput, at: string, n: number): string =>
  `let raw = ${load(idx, at)}; let j = select(raw, raw + ${n}, raw < 0);`;

const missing = (x: KernelInput): string =>
  x.dtype === "float32" ? "bitcast<f32>(0x7fc00000u | rt_zero)" : literal(0, x.dtype);

/**
 * take(x, idx, axis): `out[p, t, q] = x[p, idx[t], q]`.
 * @example takeKernel(x, idx, 0)
 */
export const takeKernel = (x: KernelInput, idx: KernelInput, axis: number): string => {
  const { p, n, q } = around(x.shape, axis);
  const t = sizeOf(idx.shape);
  const body = `let qq = i % ${q}u; let tt = (i / ${q}u) % ${t}u; let pp = i / ${q * t}u;
${wrapped(idx, "tt", n)}
if (j >= 0 && j < ${n}) { out0[i] = ${load(x, `(pp * ${n}u + u32(j)) * ${q}u + qq`)}; }
else { out0[i] = ${missing(x)}; }`;
  return flatKernel(bindings([x, idx], [x.dtype]), p * t * q, body);
};

/**
 * addAt(x, idx, values, axis): `out = x`, plus `values[p, t, q]` at `[p, idx[t], q]` for every t.
 * @example addAtKernel(x, idx, values, 0)
 */
export const addAtKernel = (x: KernelInput, idx: KernelInput, values: KernelInput, axis: number): string => {
  const { p, n, q } = around(x.shape, axis);
  const t = sizeOf(idx.shape);
  const body = `let qq = i % ${q}u; let jj = i32((i / ${q}u) % ${n}u); let pp = i / ${q * n}u;
var acc = ${load(x, "i")};
for (var tt = 0u; tt < ${t}u; tt = tt + 1u) {
${wrapped(idx, "tt", n)}
if (j == jj) { acc = acc + ${load(values, `(pp * ${t}u + tt) * ${q}u + qq`)}; }
}
out0[i] = acc;`;
  return flatKernel(bindings([x, idx, values], [x.dtype]), p * n * q, body);
};

/**
 * gather(x, idx, axis) (take along an axis): `out[p, t, q] = x[p, idx[p, t, q], q]`.
 * @example gatherKernel(x, idx, 1)
 */
export const gatherKernel = (x: KernelInput, idx: KernelInput, axis: number): string => {
  const { p, n, q } = around(x.shape, axis);
  const t = idx.shape[axis]!;
  const body = `let qq = i % ${q}u; let pp = i / ${q * t}u;
${wrapped(idx, "i", n)}
if (j >= 0 && j < ${n}) { out0[i] = ${load(x, `(pp * ${n}u + u32(j)) * ${q}u + qq`)}; }
else { out0[i] = ${missing(x)}; }`;
  return flatKernel(bindings([x, idx], [x.dtype]), p * t * q, body);
};

/**
 * addAlongAxis(x, idx, values, axis): `out = x`, plus `values[p, t, q]` at `[p, idx[p, t, q], q]`.
 * @example addAlongAxisKernel(x, idx, values, 1)
 */
export const addAlongAxisKernel = (x: KernelInput, idx: KernelInput, values: KernelInput, axis: number): string => {
  const { p, n, q } = around(x.shape, axis);
  const t = idx.shape[axis]!;
  const body = `let qq = i % ${q}u; let jj = i32((i / ${q}u) % ${n}u); let pp = i / ${q * n}u;
var acc = ${load(x, "i")};
for (var tt = 0u; tt < ${t}u; tt = tt + 1u) {
let at = (pp * ${t}u + tt) * ${q}u + qq;
${wrapped(idx, "at", n)}
if (j == jj) { acc = acc + ${load(values, "at")}; }
}
out0[i] = acc;`;
  return flatKernel(bindings([x, idx, values], [x.dtype]), p * n * q, body);
};
