/**
 * @file Batched, tiled matrix product: 16×16 output tiles, one workgroup each, staging 16×16
 * tiles of both operands in workgroup memory. Each operand may be stored transposed (`[k, m]`
 * instead of `[m, k]`, `[n, k]` instead of `[k, n]`), so the backward pass's `g bᵀ` and `aᵀ g`
 * read their operand in place instead of materialising the transpose first. Each output sums
 * over k in ascending order.
 */
import type { DType } from "@rewind/tensor";
import { bindings, wgslType, type KernelInput, opaqueZero } from "./common.js";

/** The tile edge. */
export const TILE = 16;

/** A matmul's sizes and layouts. */
export interface MatmulShape {
  /** Number of matrices (the product of the batch axes). */
  readonly batch: number;
  /** Rows of the output. */
  readonly m: number;
  /** The contracted extent. */
  readonly k: number;
  /** Columns of the output. */
  readonly n: number;
  /** `a` is stored `[batch, k, m]`. */
  readonly aT: boolean;
  /** `b` is stored `[batch, n, k]`. */
  readonly bT: boolean;
}

/**
 * The kernel `out[b] = a[b] @ b[b]` for operands stored as `s` says.
 * @example matmulKernel(a, b, { batch: 1, m: 2, k: 3, n: 4, aT: false, bT: true }, "float32")
 */
export const matmulKernel = (a: KernelInput, b: KernelInput, s: MatmulShape, dtype: DType): string => {
  const t = wgslType(dtype);
  const zero = t === "f32" ? "0.0" : "0";
  const { m, k, n } = s;
  const aAt = s.aT ? `${k * m}u * bt + kk * ${m}u + row` : `${m * k}u * bt + row * ${k}u + kk`;
  const bAt = s.bT ? `${n * k}u * bt + col * ${k}u + kk` : `${k * n}u * bt + kk * ${n}u + col`;
  return `${bindings([a, b], [dtype])}
var<workgroup> ta: array<${t}, ${TILE * TILE}>;
var<workgroup> tb: array<${t}, ${TILE * TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${opaqueZero("wg")}
  let bt = wg.z;
  var acc: ${t} = ${zero};
  for (var t0 = 0u; t0 < ${k}u; t0 = t0 + ${TILE}u) {
    {
      let row = wg.y * ${TILE}u + lid.y;
      let kk = t0 + lid.x;
      var v: ${t} = ${zero};
      if (row < ${m}u && kk < ${k}u) { v = ${a.name!}[${aAt}]; }
      ta[lid.y * ${TILE}u + lid.x] = v;
    }
    {
      let col = wg.x * ${TILE}u + lid.x;
      let kk = t0 + lid.y;
      var v: ${t} = ${zero};
      if (kk < ${k}u && col < ${n}u) { v = ${b.name!}[${bAt}]; }
      tb[lid.y * ${TILE}u + lid.x] = v;
    }
    workgroupBarrier();
    let top = min(${TILE}u, ${k}u - t0);
    for (var j = 0u; j < top; j = j + 1u) {
      acc = acc + ta[lid.y * ${TILE}u + j] * tb[j * ${TILE}u + lid.x];
    }
    workgroupBarrier();
  }
  let row = wg.y * ${TILE}u + lid.y;
  let col = wg.x * ${TILE}u + lid.x;
  if (row < ${m}u && col < ${n}u) { out0[${m * n}u * bt + row * ${n}u + col] = acc; }
}
`;
};

/** The grid of a matmul: one workgroup per output tile of every matrix. */
export const matmulGrid = (s: MatmulShape): [number, number, number] => [
  Math.max(1, Math.ceil(s.n / TILE)),
  Math.max(1, Math.ceil(s.m / TILE)),
  Math.max(1, s.batch),
];
