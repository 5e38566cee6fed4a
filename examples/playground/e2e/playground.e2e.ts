/**
 * @file The playground, end to end in headless Chromium, served as vite.config.ts serves it
 * (cross-origin isolated, so it trains on two shard workers): the model view draws the traced graphs
 * (a forward scan holding the cell step; the gradient adds a reverse scan), training the names
 * model makes the loss fall and samples appear, pause/resume/reset work, weights go out as a
 * safetensors download and come back in (and bad files are refused with a clear message), the
 * sine forecaster draws its forecast, and nothing logged an error or left localhost. Every wait
 * is on a condition, with generous timeouts for a loaded 2-core machine.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { safetensors, zeros } from "@rewind/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  artifactsDir,
  openPlayground,
  waitForLossToFall as waitForLossToFallOn,
  waitForState as waitForStateOn,
  workersShown,
  type Harness,
} from "./harness.ts";

let h: Harness;
const WAIT = { timeout: 90_000 };

const waitForState = (state: string): Promise<unknown> => waitForStateOn(h.page, state);
const waitForLossToFall = (steps: number, fraction: number): Promise<unknown> =>
  waitForLossToFallOn(h.page, steps, fraction);

const text = async (selector: string): Promise<string> => (await h.page.textContent(selector)) ?? "";
const stepsShown = async (): Promise<number> => Number(await h.page.getAttribute("#steps", "data-steps"));

beforeAll(async () => {
  mkdirSync(artifactsDir, { recursive: true });
  h = await openPlayground();
});
afterAll(async () => {
  await h?.close();
});

describe("the playground in Chromium", () => {
  it("is cross-origin isolated by the preview server's headers and trains on two shard workers", async () => {
    await waitForState("idle");
    for (const url of [h.url, ...h.page.workers().map((w) => w.url())]) {
      const response = await h.page.request.get(url);
      expect(response.headers()["cross-origin-opener-policy"], url).toBe("same-origin");
      expect(response.headers()["cross-origin-embedder-policy"], url).toBe("require-corp");
    }
    expect(await h.page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await workersShown(h.page)).toBe(2);
    expect(await text("#workers")).toBe("2 workers");
  });

  it("offers WebGPU disabled, saying why, where Chromium runs with --disable-gpu (no adapter)", async () => {
    await h.page.waitForSelector('#device[data-webgpu="unavailable"]', WAIT);
    expect(await h.page.$eval('#device option[value="webgpu"]', (o) => (o as HTMLOptionElement).disabled)).toBe(true);
    expect(await h.page.inputValue("#device")).toBe("cpu");
    expect(await text("#device-note")).toMatch(/^WebGPU is unavailable: .*(found no adapter|has no WebGPU)/);
  });

  it("draws the traced loss and gradient, with the scan body nested and a reverse scan in the gradient", async () => {
    await waitForState("idle");
    const forward = h.page.locator("#graph-forward svg");
    await forward.waitFor({ state: "visible", ...WAIT });
    // The loss: one forward scan whose body (the cell step: h·W_hh, the gates) is drawn inside it.
    expect(await h.page.locator('#graph-forward g.scan[data-reverse="false"]').count()).toBe(1);
    expect(await h.page.locator("#graph-forward g.scan g.node[data-op='matmul']").count()).toBeGreaterThanOrEqual(1);
    expect(
      await h.page
        .locator("#graph-forward g.scan g.node[data-op='sigmoid'], #graph-forward g.scan g.node[data-op='tanh']")
        .count(),
    ).toBeGreaterThanOrEqual(1);
    expect(await h.page.locator('#graph-forward g.scan[data-reverse="true"]').count()).toBe(0);
    const box = await forward.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(200);

    await h.page.click("#tab-gradient");
    const reverse = h.page.locator('#graph-gradient g.scan[data-reverse="true"]');
    await reverse.first().waitFor({ state: "visible", ...WAIT });
    expect(await reverse.count()).toBe(1);
    expect(await h.page.locator('#graph-gradient g.scan[data-reverse="false"]').count()).toBe(1);
    // The reverse scan's body is the cell step's VJP: the cotangent of h goes back through W_hh.
    expect(
      await h.page.locator('#graph-gradient g.scan[data-reverse="true"] g.node[data-op="matmul"]').count(),
    ).toBeGreaterThanOrEqual(1);
    expect(await text("#graph-gradient g.scan[data-reverse='true'] > text")).toContain("reverse=true");
    expect(await text("#model-caption")).toContain("1 forward scan and 1 reverse scan");
    await h.page.locator(".model-card").screenshot({ path: join(artifactsDir, "gradient.png") });

    // The same graphs as printGraph text.
    await h.page.check("#as-text");
    expect(await text("#graph-gradient pre")).toMatch(/scan\[length=\d+ reverse=true/);
    await h.page.uncheck("#as-text");
    await h.page.click("#tab-forward");
  });

  it("trains the names model: the loss falls, steps per second are shown, and sampled names appear", async () => {
    expect(await h.page.inputValue("#task")).toBe("names");
    await h.page.click("#start");
    await waitForState("running");
    await waitForLossToFall(20, 0.8);
    expect(await stepsShown()).toBeGreaterThanOrEqual(20);
    expect(Number(await text("#speed"))).toBeGreaterThan(0);
    console.info(`names GRU 32 on ${await workersShown(h.page)} workers: ${await text("#speed")} steps/s`);
    // The training worker and, nested in it, the two shard workers it started for the first step.
    const scripts = h.page.workers().map((w) => new URL(w.url()).pathname.replace(/-[\w-]+\.js$/, ""));
    expect(scripts.sort()).toEqual(["/assets/shard.worker", "/assets/shard.worker", "/assets/worker"]);
    // A preview from a trained step: ten sampled names.
    await h.page.waitForFunction(
      () => Number(document.getElementById("preview")?.dataset["step"]) > 0,
      undefined,
      WAIT,
    );
    const names = await h.page.locator("#samples li").allTextContents();
    expect(names).toHaveLength(10);
    expect(names.every((n) => /^[A-Za-z'-]*( \*)?$/.test(n))).toBe(true);
    expect(names.some((n) => n.replace(" *", "").length > 0)).toBe(true);
    await h.page.screenshot({ path: join(artifactsDir, "playground.png"), fullPage: true });
  });

  it("pauses, resumes and resets", async () => {
    await h.page.click("#start"); // Pause
    await waitForState("paused");
    const paused = await stepsShown();
    expect(await text("#start")).toBe("Resume");
    await h.page.click("#start");
    await waitForState("running");
    await h.page.waitForFunction((n) => Number(document.getElementById("steps")?.dataset["steps"]) > n, paused, WAIT);
    await h.page.click("#start");
    await waitForState("paused");
    await h.page.click("#reset");
    await h.page.waitForFunction(
      () =>
        document.getElementById("steps")?.dataset["steps"] === "0" &&
        document.getElementById("loss-chart")?.dataset["steps"] === "0",
      undefined,
      WAIT,
    );
    await waitForState("idle");
  });

  it("saves the weights as safetensors and loads them back; a bad file gets a clear error", async () => {
    await h.page.click("#start");
    await h.page.waitForFunction(
      () => Number(document.getElementById("steps")?.dataset["steps"]) >= 5,
      undefined,
      WAIT,
    );
    await h.page.click("#start");
    await waitForState("paused");
    const [download] = await Promise.all([h.page.waitForEvent("download", WAIT), h.page.click("#save")]);
    const saved = join(artifactsDir, download.suggestedFilename());
    await download.saveAs(saved);
    const file = safetensors.decode(new Uint8Array(readFileSync(saved)));
    if (E.isLeft(file)) throw new Error(`the download is not a safetensors file: ${JSON.stringify(file.left)}`);
    expect([...file.right.tensors.keys()].sort()).toEqual([
      "cell.bias_hh",
      "cell.bias_ih",
      "cell.weight_hh",
      "cell.weight_ih",
      "embed.weight",
      "readout.bias",
      "readout.weight",
    ]);
    // GRU: three gates of 32 hidden units; the embedding is 16 wide.
    expect(file.right.tensors.get("cell.weight_hh")?.shape).toEqual([96, 32]);
    expect(file.right.tensors.get("cell.weight_ih")?.shape).toEqual([96, 16]);
    expect(Object.fromEntries(file.right.metadata)).toMatchObject({ task: "names", cell: "gru", hidden: "32" });

    // Switch to another model, then load the file: the page returns to the file's model.
    await h.page.selectOption("#cell", "lstm");
    await waitForState("idle");
    await h.page.setInputFiles("#load", saved);
    await h.page.waitForSelector("#message.info", WAIT);
    expect(await text("#message")).toContain("Loaded");
    expect(await h.page.inputValue("#cell")).toBe("gru");
    expect(await stepsShown()).toBe(Number(file.right.metadata.get("step")));

    await h.page.setInputFiles("#load", {
      name: "notes.safetensors",
      mimeType: "application/octet-stream",
      buffer: Buffer.from("these are not weights"),
    });
    await h.page.waitForSelector("#message.error", WAIT);
    expect(await text("#message")).toMatch(/Could not load notes\.safetensors: not a safetensors file/);

    // A real safetensors file whose tensors do not fit the model it names.
    const wrong = safetensors.encode(
      { "cell.weight_ih": zeros([3, 3]) },
      { "rewind.playground": "1", task: "names", cell: "gru", hidden: "32", seed: "0", step: "0" },
    );
    await h.page.setInputFiles("#load", {
      name: "wrong.safetensors",
      mimeType: "application/octet-stream",
      buffer: Buffer.from(wrong),
    });
    await h.page.waitForFunction(
      () => document.getElementById("message")?.textContent?.includes("wrong.safetensors") === true,
      undefined,
      WAIT,
    );
    const message = await text("#message");
    expect(message).toContain("the weights do not fit the model");
    expect(message).toContain("cell.weight_ih is float32 [3, 3], the model needs float32 [96, 16]");
    expect(message).toContain("missing cell.weight_hh");
  });

  it("forecasts sine waves: the error falls and the forecast is drawn", async () => {
    await h.page.selectOption("#task", "sine");
    await waitForState("idle");
    await h.page.click("#start");
    await waitForLossToFall(30, 0.5);
    await h.page.waitForFunction(
      () =>
        document.getElementById("preview")?.dataset["kind"] === "forecast" &&
        Number(document.getElementById("preview")?.dataset["step"]) > 0,
      undefined,
      WAIT,
    );
    for (const series of ["truth", "teacher", "free"]) {
      expect((await h.page.getAttribute(`#preview path.${series}`, "d"))?.length ?? 0, series).toBeGreaterThan(100);
    }
    await h.page.click("#start");
    await waitForState("paused");
    await h.page.screenshot({ path: join(artifactsDir, "sine.png"), fullPage: true });
  });

  it("logged no console error or warning and fetched nothing from outside localhost", () => {
    expect(h.problems).toEqual([]);
    // Served without a Content-Security-Policy, the engine generates code: no fallback warning.
    expect(h.warnings).toEqual([]);
    expect(h.outside).toEqual([]);
  });
});
