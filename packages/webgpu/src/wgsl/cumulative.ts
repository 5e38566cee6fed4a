/**
 * @file The cumulative primitives and the linear recurrence along one axis: one thread per
 * column (an index of the axes before and after it) walks the axis in order — from its end with
 * `reverse` — keeping the running value in a register, as the CPU kernel keeps it per column. The
 * order of the operations is the CPU's; the CPU keeps its running float32 value in float64 and
 * rounds each output once, the device in float32 (the tolerance's n terms). int32 sums and
 * products wrap on both; max and min keep the dtype and a NaN sticks; bool counts as int32.
 */
import type { DType, Shape } from "@rewind/tensor";
import { bindings, flatKernel, load, sizeOf, wgslType, type KernelInput } from "./common.js";
import { HELPERS } from "./helpers.js";

/** The cumulative primitives lowered here. */
export type CumulativeKind = "cumsum" | "cumprod" | "cummax" | "cummin" | "logcumsumexp";

/** `[outer, n, inner]`: the sizes before, along and after `axis`. */
const layout = (shape: Shape, axis: number): [number, number, number] => [
  sizeOf(shape.slice(0, axis)),
  shape[axis]!,
  sizeOf(shape.slice(axis + 1)),
];

/** The loop over the axis of column `i`: `p` is the flat index of each position, in order. */
const walk = (shape: Shape, axis: number, reverse: boolean, body: string): { n: number; code: string } => {
  const [outer, n, inner] = layout(shape, axis);
  const at = reverse ? `(${n - 1}u - j)` : "j";
  return {
    n: outer * inner,
    code: `let base = (i / ${inner}u) * ${n * inner}u + i % ${inner}u;
for (var j = 0u; j < ${n}u; j = j + 1u) {
let p = base + ${at} * ${inner}u;
${body}
}`,
  };
};

/** Initial state and step (of `v`, writing `out0[p]`) of each cumulative kind. */
const stepOf = (kind: CumulativeKind, t: "f32" | "i32" | "u32"): { init: string; step: string } => {
  const f = t === "f32";
  switch (kind) {
    case "cumsum":
      return { init: `var acc: ${t} = ${f ? "0.0" : "0"};`, step: "acc = acc + v; out0[p] = acc;" };
    case "cumprod":
      return { init: `var acc: ${t} = ${f ? "1.0" : "1"};`, step: "acc = acc * v; out0[p] = acc;" };
    case "cummax":
    case "cummin": {
      const better = kind === "cummax" ? "v > acc" : "v < acc";
      // The first value starts the run; a NaN run is never replaced, and a NaN replaces any other.
      const replace = f ? `j == 0u || (!is_nan(acc) && (is_nan(v) || ${better}))` : `j == 0u || ${better}`;
      return { init: `var acc: ${t} = ${f ? "0.0" : "0"};`, step: `if (${replace}) { acc = v; } out0[p] = acc;` };
    }
    case "logcumsumexp":
      // log Σ exp streamed as on the CPU: the running max m and s = Σ exp(x − m); a new max rescales
      // s; an equal value adds exactly 1 (two ±Inf never compute Inf − Inf); NaN makes s NaN.
      return {
        init: "var m: f32 = bitcast<f32>(0xff800000u | rt_zero); var s: f32 = 0.0;",
        step: `if (is_nan(v)) { s = nan_f(); }
else if (v > m) { s = s * fexp(m - v) + 1.0; m = v; }
else if (v == m) { s = s + 1.0; }
else { s = s + fexp(v - m); }
out0[p] = m + flog(s);`,
      };
  }
};

/**
 * The kernel of `kind` along `axis` of `x` (its result of dtype `out`: int32 for a bool sum or
 * product).
 * @example cumulativeKernel("cumsum", x, 1, false, "float32")
 */
export const cumulativeKernel = (
  kind: CumulativeKind,
  x: KernelInput,
  axis: number,
  reverse: boolean,
  out: DType,
): string => {
  const t = wgslType(out);
  const { init, step } = stepOf(kind, t);
  const v = x.dtype === out ? load(x, "p") : `${t}(${load(x, "p")})`;
  const { n, code } = walk(x.shape, axis, reverse, `let v = ${v};\n${step}`);
  return flatKernel(bindings([x], [out]), n, `${init}\n${code}`, HELPERS);
};

/**
 * The kernel of h_t = a_t · h_{t−1} + b_t along `axis` (h before the start 0; from the end with
 * `reverse`).
 * @example linearScanKernel(a, b, 0, true)
 */
export const linearScanKernel = (a: KernelInput, b: KernelInput, axis: number, reverse: boolean): string => {
  const { n, code } = walk(a.shape, axis, reverse, `h = ${load(a, "p")} * h + ${load(b, "p")};\nout0[p] = h;`);
  return flatKernel(bindings([a, b], ["float32"]), n, `var h: f32 = 0.0;\n${code}`, HELPERS);
};
