/**
 * @file How many workers train, end to end in headless Chromium (playground.e2e.ts covers the
 * cross-origin isolated page served as vite.config.ts serves it: two shard workers). Served
 * without the COOP and COEP headers, the page is not cross-origin isolated and trains on one
 * thread; served with them under a strict Content-Security-Policy (no 'unsafe-eval', no
 * 'wasm-unsafe-eval'), the two shard workers still train, through the interpreter and the
 * JavaScript kernels, each thread warning once; and when the shard workers' script does not load,
 * the training worker says so once and trains on its own thread. The loss falls in all three.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openPlayground, waitForLossToFall, waitForState, workersShown, type Harness } from "./harness.ts";

const opened: Harness[] = [];
afterAll(async () => {
  await Promise.all(opened.map((h) => h.close()));
});

/** Starts the names model and waits for its loss to fall, then pauses; returns the steps/s shown. */
const trainNames = async (h: Harness): Promise<string> => {
  expect(await h.page.inputValue("#task")).toBe("names");
  await h.page.click("#start");
  await waitForLossToFall(h.page, 20, 0.8);
  const speed = (await h.page.textContent("#speed")) ?? "";
  await h.page.click("#start");
  await waitForState(h.page, "paused");
  return speed;
};

/** The workers' scripts without their content hashes, sorted. */
const workerScripts = (h: Harness): string[] =>
  h.page
    .workers()
    .map((w) => new URL(w.url()).pathname.replace(/-[\w-]+\.js$/, ""))
    .sort();

describe("the playground without cross-origin isolation", () => {
  it("trains on one worker and the loss falls", async () => {
    const h = await openPlayground({ isolated: false });
    opened.push(h);
    await waitForState(h.page, "idle");
    expect(await h.page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await workersShown(h.page)).toBe(1);
    expect(await h.page.textContent("#workers")).toBe("1 worker");
    const speed = await trainNames(h);
    console.info(`names GRU 32 on 1 worker (not isolated): ${speed} steps/s`);
    expect(workerScripts(h)).toEqual(["/assets/worker"]);
    expect(h.problems).toEqual([]);
    expect(h.warnings).toEqual([]);
  });
});

describe("the playground cross-origin isolated under Content-Security-Policy: script-src 'self'", () => {
  it("trains on two shard workers that interpret; every thread warns once; the loss falls", async () => {
    const h = await openPlayground({ headers: { "Content-Security-Policy": "script-src 'self'" }, build: false });
    opened.push(h);
    await waitForState(h.page, "idle");
    expect(await h.page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await workersShown(h.page)).toBe(2);
    const speed = await trainNames(h);
    console.info(`names GRU 32 on 2 workers under a strict CSP (interpreted): ${speed} steps/s`);
    expect(workerScripts(h)).toEqual(["/assets/shard.worker", "/assets/shard.worker", "/assets/worker"]);
    // The training worker and each shard worker is its own realm: each says once that it interprets.
    expect(h.warnings).toHaveLength(3);
    for (const w of h.warnings) {
      expect(w).toMatch(/^Rewind: this engine forbids generating JavaScript from strings/);
      expect(w).toContain("jit runs its graphs with the interpreter");
    }
    expect(h.problems).toEqual([]);
    expect(h.outside).toEqual([]);
  });
});

describe("the playground cross-origin isolated, with the shard workers' script missing", () => {
  it("falls back to one thread, with one warning naming the failure, and the loss falls", async () => {
    const h = await openPlayground({ refuse: "/assets/shard.worker", build: false });
    opened.push(h);
    await waitForState(h.page, "idle");
    expect(await h.page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await workersShown(h.page)).toBe(2);
    expect(await trainNames(h)).not.toBe("");
    expect(await workersShown(h.page)).toBe(1);
    expect(h.warnings).toHaveLength(1);
    expect(h.warnings[0]).toMatch(
      /^Rewind playground: the shard workers failed before their first step \(pmap: worker [01] died .*\); training on one thread instead$/,
    );
    expect(h.problems.filter((p) => !/404/.test(p))).toEqual([]);
  });
});
