/**
 * @file Clipping, chain, skipNonFinite, purity and jit: the laws every transformation keeps.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  adagrad,
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipByValue,
  globalNorm,
  rmsprop,
  scale,
  sgd,
  skipNonFinite,
  warmupCosineDecay,
  type AnyTransformation,
} from "../src/index.js";
import { build, expectSameBits, flat, problemArb, runOptimizer, snapshot, structureArb, valuesArb } from "./helpers.js";

const norm = (xs: readonly number[]): number => Math.sqrt(xs.reduce((s, x) => s + x * x, 0));

describe("clipByGlobalNorm", () => {
  const treeArb = structureArb.chain((s) => fc.tuple(fc.constant(s), valuesArb(s, -100, 100)));

  test.prop([treeArb, fc.double({ min: 1e-3, max: 50, noNaN: true })])(
    "the output's global norm is at most the bound",
    ([s, values], maxNorm) => {
      const [u] = clipByGlobalNorm(maxNorm).update(build(s, values), {});
      expect(norm(flat(u))).toBeLessThanOrEqual(maxNorm * (1 + 1e-12));
    },
  );

  test.prop([treeArb, fc.double({ min: 1e-3, max: 50, noNaN: true })])(
    "under the bound nothing changes; over it, every leaf is scaled by maxNorm/norm",
    ([s, values], maxNorm) => {
      const [u] = clipByGlobalNorm(maxNorm).update(build(s, values), {});
      const n = norm(values);
      if (n < maxNorm) expectSameBits(flat(u), values);
      else
        flat(u).forEach((x, i) =>
          expect(Math.abs(x - (values[i]! * maxNorm) / n)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(x))),
        );
    },
  );

  it("keeps each leaf's dtype when leaves mix float32 and float64", () => {
    const g = { a: T.tensor([30, 40], "float32"), b: T.tensor([0], "float64") };
    const [u] = clipByGlobalNorm(5).update(g, {});
    expect(u.a.dtype).toBe("float32");
    expect(flat(u)).toEqual([3, 4, 0]);
    expect(T.item(globalNorm(g) as T.Tensor)).toBe(50);
  });
});

describe("clipByValue", () => {
  test.prop([structureArb.chain((s) => fc.tuple(fc.constant(s), valuesArb(s, -10, 10)))])(
    "clamps to [min, max] and keeps values inside",
    ([s, values]) => {
      const [u] = clipByValue(-2, 5).update(build(s, values), {});
      expect(flat(u)).toEqual(values.map((x) => (x < -2 ? -2 : x > 5 ? 5 : x)));
    },
  );

  it("leaves NaN visible and accepts an open side", () => {
    expect(flat(clipByValue(-1, 1).update([T.tensor([NaN, -3, Infinity], "float64")], {})[0])).toEqual([NaN, -1, 1]);
    expect(flat(clipByValue(-Infinity, 0).update([T.tensor([-7, 3], "float64")], {})[0])).toEqual([-7, 0]);
    expect(() => clipByValue(1, -1)).toThrow(/clipByValue: min 1 is greater than max -1/);
  });
});

describe("chain", () => {
  it("applies its transformations left to right and keeps one state per transformation", () => {
    const g = [T.tensor([0.5, -3], "float64")];
    expect(flat(chain(scale(4), clipByValue(-1, 1)).update(g, [{}, {}])[0])).toEqual([1, -1]);
    expect(flat(chain(clipByValue(-1, 1), scale(4)).update(g, [{}, {}])[0])).toEqual([2, -4]);
    const opt = chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 }));
    const state = opt.init(g);
    expect(state.length).toBe(2);
    expect(state[1][0].count).toEqual(T.scalar(0, "int32"));
  });

  test.prop([problemArb(3)])(
    "chain(clip, adam) equals adam on gradients clipped by hand",
    ({ structure, params, grads }) => {
      const clipped = grads.map((g) => {
        const n = norm(g);
        return n < 1 ? g : g.map((x) => x / n);
      });
      const a = runOptimizer(
        chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 })),
        build(structure, params),
        grads.map((g) => build(structure, g)),
      );
      const b = runOptimizer(
        adam({ learningRate: 0.1 }),
        build(structure, params),
        clipped.map((g) => build(structure, g)),
      );
      a.forEach((x, i) =>
        x.forEach((v, j) => expect(Math.abs(v - b[i]![j]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(v)))),
      );
    },
  );
});

describe("skipNonFinite", () => {
  const p = { b: T.tensor([0.5], "float64"), w: T.tensor([1, 2], "float64") };
  const good = { b: T.tensor([0.1], "float64"), w: T.tensor([0.3, -0.2], "float64") };
  const bad = (x: number) => ({ b: T.tensor([0.1], "float64"), w: T.tensor([x, -0.2], "float64") });

  it("skips a step whose gradients hold NaN or ±Infinity: params and inner state unchanged, counted", () => {
    const opt = skipNonFinite(adam({ learningRate: 0.1 }));
    const s0 = opt.init(p);
    const [u1, s1] = opt.update(good, s0, p);
    const p1 = applyUpdates(p, u1);
    let [p2, s2] = [p1, s1];
    for (const x of [NaN, Infinity, -Infinity]) {
      const [u, s] = opt.update(bad(x), s2, p2);
      expect(s.inner).toBe(s1.inner);
      expect(s.lastFinite).toEqual(T.scalar(0, "bool"));
      p2 = applyUpdates(p2, u);
      s2 = s;
    }
    expectSameBits(flat(p2), flat(p1));
    expect([s2.notFiniteCount, s2.totalNotFinite]).toEqual([T.scalar(3, "int32"), T.scalar(3, "int32")]);
    const [, s3] = opt.update(good, s2, p2);
    expect([s3.notFiniteCount, s3.totalNotFinite, s3.lastFinite, s3.inner[0].count].map(Number)).toEqual([0, 3, 1, 2]);
  });

  test.prop([problemArb(4), fc.integer({ min: 0, max: 3 })])(
    "a run with bad steps inserted equals the run without them",
    ({ structure, params, grads }, at) => {
      const opt = skipNonFinite(chain(clipByGlobalNorm(2), adamw({ learningRate: 0.05, weightDecay: 0.1 })));
      const poisoned = [...grads.slice(0, at), grads[at]!.map((x, i) => (i === 0 ? NaN : x)), ...grads.slice(at)];
      const clean = runOptimizer(
        opt,
        build(structure, params),
        grads.map((g) => build(structure, g)),
      );
      const dirty = runOptimizer(
        opt,
        build(structure, params),
        poisoned.map((g) => build(structure, g)),
      );
      expectSameBits(dirty[at]!, at === 0 ? params : clean[at - 1]!);
      expect([...dirty.slice(0, at), ...dirty.slice(at + 1)]).toEqual(clean);
    },
  );

  it("runs on traced gradients: one trace skips the bad steps and applies the good ones, as eagerly", () => {
    // Before: refused ("the gradients are traced values … call the optimizer's update outside jit").
    const opt = skipNonFinite(sgd({ learningRate: 0.1, momentum: 0.9 }));
    const step = A.jit((g: typeof good, s: ReturnType<typeof opt.init>) => opt.update(g, s, p));
    let [eager, traced] = [opt.init(p), opt.init(p)];
    for (const g of [good, bad(NaN), bad(Infinity), good, bad(-Infinity), good]) {
      const [ue, se] = opt.update(g, eager, p);
      const [ut, st] = step(g, traced);
      expectSameBits(flat(ut), flat(ue));
      expectSameBits(flat(st), flat(se));
      [eager, traced] = [se, st];
    }
    expect(step.cacheSize()).toBe(1);
    expect([eager.notFiniteCount, eager.totalNotFinite, eager.lastFinite].map(Number)).toEqual([0, 3, 1]);
  });
});

/** Every optimizer of the package, configured with all its options used. */
const optimizers: ReadonlyArray<readonly [string, AnyTransformation]> = [
  ["sgd", sgd({ learningRate: 0.1 })],
  ["sgd nesterov", sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ["adagrad", adagrad({ learningRate: 0.1 })],
  ["rmsprop centered momentum", rmsprop({ learningRate: 0.01, centered: true, momentum: 0.5 })],
  ["adam scheduled", adam({ learningRate: warmupCosineDecay({ peakValue: 0.1, warmupSteps: 2, decaySteps: 10 }) })],
  [
    "adamw clipped",
    chain(clipByGlobalNorm(1), clipByValue(-0.5, 0.5), adamw({ learningRate: 0.01, weightDecay: 0.1 })),
  ],
  ["skipNonFinite(adam)", skipNonFinite(adam({ learningRate: 0.01 }))],
];

describe.each(optimizers)("%s", (_, opt) => {
  test.prop([problemArb(3)], { numRuns: 20 })(
    "is pure: inputs are never written, and the same inputs give the same outputs",
    ({ structure, params, grads }) => {
      const p = build(structure, params);
      let state = opt.init(p);
      for (const gv of grads) {
        const g = build(structure, gv);
        const before = [snapshot(p), snapshot(g), snapshot(state)];
        const [u1, s1] = opt.update(g, state, p);
        const [u2, s2] = opt.update(g, state, p);
        expect([snapshot(p), snapshot(g), snapshot(state)]).toEqual(before);
        expect(snapshot(u1)).toEqual(snapshot(u2));
        expect(snapshot(s1)).toEqual(snapshot(s2));
        state = s1;
      }
    },
  );

  test.prop([problemArb(3)], { numRuns: 10 })(
    "update under jit equals the eager update, bit for bit, from one trace",
    ({ structure, params, grads }) => {
      const p = build(structure, params);
      const jitted = A.jit((g: unknown, s: unknown, q: unknown) => opt.update(g, s, q));
      let [eager, traced] = [opt.init(p), opt.init(p)];
      for (const gv of grads) {
        const g = build(structure, gv);
        const [ue, se] = opt.update(g, eager, p);
        const [ut, st] = jitted(g, traced, p) as readonly [unknown, unknown];
        expectSameBits(flat(ut), flat(ue));
        expect(snapshot(st)).toEqual(snapshot(se));
        [eager, traced] = [se, st];
      }
      // Before, the count was a plain number, static under jit: one trace per step.
      expect(jitted.cacheSize()).toBe(1);
    },
  );
});
