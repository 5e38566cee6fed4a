/**
 * @file Movement kernels: every output element reads one input element (or a fill value) at an
 * offset that is affine in the output's coordinates. broadcastTo, transpose, slice, flip, pad and
 * unslice are all this one kernel with different per-axis maps; concat writes each operand into
 * its band of the output. Exact: nothing is computed, only copied.
 */
import type { Shape } from "@rewind/tensor";
import { bindings, coords, flatKernel, literal, load, sizeOf, stridesOf, type KernelInput } from "./common.js";

/**
 * How output axis k reads the input: input position `start + step·c` along the input axis `axis`
 * (c the output coordinate), or, with `every`, only output coordinates `c ≡ start (mod every)`
 * with `(c − start)/every` in [0, size), read at that quotient (unslice); positions outside
 * [0, extent) read the fill value (pad). `axis` undefined: the output axis reads no input axis
 * (broadcast).
 */
export interface AxisMap {
  /** The input axis read (undefined for a broadcast axis). */
  readonly axis?: number;
  /** Input position of output coordinate 0. */
  readonly start: number;
  /** Input positions per output step (negative flips). */
  readonly step: number;
  /** For unslice: output coordinates per input step (the window's step). */
  readonly every?: number;
}

/**
 * The kernel `out[c] = x[map(c)]`, `fill` where the map leaves the input.
 * @example strided(x, [{ axis: 1, start: 0, step: 1 }, { axis: 0, start: 0, step: 1 }], [3, 2], 0) // a transpose
 */
export const strided = (x: KernelInput, maps: readonly AxisMap[], outShape: Shape, fill: number): string => {
  const n = sizeOf(outShape);
  const st = stridesOf(x.shape);
  const lines = [coords(outShape, "i"), "var off = 0; var ok = true;"];
  maps.forEach((m, k) => {
    if (m.axis === undefined) return;
    const extent = x.shape[m.axis]!;
    let pos: string;
    if (m.every !== undefined) {
      lines.push(`let d${k} = c${k} - (${m.start}); ok = ok && d${k} >= 0 && d${k} % ${m.every} == 0;`);
      pos = `d${k} / ${m.every}`;
    } else pos = `(${m.start}) + (${m.step}) * c${k}`;
    lines.push(`let p${k} = ${pos}; ok = ok && p${k} >= 0 && p${k} < ${extent};`);
    lines.push(`off = off + p${k} * ${st[m.axis]};`);
  });
  lines.push(
    x.lit !== undefined
      ? `out0[i] = ${x.lit};`
      : `if (ok) { out0[i] = ${load(x, "u32(off)")}; } else { out0[i] = ${literal(fill, x.dtype)}; }`,
  );
  return flatKernel(bindings(x.lit === undefined ? [x] : [], [x.dtype]), n, lines.join("\n"));
};

/** broadcastTo: input axes aligned to the right; size-1 axes repeat. */
export const broadcastMaps = (inShape: Shape, outShape: Shape): AxisMap[] => {
  const lead = outShape.length - inShape.length;
  return outShape.map((_, k) =>
    k < lead || inShape[k - lead] === 1 ? { start: 0, step: 0 } : { axis: k - lead, start: 0, step: 1 },
  );
};

/** transpose: output axis k is input axis perm[k]. */
export const transposeMaps = (perm: readonly number[]): AxisMap[] => perm.map((p) => ({ axis: p, start: 0, step: 1 }));

/** slice: output axis k reads start + step·c of input axis k. */
export const sliceMaps = (start: readonly number[], step: readonly number[]): AxisMap[] =>
  start.map((s, k) => ({ axis: k, start: s, step: step[k]! }));

/** flip: the listed axes read backwards. */
export const flipMaps = (shape: Shape, axes: readonly number[]): AxisMap[] =>
  shape.map((d, k) => (axes.includes(k) ? { axis: k, start: d - 1, step: -1 } : { axis: k, start: 0, step: 1 }));

/** pad: output coordinate c reads input c − before (the fill value outside). */
export const padMaps = (widths: ReadonlyArray<readonly [number, number]>): AxisMap[] =>
  widths.map(([before], k) => ({ axis: k, start: -before, step: 1 }));

/** unslice: output coordinate c reads window position (c − start)/step where that is whole. */
export const unsliceMaps = (start: readonly number[], step: readonly number[]): AxisMap[] =>
  start.map((s, k) => ({ axis: k, start: s, step: 1, every: step[k]! }));

/**
 * concat, one operand at a time: its elements go to the band of the output starting at `offset`
 * along `axis` (the kernel writes only that band; the others' kernels write the rest).
 * @example concatPart(x, 1, 2, [2, 5]) // x of shape [2, 3] into columns 2..4
 */
export const concatPart = (x: KernelInput, axis: number, offset: number, outShape: Shape): string => {
  const n = sizeOf(x.shape);
  const st = stridesOf(outShape);
  const terms = x.shape.map((_, k) => `${k === axis ? `(c${k} + ${offset})` : `c${k}`} * ${st[k]}`);
  const body = `${coords(x.shape, "i")}\nout0[u32(${terms.join(" + ") || "0"})] = ${load(x, "i")};`;
  return flatKernel(bindings(x.lit === undefined ? [x] : [], [x.dtype]), n, body);
};
