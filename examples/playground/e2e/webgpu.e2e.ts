/**
 * @file The playground's WebGPU device, end to end in headless Chromium with WebGPU on the CPU
 * through SwiftShader (`WEBGPU_ARGS`): the training worker finds the adapter and the page offers
 * "WebGPU" beside "CPU"; the names task, trained a fixed number of steps from the same seed on the
 * CPU and then on WebGPU, gives the same per-step losses within float32 tolerance, and both fall;
 * the page shows the device the session used and the steps/s measured on each device. The page is
 * served without the isolation headers, so the CPU run is one thread (the WebGPU run always is).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { safetensors } from "@rewind/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactsDir, openPlayground, waitForState, type Harness } from "./harness.ts";

const WAIT = { timeout: 90_000 };
/** Steps per run, the same on both devices: SwiftShader runs the kernels on the CPU, ~3 steps/s here. */
const STEPS = 16;
/**
 * How far a WebGPU step's loss may be from the CPU's, relative to it. Both run float32 on the same
 * batches from the same parameters; the device sums in other orders and its `exp`/`log` are not
 * correctly rounded (a few ulp, ~1e-7 each), and a loss averages ~10³ such terms (32 names of up to
 * 16 steps, each a logSumExp over 55 characters) — the float32 tolerance of packages/webgpu's
 * README, with room for the parameters to drift apart over the steps. A different computation (a
 * missing step, another batch) moves the loss by ~1e-2.
 */
const TOLERANCE = 1e-4;
let h: Harness;

beforeAll(async () => {
  mkdirSync(artifactsDir, { recursive: true });
  h = await openPlayground({ webgpu: true, isolated: false });
});
afterAll(async () => {
  await h?.close();
});

/** Starts training, waits for `STEPS` steps on the chart, pauses; the first `STEPS` losses. */
const trainSteps = async (): Promise<number[]> => {
  await h.page.click("#start");
  await h.page.waitForFunction((n) => Number(document.getElementById("loss-chart")?.dataset["steps"]) >= n, STEPS, {
    ...WAIT,
    polling: 100,
  });
  await h.page.click("#start");
  await waitForState(h.page, "paused");
  const first = (await h.page.getAttribute("#loss-chart", "data-first-losses")) ?? "";
  return first.split(",").slice(0, STEPS).map(Number);
};

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the playground on WebGPU (SwiftShader)", () => {
  it("offers WebGPU beside CPU, naming the adapter the worker found", async () => {
    await waitForState(h.page, "idle");
    await h.page.waitForSelector('#device[data-webgpu="available"]', WAIT);
    expect(await h.page.getAttribute("#device", "data-adapter")).toMatch(/swiftshader/i);
    expect(await h.page.$eval('#device option[value="webgpu"]', (o) => (o as HTMLOptionElement).disabled)).toBe(false);
    expect(await h.page.inputValue("#device")).toBe("cpu");
    expect(await h.page.getAttribute("#workers", "data-device")).toBe("cpu");
  });

  it("trains the names task on the CPU and on WebGPU from one seed: the same losses, falling; steps/s for both", async () => {
    const started = performance.now();
    await h.page.selectOption("#hidden", "8");
    await waitForState(h.page, "idle");
    await h.page.selectOption("#cell", "rnn");
    await waitForState(h.page, "idle");
    const cpu = await trainSteps();

    await h.page.selectOption("#device", "webgpu");
    await waitForState(h.page, "idle");
    expect(await h.page.getAttribute("#workers", "data-device")).toBe("webgpu");
    expect(await h.page.textContent("#workers")).toMatch(/^WebGPU: .*swiftshader/i);
    expect(await h.page.getAttribute("#loss-chart", "data-steps")).toBe("0");
    const gpu = await trainSteps();
    // A save and the preview posted on pause read the parameters back from the device, each after
    // the step that was in flight when the pause came (reads and steps run in the order called).
    const [download] = await Promise.all([h.page.waitForEvent("download", WAIT), h.page.click("#save")]);
    const saved = join(artifactsDir, `webgpu-${download.suggestedFilename()}`);
    await download.saveAs(saved);
    const file = safetensors.decode(new Uint8Array(readFileSync(saved)));
    if (E.isLeft(file)) throw new Error(`the download is not a safetensors file: ${JSON.stringify(file.left)}`);
    const steps = await h.page.getAttribute("#steps", "data-steps");
    expect(Number(steps)).toBeGreaterThanOrEqual(STEPS);
    expect(Object.fromEntries(file.right.metadata)).toMatchObject({ cell: "rnn", hidden: "8", step: steps });
    await h.page.waitForFunction((n) => document.getElementById("preview")?.dataset["step"] === n, steps, WAIT);
    expect(await h.page.locator("#samples li").count()).toBe(10);
    expect(file.right.tensors.get("cell.weight_hh")?.shape).toEqual([8, 8]);
    for (const [name, t] of file.right.tensors) expect(t.data.every(Number.isFinite), name).toBe(true);
    // Back on the CPU: a new session from the seed; the rates measured on both devices stay shown.
    await h.page.selectOption("#device", "cpu");
    await waitForState(h.page, "idle");
    expect(await h.page.getAttribute("#workers", "data-device")).toBe("cpu");
    const speeds = (await h.page.textContent("#device-speeds")) ?? "";
    const cpuSpeed = Number(await h.page.getAttribute("#device-speeds", "data-cpu"));
    const gpuSpeed = Number(await h.page.getAttribute("#device-speeds", "data-webgpu"));
    const worst = Math.max(...gpu.map((g, i) => relative(g, cpu[i]!)));
    console.info(
      `names RNN 8, ${STEPS} steps: ${speeds}; largest relative loss difference ${worst.toExponential(2)}; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(gpu).toHaveLength(STEPS);
    gpu.forEach((g, i) =>
      expect(relative(g, cpu[i]!), `step ${i}: WebGPU ${g}, CPU ${cpu[i]}`).toBeLessThan(TOLERANCE),
    );
    // Both learn: the last quarter's mean loss is below the first quarter's.
    for (const losses of [cpu, gpu])
      expect(mean(losses.slice(-STEPS / 4))).toBeLessThan(mean(losses.slice(0, STEPS / 4)));
    // The device computed them: the CPU's float32 program gives the same bits on every run (a run is
    // a pure function of its configuration), so a WebGPU session that fell back to it would too.
    expect(gpu).not.toEqual(cpu);
    expect(speeds).toMatch(/^CPU \d+\.\d steps\/s · WebGPU \d+\.\d steps\/s$/);
    // SwiftShader runs every kernel launch on the CPU: the device's rate is far below the CPU's.
    expect(gpuSpeed).toBeGreaterThan(0);
    expect(gpuSpeed).toBeLessThan(cpuSpeed);
    await h.page.locator(".controls").screenshot({ path: join(artifactsDir, "webgpu.png") });
    expect(h.problems).toEqual([]);
    expect(h.warnings).toEqual([]);
    expect(h.outside).toEqual([]);
  });
});
