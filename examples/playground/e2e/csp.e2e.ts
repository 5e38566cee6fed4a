/**
 * @file The playground under a strict Content-Security-Policy, end to end in headless Chromium:
 * every file is served with `script-src 'self'` — no 'unsafe-eval', no 'wasm-unsafe-eval' — so
 * the page and its training worker (whose CSP is the one of its own script's response) may
 * neither build a function from a string nor compile WebAssembly. Training the names model must
 * still make the loss fall, through the interpreter and the JavaScript kernels, with exactly one
 * console warning that names both refusals and no console error. The page is served without the
 * COOP and COEP headers, so one thread trains (workers.e2e.ts runs the shard workers under the
 * same policy).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPlayground, waitForLossToFall, waitForState, workersShown, type Harness } from "./harness.ts";

const CSP = "script-src 'self'";
const WAIT = { timeout: 90_000 };
let h: Harness;

beforeAll(async () => {
  h = await openPlayground({ headers: { "Content-Security-Policy": CSP }, isolated: false });
});
afterAll(async () => {
  await h?.close();
});

describe("the playground under Content-Security-Policy: script-src 'self'", () => {
  it("serves the page and the worker's script with the policy", async () => {
    await waitForState(h.page, "idle");
    const worker = h.page.workers()[0];
    expect(worker, "the training worker is running").toBeDefined();
    for (const url of [h.url, worker!.url()]) {
      const response = await h.page.request.get(url);
      expect(response.headers()["content-security-policy"], url).toBe(CSP);
    }
  });

  it("trains the names model: the loss falls and sampled names appear", async () => {
    expect(await h.page.inputValue("#task")).toBe("names");
    expect(await workersShown(h.page)).toBe(1);
    await h.page.click("#start");
    await waitForState(h.page, "running");
    await waitForLossToFall(h.page, 20, 0.8);
    await h.page.waitForFunction(
      () => Number(document.getElementById("preview")?.dataset["step"]) > 0,
      undefined,
      WAIT,
    );
    expect(await h.page.locator("#samples li").count()).toBe(10);
    await h.page.click("#start");
    await waitForState(h.page, "paused");
  });

  it("the policy really refuses both kinds of code generation in the worker, with violation events", async () => {
    // DevTools lifts the eval ban while it evaluates, so the attempts run from a timer, after the
    // evaluation, as the worker's own code; the worker's securitypolicyviolation events are recorded.
    const seen = await h.page.workers()[0]!.evaluate(
      () =>
        new Promise<{ readonly eval: string; readonly wasm: string; readonly violations: readonly string[] }>(
          (resolve) => {
            const violations: string[] = [];
            self.addEventListener("securitypolicyviolation", (e) =>
              violations.push(`${e.effectiveDirective} ${e.blockedURI}`),
            );
            const attempt = (f: () => unknown): string => {
              try {
                f();
                return "allowed";
              } catch (e) {
                return (e as Error).name;
              }
            };
            setTimeout(() => {
              const result = {
                // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the page's CSP must block exactly this
                eval: attempt(() => new Function("return 1")),
                wasm: attempt(() => new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0))),
              };
              // Violation events are queued: read them on the next turn.
              setTimeout(() => resolve({ ...result, violations }), 50);
            }, 0);
          },
        ),
    );
    expect(seen.eval).toBe("EvalError");
    expect(seen.wasm).toBe("CompileError");
    expect(seen.violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^script-src eval$/),
        expect.stringMatching(/^script-src wasm-eval$/),
      ]),
    );
  });

  it("warned exactly once, naming both refusals and the opt-outs; logged no error; fetched nothing from outside", () => {
    expect(h.warnings).toHaveLength(1);
    const warning = h.warnings[0]!;
    expect(warning).toMatch(
      /^Rewind: this engine forbids generating JavaScript from strings \(a Content-Security-Policy without 'unsafe-eval'/,
    );
    expect(warning).toContain("compiling WebAssembly (a Content-Security-Policy without 'wasm-unsafe-eval')");
    expect(warning).toContain("jit runs its graphs with the interpreter");
    expect(warning).toContain('setJitMode("interpret")');
    expect(h.problems).toEqual([]);
    expect(h.outside).toEqual([]);
  });
});
