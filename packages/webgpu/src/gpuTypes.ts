/**
 * @file The part of the WebGPU API this package uses, declared structurally, so that neither this
 * package nor its users need the DOM or `@webgpu/types` declarations to type-check.
 */

/** A GPU buffer (the part used here). */
export interface GpuBuffer {
  /** Its size in bytes. */
  readonly size: number;
  /** Maps it for reading (`mode` 1). */
  mapAsync(mode: number): Promise<void>;
  /** The mapped bytes. */
  getMappedRange(): ArrayBuffer;
  /** Ends the mapping. */
  unmap(): void;
  /** Frees it once the queued work that uses it is done. */
  destroy(): void;
}

/** A compiled compute pipeline. */
export interface GpuComputePipeline {
  /** The layout WebGPU inferred for a bind group. */
  getBindGroupLayout(index: number): unknown;
}

/** One compiler message. */
export interface GpuCompilationMessage {
  /** `"error"`, `"warning"` or `"info"`. */
  readonly type: string;
  /** The text. */
  readonly message: string;
  /** The line of the WGSL it is about. */
  readonly lineNum: number;
}

/** A WGSL module's compiler messages. */
export interface GpuCompilationInfo {
  /** Errors, warnings and notes, with their line. */
  readonly messages: readonly GpuCompilationMessage[];
}

/** A compute pass being recorded. */
export interface GpuComputePass {
  /** Selects the kernel. */
  setPipeline(pipeline: GpuComputePipeline): void;
  /** Binds its buffers. */
  setBindGroup(index: number, group: unknown): void;
  /** Runs the kernel on a grid of workgroups. */
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  /** Ends the pass. */
  end(): void;
}

/** A command encoder. */
export interface GpuCommandEncoder {
  /** Starts a compute pass. */
  beginComputePass(): GpuComputePass;
  /** Copies bytes between buffers. */
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  /** Ends recording. */
  finish(): unknown;
}

/** A device's command queue. */
export interface GpuQueue {
  /** Queues recorded commands. */
  submit(buffers: readonly unknown[]): void;
  /** Copies bytes from memory into a buffer (ordered before later submissions). */
  writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
  /** Resolves when the work submitted so far is done. */
  onSubmittedWorkDone(): Promise<void>;
}

/** A compiled WGSL module. */
export interface GpuShaderModule {
  /** The compiler's messages. */
  getCompilationInfo(): Promise<GpuCompilationInfo>;
}

/** An error caught by an error scope. */
export interface GpuError {
  /** What went wrong. */
  readonly message: string;
}

/** Why and how a device was lost. */
export interface GpuDeviceLostInfo {
  /** `"destroyed"` after `destroy()`, `"unknown"` otherwise. */
  readonly reason: string;
  /** The browser's explanation. */
  readonly message: string;
}

/** A logical GPU device (the part used here). */
export interface GpuDevice {
  /** Its limits (storage buffer sizes, workgroup counts). */
  readonly limits: Readonly<Record<string, number>>;
  /** The queue commands are submitted to. */
  readonly queue: GpuQueue;
  /** Resolves when the device is lost (or destroyed). */
  readonly lost: Promise<GpuDeviceLostInfo>;
  /** Allocates a buffer. */
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  /** Compiles WGSL. */
  createShaderModule(descriptor: { code: string }): GpuShaderModule;
  /** Builds a compute pipeline from a module. */
  createComputePipeline(descriptor: {
    layout: "auto";
    compute: { module: unknown; entryPoint: string };
  }): GpuComputePipeline;
  /** Binds buffers to a pipeline's bindings. */
  createBindGroup(descriptor: {
    layout: unknown;
    entries: readonly { binding: number; resource: { buffer: GpuBuffer } }[];
  }): unknown;
  /** Starts recording commands. */
  createCommandEncoder(): GpuCommandEncoder;
  /** Starts catching errors of one kind. */
  pushErrorScope(filter: "validation" | "out-of-memory" | "internal"): void;
  /** Stops catching; resolves to the first error caught, if any. */
  popErrorScope(): Promise<GpuError | null>;
  /** Destroys the device (it is then lost, reason `"destroyed"`). */
  destroy(): void;
}

/** What the adapter says about the GPU. */
export interface GpuAdapterInfo {
  /** The vendor (`"google"` for SwiftShader). */
  readonly vendor: string;
  /** The architecture (`"swiftshader"`). */
  readonly architecture: string;
  /** The device, when the browser tells. */
  readonly device: string;
  /** A description, when the browser tells. */
  readonly description: string;
}

/** A physical adapter (the part used here). */
export interface GpuAdapter {
  /** The adapter's description. */
  readonly info: GpuAdapterInfo;
  /** Its limits. */
  readonly limits: Readonly<Record<string, number>>;
  /** Asks for a logical device. */
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
}

/** `navigator.gpu`. */
export interface Gpu {
  /** Asks for an adapter; resolves to null when there is none. */
  requestAdapter(options?: { powerPreference?: "low-power" | "high-performance" }): Promise<GpuAdapter | null>;
}

/** Buffer usage flags (GPUBufferUsage). */
export const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, STORAGE: 128 } as const;
