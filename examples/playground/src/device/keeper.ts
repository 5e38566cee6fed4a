/**
 * @file The training worker's WebGPU device over the page's life: probed when the worker starts
 * and probed again whenever the device in use is lost (a driver reset, a GPU process crash, the
 * browser reclaiming it), so a lost device costs the run in progress, not WebGPU until a reload.
 */
import type { WebGpu } from "@rewind/webgpu";
import type { WebGpuProbe } from "../protocol.js";
import { probeWebGpu } from "./probe.js";

const REPLACING = "the WebGPU device was lost; a new one is being requested";

/** What the keeper reports after every probe: the outcome, and why the device before was lost. */
export interface DeviceReport {
  readonly probe: WebGpuProbe;
  /** How the device in use was lost (reason and message), for the probe that replaced it. */
  readonly lost?: string;
}

/** The current WebGPU device, as `keepWebGpu` keeps it. */
export interface WebGpuKeeper {
  /** The device to train on; throws, saying why, while there is none. */
  readonly device: () => WebGpu;
  /** The adapter's name of the current device ("" while there is none). */
  readonly adapter: () => string;
}

/**
 * Probes for a device now (with `probe`) and again each time the current one is lost, calling
 * `report` after every probe. A device lost before its replacement is asked for is never handed out.
 * @example const keeper = keepWebGpu((r) => post({ type: "devices", webgpu: r.probe })); keeper.device()
 */
export const keepWebGpu = (
  report: (r: DeviceReport) => void,
  probe: typeof probeWebGpu = probeWebGpu,
): WebGpuKeeper => {
  let gpu: WebGpu | undefined;
  let adapter = "";
  let missing = "the WebGPU probe has not finished";

  const ask = async (lost?: string): Promise<void> => {
    const found = await probe();
    gpu = found.gpu;
    adapter = found.probe.available ? found.probe.adapter : "";
    if (!found.probe.available) missing = found.probe.reason;
    if (gpu !== undefined) {
      const current = gpu;
      void current.device.lost.then((info) => {
        // Only the device in use is replaced: a handler of an older one finds another current.
        if (gpu !== current) return;
        gpu = undefined;
        missing = REPLACING;
        void ask(`${info.reason}${info.message ? `: ${info.message}` : ""}`);
      });
    }
    report(lost === undefined ? { probe: found.probe } : { probe: found.probe, lost });
  };
  void ask();

  return {
    device: () => {
      if (gpu !== undefined && gpu.lost === undefined) return gpu;
      throw new Error(`cannot train on WebGPU: ${gpu !== undefined ? REPLACING : missing}`);
    },
    adapter: () => adapter,
  };
};
