/**
 * @file Type-level tests across the packages (issue 18, "types that need no casts"): what the
 * optimizers, the built-in cells and layers, and `fromData` give a TypeScript user, pinned with
 * `expectTypeOf` (checked by `tsc -b`, run by `pnpm typecheck` and `.ci/run`) and `@ts-expect-error`
 * for what must stay rejected. (The transforms' own types are pinned in
 * packages/autodiff/test/types.test.ts.) Before: a conditional choice of optimizer could not be
 * updated (`update` demanded the intersection of the states), `init` gave states and parameters
 * typed with `Value`, so a jitted function fed with them returned `Value` and examples wrote
 * `(predict(p, x) as Tensor).data`, and `fromDataOrThrow([true], [1], "bool")` did not compile.
 * The runtime assertions check the same calls' values, so the file is not only types.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Concrete, Value } from "@rewind/autodiff";
import {
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  optimizer,
  sgd,
  skipNonFinite,
  trainStep,
  type AdamState,
  type EmptyState,
  type GradientTransformation,
  type SkipNonFiniteState,
  type StateOf,
} from "@rewind/optim";
import {
  additiveAttention,
  defineCell,
  dotAttention,
  generalAttention,
  embedding,
  generate,
  gru,
  linear,
  lstm,
  manyToOne,
  mapInput,
  mapOutput,
  stack,
  type AdditiveAttentionParams,
  type AttentionCell,
  type Cell,
  type LinearParams,
  type LstmCarry,
  type LuongAttentionParams,
  type ParamsOf,
  type TorchCellParams,
} from "@rewind/rnn";

interface Params {
  readonly w: Value;
}
const params = { w: T.tensor([1, -2], "float64") };
const grads = { w: T.tensor([0.5, 0.5], "float64") };
const x = T.tensor([3, 4], "float64");
const loss = (p: Params, v: Value): Value => A.sum(A.mul(p.w, v));
/** A flag known only at run time, as a command-line option would be. */
const clip = Number(T.item(T.scalar(1))) === 1;

describe("optimizers: a conditional choice, chain and skipNonFinite compose with init and update", () => {
  it("clip ? chain(clipByGlobalNorm(1), adam) : adam: init gives the union of the states, update takes it", () => {
    const opt = clip ? chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 })) : adam({ learningRate: 0.1 });
    let state = opt.init(params);
    expectTypeOf(state).toEqualTypeOf<Concrete<StateOf<typeof opt>>>();
    const [updates, next] = opt.update(grads, state, params);
    state = next;
    expectTypeOf(updates).toEqualTypeOf<{ w: Tensor }>();
    const p = applyUpdates(params, updates);
    // Adam's first step moves each weight by −lr · sign(g) (clipping only rescales g).
    expect([...p.w.data].map((v) => Number(v.toFixed(6)))).toEqual([0.9, -2.1]);
    expect(Array.isArray(state)).toBe(true);
  });
  it("the same with traced values (a loop inside a transform): the states are Value-typed, still composable", () => {
    const opt = clip ? chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 })) : adam({ learningRate: 0.1 });
    const stepped = A.jit((p: Params, g: Params) => {
      const s = opt.init(p);
      expectTypeOf(s).toEqualTypeOf<StateOf<typeof opt>>();
      const [u, next] = opt.update(g, s, p);
      expectTypeOf(next).toEqualTypeOf<StateOf<typeof opt>>();
      return applyUpdates(p, u);
    })(params, grads);
    expectTypeOf(stepped).toEqualTypeOf<{ readonly w: Tensor }>();
    expect([...stepped.w.data].map((v) => Number(v.toFixed(6)))).toEqual([0.9, -2.1]);
  });
  it("skipNonFinite of a conditional choice, and a chain of several, have the states of their parts", () => {
    const inner = clip ? sgd({ learningRate: 1 }) : adam({ learningRate: 1 });
    const skipping = skipNonFinite(inner);
    expectTypeOf<StateOf<typeof skipping>>().toEqualTypeOf<SkipNonFiniteState<StateOf<typeof inner>>>();
    const several = chain(clipByGlobalNorm(1), skipNonFinite(adam({ learningRate: 0.1 })), sgd({ learningRate: 1 }));
    let s = several.init(params);
    expectTypeOf(s[1].inner).toEqualTypeOf<Concrete<AdamState>>();
    [, s] = several.update(grads, s, params);
    const [u] = skipping.update(grads, skipping.init(params), params);
    // sgd with learning rate 1 moves by −g.
    expect([...u.w.data]).toEqual([-0.5, -0.5]);
    expect(T.item(s[1].totalNotFinite)).toBe(0);
  });
  it("trainStep of a conditional choice: parameters, state and loss come back as tensors", () => {
    const opt = clip ? chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 })) : adam({ learningRate: 0.1 });
    const step = trainStep(loss, opt, { donate: false });
    const r = step(params, opt.init(params), x);
    expectTypeOf(r.params).toEqualTypeOf<{ readonly w: Tensor }>();
    expectTypeOf(r.optState).toEqualTypeOf<Concrete<StateOf<typeof opt>>>();
    expectTypeOf(r.loss).toEqualTypeOf<Tensor>();
    expect(T.item(r.loss)).toBe(-5);
  });
  it("a transformation written by hand becomes an Optimizer with optimizer(), and can join a union", () => {
    const mine: GradientTransformation<EmptyState> = { init: () => ({}), update: (g, s) => [g, s] };
    const opt = clip ? optimizer(mine) : adam({ learningRate: 0.1 });
    const [u] = opt.update(grads, opt.init(params), params);
    expect([...u.w.data]).toEqual([0.5, 0.5]);
  });
  it("still rejects a state that is not the optimizer's", () => {
    const opt = adam({ learningRate: 0.1 });
    const chained = chain(clipByGlobalNorm(1), adam({ learningRate: 0.1 }));
    const either = clip ? chained : opt;
    // @ts-expect-error the parameters are not a state
    expect(() => opt.update(grads, params, params)).toThrow();
    // @ts-expect-error adam's state is not the chain's (a chain of two has two states)
    expect(() => chained.update(grads, opt.init(params), params)).toThrow();
    // @ts-expect-error nor is a union's state anything else
    expect(() => either.update(grads, { count: T.scalar(0, "int32") }, params)).toThrow();
  });
});

describe("built-in cells and layers: init returns tensors, so jitted functions of their parameters return tensors", () => {
  const key = T.random.key(0);
  it("gru, lstm, linear and embedding", () => {
    const cell = gru.init(key, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
    expectTypeOf(cell).toEqualTypeOf<Concrete<TorchCellParams>>();
    expectTypeOf(cell.weight_ih).toEqualTypeOf<Tensor>();
    expectTypeOf(lstm.init(key, { inputSize: 2, hiddenSize: 3 }).bias_hh).toEqualTypeOf<Tensor>();
    expectTypeOf(linear(1).init(key, 3)).toEqualTypeOf<Concrete<LinearParams>>();
    expectTypeOf(embedding(5, 2).init(key, 5).weight).toEqualTypeOf<Tensor>();
    // They are still cells of Value-typed parameters (their step runs under grad and jit).
    expectTypeOf(gru).toExtend<Cell<TorchCellParams, Value>>();
    const out = linear(1).init(key, 3, { dtype: "float64" });
    const predict = A.jit((p: { cell: TorchCellParams; out: LinearParams }, xs: Value): Value =>
      linear(1).apply(p.out)(manyToOne(gru, p.cell, xs).output),
    );
    const y = predict({ cell, out }, T.zeros([4, 5, 2], "float64"));
    expectTypeOf(y).toEqualTypeOf<Tensor>();
    expect(y.shape).toEqual([4, 1]);
  });
});

describe("fromData accepts the JavaScript types of every dtype", () => {
  it("booleans for bool, numbers and Int32Array for int32, Uint8Array for bool, Float32Array for float32", () => {
    expect([...T.fromDataOrThrow([true, false, true], [3], "bool").data]).toEqual([1, 0, 1]);
    expect([...T.fromDataOrThrow(new Uint8Array([0, 1]), [2], "bool").data]).toEqual([0, 1]);
    expect([...T.fromDataOrThrow([1, 2], [2], "int32").data]).toEqual([1, 2]);
    expect([...T.fromDataOrThrow(new Int32Array([3, 4]), [2], "int32").data]).toEqual([3, 4]);
    expect([...T.fromDataOrThrow(new Float32Array([0.5]), [1], "float32").data]).toEqual([0.5]);
    const either = T.fromData([false, true], [2], "bool");
    expect(either._tag).toBe("Right");
    // @ts-expect-error strings are no dtype's values
    expect(() => T.fromDataOrThrow(["1"], [1], "int32")).toThrow(/expected a number, got string/);
  });
});

describe("generate and the combinators: called on tensors, their results are tensors", () => {
  const key = T.random.key(0);
  const sizes = { inputSize: 2, hiddenSize: 3 };
  const genOptions = {
    startToken: 0,
    batch: 2,
    maxLength: 4,
    embed: (ids: Value): Value => A.oneHot(ids, 2, "float32"),
    readout: (y: Value): Value => y,
  };
  it("generate on tensor parameters (and a tensor carry) types tokens, lengths, logits and carry as tensors", () => {
    const p = gru.init(key, sizes);
    const r = generate(gru, p, { ...genOptions, initialCarry: T.zeros([2, 3]) });
    expectTypeOf(r.tokens).toEqualTypeOf<Tensor>();
    expectTypeOf(r.lengths).toEqualTypeOf<Tensor>();
    expectTypeOf(r.logits).toEqualTypeOf<Tensor>();
    expectTypeOf(r.finalCarry).toEqualTypeOf<Tensor>();
    expect(r.tokens.data).toBeInstanceOf(Int32Array);
    expect(r.tokens.shape).toEqual([2, 4]);
  });
  it("generate on Value-typed parameters, or inside a transform, stays Value (the loose signature)", () => {
    const p: TorchCellParams = gru.init(key, sizes);
    const r = generate(gru, p, genOptions);
    expectTypeOf(r.tokens).toEqualTypeOf<Value>();
    // @ts-expect-error a Value-typed call's tokens are not known to be a tensor
    const t: Tensor = r.tokens;
    expect(T.isTensor(t)).toBe(true);
    const traced = A.jit((q: TorchCellParams) => {
      const inner = generate(gru, q, genOptions);
      expectTypeOf(inner.tokens).toEqualTypeOf<Value>();
      return inner.tokens;
    })(gru.init(key, sizes));
    expectTypeOf(traced).toEqualTypeOf<Tensor>();
    expect(traced.shape).toEqual([2, 4]);
  });
  it("stack, mapInput and mapOutput over built-in cells and layers, and defineCell, init tensors", () => {
    const deep = stack([gru, lstm]);
    const ps = deep.init(key, sizes);
    expectTypeOf(ps).toEqualTypeOf<[Concrete<TorchCellParams>, Concrete<TorchCellParams>]>();
    // Still a cell of Value-typed parameters (its step runs under grad and jit).
    expectTypeOf(deep).toExtend<Cell<[TorchCellParams, TorchCellParams], [Value, LstmCarry]>>();
    const model = mapOutput(mapInput(gru, embedding(5, 2)), linear(5));
    const q = model.init(key, { inputSize: 1, hiddenSize: 3 });
    expectTypeOf(q.cell.input.weight).toEqualTypeOf<Tensor>();
    expectTypeOf(q.output.weight).toEqualTypeOf<Tensor>();
    const mine = defineCell<{ readonly w: Value }, Value>({
      name: "mine",
      init: (k, s) => ({ w: T.random.normal(k, [s.hiddenSize, s.hiddenSize]) }),
      initialCarry: (b, p) => T.zeros([b, p.w.shape[0]!]),
      step: (p, h) => {
        const next = A.tanh(A.matmul(h, p.w));
        return [next, next];
      },
      outputSize: (p) => p.w.shape[0]!,
    });
    expectTypeOf(mine.init(key, sizes).w).toEqualTypeOf<Tensor>();
    expectTypeOf(stack([mine, mine]).init(key, sizes)[1].w).toEqualTypeOf<Tensor>();
    const predict = A.jit((p: ParamsOf<typeof model>, xs: Value): Value => manyToOne(model, p, xs).output);
    const y = predict(q, T.zeros([4, 6, 1], "int32"));
    expectTypeOf(y).toEqualTypeOf<Tensor>();
    expect(y.shape).toEqual([4, 5]);
  });
  it("attention cells over built-in cells init tensors; over a loosely typed cell, the loose type", () => {
    const dec = additiveAttention(gru);
    expectTypeOf(dec.init(key, sizes).cell.weight_ih).toEqualTypeOf<Tensor>();
    expectTypeOf(dotAttention(lstm, { weights: true }).init(key, sizes)).toEqualTypeOf<
      Concrete<LuongAttentionParams<TorchCellParams>>
    >();
    expectTypeOf(generalAttention(gru).init(key, sizes).cell.bias_hh).toEqualTypeOf<Tensor>();
    const loose: Cell<TorchCellParams, Value> = gru;
    expectTypeOf(additiveAttention(loose).init(key, sizes).cell).toEqualTypeOf<TorchCellParams>();
    // Still an AttentionCell of Value-typed parameters.
    expectTypeOf(dec).toExtend<AttentionCell<AdditiveAttentionParams<TorchCellParams>, Value>>();
  });
  it("a combinator over a cell whose init is typed loosely keeps that loose type", () => {
    const loose: Cell<TorchCellParams, Value> = gru;
    expectTypeOf(stack([loose, gru]).init(key, sizes)).toEqualTypeOf<[TorchCellParams, Concrete<TorchCellParams>]>();
    expectTypeOf(mapOutput(loose, linear(2)).init(key, sizes).cell).toEqualTypeOf<TorchCellParams>();
  });
  it("defineCell's init, given a tensor key, refuses to return a value traced by an enclosing transform", () => {
    const leaky = (w: Value) =>
      defineCell<{ readonly w: Value }, Value>({
        name: "leaky",
        init: () => ({ w }),
        initialCarry: (b) => T.zeros([b, 1]),
        step: (_p, h) => [h, h],
        outputSize: 1,
      }).init(key, sizes).w;
    expect(() => A.grad((w: Value) => A.sum(leaky(w)))(T.ones([1]))).toThrow(
      /leaky.*init.*traced value.*build the parameters from the key/,
    );
  });
});
