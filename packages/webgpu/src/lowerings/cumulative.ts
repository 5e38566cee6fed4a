/**
 * @file Lowerings of the cumulative primitives and the linear recurrence (wgsl/cumulative.ts): one
 * thread per column runs down the axis. The VJPs of cumprod, cummax/cummin and logcumsumexp are
 * made of linearScan, flips and elementwise ops, so their gradients stay on the device too.
 */
import type { CumulativeParams } from "@rewind/autodiff";
import type { Operand } from "../program.js";
import type { Lowering, PartialTable } from "../types.js";
import { cumulativeKernel, linearScanKernel, type CumulativeKind } from "../wgsl/cumulative.js";

/** The lowering of one cumulative kind. */
const cumulative =
  (kind: CumulativeKind): Lowering<CumulativeParams> =>
  (ctx, { axis, reverse }) => {
    const out = ctx.fresh(ctx.outAvals[0]!);
    const dtype = ctx.outAvals[0]!.dtype;
    ctx.launch([ctx.ins[0]!], [out], ([x]) => cumulativeKernel(kind, x!, axis, reverse, dtype));
    return [out];
  };

/** The cumulative primitives' lowerings. */
export const cumulativeLowerings: PartialTable<
  "cumsum" | "cumprod" | "cummax" | "cummin" | "logcumsumexp" | "linearScan"
> = {
  cumsum: cumulative("cumsum"),
  cumprod: cumulative("cumprod"),
  cummax: cumulative("cummax"),
  cummin: cumulative("cummin"),
  logcumsumexp: cumulative("logcumsumexp"),
  linearScan: (ctx, { axis, reverse }) => {
    const out: Operand = ctx.fresh(ctx.outAvals[0]!);
    ctx.launch(ctx.ins, [out], ([a, b]) => linearScanKernel(a!, b!, axis, reverse));
    return [out];
  },
};
