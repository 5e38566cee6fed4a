/**
 * @file Random whole programs (the autodiff package's generator, randomPrograms.ts: views,
 * products, reductions, softmaxes, pads, gathers and scatter-adds at int32 positions, cumulative
 * sums, scans, associative scans over changing shapes) jitted on the device against the CPU,
 * float32.
 *
 * A program chains up to eight ops, so its error is not one op's: each output element is compared
 * within 1e-4 of the output's largest magnitude (the per-op tolerance, helpers.ts, times the
 * depth, with room). Left out: float64 round trips (the device computes float32 only, a clear
 * error tested in api.browser.ts), and the two ops whose value jumps, argmax and `where` on a
 * comparison, where a last-bit difference upstream may pick another element.
 */
import * as A from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbSteps, program } from "../../../autodiff/test/randomPrograms.js";
import { readTree } from "../../src/index.js";
import { floats, gpuOnce, ints, RUNS } from "./helpers.js";

const continuous = arbSteps.map((steps) =>
  steps.map((s) => (["astype", "argmaxOneHot", "where"].includes(s.kind) ? { ...s, kind: "unary" as const } : s)),
);

/**
 * Inputs x [r, c], w [c, k], b [c] of float32 values in [−3, 3] without subnormals, and int32
 * positions [m] in [−7, 7] for the program's gathers and scatters.
 */
const inputs = fc
  .tuple(
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 4 }),
  )
  .chain(([r, c, k, m]) =>
    fc.tuple(floats([r, c], -3, 3), floats([c, k], -3, 3), floats([c], -3, 3), ints([m], -7, 7)),
  );

describe("random programs on the device", () => {
  it("jit on the device computes what the CPU does, within the tolerance of a chain", async () => {
    const gpu = await gpuOnce();
    await fc.assert(
      fc.asyncProperty(continuous, inputs, async (steps, xs) => {
        const f = program(steps);
        const cpu = A.treeLeaves(A.jit(f, { compile: false })(...xs)) as Tensor[];
        const dev = A.treeLeaves(await readTree(await A.jit(f, { backend: gpu })(...xs))) as Tensor[];
        expect(dev.length).toBe(cpu.length);
        cpu.forEach((c, i) => {
          const d = dev[i]!;
          expect([d.dtype, d.shape]).toEqual([c.dtype, c.shape]);
          const scale = Array.from(c.data).reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
          c.data.forEach((want, k) => {
            const got = d.data[k]!;
            const ok =
              Object.is(got, want) ||
              (Number.isNaN(got) && Number.isNaN(want)) ||
              (Number.isFinite(want) && Math.abs(got - want) <= 1e-4 * Math.max(1, scale));
            if (!ok) expect.fail(`output ${i} element ${k}: device ${got}, CPU ${want} (scale ${scale})`);
          });
        });
      }),
      { ...RUNS, numRuns: 30 },
    );
  });
});
