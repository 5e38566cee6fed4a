/**
 * @file Fuzz spec of `trainStep`: on random parameters and batches (some elements NaN or ±Infinity),
 * the jitted step gives the eager step's bits (`valueAndGrad`, `update`, `applyUpdates` op by op)
 * and is traced once; hostile losses, optimizers and options are refused naming `trainStep`.
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as O from "@rewind/optim";
import { dataOf, NOT_FLAGS, NOT_OPTIONS, prop, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { arbSteps } from "./transforms.js";

type Params = { readonly b: T.Tensor; readonly w: T.Tensor };

/** A loss with a batch: ½‖b‖² + Σ w·x (so a non-finite x makes the loss and w's gradient non-finite). */
const loss = (p: Params, x: Params): A.Value => A.add(A.mul(A.sum(A.square(p.b)), 0.5), A.sum(A.mul(p.w, x.w)));

const bitsOf = (tree: unknown): string[] =>
  A.treeLeaves(tree).map(
    (l) => `${l.dtype}[${l.shape.join(",")}] ${dataOf(l).map((v) => (Object.is(v, -0) ? "-0" : String(v)))}`,
  );

export const trainStepSpec: Spec = () => {
  let n = prop(
    arbSteps(),
    (c) => {
      const opt = O.skipNonFinite(O.chain(O.clipByGlobalNorm(1), O.adam({ learningRate: 0.1 })));
      const step = O.trainStep(loss, opt, { donate: false });
      let [p, s] = [c.params, opt.init(c.params)];
      let [pe, se] = [p, s];
      for (const x of c.grads) {
        const r = step(p, s, x);
        const [value, g] = A.valueAndGrad(loss)(pe, x) as [T.Tensor, Params];
        const [u, next] = opt.update(g, se, pe);
        const eager = { params: O.applyUpdates(pe, u), optState: next, loss: value };
        expect(bitsOf([r.params, r.optState, r.loss])).toEqual(bitsOf([eager.params, eager.optState, eager.loss]));
        [p, s, pe, se] = [r.params, r.optState, eager.params, eager.optState];
      }
      expect(step.traceCount()).toBe(1);
    },
    15,
  );
  const opt = O.sgd({ learningRate: 0.1 });
  n += rejectPool(["trainStep"], [null, 3, "loss", {}], (f) => O.trainStep(f as never, opt));
  n += rejectPool(["trainStep"], [null, 5, {}, { init: () => ({}) }], (o) => O.trainStep(loss, o as never));
  n += rejectPool(["trainStep"], NOT_OPTIONS, (o) => O.trainStep(loss, opt, o as never));
  for (const key of ["hasAux", "donate", "compile"])
    n += rejectPool(["trainStep"], NOT_FLAGS, (v) => O.trainStep(loss, opt, { [key]: v } as never));
  // A back end that is none, and the CPU options beside a (registered-looking) back end.
  n += rejectPool(["trainStep"], [null, 3, {}, { jit: 1 }, true], (b) =>
    O.trainStep(loss, opt, { backend: b } as never),
  );
  const stub = { name: "stub", jit: () => () => Promise.resolve(undefined) } as never;
  for (const key of ["donate", "compile"])
    n += rejectPool(["trainStep"], [true, false], (v) => O.trainStep(loss, opt, { backend: stub, [key]: v } as never));
  n += misspeltCases({
    names: ["trainStep"],
    error: T.TensorException,
    known: ["hasAux", "donate", "compile", "backend"],
    base: { hasAux: false, donate: true, compile: true },
    call: (o) => O.trainStep(loss, opt, o as never),
  });
  return n;
};
