/**
 * @file Isotonic regression (the layout's placement step) against exhaustive checks of its two
 * defining properties: the fit is non-decreasing, and no non-decreasing sequence is closer.
 */
import { describe, expect, it } from "vitest";
import { isotonic } from "../src/graph/isotonic.js";

const cost = (fit: readonly number[], values: readonly number[], weights: readonly number[]): number =>
  fit.reduce((s, f, i) => s + weights[i]! * (f - values[i]!) ** 2, 0);

describe("isotonic", () => {
  it("keeps a sorted sequence and pools a violating pair at its weighted mean", () => {
    expect(isotonic([1, 2, 3], [1, 1, 1])).toEqual([1, 2, 3]);
    expect(isotonic([1, 3, 2, 4], [1, 1, 1, 1])).toEqual([1, 2.5, 2.5, 4]);
    expect(isotonic([3, 0], [3, 1])).toEqual([2.25, 2.25]);
    expect(isotonic([], [])).toEqual([]);
  });

  it("is non-decreasing and no worse than any non-decreasing sequence on a grid (random inputs)", () => {
    // A small deterministic generator, so the cases are the same on every run.
    let state = 12345;
    const next = (): number => ((state = (state * 1103515245 + 12345) % 2147483648), state / 2147483648);
    for (let c = 0; c < 200; c++) {
      const n = 1 + Math.floor(next() * 4);
      const values = Array.from({ length: n }, () => Math.round(next() * 8) / 2);
      const weights = Array.from({ length: n }, () => 0.5 + Math.round(next() * 3) / 2);
      const fit = isotonic(values, weights);
      fit.slice(1).forEach((f, i) => expect(f).toBeGreaterThanOrEqual(fit[i]! - 1e-12));
      // Every non-decreasing sequence with entries on a 0.25 grid over [0, 4].
      const grid = Array.from({ length: 17 }, (_, i) => i / 4);
      const best = (prefix: number[]): number =>
        prefix.length === n
          ? cost(prefix, values, weights)
          : Math.min(
              ...grid.filter((g) => g >= (prefix[prefix.length - 1] ?? -Infinity)).map((g) => best([...prefix, g])),
            );
      expect(cost(fit, values, weights)).toBeLessThanOrEqual(best([]) + 1e-9);
    }
  });
});
