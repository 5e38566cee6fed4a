/**
 * @file Running a `Program`: kernels are recorded into one compute pass and submitted together.
 * A CPU step runs the primitive's impl on host values (host.ts): when all its operands are host
 * values it runs at once, between two recorded kernels; an operand on the device ends the
 * submission and is read back. A host value is uploaded when a kernel first reads it.
 * Intermediate buffers are destroyed after the last submission (WebGPU frees them once the queued
 * work is done); the outputs' buffers, and the host values among the outputs, go to the caller.
 */
import { createStorage, readBuffer, uploadTensor, type Holder } from "./array.js";
import { gpuFail } from "./errors.js";
import { copy, dispatch, endPass, type Encoding, type PipelineCache } from "./encode.js";
import type { GpuBuffer } from "./gpuTypes.js";
import { isSlot, type KernelStep, type Operand, type Program } from "./program.js";
import { runScan } from "./runScan.js";
import { sizeOf } from "./wgsl/common.js";
import { isTensor, reshape, type Tensor } from "@rewind/tensor";

export type { PipelineCache } from "./encode.js";

/** The kernels of a program, scan bodies' included. */
const kernelsOf = (p: Program): KernelStep[] =>
  p.steps.flatMap((s) => (s.kind === "kernel" ? [s] : s.kind === "scan" ? kernelsOf(s.body) : []));

/**
 * Compiles the program's kernels not compiled yet; rejects with the compiler's messages (a bug of
 * this package, never of the caller's function).
 * @example await preparePipelines(holder, cache, program);
 */
export const preparePipelines = async (holder: Holder, cache: PipelineCache, program: Program): Promise<void> => {
  const { device } = holder;
  for (const step of kernelsOf(program)) {
    if (cache.has(step.wgsl)) continue;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: step.wgsl });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    const error = await device.popErrorScope();
    if (errors.length > 0 || error !== null)
      gpuFail(
        "jit (webgpu)",
        "kernel",
        `a generated WGSL kernel failed to compile: ` +
          `${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join("; ") || error!.message}\n${step.wgsl}`,
        "report this as a bug of @rewind/webgpu (with the kernel above); jit(f) without backend runs on the CPU",
      );
    cache.set(step.wgsl, pipeline);
  }
};

/** A host value seen as `aval` (a reshape on the device shares the slot of what it reshapes). */
const asShaped = (t: Tensor, o: Operand): Tensor =>
  t.shape.length === o.aval.shape.length && t.shape.every((d, i) => d === o.aval.shape[i])
    ? t
    : reshape(t, o.aval.shape);

/**
 * Runs `program` on its inputs — buffers (owned by the caller, never written) or host values
 * (tensors) — and resolves to one value per output: a new buffer owned by the caller, or a host
 * value.
 * @example const outs = await runProgram(holder, cache, program, [x]);
 */
export const runProgram = async (
  holder: Holder,
  cache: PipelineCache,
  program: Program,
  inputs: readonly (GpuBuffer | Tensor)[],
): Promise<(GpuBuffer | Tensor)[]> => {
  const { device } = holder;
  const bufs: (GpuBuffer | undefined)[] = new Array<GpuBuffer | undefined>(program.slots.length);
  const host: (Tensor | undefined)[] = new Array<Tensor | undefined>(program.slots.length);
  /** Device values read back for CPU steps (they stay device values: outputs come from `bufs`). */
  const copies = new Map<number, Tensor>();
  program.inputs.forEach((slot, i) => {
    const x = inputs[i]!;
    if (isTensor(x)) host[slot] = x;
    else bufs[slot] = x;
  });
  const temps = new Set<GpuBuffer>();
  const temp = (n: number): GpuBuffer => {
    const b = createStorage(device, n);
    temps.add(b);
    return b;
  };
  const get = (slot: number): GpuBuffer => {
    let b = bufs[slot];
    if (b !== undefined) return b;
    const value = host[slot];
    b = value === undefined ? temp(sizeOf(program.slots[slot]!.shape)) : uploadTensor(device, value);
    temps.add(b);
    return (bufs[slot] = b);
  };
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  const enc: Encoding = { device, cache, encoder: device.createCommandEncoder(), pass: undefined };
  const flush = (): void => {
    endPass(enc);
    device.queue.submit([enc.encoder.finish()]);
    enc.encoder = device.createCommandEncoder();
  };
  let popped = false;
  try {
    for (const step of program.steps) {
      if (step.kind === "kernel") dispatch(enc, step, get);
      else if (step.kind === "scan") runScan(enc, step, get, temp);
      else {
        // Only operands on the device need the recorded work submitted and read back.
        const fromDevice = step.ins.filter((o) => isSlot(o) && host[o.slot] === undefined && !copies.has(o.slot));
        if (fromDevice.length > 0) {
          flush();
          await Promise.all(
            fromDevice.map(async (o) => {
              copies.set(o.slot!, await readBuffer(holder, get(o.slot!), o.aval.dtype, o.aval.shape, "call"));
            }),
          );
          holder.check("call");
        }
        const ins = step.ins.map((o) => (isSlot(o) ? asShaped(host[o.slot] ?? copies.get(o.slot)!, o) : o.literal));
        const outs = step.eqn.prim.impl(ins, step.eqn.params);
        step.outs.forEach((slot, i) => (host[slot] = outs[i]!));
      }
    }
    const given = new Set<GpuBuffer>();
    const result = program.outputs.map((o): GpuBuffer | Tensor => {
      if (!isSlot(o)) return o.literal;
      const value = host[o.slot];
      if (value !== undefined) return asShaped(value, o);
      const b = get(o.slot);
      if (temps.has(b) && !given.has(b)) {
        given.add(b);
        return b;
      }
      // An input, or a buffer already returned: the caller gets a copy it owns.
      const owned = createStorage(device, sizeOf(o.aval.shape));
      copy(enc, b, 0, owned, 0, owned.size);
      return owned;
    });
    endPass(enc);
    device.queue.submit([enc.encoder.finish()]);
    for (const b of temps) if (!given.has(b)) b.destroy();
    popped = true;
    const [validation, memory] = [await device.popErrorScope(), await device.popErrorScope()];
    const error = validation ?? memory;
    if (error !== null) {
      result.forEach((b) => (isTensor(b) ? undefined : b.destroy()));
      gpuFail(
        "jit (webgpu)",
        "call",
        `WebGPU reported an error: ${error.message}`,
        "report this as a bug of @rewind/webgpu",
      );
    }
    return result;
  } catch (e) {
    endPass(enc);
    if (!popped) await Promise.allSettled([device.popErrorScope(), device.popErrorScope()]);
    for (const b of temps) b.destroy();
    throw e;
  }
};
