/**
 * Public surface of @rewind/webgpu: a WebGPU back end for `jit`. `await webgpu()` gets a device;
 * `jit(f, { backend: gpu })` (or `gpu.jit(f)`, or `{ backend: "webgpu" }`) compiles `f`'s graph to
 * WGSL compute kernels; a call resolves to device arrays, read back with `read()` / `readTree`.
 *
 * @module @rewind/webgpu
 */
export { webgpu, type WebGpu, type WebGpuOptions } from "./device.js";
export type { WebGpuJitOptions } from "./jit.js";
export { GpuArray } from "./array.js";
export { readTree, disposeTree, isDeviceArray, type FromDevice } from "./tree.js";
export { loweredPrimitives, type LoweredPrimitives } from "./table.js";
export type { Holder } from "./array.js";
export type {
  Gpu,
  GpuAdapter,
  GpuAdapterInfo,
  GpuBuffer,
  GpuCommandEncoder,
  GpuCompilationInfo,
  GpuCompilationMessage,
  GpuComputePass,
  GpuComputePipeline,
  GpuDevice,
  GpuDeviceLostInfo,
  GpuError,
  GpuQueue,
  GpuShaderModule,
} from "./gpuTypes.js";
