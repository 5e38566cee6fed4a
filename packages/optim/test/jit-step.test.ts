/**
 * @file The whole-step jit law: for every optimizer, alias, building block, clipping, schedule and
 * `skipNonFinite` (fed NaN and ±Infinity batches among finite ones), in float32 and float64, the
 * training step `(params, state, grads) → [applyUpdates(params, updates), next state]` run under
 * `jit` (compiled, and interpreted with `{ compile: false }`) gives the eager step's bits over
 * consecutive steps, and each jitted step is traced exactly once over all of them. The small
 * tree runs the compiler's JavaScript loops; a tree of long leaves (hundreds of elements, ragged
 * ends) runs its WebAssembly SIMD loops too (a wrong SIMD square root fails only those).
 *
 * Before the counts were tensors, a count was a plain number, static under jit: the jitted step
 * was traced anew at every step (and `skipNonFinite` refused traced gradients).
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipByValue,
  constantSchedule,
  cosineDecay,
  exponentialDecay,
  identity,
  joinSchedules,
  linearSchedule,
  linearWarmup,
  maskByPath,
  rmsprop,
  scale,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  scaleByRss,
  scaleByStddev,
  sgd,
  skipNonFinite,
  traceMomentum,
  warmupCosineDecay,
  type AnyTransformation,
  type LearningRate,
} from "../src/index.js";
import { expectSameTreeBits } from "./helpers.js";

/** Every schedule of the package, and one written by a user with ops. */
const SCHEDULES: ReadonlyArray<readonly [string, () => LearningRate]> = [
  ["constantSchedule", () => constantSchedule(0.05)],
  ["linearSchedule", () => linearSchedule({ initValue: 0.1, endValue: 0.01, transitionSteps: 3, transitionBegin: 1 })],
  ["linearSchedule, 0 steps", () => linearSchedule({ initValue: 0.1, endValue: 0.01, transitionSteps: 0 })],
  ["exponentialDecay", () => exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 0.5 })],
  [
    "exponentialDecay, staircase, bounded",
    () =>
      exponentialDecay({
        initValue: 0.1,
        transitionSteps: 2,
        decayRate: 0.3,
        staircase: true,
        transitionBegin: 1,
        endValue: 0.02,
      }),
  ],
  [
    "exponentialDecay, growing",
    () => exponentialDecay({ initValue: 0.01, transitionSteps: 1, decayRate: 1.7, endValue: 0.04 }),
  ],
  ["cosineDecay", () => cosineDecay({ initValue: 0.1, decaySteps: 4, alpha: 0.1, exponent: 2 })],
  ["joinSchedules", () => joinSchedules([constantSchedule(0.1), cosineDecay({ initValue: 0.05, decaySteps: 3 })], [2])],
  ["linearWarmup", () => linearWarmup({ peakValue: 0.1, warmupSteps: 2 })],
  [
    "linearWarmup then decay",
    () =>
      linearWarmup(
        { peakValue: 0.1, warmupSteps: 2 },
        exponentialDecay({ initValue: 0.1, transitionSteps: 1, decayRate: 0.8 }),
      ),
  ],
  ["warmupCosineDecay", () => warmupCosineDecay({ peakValue: 0.1, warmupSteps: 2, decaySteps: 5, endValue: 0.01 })],
  ["a user's schedule with ops", () => (count: Value) => A.mul(0.1, A.pow(0.5, count))],
];

const lr = cosineDecay({ initValue: 0.05, decaySteps: 4, alpha: 0.1 });
const noBias = maskByPath((path) => !path.endsWith("b"));

/** Every optimizer, alias and building block, alone and chained. */
const OPTIMIZERS: ReadonlyArray<readonly [string, () => AnyTransformation]> = [
  ["identity", () => identity()],
  ["scale", () => scale(-0.3)],
  ["scaleByLearningRate, ascent", () => scaleByLearningRate(0.2, { flipSign: false })],
  ["traceMomentum", () => traceMomentum({ decay: 0.9 })],
  ["traceMomentum, nesterov", () => traceMomentum({ decay: 0.8, nesterov: true })],
  ["scaleByRss", () => scaleByRss()],
  ["scaleByRms", () => scaleByRms({ decay: 0.95, epsInSqrt: false })],
  ["scaleByStddev", () => scaleByStddev()],
  ["scaleByAdam", () => scaleByAdam({ b1: 0.8, b2: 0.99, epsRoot: 1e-8 })],
  ["addDecayedWeights, masked", () => addDecayedWeights({ weightDecay: 0.1, mask: noBias })],
  ["clipByGlobalNorm", () => clipByGlobalNorm(0.5)],
  ["clipByValue", () => clipByValue(-0.3, 0.2)],
  ["sgd", () => sgd({ learningRate: 0.1 })],
  ["sgd, momentum", () => sgd({ learningRate: lr, momentum: 0.9 })],
  ["sgd, nesterov", () => sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ["adagrad", () => adagrad({ learningRate: lr, initialAccumulator: 0, eps: 1e-8 })],
  ["rmsprop", () => rmsprop({ learningRate: 0.01 })],
  ["rmsprop, centered, nesterov", () => rmsprop({ learningRate: lr, centered: true, momentum: 0.5, nesterov: true })],
  ["adam", () => adam({ learningRate: lr })],
  ["adamw, masked", () => adamw({ learningRate: lr, weightDecay: 0.1, mask: { emb: false, layers: true, s: false } })],
  [
    "chain(clipByGlobalNorm, clipByValue, adam)",
    () => chain(clipByGlobalNorm(1), clipByValue(-0.5, 0.5), adam({ learningRate: 0.01 })),
  ],
  [
    "chain(scaleByAdam, addDecayedWeights, scaleByLearningRate)",
    () => chain(scaleByAdam(), addDecayedWeights({ weightDecay: 0.01 }), scaleByLearningRate(lr)),
  ],
  [
    "skipNonFinite(chain(clipByGlobalNorm, adamw))",
    () => skipNonFinite(chain(clipByGlobalNorm(1), adamw({ learningRate: lr, weightDecay: 0.01 }))),
  ],
  ["skipNonFinite(sgd, momentum)", () => skipNonFinite(sgd({ learningRate: 0.1, momentum: 0.9 }))],
  ["skipNonFinite(skipNonFinite(adam))", () => skipNonFinite(skipNonFinite(adam({ learningRate: 0.01 })))],
  ...SCHEDULES.map(([name, make]) => [`adam(${name})`, () => adam({ learningRate: make() })] as const),
];

const SHAPES = { emb: [3, 2], layers: [{ b: [2], w: [2, 2] }], s: [] } as const;
const SIZE = 6 + 2 + 4 + 1;
const STEPS = 5;

type Tree = { emb: Value; layers: [{ b: Value; w: Value }]; s: Value };

/** The tree of `SHAPES` from 13 numbers, in `dtype` (the tensor constructor rounds to float32). */
const tree = (xs: readonly number[], dtype: "float32" | "float64"): Tree => {
  const t = (from: number, shape: readonly number[]) =>
    T.fromDataOrThrow(xs.slice(from, from + T.sizeOf(shape)), shape, dtype);
  return {
    emb: t(0, SHAPES.emb),
    layers: [{ b: t(6, SHAPES.layers[0].b), w: t(8, SHAPES.layers[0].w) }],
    s: t(12, []),
  };
};

/** Finite gradient values, with a few non-finite batches (one element NaN or ±Infinity) among them. */
const stepsArb = fc.array(
  fc.record({
    values: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: SIZE, maxLength: SIZE }),
    bad: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.constantFrom(NaN, Infinity, -Infinity)),
    at: fc.nat({ max: SIZE - 1 }),
  }),
  { minLength: STEPS, maxLength: STEPS },
);
const paramsArb = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: SIZE, maxLength: SIZE });

/** The training step of `opt`: its update of the parameters, and its next state. */
const stepOf =
  (opt: AnyTransformation) =>
  (params: Tree, state: unknown, grads: Tree): readonly [Tree, unknown] => {
    const [updates, next] = opt.update(grads, state, params);
    return [applyUpdates(params, updates), next] as const;
  };

describe.each(["float32", "float64"] as const)("the whole training step under jit (%s)", (dtype) => {
  describe.each(OPTIMIZERS)("%s", (_, make) => {
    const opt = make();
    const step = stepOf(opt);
    const traces = { compiled: 0, interpreted: 0 };
    const counted = (mode: keyof typeof traces) => (p: Tree, s: unknown, g: Tree) => {
      traces[mode] += 1;
      return step(p, s, g);
    };
    const compiled = A.jit(counted("compiled"));
    const interpreted = A.jit(counted("interpreted"), { compile: false });

    test.prop([paramsArb, stepsArb], { numRuns: 4 })(
      "eager = jit compiled = jit interpreted, bit for bit, over consecutive steps, from one trace each",
      (p0, steps) => {
        const start = tree(p0, dtype);
        let eager = [start, opt.init(start)] as const;
        let [viaCompiled, viaInterpreter] = [eager, eager];
        steps.forEach(({ values, bad, at }, i) => {
          const g = tree(
            values.map((v, k) => (k === at && bad !== undefined ? bad : v)),
            dtype,
          );
          eager = step(eager[0], eager[1], g);
          viaCompiled = compiled(viaCompiled[0], viaCompiled[1], g);
          viaInterpreter = interpreted(viaInterpreter[0], viaInterpreter[1], g);
          expectSameTreeBits(`step ${i}, compiled`, viaCompiled, eager);
          expectSameTreeBits(`step ${i}, interpreted`, viaInterpreter, eager);
        });
        // Every property run reuses the same jitted functions: one trace, whatever the step.
        expect(traces).toEqual({ compiled: 1, interpreted: 1 });
        expect([compiled.cacheSize(), interpreted.cacheSize()]).toEqual([1, 1]);
      },
    );
  });
});

/** Leaves long enough for the compiler's SIMD loops (hundreds of elements, ragged ends), and a scalar. */
const LONG = { emb: [37, 29], layers: [{ b: [131], w: [16, 16] }], s: [] } as const;

/** A tree of `LONG` shapes with normal values from `seed` (times `scaleBy`), one element replaced by `bad` if given. */
const longTree = (seed: number, dtype: "float32" | "float64", scaleBy: number, bad?: number, at = 0): Tree => {
  const k = T.random.key(seed);
  const leaf = (i: number, shape: readonly number[]): T.Tensor => {
    const t = T.mul(T.random.normal(T.random.foldIn(k, i), shape, dtype), scaleBy);
    if (bad === undefined || i !== at % 4) return t;
    const data = t.data.slice();
    data[Math.floor(data.length / 2)] = bad;
    return T.fromDataOrThrow(data, shape, dtype);
  };
  return {
    emb: leaf(0, LONG.emb),
    layers: [{ b: leaf(1, LONG.layers[0].b), w: leaf(2, LONG.layers[0].w) }],
    s: leaf(3, LONG.s),
  };
};

describe.each(["float32", "float64"] as const)("the whole training step under jit, long leaves (%s)", (dtype) => {
  describe.each(OPTIMIZERS)("%s", (_, make) => {
    const opt = make();
    const step = stepOf(opt);
    const compiled = A.jit(step);

    test.prop(
      [
        fc.nat(1_000_000),
        fc.array(
          fc.record({
            bad: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.constantFrom(NaN, Infinity, -Infinity)),
            at: fc.nat(3),
          }),
          { minLength: 3, maxLength: 3 },
        ),
      ],
      { numRuns: 2 },
    )("eager = jit compiled, bit for bit, over consecutive steps", (seed, steps) => {
      if (dtype === "float32") {
        // The path under test is taken: the compiled step runs WebAssembly SIMD loops.
        const p = longTree(seed, dtype, 1);
        const graph = A.makeGraph(step)(p, opt.init(p), p).graph;
        expect(A.compileGraph(graph).simdKernels).toBeGreaterThan(0);
      }
      const start = longTree(seed, dtype, 1);
      let eager = [start, opt.init(start)] as const;
      let viaCompiled = eager;
      steps.forEach(({ bad, at }, i) => {
        const g = longTree(seed + 1 + i, dtype, 0.5, bad, at);
        eager = step(eager[0], eager[1], g);
        viaCompiled = compiled(viaCompiled[0], viaCompiled[1], g);
        expectSameTreeBits(`step ${i}`, viaCompiled, eager);
      });
    });
  });
});
