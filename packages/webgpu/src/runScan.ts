/**
 * @file Running a scan step on the device, all iterations in the current submission: x_t is copied
 * out of the stacked xs, the body's kernels run, y_t is copied into the stacked ys, and the carry
 * stays in the body's output buffers for the next iteration. Two sets of body buffers alternate,
 * so an iteration never writes a buffer its carry-in still lives in. A scan inside the body runs
 * the same way within each iteration, on that iteration's buffers.
 */
import type { GpuBuffer } from "./gpuTypes.js";
import { copy, dispatch, endPass, type Encoding } from "./encode.js";
import type { KernelStep, ScanStep } from "./program.js";
import { DEVICE_BYTES, sizeOf } from "./wgsl/common.js";

/**
 * Records the scan `step`; `get` resolves the outer program's slots, `temp` makes a buffer of `n`
 * elements that lives until the outer call ends.
 * @example runScan(enc, step, get, temp)
 */
export const runScan = (
  enc: Encoding,
  step: ScanStep,
  get: (slot: number) => GpuBuffer,
  temp: (n: number) => GpuBuffer,
): void => {
  const { body, length, numConsts: nc, numCarry: nk } = step;
  const elements = (slot: number): number => sizeOf(body.slots[slot]!.shape);
  const ins = step.ins.map(get);
  const consts = ins.slice(0, nc);
  let carry = ins.slice(nc, nc + nk);
  const xs = ins.slice(nc + nk);
  const xSlots = body.inputs.slice(nc + nk);
  const xBufs = xSlots.map((s) => temp(elements(s)));
  const ys = step.outs.slice(nk).map(get);
  const sets = [new Map<number, GpuBuffer>(), new Map<number, GpuBuffer>()];
  const held = [new Map<number, GpuBuffer>(), new Map<number, GpuBuffer>()];
  for (let i = 0; i < length; i++) {
    const t = step.reverse ? length - 1 - i : i;
    xs.forEach((x, j) => {
      const bytes = elements(xSlots[j]!) * DEVICE_BYTES;
      copy(enc, x, t * bytes, xBufs[j]!, 0, bytes);
    });
    const set = sets[i % 2]!;
    const bound = new Map<number, GpuBuffer>();
    body.inputs.forEach((slot, k) =>
      bound.set(slot, k < nc ? consts[k]! : k < nc + nk ? carry[k - nc]! : xBufs[k - nc - nk]!),
    );
    const buffer = (slot: number): GpuBuffer => {
      let b = bound.get(slot) ?? set.get(slot);
      if (b === undefined) {
        b = temp(elements(slot));
        set.set(slot, b);
      }
      return b;
    };
    for (const s of body.steps)
      if (s.kind === "scan") runScan(enc, s, buffer, temp);
      else dispatch(enc, s as KernelStep, buffer);
    endPass(enc);
    body.outputs.slice(nk).forEach((o, j) => {
      const bytes = sizeOf(o.aval.shape) * DEVICE_BYTES;
      copy(enc, buffer(o.slot!), 0, ys[j]!, t * bytes, bytes);
    });
    carry = body.outputs.slice(0, nk).map((o, j) => {
      const b = buffer(o.slot!);
      if (!xBufs.includes(b)) return b;
      // A carry that is this iteration's x_t: the next copy into x_t would overwrite it first.
      const keep = held[i % 2]!;
      let h = keep.get(j);
      if (h === undefined) keep.set(j, (h = temp(sizeOf(o.aval.shape))));
      copy(enc, b, 0, h, 0, sizeOf(o.aval.shape) * DEVICE_BYTES);
      return h;
    });
  }
  carry.forEach((c, j) =>
    copy(enc, c, 0, get(step.outs[j]!), 0, sizeOf(body.slots[body.inputs[nc + j]!]!.shape) * DEVICE_BYTES),
  );
};
