/**
 * @file randomSample on the device (wgsl/random.ts): keys are small host values (the host lane),
 * uploaded where the kernel reads them; the samples are drawn where they are used, not uploaded.
 * Key splitting and folding stay on the CPU: they make keys, which live on the host.
 */
import type { SampleParams } from "@rewind/autodiff";
import { isSlot } from "../program.js";
import type { Lowering } from "../types.js";
import { randomKernel } from "../wgsl/random.js";

/** randomSample's lowering: a kernel, or the CPU for float64 and infinite bounds. */
export const randomSampleLowering: Lowering<SampleParams> = (ctx, p) => {
  const keys = ctx.ins[0]!;
  if (!isSlot(keys) || randomKernel({ name: "in0", dtype: "int32", shape: keys.aval.shape }, p) === undefined)
    return "cpu";
  const out = ctx.fresh(ctx.outAvals[0]!);
  ctx.launch([keys], [out], ([k]) => randomKernel(k!, p)!);
  return [out];
};
