/**
 * @file Running a `Program`: kernels are recorded into one compute pass and submitted together;
 * a CPU step ends the submission, reads its inputs back, runs the primitive's impl and uploads its
 * outputs. Intermediate buffers are destroyed after the last submission (WebGPU frees them once
 * the queued work is done); the outputs' buffers go to the caller's device arrays.
 */
import { createStorage, readBuffer, uploadTensor, type Holder } from "./array.js";
import { gpuFail } from "./errors.js";
import { copy, dispatch, endPass, type Encoding, type PipelineCache } from "./encode.js";
import type { GpuBuffer } from "./gpuTypes.js";
import { isSlot, type KernelStep, type Program } from "./program.js";
import { runScan } from "./runScan.js";
import { sizeOf } from "./wgsl/common.js";

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

/**
 * Runs `program` on the input buffers (owned by the caller, never written); resolves to one new
 * buffer per output, owned by the caller.
 * @example const outs = await runProgram(holder, cache, program, [x]);
 */
export const runProgram = async (
  holder: Holder,
  cache: PipelineCache,
  program: Program,
  inputs: readonly GpuBuffer[],
): Promise<GpuBuffer[]> => {
  const { device } = holder;
  const bufs: (GpuBuffer | undefined)[] = new Array<GpuBuffer | undefined>(program.slots.length);
  program.inputs.forEach((slot, i) => (bufs[slot] = inputs[i]));
  const temps = new Set<GpuBuffer>();
  const temp = (n: number): GpuBuffer => {
    const b = createStorage(device, n);
    temps.add(b);
    return b;
  };
  const get = (slot: number): GpuBuffer => (bufs[slot] ??= temp(sizeOf(program.slots[slot]!.shape)));
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
        flush();
        const ins = await Promise.all(
          step.ins.map((o) =>
            isSlot(o) ? readBuffer(device, get(o.slot), o.aval.dtype, o.aval.shape) : Promise.resolve(o.literal),
          ),
        );
        holder.check("call");
        const outs = step.eqn.prim.impl(ins, step.eqn.params);
        step.outs.forEach((slot, i) => {
          const up = uploadTensor(device, outs[i]!);
          const old = bufs[slot];
          if (old !== undefined && temps.delete(old)) old.destroy();
          bufs[slot] = up;
          temps.add(up);
        });
      }
    }
    const given = new Set<GpuBuffer>();
    const result = program.outputs.map((o) => {
      if (!isSlot(o)) return uploadTensor(device, o.literal);
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
      result.forEach((b) => b.destroy());
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
