/**
 * @file scan on the device: the body is compiled on its own and run once per iteration inside the
 * same submission (run.ts), with the carry resident; a scan in the body (nested) runs the same way
 * inside each iteration. A body that needs the CPU somewhere (a key split or fold) or returns a
 * literal makes the whole scan run on the CPU.
 */
import type { ScanParams } from "@rewind/autodiff";
import type { DType } from "@rewind/tensor";
import { isSlot, type Operand } from "../program.js";
import type { LowerContext, Lowering } from "../types.js";
import { opaqueZero, wgslType } from "../wgsl/common.js";

/** A literal operand written into a buffer (a scan binds buffers only). */
const materialize = (ctx: LowerContext, x: Operand): number => {
  if (isSlot(x)) return x.slot;
  const out = ctx.fresh(x.aval);
  ctx.launch([x], [out], ([xi]) => `${fill(xi!.lit!, xi!.dtype)}`);
  return out.slot!;
};

/** A one-element kernel writing a literal (the scalar operand of a scan). */
const fill = (lit: string, dtype: DType): string =>
  `var<private> rt_zero: u32 = 0u;
@group(0) @binding(0) var<storage, read_write> out0: array<${wgslType(dtype)}>;
@compute @workgroup_size(1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) { ${opaqueZero("gid")} out0[0] = ${lit}; }
`;

/** The scan's lowering. */
export const scanLowering: Lowering<ScanParams> = (ctx, p) => {
  const body = ctx.compileBody(p.body);
  if (body.steps.some((s) => s.kind === "cpu") || !body.outputs.every(isSlot)) return "cpu";
  const ins = ctx.ins.map((x) => materialize(ctx, x));
  const outs = ctx.outAvals.map(ctx.fresh);
  ctx.push({
    kind: "scan",
    body,
    length: p.length,
    reverse: p.reverse,
    numConsts: p.numConsts,
    numCarry: p.numCarry,
    ins,
    outs: outs.map((o) => o.slot!),
  });
  return outs;
};
