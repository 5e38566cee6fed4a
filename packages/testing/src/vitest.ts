/**
 * Registers `toBeAllClose` with vitest and declares it on vitest's `Assertion` type.
 *
 * Import it once from a setup file (`setupFiles: ["test/setup.ts"]`):
 *
 *     import "@rewind/testing/vitest";
 *
 * The rest of @rewind/testing does not import vitest, so it works with any runner.
 *
 * @module @rewind/testing/vitest
 */
import { expect } from "vitest";
import type { CloseOptions } from "./allClose.js";
import { toBeAllClose } from "./matchers.js";

expect.extend({ toBeAllClose });

declare module "vitest" {
  // The type parameter must match vitest's declaration (`T = any`) for the interfaces to merge.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unused-vars
  interface Assertion<T = any> {
    /**
     * The received tensor, number, nested array or pytree is elementwise close to `expected`
     * (|a − b| ≤ atol + rtol·|b|; defaults rtol 1e-5, atol 1e-8).
     * @example expect(grad(f)(x)).toBeAllClose(tensor([2, 4], "float64"), { rtol: 1e-9 })
     */
    toBeAllClose(expected: unknown, opts?: CloseOptions): void;
  }
  interface AsymmetricMatchersContaining {
    /**
     * Asymmetric form: matches a value elementwise close to `expected`.
     * @example expect({ g }).toEqual({ g: expect.toBeAllClose(tensor([2, 4], "float64")) })
     */
    toBeAllClose(expected: unknown, opts?: CloseOptions): unknown;
  }
}
