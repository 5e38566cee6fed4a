/**
 * @file Device arrays: an aval and a GPU buffer, read back asynchronously. bool lives on the device
 * as one u32 (0/1) per element, since WGSL has no byte arrays; uploads widen it and reads narrow it.
 * A device array may also hold a host value (host.ts: an update count, a float64 scalar), which a
 * device call computed on the CPU; passed back in, it stays there.
 */
import type { DeviceArray } from "@rewind/autodiff";
import { fromBuffer, isTensor, shapesEqual, type DType, type Shape, type Tensor } from "@rewind/tensor";
import { describeArg, everyEntry } from "@rewind/tensor/internal/check";
import { gpuFail } from "./errors.js";
import { USAGE, type GpuBuffer, type GpuDevice } from "./gpuTypes.js";
import { DEVICE_BYTES, sizeOf } from "./wgsl/common.js";

/** What a device array needs of the device that holds it. */
export interface Holder {
  /** The device. */
  readonly device: GpuDevice;
  /** Throws the device-lost error when the device is gone. */
  readonly check: (op: string) => void;
}

/** Bytes of a buffer for `n` elements (at least 4: WebGPU binds no empty buffer). */
export const bufferBytes = (n: number): number => Math.max(DEVICE_BYTES, n * DEVICE_BYTES);

/** A storage buffer for `n` elements. */
export const createStorage = (device: GpuDevice, n: number): GpuBuffer =>
  device.createBuffer({ size: bufferBytes(n), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });

/** The elements of a tensor as the device stores them. */
const deviceData = (t: Tensor): ArrayBufferView => (t.dtype === "bool" ? Uint32Array.from(t.data) : t.data);

/** Uploads a tensor (float32, int32 or bool) into a new buffer. */
export const uploadTensor = (device: GpuDevice, t: Tensor): GpuBuffer => {
  const buffer = createStorage(device, sizeOf(t.shape));
  if (sizeOf(t.shape) > 0) device.queue.writeBuffer(buffer, 0, deviceData(t));
  return buffer;
};

/** The global timer, typed here: the package is built without DOM or Node types. */
const timers = globalThis as unknown as { setTimeout: (run: () => void, ms: number) => unknown };

/** A promise settled at the next turn of the event loop (after pending device events). */
const nextTurn = (): Promise<void> => new Promise((resolve) => timers.setTimeout(resolve, 0));

/**
 * Reads `buffer` (holding a value of `dtype` and `shape`) back into a tensor. When WebGPU cannot
 * map the copy (the device was destroyed or lost meanwhile: an AbortError without a message), the
 * holder's device-lost error, or one naming `op`, replaces the platform's.
 */
export const readBuffer = async (
  holder: Holder,
  buffer: GpuBuffer,
  dtype: DType,
  shape: Shape,
  op = "read",
): Promise<Tensor> => {
  const { device } = holder;
  const n = sizeOf(shape);
  const staging = device.createBuffer({ size: bufferBytes(n), usage: USAGE.MAP_READ | USAGE.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, bufferBytes(n));
  device.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(1).catch(async (e: unknown) => {
      // The lost promise may settle just after the map's rejection: a turn of the event loop for it.
      await Promise.race([device.lost, nextTurn()]);
      await Promise.resolve();
      holder.check(op);
      gpuFail(
        op,
        "device array",
        `WebGPU could not map its copy to read it (${e instanceof Error ? `${e.name} ${e.message}` : String(e)})`,
        "read results before destroying their device",
      );
    });
    const bytes = staging.getMappedRange().slice(0, n * DEVICE_BYTES);
    staging.unmap();
    const data =
      dtype === "float32"
        ? new Float32Array(bytes)
        : dtype === "int32"
          ? new Int32Array(bytes)
          : Uint8Array.from(new Uint32Array(bytes));
    return fromBuffer(dtype, shape, data);
  } finally {
    staging.destroy();
  }
};

const DTYPES: readonly unknown[] = ["float32", "int32", "bool"];

/**
 * Refuses parts that do not make a device array (they used to be taken, and `read` to fail later
 * with a TypeError): a holder without `device` and `check`, a buffer that is neither a GPU buffer
 * nor a tensor, a dtype WebGPU does not store (float64 only as a host value), a shape that is not
 * a list of sizes, or a host value of another dtype or shape than the one stated.
 */
const checkParts = (holder: unknown, buffer: unknown, dtype: unknown, shape: unknown): void => {
  const fix = "make device arrays with gpu.upload(t) or a device-jitted call, not by hand";
  const h = holder as Partial<Holder> | null;
  if (typeof h !== "object" || h === null || typeof h.check !== "function" || typeof h.device !== "object")
    gpuFail(
      "GpuArray",
      "holder",
      `expected a WebGPU back end (what webgpu() returns), got ${describeArg(holder)}`,
      fix,
    );
  const host = isTensor(buffer);
  if (!host && typeof (buffer as Partial<GpuBuffer> | null)?.destroy !== "function")
    gpuFail("GpuArray", "buffer", `expected a GPU buffer or a tensor, got ${describeArg(buffer)}`, fix);
  if (!DTYPES.includes(dtype) && !(host && dtype === "float64"))
    gpuFail("GpuArray", "dtype", `expected "float32", "int32" or "bool", got ${describeArg(dtype)}`, fix);
  if (!everyEntry(shape, (d) => Number.isSafeInteger(d) && (d as number) >= 0))
    gpuFail("GpuArray", "shape", `expected a list of non-negative integer sizes, got ${describeArg(shape)}`, fix);
  if (host && (buffer.dtype !== dtype || !shapesEqual(buffer.shape, shape as Shape)))
    gpuFail(
      "GpuArray",
      "buffer",
      `the host value is ${buffer.dtype} [${buffer.shape.join(", ")}], ` +
        `not the stated ${String(dtype)} [${(shape as Shape).join(", ")}]`,
      fix,
    );
};

/** A value of one device: in a GPU buffer, or a host value of its calls (host.ts). */
export class GpuArray implements DeviceArray {
  #buffer: GpuBuffer | Tensor | undefined;

  /**
   * Wraps a buffer the caller gives up (the array destroys it on `dispose`), or a host value.
   * @example new GpuArray(holder, buffer, "float32", [2, 3])
   */
  constructor(
    /** The device that holds it. */
    readonly holder: Holder,
    buffer: GpuBuffer | Tensor,
    /** The element type. */
    readonly dtype: DType,
    /** The dimensions. */
    readonly shape: Shape,
  ) {
    checkParts(holder, buffer, dtype, shape);
    this.#buffer = buffer;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#buffer === undefined;
  }

  /**
   * What it holds, for a call that reads it: its buffer, or its host value; throws once disposed.
   * @example x.value("call")
   */
  value(op: string): GpuBuffer | Tensor {
    this.holder.check(op);
    if (this.#buffer === undefined)
      return gpuFail(
        op,
        "device array",
        `this [${this.shape.join(", ")}] ${this.dtype} array was disposed`,
        "keep the array until its last use, or pass the tensor again",
      );
    return this.#buffer;
  }

  /**
   * The buffer, for a call that reads it on the device; a host value is uploaded first (and stays
   * uploaded). Throws once disposed.
   * @example x.buffer("read").size
   */
  buffer(op: string): GpuBuffer {
    const v = this.value(op);
    if (!isTensor(v)) return v;
    if (v.dtype === "float64")
      gpuFail(op, "device array", "it holds a float64 host value, which WebGPU cannot store", 'astype it to "float32"');
    return (this.#buffer = uploadTensor(this.holder.device, v));
  }

  /** True while it holds a host value (host.ts), not a GPU buffer. */
  get onHost(): boolean {
    return isTensor(this.#buffer);
  }

  /**
   * Copies the elements back into a new tensor (a host value resolves at once).
   * @example const t = await out.read();
   */
  read(): Promise<Tensor> {
    try {
      const v = this.value("read");
      return isTensor(v) ? Promise.resolve(v) : readBuffer(this.holder, v, this.dtype, this.shape);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Frees the buffer now. Idempotent.
   * @example out.dispose();
   */
  dispose(): void {
    if (!isTensor(this.#buffer)) this.#buffer?.destroy();
    this.#buffer = undefined;
  }
}
