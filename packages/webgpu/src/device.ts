/**
 * @file `webgpu()`: the adapter and device, and the back end object `jit` delegates to. The device
 * may be lost (a driver reset, `destroy()`); every later call then rejects saying so.
 */
import { setJitBackend, type DeviceJitted, type JitBackend } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import { GpuArray, uploadTensor, type Holder } from "./array.js";
import { gpuFail } from "./errors.js";
import type { Gpu, GpuAdapter, GpuAdapterInfo, GpuDevice, GpuDeviceLostInfo } from "./gpuTypes.js";
import { deviceJit, type WebGpuJitOptions } from "./jit.js";
import type { PipelineCache } from "./run.js";
import { checkUpload } from "./upload.js";
import { describeArg, optionsProblem } from "@rewind/tensor/internal/check";

/** Refuses options `webgpu` cannot use: not an object, an unknown key, a value of the wrong kind. */
const checkOptions = (options: unknown): WebGpuOptions => {
  const problem = optionsProblem("webgpu", "options", options, ["gpu", "powerPreference", "register"]);
  if (problem !== undefined) gpuFail("webgpu", problem.arg, problem.detail, problem.fix);
  const o = (options ?? {}) as WebGpuOptions;
  const gpu = o.gpu as unknown;
  if (gpu !== undefined && gpu !== null && typeof (gpu as Partial<Gpu>).requestAdapter !== "function")
    gpuFail(
      "webgpu",
      "options.gpu",
      `expected a WebGPU entry point (an object with requestAdapter), got ${describeArg(gpu)}`,
      'pass navigator.gpu, or in Node create([]) of the "webgpu" package; or leave it out',
    );
  if (o.powerPreference !== undefined && o.powerPreference !== "low-power" && o.powerPreference !== "high-performance")
    gpuFail(
      "webgpu",
      "options.powerPreference",
      `expected "low-power" or "high-performance", got ${describeArg(o.powerPreference)}`,
      "pass one of the two, or leave it out for the browser's choice",
    );
  if (o.register !== undefined && typeof o.register !== "boolean")
    gpuFail("webgpu", "options.register", `expected true or false, got ${describeArg(o.register)}`, "pass a boolean");
  return o;
};

/** Options of `webgpu`. */
export interface WebGpuOptions {
  /**
   * The WebGPU entry point to use instead of `navigator.gpu` (e.g. the `webgpu` npm package's
   * `create([])` in Node); `null` behaves as a runtime without WebGPU.
   */
  readonly gpu?: Gpu | null;
  /** Which adapter to ask for on machines with two GPUs. Default: the browser's choice. */
  readonly powerPreference?: "low-power" | "high-performance";
  /** Register the back end as `"webgpu"` for `jit(f, { backend: "webgpu" })`. Default true. */
  readonly register?: boolean;
}

/** A WebGPU device as a back end for `jit`. */
export interface WebGpu extends JitBackend {
  /** `"webgpu"`. */
  readonly name: "webgpu";
  /** What the adapter says about the GPU (`vendor` "google", `architecture` "swiftshader" on the CPU). */
  readonly adapterInfo: GpuAdapterInfo;
  /** The device (its limits, for those who need them). */
  readonly device: GpuDevice;
  /** Why the device was lost, once it was; undefined while it works. */
  readonly lost: GpuDeviceLostInfo | undefined;
  /**
   * Compiles `f` for this device (the same as `jit(f, { backend: gpu })`).
   * @example const step = gpu.jit(trainStep); const out = await step(params, batch);
   */
  jit<Args extends unknown[], R>(f: (...args: Args) => R, options?: WebGpuJitOptions): DeviceJitted<Args, R>;
  /**
   * Copies a tensor (float32, int32 or bool) to the device, to pass to device calls repeatedly
   * without uploading it each time.
   * @example const w = gpu.upload(weights); await step(w, x); await step(w, y);
   */
  upload(t: Tensor): GpuArray;
  /**
   * Destroys the device: every device array of it is freed, and later calls reject. Unregisters
   * `"webgpu"` when it was this back end.
   * @example gpu.destroy();
   */
  destroy(): void;
}

class WebGpuBackend implements WebGpu, Holder {
  readonly name = "webgpu";
  lost: GpuDeviceLostInfo | undefined;
  readonly pipelines: PipelineCache = new Map();

  constructor(
    readonly device: GpuDevice,
    readonly adapterInfo: GpuAdapterInfo,
  ) {
    void device.lost.then((info) => {
      this.lost = info;
      this.pipelines.clear();
    });
  }

  readonly check = (op: string): void => {
    if (this.lost !== undefined)
      gpuFail(
        op,
        "device",
        `the WebGPU device was lost (${this.lost.reason}${this.lost.message ? `: ${this.lost.message}` : ""}), ` +
          "and its arrays with it",
        "call webgpu() again for a new device and pass tensors again (read results before destroying a device)",
      );
  };

  jit<Args extends unknown[], R>(f: (...args: Args) => R, options: WebGpuJitOptions = {}): DeviceJitted<Args, R> {
    return deviceJit(this, f, options);
  }

  upload(t: Tensor): GpuArray {
    this.check("upload");
    const checked = checkUpload("upload", "t", t);
    return new GpuArray(this, uploadTensor(this.device, checked), t.dtype, t.shape);
  }

  destroy(): void {
    this.device.destroy();
  }
}

/** The back end this package registered as `"webgpu"` last. */
let registered: WebGpuBackend | undefined;

/**
 * Registered backends are unregistered when their device goes, unless a later `webgpu()` took the
 * name since (destroying an old device used to unregister the new one).
 */
const registerUntilLost = (gpu: WebGpuBackend): void => {
  setJitBackend("webgpu", gpu);
  registered = gpu;
  void gpu.device.lost.then(() => {
    if (registered !== gpu) return;
    registered = undefined;
    setJitBackend("webgpu", undefined);
  });
};

/** `navigator.gpu` where there is one, and whether the page is a secure context. */
const environment = (): { gpu: Gpu | undefined; secure: boolean | undefined; browser: boolean } => {
  const g = globalThis as { navigator?: { gpu?: Gpu }; isSecureContext?: boolean; document?: unknown };
  return { gpu: g.navigator?.gpu, secure: g.isSecureContext, browser: g.document !== undefined };
};

/** The message of what a WebGPU call threw (the platform's error, or anything else). */
const messageOf = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Awaits a call of the WebGPU entry point, turning what it throws into this package's error. */
const platform = async <T>(arg: string, what: string, call: () => T | Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (e) {
    return gpuFail(
      "webgpu",
      arg,
      `${what} failed: ${messageOf(e)}`,
      "check the browser's GPU page (chrome://gpu) or the entry point passed as options.gpu; or use the CPU jit",
    );
  }
};

/**
 * The adapter's device, with the largest buffers the adapter allows. What the entry point gives
 * back is checked: a hand-made `options.gpu` (or a broken runtime) may answer anything, and
 * reading `limits` of it used to throw a TypeError.
 */
const requestDevice = async (
  gpu: Gpu,
  powerPreference: WebGpuOptions["powerPreference"],
): Promise<{ device: GpuDevice; info: GpuAdapterInfo }> => {
  const adapter = await platform("adapter", "requestAdapter()", () =>
    gpu.requestAdapter(powerPreference === undefined ? {} : { powerPreference }),
  );
  if (adapter === null)
    return gpuFail(
      "webgpu",
      "adapter",
      "navigator.gpu.requestAdapter() found no adapter: WebGPU is there but no GPU it may use",
      "check the browser's GPU page (chrome://gpu) for a blocklisted driver, or use the CPU jit",
    );
  const a = adapter as Partial<GpuAdapter> | undefined;
  if (typeof a !== "object" || typeof a.requestDevice !== "function" || typeof a.limits !== "object" || !a.limits)
    return gpuFail(
      "webgpu",
      "adapter",
      `requestAdapter() resolved to ${describeArg(adapter)}, which is not a GPU adapter (no requestDevice or limits)`,
      "pass navigator.gpu, or in Node create([]) of the webgpu package, as options.gpu",
    );
  const limits = a.limits;
  const device = await platform("device", "requestDevice()", () =>
    a.requestDevice!({
      requiredLimits: {
        maxStorageBufferBindingSize: limits["maxStorageBufferBindingSize"]!,
        maxBufferSize: limits["maxBufferSize"]!,
      },
    }),
  );
  const d = device as Partial<GpuDevice> | undefined;
  if (typeof d !== "object" || typeof d.createBuffer !== "function" || typeof d.lost?.then !== "function")
    return gpuFail(
      "webgpu",
      "device",
      `requestDevice() resolved to ${describeArg(device)}, which is not a GPU device`,
      "pass navigator.gpu, or in Node create([]) of the webgpu package, as options.gpu",
    );
  return { device, info: a.info ?? ({} as GpuAdapterInfo) };
};

/**
 * Requests a WebGPU adapter and device and returns the back end for `jit`; registers it as
 * `"webgpu"` (unless `register: false`), so `jit(f, { backend: "webgpu" })` finds it. Rejects
 * with an error saying what is missing: WebGPU itself (`navigator.gpu`), a secure context
 * (https:// or localhost), or an adapter.
 * @example
 * const gpu = await webgpu();
 * const step = jit(trainStep, { backend: gpu }); // or gpu.jit(trainStep), or { backend: "webgpu" }
 * const { loss } = await readTree(await step(params, batch));
 */
export const webgpu = async (given: WebGpuOptions = {}): Promise<WebGpu> => {
  const options = checkOptions(given);
  const env = environment();
  const gpu = options.gpu === undefined ? env.gpu : (options.gpu ?? undefined);
  if (gpu === undefined) {
    if (options.gpu === undefined && env.secure === false)
      gpuFail(
        "webgpu",
        "navigator.gpu",
        "navigator.gpu is absent because the page is not a secure context",
        "serve the page over https:// or from http://localhost (WebGPU exists only in secure contexts)",
      );
    gpuFail(
      "webgpu",
      "navigator.gpu",
      env.browser || options.gpu === null
        ? "navigator.gpu is absent: this browser has no WebGPU"
        : "navigator.gpu is absent: this runtime has no WebGPU",
      "use a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows), " +
        "pass options.gpu (in Node, the webgpu package's create([])), or use the CPU jit",
    );
  }
  const device = await requestDevice(gpu!, options.powerPreference);
  const backend = new WebGpuBackend(device.device, device.info);
  if (options.register !== false) registerUntilLost(backend);
  return backend;
};
