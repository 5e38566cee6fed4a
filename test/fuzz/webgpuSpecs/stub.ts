/**
 * @file A WebGPU entry point whose device must not be used, for the device-free half of the
 * webgpu fuzz suite (root `pnpm test`, where Node has no WebGPU).
 *
 * `webgpu({ gpu: stubGpu() })` gets a real back end object of @rewind/webgpu around a device of
 * which only `lost` and `destroy` work: any other member throws a plain `Error` ("the stub device
 * was used: createBuffer"), which the fuzz contract reads as a broken contract. So a hostile
 * argument that reaches the device before it is refused fails the suite: every refusal checked
 * against a stub happens before a single buffer, kernel or submission.
 */
import type { Gpu, GpuAdapterInfo } from "@rewind/webgpu";

/** What a stub entry point was asked. */
export interface StubLog {
  /** The options of each `requestAdapter` call. */
  readonly adapterRequests: unknown[];
}

/** Members of the device that work: the lost promise and `destroy`, which resolves it. */
const stubDevice = (): object => {
  let resolveLost: (info: { reason: string; message: string }) => void = () => undefined;
  const lost = new Promise<{ reason: string; message: string }>((resolve) => (resolveLost = resolve));
  const working: Record<string, unknown> = {
    lost,
    destroy: () => resolveLost({ reason: "destroyed", message: "" }),
  };
  return new Proxy(working, {
    get: (target, key) => {
      if (typeof key !== "string") return undefined;
      if (key in target) return target[key];
      // `then` is read by `await` (the device is no thenable), `queue` by a write: both must be absent or throw.
      if (key === "then") return undefined;
      return () => {
        throw new Error(`the stub device was used: ${key}`);
      };
    },
  });
};

/** The adapter information of the stub (as SwiftShader's names itself). */
export const STUB_INFO: GpuAdapterInfo = { vendor: "stub", architecture: "none", device: "", description: "" };

/**
 * A WebGPU entry point that answers with one adapter, whose `requestDevice` gives a fresh stub
 * device each time.
 * @example const gpu = await webgpu({ gpu: stubGpu(), register: false });
 */
export const stubGpu = (log: StubLog = { adapterRequests: [] }): Gpu => ({
  requestAdapter: (options) => {
    log.adapterRequests.push(options);
    return Promise.resolve({
      info: STUB_INFO,
      limits: { maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28 },
      requestDevice: () => Promise.resolve(stubDevice() as never),
    });
  },
});
