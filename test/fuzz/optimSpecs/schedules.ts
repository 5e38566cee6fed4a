/**
 * @file Fuzz specs of the learning-rate schedules: each against its formula (Optax's, written out
 * here) at random integer, fractional and negative steps; a NaN or non-number step is refused
 * (a NaN learning rate would silently poison every parameter); so are non-integer or negative
 * step counts, decreasing boundaries and wrong-typed options.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import * as O from "@rewind/optim";
import { BAD_COUNTS, prop, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";

const steps = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.double({ min: -5, max: 300, noNaN: true }));
const close = (what: string, actual: number, expected: number): void => {
  if (!(Math.abs(actual - expected) <= 1e-12 + 1e-12 * Math.abs(expected)))
    throw new Error(`${what}: ${actual}, expected ${expected}`);
};
const value = fc.constantFrom(0, 1e-3, 0.1, 1, -0.5);
/** Steps that are not numbers a schedule can evaluate. */
const BAD_STEPS: readonly unknown[] = [NaN, "3", null, undefined, {}];
/** Values for a step count (≥ 0 integers) that must be refused. */
const BAD_STEP_COUNTS = BAD_COUNTS.filter((v) => v !== null && v !== 2 ** 53);

/** The keys of each schedule's options, as the documentation states them. */
const KEYS: Readonly<Record<string, readonly string[]>> = {
  linearSchedule: ["initValue", "endValue", "transitionSteps", "transitionBegin"],
  exponentialDecay: ["initValue", "transitionSteps", "decayRate", "transitionBegin", "staircase", "endValue"],
  cosineDecay: ["initValue", "decaySteps", "alpha", "exponent"],
  linearWarmup: ["initValue", "peakValue", "warmupSteps"],
  warmupCosineDecay: ["initValue", "peakValue", "warmupSteps", "decaySteps", "endValue", "exponent"],
};

/** Misspelt-key cases of a schedule's options (`decay_steps`, `warmup`): each key of `ok` in turn. */
const typos = (name: string, make: (o: Record<string, unknown>) => O.ScheduleFn, ok: Record<string, unknown>): number =>
  misspeltCases({ names: [name], error: T.TensorException, known: KEYS[name]!, base: ok, call: make });

/** The refusals every schedule shares: bad steps when called, bad options (wrong types, misspelt keys) when built. */
const refusals = (
  name: string,
  make: (o: Record<string, unknown>) => O.ScheduleFn,
  ok: Record<string, unknown>,
  bad: Readonly<Record<string, readonly unknown[]>>,
): number => {
  let n = rejectPool([name], BAD_STEPS, (step) => make(ok)(step as number));
  n += rejectPool([name], [null, 5, "x"], (o) => make(o as never));
  n += typos(name, make, ok);
  for (const [field, values] of Object.entries(bad))
    n += rejectPool([name], values, (v) => make({ ...ok, [field]: v }));
  return n;
};

export const constantScheduleSpec: Spec = () =>
  prop(
    fc.tuple(value, steps),
    ([v, s]) => {
      expect(O.constantSchedule(v)(s)).toBe(v);
    },
    10,
  ) +
  rejectPool(["constantSchedule"], [NaN, Infinity, "1", null], (v) => O.constantSchedule(v as number)) +
  rejectPool(["constantSchedule"], BAD_STEPS, (s) => O.constantSchedule(1)(s as number));

export const linearScheduleSpec: Spec = () => {
  const make = (o: Record<string, unknown>) => O.linearSchedule(o as never);
  return (
    prop(
      fc.tuple(value, value, fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), steps),
      ([a, b, n, begin, s]) => {
        const t = s - begin;
        const want = n === 0 ? (t >= 0 ? b : a) : t <= 0 ? a : t >= n ? b : a + (b - a) * (t / n);
        close(
          "linearSchedule",
          make({ initValue: a, endValue: b, transitionSteps: n, transitionBegin: begin })(s),
          want,
        );
      },
      20,
    ) +
    refusals(
      "linearSchedule",
      make,
      { initValue: 0, endValue: 1, transitionSteps: 4 },
      {
        initValue: [NaN, "0"],
        endValue: [Infinity],
        transitionSteps: BAD_STEP_COUNTS,
        transitionBegin: BAD_STEP_COUNTS,
      },
    )
  );
};

export const exponentialDecaySpec: Spec = () => {
  const make = (o: Record<string, unknown>) => O.exponentialDecay(o as never);
  return (
    prop(
      fc.tuple(
        value,
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(0, 0.5, 0.99, 1.5),
        fc.integer({ min: 0, max: 20 }),
        fc.boolean(),
        fc.option(fc.constantFrom(1e-4, 2)),
        steps,
      ),
      ([init, n, rate, begin, stair, end, s]) => {
        const p = Math.max(s - begin, 0) / n;
        const raw = init * rate ** (stair ? Math.floor(p) : p);
        const want = end === null ? raw : rate < 1 ? Math.max(raw, end) : Math.min(raw, end);
        close(
          "exponentialDecay",
          make({
            initValue: init,
            transitionSteps: n,
            decayRate: rate,
            transitionBegin: begin,
            staircase: stair,
            ...(end === null ? {} : { endValue: end }),
          })(s),
          want,
        );
      },
      20,
    ) +
    refusals(
      "exponentialDecay",
      make,
      { initValue: 1, transitionSteps: 10, decayRate: 0.5 },
      { transitionSteps: [0, ...BAD_STEP_COUNTS], decayRate: [-0.5, NaN], staircase: ["yes", 1], endValue: [NaN] },
    )
  );
};

export const cosineDecaySpec: Spec = () => {
  const make = (o: Record<string, unknown>) => O.cosineDecay(o as never);
  return (
    prop(
      fc.tuple(value, fc.integer({ min: 1, max: 100 }), fc.constantFrom(0, 0.1, 1), fc.constantFrom(1, 2, 0.5), steps),
      ([init, n, alpha, exponent, s]) => {
        const cosine = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(s, 0), n)) / n));
        close(
          "cosineDecay",
          make({ initValue: init, decaySteps: n, alpha, exponent })(s),
          init * ((1 - alpha) * cosine ** exponent + alpha),
        );
      },
      20,
    ) +
    refusals(
      "cosineDecay",
      make,
      { initValue: 1, decaySteps: 10 },
      { decaySteps: [0, ...BAD_STEP_COUNTS], alpha: [NaN, "0"], exponent: [Infinity] },
    )
  );
};

export const joinSchedulesSpec: Spec = () => {
  let n = prop(
    fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), steps),
    ([b1, gap, s]) => {
      const b2 = b1 + gap;
      const plus = (c: number) => (t: A.Value) => A.add(A.astype(t, "float64"), c);
      const joined = O.joinSchedules([plus(100), plus(200), plus(300)], [b1, b2]);
      close("joinSchedules", joined(s), s < b1 ? 100 + s : s < b2 ? 200 + s - b1 : 300 + s - b2);
    },
    20,
  );
  const c = O.constantSchedule(1);
  n += rejectPool(
    ["joinSchedules"],
    [[1.5], [-1], [NaN], ["2"], [2, 1]].map(
      (b) => () => O.joinSchedules([c, c, c].slice(0, b.length + 1), b as number[]),
    ),
    (f) => f(),
  );
  n += rejectPool(["joinSchedules"], [[c], [c, 5], [], null, "c"], (ss) => O.joinSchedules(ss as never, [2]));
  n += rejectPool(["joinSchedules"], [null, 2, [1, 2]], (b) => O.joinSchedules([c, c], b as never));
  n += rejectPool(["joinSchedules"], BAD_STEPS, (s) => O.joinSchedules([c, c], [2])(s as number));
  return n;
};

export const linearWarmupSpec: Spec = () => {
  let n = prop(
    fc.tuple(value, value, fc.integer({ min: 0, max: 30 }), fc.boolean(), steps),
    ([init, peak, w, after, s]) => {
      const f = O.linearWarmup(
        { initValue: init, peakValue: peak, warmupSteps: w },
        after ? (t) => A.div(peak, A.add(A.astype(t, "float64"), 1)) : undefined,
      );
      const want = s >= w ? (after ? peak / (1 + (s - w)) : peak) : s <= 0 ? init : init + (peak - init) * (s / w);
      close("linearWarmup", f(s), want);
    },
    20,
  );
  n += rejectPool(
    ["linearWarmup", "linearSchedule"],
    [
      null,
      5,
      { peakValue: NaN, warmupSteps: 2 },
      { peakValue: 1, warmupSteps: -1 },
      { peakValue: 1, warmupSteps: 1.5 },
    ],
    (o) => O.linearWarmup(o as never),
  );
  n += rejectPool(["linearWarmup"], [5, null, "cos"], (after) =>
    O.linearWarmup({ peakValue: 1, warmupSteps: 2 }, after as never),
  );
  n += typos("linearWarmup", (o) => O.linearWarmup(o as never), { initValue: 0, peakValue: 1, warmupSteps: 2 });
  return n;
};

export const warmupCosineDecaySpec: Spec = () => {
  const make = (o: Record<string, unknown>) => O.warmupCosineDecay(o as never);
  let n = prop(
    fc.tuple(
      value,
      fc.constantFrom(0.5, 1),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 1, max: 50 }),
      fc.constantFrom(0, 0.1),
      steps,
    ),
    ([init, peak, w, decay, end, s]) => {
      const total = w + decay;
      const warm = s >= w ? undefined : s <= 0 ? init : init + (peak - init) * (s / w);
      const cosine = 0.5 * (1 + Math.cos((Math.PI * Math.min(Math.max(s - w, 0), decay)) / decay));
      const want = warm ?? peak * ((1 - end / peak) * cosine + end / peak);
      close(
        "warmupCosineDecay",
        make({ initValue: init, peakValue: peak, warmupSteps: w, decaySteps: total, endValue: end })(s),
        want,
      );
    },
    20,
  );
  n += refusals(
    "warmupCosineDecay",
    make,
    { peakValue: 1, warmupSteps: 5, decaySteps: 20 },
    { peakValue: [NaN], warmupSteps: BAD_STEP_COUNTS, decaySteps: [5, 4, 1.5, NaN], endValue: [Infinity] },
  );
  n += rejectPool(["warmupCosineDecay"], [{ peakValue: 0, warmupSteps: 1, decaySteps: 3, endValue: 1 }], (o) =>
    make(o),
  );
  return n;
};
