/**
 * @file The training worker's WebGPU keeper in Node, with stand-in devices whose loss the test
 * triggers: the device found at start is handed out; once it is lost it is not, a new one is asked
 * for and reported with how the old one was lost, and a failed re-probe says why there is none.
 */
import type { WebGpu } from "@rewind/webgpu";
import { describe, expect, it } from "vitest";
import { keepWebGpu, type DeviceReport } from "../src/device/keeper.js";
import type { probeWebGpu } from "../src/device/probe.js";

type Probe = Awaited<ReturnType<typeof probeWebGpu>>;

/** A stand-in device: `lose` resolves its `device.lost` as a browser does (after setting `lost`). */
const standInDevice = (): { gpu: WebGpu; lose: (reason: string, message: string) => void } => {
  let resolve: (info: { reason: string; message: string }) => void = () => undefined;
  const lost = new Promise<{ reason: string; message: string }>((r) => (resolve = r));
  const gpu = { lost: undefined, device: { lost } } as unknown as { lost: unknown } & WebGpu;
  return {
    gpu,
    lose: (reason, message) => {
      gpu.lost = { reason, message };
      resolve({ reason, message });
    },
  };
};

/** Probes answered in order from `answers`, each when the test releases it. */
const scriptedProbe = (answers: Probe[]) => {
  const waiting: Array<() => void> = [];
  let asked = 0;
  const probe: typeof probeWebGpu = () => {
    const answer = answers[asked++]!;
    return new Promise<Probe>((resolve) => waiting.push(() => resolve(answer)));
  };
  return { probe, release: () => waiting.shift()!(), asked: () => asked };
};

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe("the WebGPU keeper", () => {
  it("hands out the device found at start, and after a loss the new one, reporting how the old was lost", async () => {
    const first = standInDevice();
    const second = standInDevice();
    const script = scriptedProbe([
      { gpu: first.gpu, probe: { available: true, adapter: "first adapter" } },
      { gpu: second.gpu, probe: { available: true, adapter: "second adapter" } },
    ]);
    const reports: DeviceReport[] = [];
    const keeper = keepWebGpu((r) => reports.push(r), script.probe);
    expect(() => keeper.device()).toThrow("cannot train on WebGPU: the WebGPU probe has not finished");
    script.release();
    await settle();
    expect(keeper.device()).toBe(first.gpu);
    expect(keeper.adapter()).toBe("first adapter");
    expect(reports).toEqual([{ probe: { available: true, adapter: "first adapter" } }]);

    first.lose("unknown", "GPU process crashed");
    // Lost: never handed out again, while the new device is being asked for.
    expect(() => keeper.device()).toThrow(/device was lost; a new one is being requested/);
    await settle();
    expect(script.asked()).toBe(2);
    expect(() => keeper.device()).toThrow(/a new one is being requested/);
    script.release();
    await settle();
    expect(keeper.device()).toBe(second.gpu);
    expect(keeper.adapter()).toBe("second adapter");
    expect(reports[1]).toEqual({
      probe: { available: true, adapter: "second adapter" },
      lost: "unknown: GPU process crashed",
    });
  });

  it("says why there is no device when the probe after a loss finds none", async () => {
    const first = standInDevice();
    const script = scriptedProbe([
      { gpu: first.gpu, probe: { available: true, adapter: "a" } },
      { probe: { available: false, reason: "webgpu: found no adapter" } },
    ]);
    const reports: DeviceReport[] = [];
    const keeper = keepWebGpu((r) => reports.push(r), script.probe);
    script.release();
    await settle();
    first.lose("destroyed", "");
    await settle();
    script.release();
    await settle();
    expect(() => keeper.device()).toThrow("cannot train on WebGPU: webgpu: found no adapter");
    expect(keeper.adapter()).toBe("");
    expect(reports[1]).toEqual({ probe: { available: false, reason: "webgpu: found no adapter" }, lost: "destroyed" });
    // Nothing more is asked for without a device to lose.
    await settle();
    expect(script.asked()).toBe(2);
  });

  it("asks once when the page starts without WebGPU", async () => {
    const script = scriptedProbe([{ probe: { available: false, reason: "navigator.gpu is absent" } }]);
    const reports: DeviceReport[] = [];
    const keeper = keepWebGpu((r) => reports.push(r), script.probe);
    script.release();
    await settle();
    expect(() => keeper.device()).toThrow("cannot train on WebGPU: navigator.gpu is absent");
    expect(reports).toEqual([{ probe: { available: false, reason: "navigator.gpu is absent" } }]);
    expect(script.asked()).toBe(1);
  });
});
