/**
 * @file randomSample on the device against the CPU: Threefry's words bit for bit (`bits`), bernoulli
 * exactly (an integer comparison, never a float), uniform and normal within the float32 tolerance;
 * one key and many (split on the CPU, drawn on the device), and a dropout mask inside a gradient.
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { random } from "@rewind/tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { compileProgram } from "../../src/compile.js";
import { loweringTable } from "../../src/table.js";
import { RANDOM_COVERED } from "./coverage.js";
import { compare, RUNS, seen } from "./helpers.js";

const keyOf = (seed: number) => A.random.keyData(random.key(seed));

describe("random samples on the device", () => {
  it("bits and bernoulli are the CPU's exactly, uniform and normal within the tolerance", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(0, 1, 0.3, 0.5, 1e-9, 1 - 2 ** -40),
        async (seed, p) => {
          const k = keyOf(seed);
          await compare((key: Value) => [A.random.bits(key, [5, 7]), A.random.bernoulli(key, p, [300])], [k], {
            exact: true,
          });
          await compare(
            (key: Value) => [
              A.random.uniform(key, [64]),
              A.random.uniform(key, [3, 4], { min: -3, max: 5 }),
              A.random.normal(key, [200]),
            ],
            [k],
            { scale: 8 },
          );
        },
      ),
      RUNS,
    );
  });

  it("bernoulli at the edge: p equal to the sample's own 53-bit uniform gives false, one step above true", async () => {
    const k = keyOf(11);
    const first = (p: number) => random.bernoulli(random.key(11), p, [1]).data[0] === 1;
    // The smallest t with first(t / 2⁵³) true is the sample's integer X + 1 (found on the CPU).
    let [lo, hi] = [0, 2 ** 53];
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (first(mid / 2 ** 53)) hi = mid;
      else lo = mid;
    }
    for (const t of [lo, hi])
      await compare((key: Value) => A.random.bernoulli(key, t / 2 ** 53, [1]), [k], { exact: true });
  });

  it("draws from many keys at once (split on the CPU), and a dropout mask inside a gradient", async () => {
    const k = keyOf(7);
    const many = (key: Value) =>
      A.vmap((kk: Value) => [A.random.bits(kk, [3]), A.random.normal(kk, [2, 2])])(A.random.split(key, 5));
    await compare(many, [k], { scale: 8 });
    const x = random.normal(random.key(1), [6, 8]);
    const loss = (w: Value, key: Value) => {
      const keep = A.random.bernoulli(A.random.foldIn(key, 3), 0.8, [6, 8]);
      return A.sum(A.square(A.where(keep, A.div(A.mul(w, x), 0.8), 0)));
    };
    const w = random.normal(random.key(2), [6, 8]);
    await compare(A.grad(loss), [w, k], { terms: 2, scale: 8 });
    // The samples are drawn by a kernel; only the key work (split, foldIn) runs on the CPU.
    const steps = compileProgram(loweringTable, A.makeGraph(A.grad(loss), { optimize: true })(w, k), {
      host: [false, false],
    }).steps.map((s) => (s.kind === "cpu" ? `cpu:${s.eqn.prim.name}` : s.kind));
    expect(steps.filter((s) => s.startsWith("cpu:"))).toEqual(["cpu:keyFoldIn"]);
  });
});

afterAll(() => {
  for (const p of RANDOM_COVERED) expect(seen, p).toContain(p);
});
