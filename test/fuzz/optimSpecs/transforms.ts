/**
 * @file Fuzz specs of the gradient transformations and optimizers of @rewind/optim: a few steps
 * on a random two-leaf float64 pytree, with NaN and ±Infinity mixed into the gradients, compared
 * element by element with the textbook references (NaN propagates through every transformation
 * but `skipNonFinite`, as documented); then invalid hyperparameters, wrong-typed options,
 * mismatched gradient pytrees and shapes, and foreign states.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import * as O from "@rewind/optim";
import { dataOf, expectNear, NOT_FLAGS, NOT_OPTIONS, prop, rejectEach, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { refAdam, refChain, refClip, refDecay, refRms, refRss, refScale, refTrace, type RefOpt } from "./reference.js";

/** The keys of the hyper-parameter objects, as the documentation states them. */
const RSS_KEYS = ["initialAccumulator", "eps"];
const RMS_KEYS = ["decay", "eps", "initialScale", "epsInSqrt"];
const ADAM_KEYS = ["b1", "b2", "eps", "epsRoot"];

/** Misspelt-key cases of one options argument: `momentun` must not leave plain SGD in place. */
const typos = (
  name: string,
  known: readonly string[],
  base: Record<string, unknown>,
  call: (o: Record<string, unknown>) => unknown,
): number => misspeltCases({ names: [name], error: T.TensorException, known, base, call });

/** Parameters `{ b: [m], w: [n] }` and a few steps of gradients, some elements non-finite. */
export interface StepsCase {
  readonly params: { readonly b: T.Tensor; readonly w: T.Tensor };
  readonly grads: ReadonlyArray<{ readonly b: T.Tensor; readonly w: T.Tensor }>;
}

const element = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: -3000, max: 3000 }).map((i) => i / 1000) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);
const finiteElement = fc.integer({ min: -3000, max: 3000 }).map((i) => i / 1000);

export const arbSteps = (opts: { readonly finite?: boolean } = {}): fc.Arbitrary<StepsCase> =>
  fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 1, max: 2 }),
      steps: fc.integer({ min: 1, max: 3 }),
    })
    .chain(({ n, m, steps }) =>
      fc
        .record({
          p: fc.array(finiteElement, { minLength: n + m, maxLength: n + m }),
          g: fc.array(opts.finite === true ? finiteElement : element, {
            minLength: (n + m) * steps,
            maxLength: (n + m) * steps,
          }),
        })
        .map(({ p, g }): StepsCase => {
          const split = (xs: number[]) => ({
            b: T.fromDataOrThrow(xs.slice(0, m), [m], "float64"),
            w: T.fromDataOrThrow(xs.slice(m), [n], "float64"),
          });
          return {
            params: split(p),
            grads: Array.from({ length: steps }, (_, t) => split(g.slice(t * (n + m), (t + 1) * (n + m)))),
          };
        }),
    );

/**
 * Runs `opt` over the case's steps (applying its updates with `applyUpdates`) beside one
 * reference instance per element, comparing every update.
 */
export const compareSteps = (label: string, opt: O.AnyTransformation, ref: RefOpt, c: StepsCase): void => {
  let params: { b: T.Tensor; w: T.Tensor } = c.params;
  let state: unknown = opt.init(params);
  const leaves = ["b", "w"] as const;
  const refs = leaves.map((k) => dataOf(c.params[k]).map(() => ref()));
  let p = leaves.map((k) => dataOf(c.params[k]));
  c.grads.forEach((g, s) => {
    const [u, next] = opt.update(g, state, params);
    state = next;
    const want = leaves.map((k, l) => dataOf(g[k]).map((gv, e) => refs[l]![e]!(gv, p[l]![e]!, s + 1)));
    leaves.forEach((k, l) =>
      expectNear(`${label} step ${s + 1} .${k}`, (u as typeof params)[k], want[l]!, [want[l]!.length], 1e-9, 1e-12),
    );
    params = O.applyUpdates(params, u);
    p = p.map((vs, l) => vs.map((v, e) => v + want[l]![e]!));
    leaves.forEach((k, l) =>
      expectNear(`applyUpdates step ${s + 1} .${k}`, params[k], p[l]!, [p[l]!.length], 1e-9, 1e-12),
    );
  });
};

const params0 = { b: T.fromDataOrThrow([0.5], [1], "float64"), w: T.fromDataOrThrow([1, 2], [2], "float64") };
const grads0 = { b: T.fromDataOrThrow([0.3], [1], "float64"), w: T.fromDataOrThrow([0.1, -0.2], [2], "float64") };
const BAD_NUMBERS: readonly unknown[] = [NaN, Infinity, -Infinity, "0.1", null, {}];

/** Gradient trees that do not fit `params0`: a missing leaf, an extra one, other shapes. */
const BAD_GRADS: Readonly<Record<string, unknown>> = {
  "a missing leaf": { w: grads0.w },
  "an extra leaf": { ...grads0, c: grads0.b },
  "w of shape [3]": { ...grads0, w: T.zeros([3], "float64") },
  "w of shape [1] (broadcastable)": { ...grads0, w: T.zeros([1], "float64") },
  "w of shape [2, 2] (broadcastable)": { ...grads0, w: T.zeros([2, 2], "float64") },
  "an array instead of an object": [grads0.b, grads0.w],
};

/** The invalid calls a stateful transformation must refuse: foreign states, and (when it keeps moments shaped like the gradients) misfit gradients. */
export const rejectUpdates = (
  names: readonly string[],
  opt: O.AnyTransformation,
  badStates: readonly unknown[],
  checksGrads = true,
): number => {
  const state = opt.init(params0);
  let n = checksGrads
    ? rejectEach(
        names,
        Object.fromEntries(Object.entries(BAD_GRADS).map(([label, g]) => [label, () => opt.update(g, state, params0)])),
      )
    : 0;
  n += rejectPool(names, [null, undefined, 5, ...badStates], (s) => opt.update(grads0, s, params0));
  return n;
};

const hyper = (values: readonly number[]) => fc.constantFrom(...values);

export const identitySpec: Spec = () => {
  const n = prop(arbSteps(), (c) => compareSteps("identity", O.identity(), () => (g) => g, c), 10);
  expect(O.identity().init(params0)).toEqual({});
  return n + 1;
};

export const scaleSpec: Spec = () =>
  prop(
    fc.tuple(arbSteps(), hyper([0, -1, 0.5, 3])),
    ([c, f]) =>
      compareSteps(
        `scale(${f})`,
        O.scale(f),
        refScale(() => f),
        c,
      ),
    12,
  ) + rejectPool(["scale"], BAD_NUMBERS, (f) => O.scale(f as number));

export const scaleByLearningRateSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbSteps(), hyper([0.1, 0.01, -0.5]), fc.boolean(), fc.boolean()),
    ([c, lr, scheduled, flip]) => {
      const rate = scheduled ? (count: A.Value) => A.div(lr, A.add(A.astype(count, "float64"), 1)) : lr;
      const sign = flip ? -1 : 1;
      compareSteps(
        "scaleByLearningRate",
        O.scaleByLearningRate(rate, { flipSign: flip }),
        refScale((t) => sign * (scheduled ? lr / t : lr)),
        c,
      );
    },
    15,
  );
  n += rejectPool(["scaleByLearningRate"], BAD_NUMBERS, (lr) => O.scaleByLearningRate(lr as number));
  n += rejectPool(["scaleByLearningRate"], [...NOT_OPTIONS, ...NOT_FLAGS.map((v) => ({ flipSign: v }))], (o) =>
    O.scaleByLearningRate(0.1, o as never),
  );
  n += typos("scaleByLearningRate", ["flipSign"], { flipSign: false }, (o) => O.scaleByLearningRate(0.1, o));
  // It reads no state of the gradients' shape: misfit gradients are caught by applyUpdates.
  n += rejectUpdates(
    ["scaleByLearningRate", "learningRateAt"],
    O.scaleByLearningRate(0.1),
    [
      {},
      { count: -1 },
      { count: 1.5 },
      { count: NaN },
      { count: "1" },
      { count: 0 },
      { count: T.scalar(-1, "int32") },
      { count: T.scalar(0, "float32") },
      { count: T.zeros([1], "int32") },
    ],
    false,
  );
  // A schedule that returns something other than a finite number must not poison the parameters.
  n += rejectPool(["learningRateAt"], [() => NaN, () => Infinity, () => "0.1", () => undefined], (s) =>
    O.scaleByLearningRate(s as never).update(grads0, { count: T.scalar(0, "int32") }),
  );
  return n;
};

export const chainSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbSteps(), hyper([0.5, 2]), hyper([0, 0.9])),
    ([c, f, mu]) => {
      compareSteps(
        "chain(clipByValue, traceMomentum, scale)",
        O.chain(O.clipByValue(-1, 1), O.traceMomentum({ decay: mu }), O.scale(f)),
        refChain(
          refClip(-1, 1),
          refTrace(mu, false),
          refScale(() => f),
        ),
        c,
      );
    },
    12,
  );
  n += rejectPool(["chain"], [5, null, {}, { init: () => ({}) }, O.scale], (t) => O.chain(O.identity(), t as never));
  n += rejectUpdates(["chain", "traceMomentum", "treeMap"], O.chain(O.traceMomentum({ decay: 0.5 }), O.scale(2)), [
    {},
    [],
    [{}],
    [{ trace: params0 }],
  ]);
  return n;
};

export const applyUpdatesSpec: Spec = () => {
  // compareSteps checks applyUpdates at every step of every transformation; here, dtypes and misfits.
  const p32 = { b: T.astype(params0.b, "float32"), w: T.astype(params0.w, "float32") };
  const out = O.applyUpdates(p32, grads0);
  expect([out.b.dtype, out.w.dtype]).toEqual(["float32", "float32"]);
  expectNear("applyUpdates float32", out.w, [1.1, 1.8].map(Math.fround), [2], 1e-7, 0);
  return (
    1 +
    rejectEach(
      ["applyUpdates", "treeMap"],
      Object.fromEntries(
        Object.entries(BAD_GRADS).map(([label, u]) => [label, () => O.applyUpdates(params0, u as never)]),
      ),
    )
  );
};

export const traceMomentumSpec: Spec = () =>
  prop(
    fc.tuple(arbSteps(), hyper([0, 0.5, 0.9, 1]), fc.boolean()),
    ([c, decay, nesterov]) =>
      compareSteps("traceMomentum", O.traceMomentum({ decay, nesterov }), refTrace(decay, nesterov), c),
    15,
  ) +
  rejectPool(
    ["traceMomentum"],
    [
      ...NOT_OPTIONS,
      {},
      { decay: 1.5 },
      { decay: -0.1 },
      ...BAD_NUMBERS.map((decay) => ({ decay })),
      ...NOT_FLAGS.map((v) => ({ decay: 0.5, nesterov: v })),
    ],
    (o) => O.traceMomentum(o as never),
  ) +
  typos("traceMomentum", ["decay", "nesterov"], { decay: 0.9, nesterov: true }, (o) => O.traceMomentum(o as never)) +
  rejectUpdates(["traceMomentum"], O.traceMomentum({ decay: 0.9 }), [{}, { mu: params0 }]);

export const scaleByRssSpec: Spec = () =>
  prop(
    fc.tuple(arbSteps(), hyper([0, 0.1]), hyper([0, 1e-8, 1e-3])),
    ([c, init, eps]) =>
      compareSteps("scaleByRss", O.scaleByRss({ initialAccumulator: init, eps }), refRss(init, eps), c),
    15,
  ) +
  rejectPool(
    ["scaleByRss"],
    [null, 5, { eps: -1 }, { initialAccumulator: -0.1 }, { eps: NaN }, { initialAccumulator: "0" }],
    (o) => O.scaleByRss(o as never),
  ) +
  typos("scaleByRss", RSS_KEYS, { eps: 1e-8 }, (o) => O.scaleByRss(o)) +
  rejectUpdates(["scaleByRss"], O.scaleByRss(), [{}, { nu: params0 }]);

const rmsCase = fc.tuple(
  arbSteps(),
  hyper([0, 0.5, 0.9, 0.99]),
  hyper([1e-8, 1e-3, 0.1]),
  hyper([0, 0.1]),
  fc.boolean(),
);
const BAD_RMS: readonly unknown[] = [
  null,
  5,
  { decay: 1.5 },
  { decay: -0.1 },
  { decay: NaN },
  { eps: -1e-8 },
  { initialScale: -1 },
  { epsInSqrt: "yes" },
  { epsInSqrt: 1 },
];

export const scaleByRmsSpec: Spec = () =>
  prop(
    rmsCase,
    ([c, decay, eps, init, inSqrt]) =>
      compareSteps(
        "scaleByRms",
        O.scaleByRms({ decay, eps, initialScale: init, epsInSqrt: inSqrt }),
        refRms(decay, eps, init, inSqrt, false),
        c,
      ),
    15,
  ) +
  rejectPool(["scaleByRms"], BAD_RMS, (o) => O.scaleByRms(o as never)) +
  typos("scaleByRms", RMS_KEYS, { decay: 0.95 }, (o) => O.scaleByRms(o)) +
  rejectUpdates(["scaleByRms"], O.scaleByRms(), [{}, { mu: params0 }]);

export const scaleByStddevSpec: Spec = () =>
  prop(
    rmsCase,
    ([c, decay, eps, init, inSqrt]) =>
      compareSteps(
        "scaleByStddev",
        O.scaleByStddev({ decay, eps, initialScale: init, epsInSqrt: inSqrt }),
        refRms(decay, eps, init, inSqrt, true),
        c,
      ),
    15,
  ) +
  rejectPool(["scaleByStddev"], BAD_RMS, (o) => O.scaleByStddev(o as never)) +
  typos("scaleByStddev", RMS_KEYS, { decay: 0.95 }, (o) => O.scaleByStddev(o)) +
  rejectUpdates(["scaleByStddev"], O.scaleByStddev(), [{}, { nu: params0 }]);

const adamCase = fc.tuple(
  arbSteps(),
  hyper([0, 0.5, 0.9]),
  hyper([0, 0.9, 0.999]),
  hyper([1e-8, 1e-3]),
  hyper([0, 1e-6]),
);
const BAD_ADAM: readonly unknown[] = [
  null,
  5,
  { b1: 1 },
  { b2: 1 },
  { b1: 1.5 },
  { b1: -0.1 },
  { b2: NaN },
  { eps: -1 },
  { epsRoot: -1 },
  { eps: "0" },
];

export const scaleByAdamSpec: Spec = () =>
  prop(
    adamCase,
    ([c, b1, b2, eps, epsRoot]) =>
      compareSteps("scaleByAdam", O.scaleByAdam({ b1, b2, eps, epsRoot }), refAdam(b1, b2, eps, epsRoot), c),
    15,
  ) +
  rejectPool(["scaleByAdam"], BAD_ADAM, (o) => O.scaleByAdam(o as never)) +
  typos("scaleByAdam", ADAM_KEYS, { b2: 0.99 }, (o) => O.scaleByAdam(o)) +
  rejectUpdates(["scaleByAdam"], O.scaleByAdam(), [
    {},
    { mu: params0, nu: params0 },
    { count: -1, mu: params0, nu: params0 },
    { count: 0.5, mu: params0, nu: params0 },
    { count: T.scalar(-1, "int32"), mu: params0, nu: params0 },
    { count: T.scalar(0, "float64"), mu: params0, nu: params0 },
  ]);

export const addDecayedWeightsSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbSteps(), hyper([0, 0.01, 0.5])),
    ([c, wd]) => compareSteps("addDecayedWeights", O.addDecayedWeights({ weightDecay: wd }), refDecay(wd), c),
    12,
  );
  // A mask decays only the selected leaves.
  const [u] = O.addDecayedWeights({ weightDecay: 0.5, mask: { b: false, w: true } }).update(grads0, {}, params0);
  expectNear("masked decay .b", u.b, [0.3], [1], 0, 0);
  expectNear("masked decay .w", u.w, [0.1 + 0.5, -0.2 + 1], [2], 1e-12, 0);
  n += 2;
  n += rejectPool(["addDecayedWeights"], [null, 5, {}, ...BAD_NUMBERS.map((weightDecay) => ({ weightDecay }))], (o) =>
    O.addDecayedWeights(o as never),
  );
  n += typos("addDecayedWeights", ["weightDecay", "mask"], { weightDecay: 0.1, mask: { b: false, w: true } }, (o) =>
    O.addDecayedWeights(o as never),
  );
  const wd = O.addDecayedWeights({ weightDecay: 0.1 });
  n += rejectEach(["addDecayedWeights"], {
    "no params": () => wd.update(grads0, {}),
    ...Object.fromEntries(Object.entries(BAD_GRADS).map(([label, g]) => [label, () => wd.update(g, {}, params0)])),
    "a mask without w": () => O.addDecayedWeights({ weightDecay: 0.1, mask: { b: true } }).update(grads0, {}, params0),
    "a mask with a number leaf": () =>
      O.addDecayedWeights({ weightDecay: 0.1, mask: { b: true, w: 1 } as never }).update(grads0, {}, params0),
  });
  return n;
};

/** Options that every alias must refuse, on top of its own. */
const BAD_ALIAS_OPTIONS: readonly unknown[] = [
  null,
  5,
  "adam",
  {},
  { learningRate: NaN },
  { learningRate: "1e-3" },
  { learningRate: null },
];

export const sgdSpec: Spec = () =>
  prop(
    fc.tuple(arbSteps(), hyper([0.1, 1]), fc.option(hyper([0, 0.9])), fc.boolean()),
    ([c, lr, momentum, nesterov]) => {
      const opt = O.sgd({ learningRate: lr, ...(momentum === null ? {} : { momentum, nesterov }) });
      compareSteps(
        "sgd",
        opt,
        refChain(
          ...(momentum === null ? [] : [refTrace(momentum, nesterov)]),
          refScale(() => -lr),
        ),
        c,
      );
    },
    15,
  ) +
  rejectPool(
    ["sgd"],
    [
      ...BAD_ALIAS_OPTIONS,
      { learningRate: 0.1, momentum: 2 },
      { learningRate: 0.1, momentum: -1 },
      { learningRate: 0.1, nesterov: "yes" },
    ],
    (o) => O.sgd(o as never),
  ) +
  typos("sgd", ["learningRate", "momentum", "nesterov"], { learningRate: 0.1, momentum: 0.9 }, (o) =>
    O.sgd(o as never),
  );

export const adagradSpec: Spec = () =>
  prop(
    fc.tuple(arbSteps(), hyper([0.1, 1]), hyper([0, 0.1]), hyper([1e-8, 1e-3])),
    ([c, lr, init, eps]) => {
      compareSteps(
        "adagrad",
        O.adagrad({ learningRate: lr, initialAccumulator: init, eps }),
        refChain(
          refRss(init, eps),
          refScale(() => -lr),
        ),
        c,
      );
    },
    12,
  ) +
  rejectPool(["adagrad", "scaleByRss"], [...BAD_ALIAS_OPTIONS, { learningRate: 0.1, eps: -1 }], (o) =>
    O.adagrad(o as never),
  ) +
  typos("adagrad", ["learningRate", ...RSS_KEYS], { learningRate: 0.1 }, (o) => O.adagrad(o as never));

export const rmspropSpec: Spec = () =>
  prop(
    fc.tuple(rmsCase, fc.boolean(), fc.option(hyper([0, 0.5])), fc.boolean()),
    ([[c, decay, eps, init, inSqrt], centered, momentum, nesterov]) => {
      const opt = O.rmsprop({
        learningRate: 0.1,
        decay,
        eps,
        initialScale: init,
        epsInSqrt: inSqrt,
        centered,
        ...(momentum === null ? {} : { momentum, nesterov }),
      });
      compareSteps(
        "rmsprop",
        opt,
        refChain(
          refRms(decay, eps, init, inSqrt, centered),
          refScale(() => -0.1),
          ...(momentum === null ? [] : [refTrace(momentum, nesterov)]),
        ),
        c,
      );
    },
    15,
  ) +
  rejectPool(
    ["rmsprop", "scaleByRms", "scaleByStddev"],
    [
      ...BAD_ALIAS_OPTIONS,
      { learningRate: 0.1, centered: "yes" },
      { learningRate: 0.1, momentum: 2 },
      { learningRate: 0.1, decay: 2 },
    ],
    (o) => O.rmsprop(o as never),
  ) +
  typos("rmsprop", ["learningRate", "centered", "momentum", "nesterov", ...RMS_KEYS], { learningRate: 0.1 }, (o) =>
    O.rmsprop(o as never),
  );

export const adamSpec: Spec = () =>
  prop(
    adamCase,
    ([c, b1, b2, eps, epsRoot]) =>
      compareSteps(
        "adam",
        O.adam({ learningRate: 0.01, b1, b2, eps, epsRoot }),
        refChain(
          refAdam(b1, b2, eps, epsRoot),
          refScale(() => -0.01),
        ),
        c,
      ),
    15,
  ) +
  rejectPool(
    ["adam", "scaleByAdam"],
    [...BAD_ALIAS_OPTIONS, { learningRate: 0.1, b1: 1 }, { learningRate: 0.1, b2: 1.5 }],
    (o) => O.adam(o as never),
  ) +
  typos("adam", ["learningRate", ...ADAM_KEYS], { learningRate: 0.1 }, (o) => O.adam(o as never));

export const adamwSpec: Spec = () =>
  prop(
    fc.tuple(adamCase, hyper([0, 1e-4, 0.1])),
    ([[c, b1, b2, eps, epsRoot], wd]) => {
      compareSteps(
        "adamw",
        O.adamw({ learningRate: 0.01, b1, b2, eps, epsRoot, weightDecay: wd }),
        refChain(
          refAdam(b1, b2, eps, epsRoot),
          refDecay(wd),
          refScale(() => -0.01),
        ),
        c,
      );
    },
    15,
  ) +
  rejectPool(
    ["adamw", "scaleByAdam", "addDecayedWeights"],
    [...BAD_ALIAS_OPTIONS, { learningRate: 0.1, weightDecay: NaN }, { learningRate: 0.1, b1: 1 }],
    (o) => O.adamw(o as never),
  ) +
  typos("adamw", ["learningRate", ...ADAM_KEYS, "weightDecay", "mask"], { learningRate: 0.1, weightDecay: 0.01 }, (o) =>
    O.adamw(o as never),
  );

export { grads0, params0, BAD_NUMBERS };
