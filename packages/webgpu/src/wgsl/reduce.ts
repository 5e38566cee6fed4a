/**
 * @file Reductions: one thread per output element loops over the reduced positions in row-major
 * order (no atomics, so the result is the same on every run). sum, prod, max and min over a set
 * of axes; argmax and argmin over one axis, first position winning ties and NaN winning as on the
 * CPU.
 */
import type { DType, Shape } from "@rewind/tensor";
import { bindings, coords, flatKernel, load, sizeOf, stridesOf, wgslType, type KernelInput } from "./common.js";
import { HELPERS } from "./helpers.js";

/** The reductions over axes. */
export type ReduceKind = "sum" | "prod" | "max" | "min";

/** Start value and combining statement (of `acc` and `v`) of each reduction, per storage type. */
const combine = (kind: ReduceKind, dtype: DType): { init: string; step: string } => {
  const f = dtype === "float32";
  switch (kind) {
    case "sum":
      return { init: f ? "0.0" : "0", step: "acc = acc + v;" };
    case "prod":
      return { init: f ? "1.0" : "1", step: "acc = acc * v;" };
    case "max":
      return f
        ? { init: "bitcast<f32>(0xff800000u | rt_zero)", step: "acc = fmax(acc, v);" }
        : { init: "(-2147483647 - 1)", step: "acc = max(acc, v);" };
    case "min":
      return f
        ? { init: "bitcast<f32>(0x7f800000u | rt_zero)", step: "acc = fmin(acc, v);" }
        : { init: "2147483647", step: "acc = min(acc, v);" };
  }
};

/** The input offset of the kept coordinates `c*` and reduced coordinates `q*`. */
const offsets = (shape: Shape, axes: readonly number[]): string => {
  const st = stridesOf(shape);
  let kept = 0;
  let red = 0;
  const terms = shape.map((_, k) => (axes.includes(k) ? `u32(q${red++}) * ${st[k]}u` : `u32(c${kept++}) * ${st[k]}u`));
  return terms.join(" + ") || "0u";
};

/** Reduced positions per partial result when a long reduction is split in two passes. */
export const CHUNK = 256;

/**
 * The number of partial results per output when reducing `length` positions for `outputs`
 * outputs: 1 (one pass) unless the reduction is long and the outputs too few to fill the GPU.
 * @example partials(81920, 1) // 320
 */
export const partials = (length: number, outputs: number): number =>
  length > 4 * CHUNK && outputs < 4096 ? Math.ceil(length / CHUNK) : 1;

/**
 * The kernel reducing `x` over `axes` (sorted) with `kind`. With `parts` > 1 it writes `parts`
 * partial results per output (`[outputs, parts]`, each over `CHUNK` consecutive reduced
 * positions), which a second `reduceKernel` over the last axis combines: the order is fixed, so
 * the result is the same on every run.
 * @example reduceKernel("sum", x, [1])
 */
export const reduceKernel = (kind: ReduceKind, x: KernelInput, axes: readonly number[], parts = 1): string => {
  const outShape = x.shape.filter((_, k) => !axes.includes(k));
  const redShape = x.shape.filter((_, k) => axes.includes(k));
  const length = sizeOf(redShape);
  const { init, step } = combine(kind, x.dtype);
  const range =
    parts === 1
      ? `let o = i; let j0 = 0u; let j1 = ${length}u;`
      : `let o = i / ${parts}u; let j0 = (i % ${parts}u) * ${CHUNK}u; let j1 = min(j0 + ${CHUNK}u, ${length}u);`;
  const body = `${range}
${coords(outShape, "o")}
var acc: ${wgslType(x.dtype)} = ${init};
for (var j = j0; j < j1; j = j + 1u) {
${coords(redShape, "j", "q")}
let v = ${load(x, offsets(x.shape, axes))};
${step}
}
out0[i] = acc;`;
  return flatKernel(bindings([x], [x.dtype]), sizeOf(outShape) * parts, body, HELPERS);
};

/**
 * The kernel of argmax (`max` true) or argmin over `axis`: the first position of the extreme, or
 * of the first NaN.
 * @example argKernel(true, x, 0)
 */
export const argKernel = (max: boolean, x: KernelInput, axis: number): string => {
  const outShape = x.shape.filter((_, k) => k !== axis);
  const n = x.shape[axis]!;
  const better = max ? "v > best" : "v < best";
  const nan = x.dtype === "float32" ? "if (is_nan(v)) { idx = j; break; }" : "";
  const body = `${coords(outShape, "i")}
var best = ${load(x, offsets(x.shape, [axis]).replace("u32(q0)", "0u"))};
var idx = 0u;
for (var j = 0u; j < ${n}u; j = j + 1u) {
let q0 = j;
let v = ${load(x, offsets(x.shape, [axis]))};
${nan}
if (j == 0u || ${better}) { best = v; idx = j; }
}
out0[i] = i32(idx);`;
  return flatKernel(bindings([x], ["int32"]), sizeOf(outShape), body, HELPERS);
};
