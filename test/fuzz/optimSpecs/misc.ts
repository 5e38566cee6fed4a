/**
 * @file Fuzz specs of clipping, non-finite skipping, masks and `learningRateAt`: against float64
 * arithmetic on the drawn values, then with bad bounds, non-transformations, traced values,
 * mismatched masks and wrong-typed counts and schedules.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as O from "@rewind/optim";
import { dataOf, expectNear, prop, rejectEach, rejectPool, type Spec } from "../apiKit.js";
import { refChain, refClip, refScale } from "./reference.js";
import { arbSteps, BAD_NUMBERS, compareSteps, grads0, params0, rejectUpdates } from "./transforms.js";

/** Two pytrees with the same leaves: dtypes, shapes and every number (−0 apart from 0, NaN equal to NaN). */
const expectSameBits = (label: string, got: unknown, want: unknown): void => {
  const [g, w] = [A.treeLeaves(got), A.treeLeaves(want)];
  expect(
    g.map((l) => `${l.dtype}[${l.shape.join(",")}]`),
    label,
  ).toEqual(w.map((l) => `${l.dtype}[${l.shape.join(",")}]`));
  g.forEach((l, i) => {
    const [a, b] = [dataOf(l), dataOf(w[i])];
    a.forEach((x, j) => expect(Object.is(x, b[j]), `${label}: leaf ${i}[${j}] ${x} vs ${b[j]}`).toBe(true));
  });
};

const sumSquares = (c: { readonly b: T.Tensor; readonly w: T.Tensor }): number =>
  [...dataOf(c.b), ...dataOf(c.w)].reduce((s, v) => s + v * v, 0);

export const globalNormSpec: Spec = () => {
  const n = prop(
    arbSteps(),
    (c) => {
      for (const g of c.grads) expectNear("globalNorm", O.globalNorm(g), [Math.sqrt(sumSquares(g))], [], 1e-12, 0);
    },
    15,
  );
  // Mixed dtypes give the widest; an empty tree is 0.
  expectNear(
    "globalNorm mixed",
    O.globalNorm({ a: T.fromDataOrThrow([3], [1], "float32"), b: T.fromDataOrThrow([4], [1], "float64") }),
    [5],
    [],
    0,
    0,
  );
  expectNear("globalNorm of {}", O.globalNorm({}), [0], [], 0, 0);
  return n + 2;
};

export const clipByGlobalNormSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbSteps(), fc.constantFrom(0.1, 1, 10)),
    ([c, max]) => {
      const clip = O.clipByGlobalNorm(max);
      for (const g of c.grads) {
        const norm = Math.sqrt(sumSquares(g));
        const [u] = clip.update(g, {});
        // A NaN or infinite gradient makes every update NaN (documented): norm < max is false and g·max/norm is NaN.
        for (const k of ["b", "w"] as const)
          expectNear(
            `clipByGlobalNorm .${k}`,
            u[k],
            dataOf(g[k]).map((v) => (norm < max ? v : (v / norm) * max)),
            g[k].shape,
            1e-12,
            0,
          );
      }
    },
    15,
  );
  n += rejectPool(["clipByGlobalNorm"], [0, -1, ...BAD_NUMBERS], (max) => O.clipByGlobalNorm(max as number));
  return n;
};

export const clipByValueSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbSteps(), fc.constantFrom(-Infinity, -1, 0), fc.constantFrom(0, 0.5, Infinity)),
    ([c, lo, hi]) => compareSteps("clipByValue", O.clipByValue(lo, hi), refClip(lo, hi), c),
    15,
  );
  n += rejectPool(
    ["clipByValue"],
    BAD_NUMBERS.filter((v) => v !== -Infinity),
    (lo) => O.clipByValue(lo as number, 1),
  );
  n += rejectEach(["clipByValue"], {
    "min > max": () => O.clipByValue(1, -1),
    "max -Infinity": () => O.clipByValue(-1, -Infinity),
  });
  return n;
};

export const skipNonFiniteSpec: Spec = () => {
  let n = prop(
    arbSteps(),
    (c) => {
      const inner = O.sgd({ learningRate: 0.1, momentum: 0.9 });
      const opt = O.skipNonFinite(inner);
      // The same steps under jit: the same bits, from one trace.
      const jitted = A.jit((g: typeof c.params, s: O.StateOf<typeof opt>) => opt.update(g, s, c.params));
      let state = opt.init(c.params);
      let traced = state;
      let innerState = inner.init(c.params);
      let skipped = 0;
      for (const g of c.grads) {
        const finite = [...dataOf(g.b), ...dataOf(g.w)].every(Number.isFinite);
        const [u, next] = opt.update(g, state, c.params);
        if (finite) {
          const [want, nextInner] = inner.update(g, innerState, c.params);
          for (const k of ["b", "w"] as const)
            expectNear(`skipNonFinite (finite) .${k}`, u[k], dataOf(want[k]), g[k].shape, 0, 0);
          innerState = nextInner;
        } else {
          skipped++;
          // Skipped: −0 updates (the parameters keep their bits) and the inner state untouched.
          for (const k of ["b", "w"] as const) expect(dataOf(u[k]).every((v) => Object.is(v, -0))).toBe(true);
          expect(next.inner).toBe(state.inner);
        }
        expect([Number(next.lastFinite) === 1, Number(next.totalNotFinite)]).toEqual([finite, skipped]);
        const [ut, nt] = jitted(g, traced);
        expectSameBits("skipNonFinite under jit", [ut, nt], [u, next]);
        state = next;
        traced = nt;
      }
      expect(jitted.cacheSize()).toBe(1);
    },
    20,
  );
  n += rejectPool(["skipNonFinite"], [null, 5, {}, { init: () => ({}) }], (inner) => O.skipNonFinite(inner as never));
  const opt = O.skipNonFinite(O.sgd({ learningRate: 1 }));
  n += rejectUpdates(
    ["skipNonFinite", "chain"],
    opt,
    [
      {},
      { inner: [] },
      { ...opt.init(params0), notFiniteCount: -1 },
      { ...opt.init(params0), notFiniteCount: T.scalar(-1, "int32") },
      { ...opt.init(params0), totalNotFinite: T.scalar(0, "float32") },
      { ...opt.init(params0), totalNotFinite: T.zeros([1], "int32") },
    ],
    false,
  );
  return n;
};

export const allFiniteValueSpec: Spec = () => {
  let n = prop(
    arbSteps(),
    (c) => {
      for (const g of c.grads) {
        const want = [...dataOf(g.b), ...dataOf(g.w)].every(Number.isFinite);
        expect(O.allFiniteValue(g)).toEqual(T.scalar(want ? 1 : 0, "bool"));
        // An op: the same answer traced, in float32 too.
        const f32 = A.treeMap((x: A.Value) => A.astype(x, "float32"), g);
        expect(A.jit(O.allFiniteValue)(f32)).toEqual(T.scalar(O.allFinite(f32) ? 1 : 0, "bool"));
      }
    },
    15,
  );
  expect(O.allFiniteValue({ ids: T.fromDataOrThrow([1, 2], [2], "int32") })).toEqual(T.scalar(1, "bool"));
  expect(O.allFiniteValue({})).toEqual(T.scalar(1, "bool"));
  // Statics are no leaves (always finite); a tree that cannot be walked is refused.
  expect(O.allFiniteValue([1, "x", null])).toEqual(T.scalar(1, "bool"));
  const cyclic: Record<string, unknown> = {};
  cyclic["self"] = cyclic;
  n += 3 + rejectPool(["treeFlatten"], [cyclic], (tree) => O.allFiniteValue(tree));
  return n;
};

export const allFiniteSpec: Spec = () => {
  let n = prop(
    arbSteps(),
    (c) => {
      for (const g of c.grads) expect(O.allFinite(g)).toBe([...dataOf(g.b), ...dataOf(g.w)].every(Number.isFinite));
    },
    15,
  );
  expect(O.allFinite({ ids: T.fromDataOrThrow([1, 2], [2], "int32") })).toBe(true);
  n +=
    1 +
    rejectEach(["allFinite", "myOp"], {
      "traced values": () => A.grad((x: A.Value) => (O.allFinite({ x }), A.sum(x)))(T.zeros([2], "float64")),
      "traced values, named op": () =>
        A.grad((x: A.Value) => (O.allFinite(x, "myOp"), A.sum(x)))(T.zeros([2], "float64")),
    });
  return n;
};

const arbMask = fc.record({ b: fc.boolean(), w: fc.boolean(), whole: fc.option(fc.boolean()) });

export const resolveMaskSpec: Spec = () => {
  let n = prop(
    arbMask,
    ({ b, w, whole }) => {
      // Leaves in treeFlatten order (keys sorted: b, w); a single boolean stands for the whole tree.
      expect(O.resolveMask("op", whole ?? { b, w }, params0)).toEqual(whole === null ? [b, w] : [whole, whole]);
      expect(O.resolveMask("op", () => ({ b, w }), params0)).toEqual([b, w]);
      expect(O.resolveMask("op", undefined, params0)).toEqual([true, true]);
    },
    8,
  );
  n += rejectPool(
    ["myOp"],
    [
      { b: true },
      { b: true, w: true, c: false },
      { b: true, w: 1 },
      { b: true, w: [true, true] },
      5,
      "all",
      [true, false],
      () => 5,
    ],
    (mask) => O.resolveMask("myOp", mask as never, params0),
  );
  return n;
};

export const maskByPathSpec: Spec = () => {
  let n = prop(
    fc.constantFrom("b", "w", "x"),
    (name) => {
      expect(
        O.resolveMask(
          "op",
          O.maskByPath((path) => path === `.${name}`),
          params0,
        ),
      ).toEqual([name === "b", name === "w"]);
    },
    3,
  );
  n += rejectPool(["maskByPath"], [null, 5, "w", {}], (pred) => O.maskByPath(pred as never));
  n += rejectEach(["op"], {
    "a predicate returning a number": () => O.resolveMask("op", O.maskByPath((() => 1) as never), params0),
  });
  return n;
};

export const learningRateAtSpec: Spec = () => {
  let n = prop(
    fc.tuple(fc.nat({ max: 1000 }), fc.double({ min: -1, max: 1, noNaN: true })),
    ([count, lr]) => {
      expect(O.learningRateAt(lr, count)).toBe(lr);
      expect(O.learningRateAt((c) => A.div(lr, A.add(A.astype(c, "float64"), 1)), count)).toBe(lr / (1 + count));
      // A schedule written for numbers still runs eagerly (the count tensor converts to its number).
      const numeric = ((c: number) => lr / (1 + c)) as unknown as O.Schedule;
      expect(O.learningRateAt(numeric, count)).toBe(lr / (1 + count));
    },
    15,
  );
  n += rejectPool(
    ["learningRateAt"],
    [-1, 1.5, NaN, Infinity, "1", null, 2 ** 31, T.scalar(-1, "int32"), T.scalar(1, "float32"), T.zeros([2], "int32")],
    (count) => O.learningRateAt(0.1, count as number),
  );
  n += rejectPool(
    ["learningRateAt"],
    [
      "0.1",
      null,
      {},
      () => NaN,
      () => -Infinity,
      () => "x",
      () => undefined,
      () => T.scalar(NaN, "float64"),
      () => T.zeros([2]),
      () => T.scalar(1, "bool"),
    ],
    (lr) => O.learningRateAt(lr as never, 3),
  );
  // The composed learning rate of an optimizer goes through it.
  n += rejectEach(["learningRateAt"], {
    "sgd with a NaN schedule": () =>
      O.sgd({ learningRate: () => NaN }).update(grads0, O.sgd({ learningRate: 0.1 }).init(params0)),
  });
  compareSteps(
    "scaleByLearningRate via learningRateAt",
    O.scaleByLearningRate((c) => A.pow(2, A.neg(A.astype(c, "float64")))),
    refChain(refScale((t) => -(2 ** -(t - 1)))),
    { params: params0, grads: [grads0, grads0, grads0] },
  );
  return n + 1;
};

/** `optimizer(t)`: the same object, typed; anything but `{ init, update }` functions is refused. */
export const optimizerSpec: Spec = () => {
  const adam = O.adam({ learningRate: 0.1 });
  expect(O.optimizer(adam)).toBe(adam);
  const [updates] = O.optimizer(O.scale(2)).update({ w: T.tensor([1, -2]) }, {});
  expect(dataOf(updates.w)).toEqual([2, -4]);
  return (
    2 +
    rejectPool(["optimizer"], [null, 5, "adam", {}, { init: () => ({}) }, { update: () => [] }, O.adam, [adam]], (t) =>
      O.optimizer(t as never),
    )
  );
};
