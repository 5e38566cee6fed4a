/**
 * @file Recording kernels into a command encoder: one compute pass for consecutive kernels
 * (WebGPU orders their dispatches), ended before a buffer copy or a submission.
 */
import type { GpuBuffer, GpuCommandEncoder, GpuComputePass, GpuComputePipeline, GpuDevice } from "./gpuTypes.js";
import type { KernelStep } from "./program.js";

/** Compiled pipelines, keyed by their WGSL (one cache per device). */
export type PipelineCache = Map<string, GpuComputePipeline>;

/** The commands being recorded. */
export interface Encoding {
  /** The device. */
  readonly device: GpuDevice;
  /** The compiled kernels. */
  readonly cache: PipelineCache;
  /** The current encoder. */
  encoder: GpuCommandEncoder;
  /** The open compute pass, if any. */
  pass: GpuComputePass | undefined;
}

/**
 * Records one kernel, its slots bound to the buffers `buffer` gives.
 * @example dispatch(enc, step, (slot) => buffers[slot]!)
 */
export const dispatch = (enc: Encoding, step: KernelStep, buffer: (slot: number) => GpuBuffer): void => {
  const pipeline = enc.cache.get(step.wgsl)!;
  const entries = [...step.reads, ...step.writes].map((s, binding) => ({ binding, resource: { buffer: buffer(s) } }));
  const group = enc.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  enc.pass ??= enc.encoder.beginComputePass();
  enc.pass.setPipeline(pipeline);
  enc.pass.setBindGroup(0, group);
  enc.pass.dispatchWorkgroups(...step.groups);
};

/**
 * Ends the open compute pass (before a copy), if any.
 * @example endPass(enc); enc.encoder.copyBufferToBuffer(a, 0, b, 0, 4);
 */
export const endPass = (enc: Encoding): void => {
  enc.pass?.end();
  enc.pass = undefined;
};

/**
 * Copies `bytes` bytes between buffers (nothing for 0), ending the compute pass first.
 * @example copy(enc, xs, t * bytes, x, 0, bytes)
 */
export const copy = (
  enc: Encoding,
  src: GpuBuffer,
  srcOffset: number,
  dst: GpuBuffer,
  dstOffset: number,
  bytes: number,
) => {
  if (bytes === 0) return;
  endPass(enc);
  enc.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
};
