/**
 * @file The WebGPU session's plumbing in Node, on a stand-in back end that runs the CPU `jit` and
 * hands the loss back behind an asynchronous `read()` (the real device runs in the end-to-end
 * test): the same batches, keys and optimizer state as the CPU session, so the same losses bit for
 * bit; previews and saves read the parameters after the steps called before them; a rejected step
 * rejects with its message, counts no step, and does not stop the session.
 */
import { jit, type JitBackend } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import type { WebGpu } from "@rewind/webgpu";
import { describe, expect, it } from "vitest";
import { createDeviceSession } from "../src/device/session.js";
import type { RunConfig } from "../src/protocol.js";
import { createSession } from "../src/session.js";
import { taskFor } from "../src/tasks/index.js";
import { data } from "./data.js";

const config: RunConfig = { task: "names", cell: "gru", hidden: 8, seed: 3 };

/** A back end that runs `f` with the CPU jit; `failing.now` makes its calls reject as a lost device's would. */
const standIn = (failing: { now: boolean }): WebGpu => {
  const backend: JitBackend = {
    name: "stand-in",
    jit: ((f: (...args: unknown[]) => unknown) => {
      const cpu = jit(f);
      return async (...args: unknown[]) => {
        await Promise.resolve();
        if (failing.now) throw new Error("the WebGPU device was lost (destroyed)");
        const out = cpu(...args) as { params: unknown; optState: unknown; loss: Tensor };
        return { ...out, loss: { read: () => Promise.resolve(out.loss), dispose: () => undefined } };
      };
    }) as JitBackend["jit"],
  };
  return backend as WebGpu;
};

describe("the WebGPU session", () => {
  it("takes the CPU session's steps: the same losses, previews and saved bytes", async () => {
    const cpu = createSession(config, taskFor(config, data));
    const device = createDeviceSession(config, taskFor(config, data), standIn({ now: false }));
    const steps = [device.step(), device.step(), device.step()]; // called at once: they queue
    const preview = device.preview();
    expect(await Promise.all(steps)).toEqual([cpu.step(), cpu.step(), cpu.step()]);
    expect(await preview).toEqual(cpu.preview());
    expect(device.steps()).toBe(3);
    expect(await device.save()).toEqual(cpu.save());
    expect(device.graphs().gradientText).toBe(cpu.graphs().gradientText);
  });

  it("rejects a failed step with its message, counts no step, and goes on", async () => {
    const failing = { now: false };
    const device = createDeviceSession(config, taskFor(config, data), standIn(failing));
    const first = await device.step();
    failing.now = true;
    await expect(device.step()).rejects.toThrow("the WebGPU device was lost");
    expect(device.steps()).toBe(1);
    failing.now = false;
    const cpu = createSession(config, taskFor(config, data));
    expect([first, await device.step()]).toEqual([cpu.step(), cpu.step()]);
  });
});
