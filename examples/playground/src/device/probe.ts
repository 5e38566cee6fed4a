/**
 * @file Whether the training worker can train on WebGPU: one `webgpu({ register: false })` when
 * the worker starts (`navigator.gpu` exists in dedicated workers), kept for every WebGPU session.
 * The page learns the outcome as plain data: the adapter's name, or why there is none.
 */
import { webgpu, type GpuAdapterInfo, type WebGpu, type WebGpuOptions } from "@rewind/webgpu";
import type { WebGpuProbe } from "../protocol.js";

/**
 * A readable name of an adapter: its description when the browser gives one, else its vendor,
 * architecture and device ("google swiftshader" on SwiftShader), else "unnamed adapter".
 * @example adapterName({ vendor: "google", architecture: "swiftshader", device: "", description: "" }) // "google swiftshader"
 */
export const adapterName = (info: Partial<GpuAdapterInfo>): string => {
  const description = info.description?.trim() ?? "";
  if (description !== "") return description;
  const parts = [info.vendor, info.architecture, info.device].map((p) => p?.trim() ?? "").filter((p) => p !== "");
  return parts.length > 0 ? parts.join(" ") : "unnamed adapter";
};

/**
 * Asks for a WebGPU device once: the back end (not registered as `"webgpu"`: the sessions pass
 * it explicitly) and what to tell the page. Never rejects: a missing WebGPU is a reason shown.
 * @example const { gpu, probe } = await probeWebGpu(); probe.available // false in Node
 */
export const probeWebGpu = async (
  options: Pick<WebGpuOptions, "gpu"> = {},
): Promise<{ readonly gpu?: WebGpu; readonly probe: WebGpuProbe }> => {
  try {
    const gpu = await webgpu({ ...options, register: false });
    return { gpu, probe: { available: true, adapter: adapterName(gpu.adapterInfo) } };
  } catch (e) {
    return { probe: { available: false, reason: e instanceof Error ? e.message : String(e) } };
  }
};
