/**
 * @file Eager many-to-one at T = 5,000 keeps what the remat estimate promises (issue 18): before,
 * `manyToOne` stacked every step's output `[T, B, H]` and the gradient kept that stack alive, so
 * under a checkpointing policy it held several times `estimateScanResiduals`; now the last valid
 * output rides in the scan carry. Measured by long-sequences.child.ts in a fresh process (live
 * bytes after the forward pass of `vjp`, sampled on the library's own allocations), not timed.
 *
 * Sizes: `{ every: 5 }` stores one carry per 5 steps, 2 MB here (batch 32, 8 hidden), the
 * estimate of the plain LSTM scan. The carried output adds half a carry per segment (y_t is h_t's
 * size), so about 1.5× the estimate plus the interpreter's T-independent working memory (0.1–0.45
 * MB); the former stack (5000 · 32 · 8 · 4 bytes = 5.1 MB) put it at 3.6×.
 */
import { describe, expect, it } from "vitest";
import { measure } from "./long-sequences.figures.js";

const LENGTH = 5000;

describe("eager manyToOne memory at T = 5,000", () => {
  it("held between the passes is within 2× of estimateScanResiduals under { every: 5 }", async () => {
    const r = await measure({ every: 5 }, LENGTH, false, { loss: "manyToOne", batch: 32, forwardOnly: true });
    const held = r.held ?? NaN;
    const report = `held ${(held / 1e6).toFixed(2)} MB, estimate ${(r.scanEstimate / 1e6).toFixed(2)} MB`;
    // The estimate is of the real carries (T/5 LSTM carries of [32, 8] float32 h and c)...
    expect(r.scanEstimate, report).toBe((LENGTH / 5) * 2 * 32 * 8 * 4);
    // ...the measurement sees them (it is not reading nothing)...
    expect(held, report).toBeGreaterThanOrEqual(0.9 * r.scanEstimate);
    // ...and nothing [T, B, H] is kept on top.
    expect(held, report).toBeLessThanOrEqual(2 * r.scanEstimate);
  }, 60_000);
});
