/**
 * @file The numerics did not change when counts became tensors. Learning rates and Adam's bias
 * corrections used to be computed on JavaScript numbers and rounded once to the parameters'
 * dtype (a number next to a float32 tensor is weakly typed); now they are computed in the graph
 * in float64 and converted. This file checks, bit for bit, that:
 * - float64 `pow` is JavaScript's `**` (the bias corrections `1 − βᵗ`), eagerly and compiled;
 * - every schedule, by number, by count tensor and under `jit`, equals its formula as the earlier
 *   versions wrote it on numbers;
 * - Adam with a scheduled rate equals the textbook update written here on plain numbers, with
 *   `Math.fround` after every operation in float32.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  adam,
  applyUpdates,
  cosineDecay,
  exponentialDecay,
  joinSchedules,
  linearSchedule,
  linearWarmup,
  warmupCosineDecay,
  type ScheduleFn,
} from "../src/index.js";

const same = (a: number, b: number): boolean => Object.is(a, b);

describe("float64 pow is JavaScript's **", () => {
  test.prop([fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 1_000_000 })])(
    "for decays in [0, 1] and counts up to 10^6, eagerly and compiled",
    (b, from) => {
      const counts = T.arange(from, from + 64, 1, "float64");
      const eager = A.pow(b, counts) as T.Tensor;
      // A new jit per case on purpose (b is a different constant each time): no retrace warning.
      const compiled = A.jit((t: Value) => A.pow(b, t), { warnRetraces: false })(counts);
      for (let i = 0; i < 64; i++) {
        const want = b ** (from + i);
        if (!same(eager.data[i]!, want) || !same(compiled.data[i]!, want))
          expect.fail(`${b} ** ${from + i}: ${want}, eager ${eager.data[i]}, compiled ${compiled.data[i]}`);
      }
    },
  );

  it("for Adam's usual decays over the first 100,000 counts", () => {
    const counts = T.arange(1, 100_001, 1, "float64");
    for (const b of [0.9, 0.99, 0.999, 0.95, 0.5, 0]) {
      const got = (A.pow(b, counts) as T.Tensor).data;
      const j = Array.from(got).findIndex((x, i) => !same(x, b ** (i + 1)));
      expect(j, `${b} ** ${j + 1}`).toBe(-1);
    }
  });
});

/** The formulas as the earlier versions computed them, on JavaScript numbers. */
const FORMULAS: ReadonlyArray<readonly [string, ScheduleFn, (s: number) => number]> = [
  [
    "linearSchedule",
    linearSchedule({ initValue: 0.3, endValue: -1.7, transitionSteps: 7, transitionBegin: 3 }),
    (step) => {
      const t = step - 3;
      if (t <= 0) return 0.3;
      if (t >= 7) return -1.7;
      return 0.3 + (-1.7 - 0.3) * (t / 7);
    },
  ],
  [
    "exponentialDecay",
    exponentialDecay({ initValue: 0.1, transitionSteps: 3, decayRate: 0.7, transitionBegin: 2, endValue: 0.01 }),
    (step) => Math.max(0.1 * 0.7 ** (Math.max(step - 2, 0) / 3), 0.01),
  ],
  [
    "exponentialDecay, staircase, growing",
    exponentialDecay({ initValue: 0.01, transitionSteps: 4, decayRate: 1.3, staircase: true, endValue: 0.05 }),
    (step) => Math.min(0.01 * 1.3 ** Math.floor(Math.max(step, 0) / 4), 0.05),
  ],
  [
    "cosineDecay",
    cosineDecay({ initValue: 3e-3, decaySteps: 17, alpha: 0.1, exponent: 1.5 }),
    (step) => {
      const cosine = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(step, 0), 17)) / 17));
      return 3e-3 * ((1 - 0.1) * cosine ** 1.5 + 0.1);
    },
  ],
  [
    "warmupCosineDecay",
    warmupCosineDecay({ initValue: 1e-4, peakValue: 2e-2, warmupSteps: 5, decaySteps: 30, endValue: 1e-3 }),
    (step) => {
      if (step < 5) return step - 0 <= 0 ? 1e-4 : 1e-4 + (2e-2 - 1e-4) * (step / 5);
      const cosine = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(step - 5, 0), 25)) / 25));
      return 2e-2 * ((1 - 1e-3 / 2e-2) * cosine ** 1 + 1e-3 / 2e-2);
    },
  ],
  [
    "joinSchedules, linearWarmup",
    joinSchedules(
      [
        linearWarmup({ peakValue: 0.5, warmupSteps: 4 }),
        exponentialDecay({ initValue: 0.5, transitionSteps: 2, decayRate: 0.5 }),
      ],
      [9],
    ),
    (step) =>
      step < 9
        ? step <= 0
          ? 0
          : step >= 4
            ? 0.5
            : 0 + (0.5 - 0) * (step / 4)
        : 0.5 * 0.5 ** (Math.max(step - 9, 0) / 2),
  ],
];

describe.each(FORMULAS)("%s equals its formula on numbers, bit for bit", (_, schedule, formula) => {
  const jitted = A.jit((count: Value) => schedule(count));

  it("at counts 0 to 200, by number, by int32 count tensor and under jit", () => {
    for (let s = 0; s <= 200; s++) {
      const want = formula(s);
      const count = T.scalar(s, "int32");
      const got = [schedule(s), T.item(schedule(count) as T.Tensor), T.item(jitted(count))];
      if (!got.every((g) => same(g, want))) expect.fail(`step ${s}: ${want}, got ${got.join(", ")}`);
    }
    expect(jitted.cacheSize()).toBe(1);
  });

  test.prop([fc.double({ min: -10, max: 300, noNaN: true })])("at fractional and negative steps", (s) => {
    expect(schedule(s)).toBe(formula(s));
  });
});

/** Adam (b1 0.9, b2 0.999, eps 1e-8) with lr(t − 1) at 1-based step t, each operation rounded by `r`. */
const adamReference = (r: (x: number) => number, lr: (step: number) => number) => {
  const state = { m: [] as number[], v: [] as number[] };
  return (p: number[], g: readonly number[], t: number): number[] => {
    // Weak typing: each constant is rounded to the dtype once, as T.scalar(c, dtype) does.
    const [b1, b2, c1, c2] = [r(0.9), r(0.999), r(1 - 0.9 ** t), r(1 - 0.999 ** t)];
    const [u1, u2, eps, rate] = [r(1 - 0.9), r(1 - 0.999), r(1e-8), r(-lr(t - 1))];
    return p.map((x, i) => {
      const m = r(r((state.m[i] ?? 0) * b1) + r(g[i]! * u1));
      const v = r(r((state.v[i] ?? 0) * b2) + r(r(g[i]! * g[i]!) * u2));
      [state.m[i], state.v[i]] = [m, v];
      const update = r(r(m / c1) / r(r(Math.sqrt(r(v / c2))) + eps));
      return r(x + r(update * rate));
    });
  };
};

describe.each([
  ["float32", Math.fround],
  ["float64", (x: number) => x],
] as const)("adam with a cosine schedule in %s", (dtype, round) => {
  test.prop([
    fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 4, maxLength: 4 }),
    fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 4, maxLength: 4 }), {
      minLength: 6,
      maxLength: 6,
    }),
  ])("equals the textbook update on numbers, rounded as the dtype rounds, bit for bit", (p0, grads) => {
    const lr = cosineDecay({ initValue: 0.05, decaySteps: 4, alpha: 0.1 });
    const opt = adam({ learningRate: lr });
    const reference = adamReference(round, (s) => lr(s));
    let params = { w: T.fromDataOrThrow(p0, [4], dtype) };
    let state = opt.init(params);
    let want = p0.map(round);
    grads.forEach((g, i) => {
      const [updates, next] = opt.update({ w: T.fromDataOrThrow(g, [4], dtype) }, state, params);
      [params, state] = [applyUpdates(params, updates), next];
      want = reference(want, g.map(round), i + 1);
      const got = Array.from(params.w.data);
      if (!got.every((x, k) => same(x, want[k]!)))
        expect.fail(`step ${i + 1}: ${got.join(", ")} vs ${want.join(", ")}`);
    });
  });
});
