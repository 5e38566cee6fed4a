/**
 * @file Lowerings of the movement primitives (exact copies through wgsl/movement.ts; reshape and
 * stopGradient reuse their input's buffer), the reductions, matmul (folding a transpose of the last
 * two axes into the operand's layout) and the indexing primitives.
 */
import type { Aval, PermParams, ShapeParams } from "@rewind/autodiff";
import type { Operand } from "../program.js";
import type { LowerContext, Lowering, PartialTable } from "../types.js";
import { sizeOf } from "../wgsl/common.js";
import { addAlongAxisKernel, addAtKernel, gatherKernel, takeKernel } from "../wgsl/indexing.js";
import { matmulGrid, matmulKernel } from "../wgsl/matmul.js";
import {
  broadcastMaps,
  concatPart,
  flipMaps,
  padMaps,
  sliceMaps,
  strided,
  transposeMaps,
  unsliceMaps,
  type AxisMap,
} from "../wgsl/movement.js";
import { argKernel, partials, reduceKernel, type ReduceKind } from "../wgsl/reduce.js";

/** A movement kernel with the given per-axis maps and fill value. */
const move = (ctx: LowerContext, maps: readonly AxisMap[], fill = 0): readonly Operand[] => {
  const out = ctx.fresh(ctx.outAvals[0]!);
  ctx.launch([ctx.ins[0]!], [out], ([x]) => strided(x!, maps, ctx.outAvals[0]!.shape, fill));
  return [out];
};

/** The same buffer seen with another aval (a reshape of row-major data moves nothing); a literal is filled in. */
const alias = (ctx: LowerContext): readonly Operand[] => {
  const x = ctx.ins[0]!;
  if (x.slot !== undefined) return [{ slot: x.slot, aval: ctx.outAvals[0]! }];
  return move(
    ctx,
    ctx.outAvals[0]!.shape.map(() => ({ start: 0, step: 0 })),
  );
};

const reduce =
  (kind: ReduceKind): Lowering<{ readonly axes: readonly number[] }> =>
  (ctx, { axes }) => {
    const x = ctx.ins[0]!;
    if (x.aval.dtype === "bool") return "cpu";
    const out = ctx.fresh(ctx.outAvals[0]!);
    const outputs = sizeOf(out.aval.shape);
    const parts = partials(sizeOf(x.aval.shape) / Math.max(1, outputs), outputs);
    if (parts === 1) {
      ctx.launch([x], [out], ([xi]) => reduceKernel(kind, xi!, axes));
      return [out];
    }
    // A long reduction into few outputs: partial results first, so that more than one thread works.
    const part = ctx.fresh({ shape: [outputs, parts], dtype: x.aval.dtype });
    ctx.launch([x], [part], ([xi]) => reduceKernel(kind, xi!, axes, parts));
    ctx.launch([part], [out], ([pi]) => reduceKernel(kind, pi!, [1]));
    return [out];
  };

const arg =
  (max: boolean): Lowering<{ readonly axis: number }> =>
  (ctx, { axis }) => {
    const x = ctx.ins[0]!;
    if (x.aval.dtype === "bool") return "cpu";
    const out = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch([x], [out], ([xi]) => argKernel(max, xi!, axis));
    return [out];
  };

/** True when `perm` swaps the last two axes and keeps the others. */
const swapsLast = (perm: readonly number[]): boolean => {
  const r = perm.length;
  return r >= 2 && perm[r - 1] === r - 2 && perm[r - 2] === r - 1 && perm.slice(0, r - 2).every((p, i) => p === i);
};

/** An operand that is a last-two-axes transpose of a buffer: that buffer, marked transposed. */
const layout = (ctx: LowerContext, x: Operand): { readonly x: Operand; readonly t: boolean } => {
  const made = ctx.producer(x);
  if (made?.eqn.prim.name !== "transpose" || !swapsLast((made.eqn.params as PermParams).perm)) return { x, t: false };
  const src = made.ins[0]!;
  const sameShape = (a: Aval, b: Aval) =>
    a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  return sameShape(made.eqn.outputs[0]!.aval, x.aval) && src.slot !== undefined ? { x: src, t: true } : { x, t: false };
};

/** The structural primitives' lowerings. */
export const structureLowerings: PartialTable<
  | "broadcastTo"
  | "reshape"
  | "transpose"
  | "slice"
  | "unslice"
  | "flip"
  | "pad"
  | "concat"
  | "stopGradient"
  | "sum"
  | "reduceMax"
  | "reduceMin"
  | "prod"
  | "argmax"
  | "argmin"
  | "matmul"
  | "take"
  | "addAt"
  | "gather"
  | "addAlongAxis"
> = {
  // A broadcast scalar (a literal, mostly) is fused into its consumer as the value itself.
  broadcastTo: Object.assign(
    (ctx: LowerContext, { shape }: ShapeParams) => move(ctx, broadcastMaps(ctx.ins[0]!.aval.shape, shape)),
    { fuse: ([x]: readonly string[]) => x!, when: ([a]: readonly Aval[]) => sizeOf(a!.shape) === 1 },
  ),
  reshape: alias,
  stopGradient: alias,
  transpose: (ctx, { perm }) => move(ctx, transposeMaps(perm)),
  slice: (ctx, { start, step }) => move(ctx, sliceMaps(start, step)),
  unslice: (ctx, { start, step }) => move(ctx, unsliceMaps(start, step)),
  flip: (ctx, { axes }) => move(ctx, flipMaps(ctx.ins[0]!.aval.shape, axes)),
  pad: (ctx, { widths, value }) => move(ctx, padMaps(widths), value),
  concat: (ctx, { axis }) => {
    const out = ctx.fresh(ctx.outAvals[0]!);
    let offset = 0;
    for (const x of ctx.ins) {
      const at = offset;
      ctx.launch([x], [out], ([xi]) => concatPart(xi!, axis, at, ctx.outAvals[0]!.shape), undefined);
      offset += x.aval.shape[axis]!;
    }
    return [out];
  },
  sum: reduce("sum"),
  reduceMax: reduce("max"),
  reduceMin: reduce("min"),
  prod: reduce("prod"),
  argmax: arg(true),
  argmin: arg(false),
  matmul: (ctx) => {
    const [a0, b0] = ctx.ins as [Operand, Operand];
    if (a0.aval.dtype === "bool") return "cpu";
    const a = layout(ctx, a0);
    const b = layout(ctx, b0);
    const r = a0.aval.shape.length;
    const s = {
      batch: sizeOf(a0.aval.shape.slice(0, r - 2)),
      m: a0.aval.shape[r - 2]!,
      k: a0.aval.shape[r - 1]!,
      n: b0.aval.shape[r - 1]!,
      aT: a.t,
      bT: b.t,
    };
    const out = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch([a.x, b.x], [out], ([ai, bi]) => matmulKernel(ai!, bi!, s, a0.aval.dtype), matmulGrid(s));
    return [out];
  },
  take: (ctx, { axis }) => {
    const out = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch(ctx.ins, [out], ([x, i]) => takeKernel(x!, i!, axis));
    return [out];
  },
  addAt: (ctx, { axis }) => {
    if (ctx.ins[0]!.aval.dtype === "bool") return "cpu";
    const out = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch(ctx.ins, [out], ([x, i, v]) => addAtKernel(x!, i!, v!, axis));
    return [out];
  },
  gather: (ctx, { axis }) => {
    const [x, i] = ctx.ins as [Operand, Operand];
    // take_along_axis with indices broadcast over the other axes: the CPU's kernel handles it.
    if (
      !x.aval.shape.every((d, k) => k === axis || d === i.aval.shape[k]) ||
      x.aval.shape.length !== i.aval.shape.length
    )
      return "cpu";
    const out = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch(ctx.ins, [out], ([xi, ii]) => gatherKernel(xi!, ii!, axis));
    return [out];
  },
  addAlongAxis: (ctx, { axis }) => {
    if (ctx.ins[0]!.aval.dtype === "bool") return "cpu";
    const out = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch(ctx.ins, [out], ([x, i, v]) => addAlongAxisKernel(x!, i!, v!, axis));
    return [out];
  },
};
