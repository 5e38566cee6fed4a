/**
 * @file The DP-SGD privacy accountant (examples/shared/rdp.ts) against published values.
 *
 * Source: TensorFlow Privacy, tutorials/README.md ("Expected Output" and "Select Parameters"):
 * MNIST, N = 60,000, batches of 256, δ = 1e-5, steps = epochs · 60000 // 256, ε from its RDP
 * accountant. Ours tries integer orders only, so it may be a little larger (never smaller by
 * more than the table's rounding): each check allows −0.005 (2-decimal rounding) and +1%.
 */
import { describe, expect, it } from "vitest";
import { dpSgdEpsilon, rdpSampledGaussian } from "../examples/shared/rdp.js";

const mnist = (sigma: number, epochs: number): number =>
  dpSgdEpsilon({ q: 256 / 60000, sigma, steps: Math.floor((epochs * 60000) / 256), delta: 1e-5 }).epsilon;

describe("RDP accountant for DP-SGD", () => {
  const published: ReadonlyArray<readonly [sigma: number, epochs: number, epsilon: number]> = [
    [1.12, 60, 2.92], // the tutorial's default run, and the table's first row
    [0.6, 30, 9.74],
    [1.2, 10, 1.2],
    [1.12, 1, 1.0], // "Test accuracy after 1 epochs ... epsilon is: 1.00"
    [1.12, 2, 1.04],
  ];
  for (const [sigma, epochs, epsilon] of published) {
    it(`σ ${sigma}, ${epochs} epochs of MNIST at q 256/60000: ε ${epsilon} (TF Privacy tutorials)`, () => {
      const ours = mnist(sigma, epochs);
      expect(ours).toBeGreaterThanOrEqual(epsilon - 0.005);
      expect(ours).toBeLessThanOrEqual(epsilon * 1.01);
    });
  }
  it("q = 1 is the Gaussian mechanism: ε_α = α / (2σ²) (Mironov 2017, the Gaussian mechanism)", () => {
    expect(rdpSampledGaussian(1, 2, 8)).toBeCloseTo(1, 12);
  });
  it("refuses a fractional order, a q outside (0, 1] and a non-positive σ, naming the argument", () => {
    expect(() => rdpSampledGaussian(0.1, 1, 2.5)).toThrow(/alpha/);
    expect(() => rdpSampledGaussian(0, 1, 2)).toThrow(/q must/);
    expect(() => rdpSampledGaussian(0.1, 0, 2)).toThrow(/sigma/);
  });
});
