/**
 * @file The playground's WebGPU probe in Node (the end-to-end test runs the device in Chromium):
 * it never rejects, telling the page why there is no device, and names an adapter readably.
 */
import { describe, expect, it } from "vitest";
import type { Gpu } from "@rewind/webgpu";
import { adapterName, probeWebGpu } from "../src/device/probe.js";

describe("the WebGPU probe", () => {
  it("resolves without a device where there is no WebGPU, saying so", async () => {
    const { gpu, probe } = await probeWebGpu();
    expect(gpu).toBeUndefined();
    expect(probe).toEqual({ available: false, reason: expect.stringContaining("navigator.gpu is absent") });
  });

  it("resolves without a device when WebGPU finds no adapter, saying so", async () => {
    const adapterless = { requestAdapter: () => Promise.resolve(null) } as unknown as Gpu;
    const { gpu, probe } = await probeWebGpu({ gpu: adapterless });
    expect(gpu).toBeUndefined();
    expect(probe).toEqual({ available: false, reason: expect.stringContaining("found no adapter") });
  });

  it("names an adapter by its description, else its vendor, architecture and device", () => {
    const info = { vendor: "google", architecture: "swiftshader", device: "", description: "" };
    expect(adapterName(info)).toBe("google swiftshader");
    expect(adapterName({ ...info, description: " SwiftShader Device (Subzero) " })).toBe(
      "SwiftShader Device (Subzero)",
    );
    expect(adapterName({ vendor: "", architecture: "", device: "", description: "" })).toBe("unnamed adapter");
    expect(adapterName({})).toBe("unnamed adapter");
  });
});
