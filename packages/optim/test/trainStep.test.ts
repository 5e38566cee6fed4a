/**
 * @file `trainStep`: the whole training step as one jit. It gives the eager step's bits (loss,
 * gradient by `valueAndGrad`, `optimizer.update`, `applyUpdates`, op by op) over consecutive
 * steps, in float32 and float64, compiled and interpreted; it is traced once; it donates the
 * parameters and optimizer state unless told not to; `hasAux` returns the loss's aux; bad
 * arguments are refused naming `trainStep`.
 */
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  skipNonFinite,
  trainStep,
  type GradientTransformation,
} from "../src/index.js";

type Float = "float32" | "float64";
interface Params {
  readonly w: Value;
  readonly b: Value;
}

const makeParams = (dtype: Float): Params => ({
  w: T.fromDataOrThrow([0.3, -0.2, 0.5, 0.1, -0.4, 0.25], [3, 2], dtype),
  b: T.fromDataOrThrow([0.05, -0.1], [2], dtype),
});

/** Batch `i`: a [4, 3] input and a [4, 2] target drawn from the key of step i. */
const batch = (i: number, dtype: Float): readonly [T.Tensor, T.Tensor] => {
  const [kx, ky] = T.random.split(T.random.key(i), 2) as [T.Key, T.Key];
  return [T.random.normal(kx, [4, 3], dtype), T.random.normal(ky, [4, 2], dtype)];
};

/** Mean squared error of a tanh layer, and the mean activation as aux. */
const lossWithAux = (p: Params, x: Value, y: Value): [Value, Value] => {
  const h = A.tanh(A.add(A.matmul(x, p.w), p.b));
  return [A.mean(A.square(A.sub(h, y))), A.mean(h)];
};
const loss = (p: Params, x: Value, y: Value): Value => lossWithAux(p, x, y)[0];

const optimizerOf = () =>
  skipNonFinite(chain(clipByGlobalNorm(0.5), adam({ learningRate: cosineDecay({ initValue: 0.1, decaySteps: 5 }) })));

const bitsOf = (tree: unknown): string[] =>
  A.treeLeaves(tree).map((l) => Buffer.from(new Uint8Array((l as T.Tensor).data.buffer)).toString("hex"));

/** Copies every tensor of a tree, so a donated original does not take the copy with it. */
const copyTree = <X>(tree: X): X =>
  A.treeMap<X>((l: Value) => T.fromDataOrThrow((l as T.Tensor).data, l.shape, l.dtype), tree);

/** The eager step, op by op: what trainStep must equal bit for bit. */
const eagerStep = <S>(opt: GradientTransformation<S>, p: Params, s: S, x: T.Tensor, y: T.Tensor) => {
  const [[value, aux], grads] = A.valueAndGrad(lossWithAux, { hasAux: true })(p, x, y);
  const [updates, next] = opt.update(grads, s, p);
  return { params: applyUpdates(p, updates), optState: next, loss: value, aux };
};

describe("trainStep", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const compile of [true, false]) {
      it(`equals the eager step bit for bit over 8 steps and traces once (${dtype}, compile ${compile})`, () => {
        const opt = optimizerOf();
        const step = trainStep(lossWithAux, opt, { hasAux: true, compile });
        let p = makeParams(dtype);
        let s = opt.init(p);
        let pe = copyTree(p);
        let se = copyTree(s);
        for (let i = 0; i < 8; i++) {
          const [x, y] = batch(i, dtype);
          const e = eagerStep(opt, pe, se, x, y);
          const r = step(p, s, x, y);
          expect(bitsOf([r.params, r.optState, r.loss, r.aux])).toEqual(bitsOf([e.params, e.optState, e.loss, e.aux]));
          ({ params: p, optState: s } = r);
          ({ params: pe, optState: se } = e);
        }
        expect(step.traceCount()).toBe(1);
        expect(T.item(s.inner[1][0].count as T.Tensor)).toBe(8);
      });
    }
  }

  it("skips a NaN batch inside the one program, as the eager step does", () => {
    const opt = optimizerOf();
    const step = trainStep(loss, opt, { donate: false });
    const p = makeParams("float64");
    const s = opt.init(p);
    const [x, y] = batch(0, "float64");
    const bad = T.fromDataOrThrow([NaN, ...Array.from({ length: 11 }, () => 0)], [4, 3], "float64");
    const r = step(p, s, bad, y);
    expect(bitsOf(r.params)).toEqual(bitsOf(p)); // every parameter kept exactly
    expect(T.item(r.optState.totalNotFinite as T.Tensor)).toBe(1);
    expect(T.item(r.optState.lastFinite as T.Tensor)).toBe(0);
    const good = step(r.params, r.optState, x, y);
    expect(T.item(good.optState.notFiniteCount as T.Tensor)).toBe(0);
    expect(step.traceCount()).toBe(1);
  });

  it("donates the parameters and optimizer state by default; donate: false keeps them", () => {
    const opt = optimizerOf();
    const [x, y] = batch(0, "float32");
    const p = makeParams("float32");
    const s = opt.init(p);
    const kept = trainStep(loss, opt, { donate: false });
    kept(p, s, x, y);
    expect(T.item(A.sum(p.w) as T.Tensor)).toBeCloseTo(0.55, 6); // still readable
    const donating = trainStep(loss, opt);
    donating(p, s, x, y);
    expect(() => A.sum(p.w)).toThrow(/donated to a jitted call/);
    expect(() => A.treeLeaves(s)).toThrow(/donated to a jitted call/);
    // The batch was not donated.
    expect(T.item(A.sum(x) as T.Tensor)).toBe(T.item(A.sum(batch(0, "float32")[0]) as T.Tensor));
  });

  it("refuses what is not a loss, an optimizer or its options, naming trainStep", () => {
    const opt = optimizerOf();
    expect(() => trainStep(3 as never, opt)).toThrow(/trainStep.*loss/s);
    expect(() => trainStep(loss, {} as never)).toThrow(/trainStep.*optimizer/s);
    expect(() => trainStep(loss, opt, { donat: true } as never)).toThrow(/trainStep.*donate/s);
    expect(() => trainStep(loss, opt, { hasAux: "yes" } as never)).toThrow(/trainStep.*hasAux/s);
  });
});
