/**
 * @file Schedules against their formulas (written here from the papers / Optax docs), at random
 * steps, plus their edges: before the start, at the boundaries, long after the end.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  constantSchedule,
  cosineDecay,
  exponentialDecay,
  joinSchedules,
  linearSchedule,
  learningRateAt,
  linearWarmup,
  sgd,
  warmupCosineDecay,
  applyUpdates,
  type Schedule,
} from "../src/index.js";

const step = fc.integer({ min: 0, max: 5000 });
const close = (a: number, b: number): void => {
  if (a !== b) expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b)));
};

describe("schedules", () => {
  test.prop([fc.double({ noNaN: true, noDefaultInfinity: true }), step])("constantSchedule is constant", (v, s) => {
    expect(constantSchedule(v)(s)).toBe(v);
  });

  test.prop([step, fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 100 })])(
    "linearSchedule: init until begin, a straight line for `steps` steps, then end",
    (s, steps, begin) => {
      const [a, b] = [0.3, -1.7];
      const f = linearSchedule({ initValue: a, endValue: b, transitionSteps: steps, transitionBegin: begin });
      const want = s < begin ? a : s >= begin + steps ? b : a + ((b - a) * (s - begin)) / steps;
      close(f(s), want);
    },
  );

  test.prop([
    step,
    fc.integer({ min: 1, max: 500 }),
    fc.constantFrom(0.1, 0.5, 0.96, 1.5),
    fc.boolean(),
    fc.integer({ min: 0, max: 50 }),
  ])(
    "exponentialDecay: init · rate^(max(s − begin, 0)/steps), floored exponent with staircase",
    (s, steps, rate, staircase, begin) => {
      const p = Math.max(s - begin, 0) / steps;
      close(
        exponentialDecay({ initValue: 2, transitionSteps: steps, decayRate: rate, staircase, transitionBegin: begin })(
          s,
        ),
        2 * rate ** (staircase ? Math.floor(p) : p),
      );
    },
  );

  it("exponentialDecay stops at endValue, from above when decaying and from below when growing", () => {
    expect(exponentialDecay({ initValue: 1, transitionSteps: 1, decayRate: 0.5, endValue: 0.2 })(10)).toBe(0.2);
    expect(exponentialDecay({ initValue: 1, transitionSteps: 1, decayRate: 0.5, endValue: 0.2 })(1)).toBe(0.5);
    expect(exponentialDecay({ initValue: 1, transitionSteps: 1, decayRate: 2, endValue: 5 })(10)).toBe(5);
  });

  test.prop([
    step,
    fc.integer({ min: 1, max: 3000 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.constantFrom(1, 2),
  ])("cosineDecay: init · ((1 − α)·(½(1 + cos(π·min(s, T)/T)))^p + α)", (s, total, alpha, exponent) => {
    const c = 0.5 * (1 + Math.cos((Math.PI * Math.min(s, total)) / total));
    close(
      cosineDecay({ initValue: 3, decaySteps: total, alpha, exponent })(s),
      3 * ((1 - alpha) * c ** exponent + alpha),
    );
  });

  it("cosineDecay passes through the midpoint and ends at α·init", () => {
    const f = cosineDecay({ initValue: 1, decaySteps: 100, alpha: 0.1 });
    close(f(0), 1);
    close(f(50), 0.55);
    close(f(100), 0.1);
    close(f(10_000), 0.1);
  });

  test.prop([step, fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 2000 })])(
    "warmupCosineDecay: linear 0 → peak over the warmup, then cosine to end by decaySteps",
    (s, warmup, decay) => {
      const [peak, end] = [1e-2, 1e-4];
      const total = warmup + decay;
      const f = warmupCosineDecay({ peakValue: peak, warmupSteps: warmup, decaySteps: total, endValue: end });
      const want =
        s < warmup
          ? (peak * s) / warmup
          : end + (peak - end) * 0.5 * (1 + Math.cos((Math.PI * Math.min(s - warmup, decay)) / decay));
      close(f(s), want);
    },
  );

  it("linearWarmup holds the peak, or hands over to the next schedule at the end of the warmup", () => {
    const up = linearWarmup({ peakValue: 1, warmupSteps: 4 });
    expect([0, 1, 2, 4, 100].map(up)).toEqual([0, 0.25, 0.5, 1, 1]);
    expect([0, 3].map(linearWarmup({ peakValue: 1, warmupSteps: 0 }))).toEqual([1, 1]);
    const then = linearWarmup({ initValue: 0.5, peakValue: 1, warmupSteps: 2 }, (s) => A.add(s, 10));
    expect([0, 1, 2, 3].map(then)).toEqual([0.5, 0.75, 10, 11]);
  });

  it("joinSchedules switches at each boundary and restarts the count", () => {
    const f = joinSchedules([(s) => s, (s) => A.add(s, 100), (s) => A.add(s, 200)], [3, 5]);
    expect([0, 2, 3, 4, 5, 9].map(f)).toEqual([0, 2, 100, 101, 200, 204]);
  });

  it("bad arguments fail with the schedule's name", () => {
    expect(() => cosineDecay({ initValue: 1, decaySteps: 0 })).toThrow(
      /cosineDecay: decaySteps must be a number in \[1, Infinity\]/,
    );
    expect(() => exponentialDecay({ initValue: 1, transitionSteps: 2.5, decayRate: 0.5 })).toThrow(
      /whole number of steps/,
    );
    expect(() => joinSchedules([constantSchedule(1)], [3])).toThrow(/1 schedules need 0 boundaries, got 1/);
    expect(() => warmupCosineDecay({ peakValue: 1, warmupSteps: 10, decaySteps: 10 })).toThrow(T.TensorException);
  });

  it("a library schedule takes a number (giving a number) or a count value (giving a float64 scalar)", () => {
    const f = cosineDecay({ initValue: 1, decaySteps: 100 });
    expect(f(50)).toBe(0.5);
    expect(f(T.scalar(50, "int32"))).toEqual(T.scalar(0.5, "float64"));
    expect(A.jit((c: A.Value) => f(c))(T.scalar(50, "int32"))).toEqual(T.scalar(0.5, "float64"));
    expect(() => f(T.zeros([2], "int32"))).toThrow(/cosineDecay: .*step must be a number or an int32 scalar/);
    expect(() => f(T.scalar(1, "bool"))).toThrow(/cosineDecay: .*got a bool\[\] tensor/);
  });

  describe("a schedule written for numbers", () => {
    const numeric = ((step: number) => 0.1 * 0.5 ** step) as unknown as Schedule;
    const p = { w: T.tensor([1, 2], "float64") };
    const g = { w: T.tensor([1, 1], "float64") };

    it("still runs eagerly: the count tensor converts to its number", () => {
      const opt = sgd({ learningRate: numeric });
      let [params, state] = [p, opt.init(p)];
      for (let i = 0; i < 3; i++) {
        const [u, next] = opt.update(g, state, params);
        [params, state] = [applyUpdates(params, u), next];
      }
      expect(Array.from(params.w.data)).toEqual([1 - 0.1 - 0.05 - 0.025, 2 - 0.1 - 0.05 - 0.025]);
      expect(learningRateAt(numeric, 3)).toBe(0.1 * 0.5 ** 3);
    });

    it("fails under jit with a message that names learningRateAt and shows the schedule written with ops", () => {
      const opt = sgd({ learningRate: numeric });
      const step = A.jit((q: typeof p, s: ReturnType<typeof opt.init>) => opt.update(g, s, q));
      let message = "";
      try {
        step(p, opt.init(p));
      } catch (e) {
        expect(e).toBeInstanceOf(T.TensorException);
        expect((e as T.TensorException).error).toMatchObject({ _tag: "ValueError", op: "learningRateAt", arg: "lr" });
        message = (e as Error).message;
      }
      expect(message).toMatch(
        /^learningRateAt: the schedule used its update count as a JavaScript number .* under jit the count is a traced int32 scalar/,
      );
      expect(message).toContain("(count) => A.mul(0.1, A.pow(0.5, count))");
      // The same schedule written with ops runs under jit and gives the eager numbers.
      const withOps: Schedule = (count) => A.mul(0.1, A.pow(0.5, A.astype(count, "float64")));
      const ops = sgd({ learningRate: withOps });
      const jitted = A.jit((q: typeof p, s: ReturnType<typeof ops.init>) => ops.update(g, s, q));
      expect(jitted(p, ops.init(p))).toEqual(sgd({ learningRate: numeric }).update(g, ops.init(p), p));
    });

    it("only the tracer's conversion error is rewritten; a schedule's own error passes through", () => {
      const broken: Schedule = () => {
        throw new RangeError("my schedule broke");
      };
      expect(() => A.jit((c: A.Value) => learningRateAt(broken, c))(T.scalar(0, "int32"))).toThrow(RangeError);
    });
  });

  it("a schedule drives the learning rate of an optimizer, one int32 count per update", () => {
    const seen: string[] = [];
    const opt = sgd({ learningRate: (s) => (seen.push(`${s.dtype}${JSON.stringify(s.shape)} ${Number(s)}`), 1) });
    const p = { w: T.tensor([0], "float64") };
    let state = opt.init(p);
    for (let i = 0; i < 3; i++) state = opt.update(p, state, p)[1];
    expect(seen).toEqual(["int32[] 0", "int32[] 1", "int32[] 2"]);
    expect(T.item(state[1].count)).toBe(3);
  });
});
