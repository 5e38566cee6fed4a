/**
 * @file Cell combinators against manual composition: stack = running the layers one after the
 * other, residual = x + cell(x), mapInput/mapOutput = the layer applied by hand; dropout's masks
 * (rate, scaling, keys, composition of noises); errors; and random nestings of every combinator
 * over built-in and user cells, whose gradients through rnn match finite differences.
 */
import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { rnn } from "../src/rnn.js";
import { elmanTanh } from "../src/cells/elman.js";
import { gru } from "../src/cells/gru.js";
import { lstm } from "../src/cells/lstm.js";
import { peepholeLstm } from "../src/cells/peephole.js";
import { layerNormLstm } from "../src/cells/layerNormLstm.js";
import { defineCell, mgu } from "../src/custom.js";
import { embedding, linear } from "../src/layers.js";
import { dropout, mapInput, mapOutput, residual, stack, withSizes, type AnyCell } from "../src/combinators.js";
import { checkGradFd, expectClose, expectTreeClose, nums, randn, randomize } from "./extra-helpers.js";

const key = (n: number): T.Key => T.random.key(n);
const f64 = { dtype: "float64" } as const;

/** A user cell that shows what it reads: y = x ⊙ w (w starts at 1), carry = running sum of y. */
const gain = defineCell<{ w: Value }, Value>({
  name: "gain",
  init: (_k, { inputSize }, { dtype = "float32" }) => ({ w: T.ones([inputSize], dtype) }),
  initialCarry: (batch, p) => T.zeros([batch, p.w.shape[0]!], p.w.dtype),
  step: (p, c, x) => {
    const y = A.mul(x, p.w);
    return [A.add(c, y), y];
  },
  outputSize: (p) => p.w.shape[0]!,
  inputSize: (p) => p.w.shape[0]!,
});

/** Fraction of zeros, and whether every nonzero output is the input times `scale`. */
const dropStats = (out: Value, xs: Value, scale: number): { zeroFraction: number; scaledOk: boolean } => {
  const o = nums(out);
  const x = nums(xs);
  const zeros = o.filter((v) => v === 0).length;
  const scaledOk = o.every((v, i) => v === 0 || Math.abs(v - x[i]! * scale) <= 1e-12 * Math.abs(x[i]! * scale));
  return { zeroFraction: zeros / o.length, scaledOk };
};

describe("stack", () => {
  it("feeds each layer the previous layer's width and keeps one params/carry entry per layer", () => {
    const deep = stack([elmanTanh, lstm, gru]);
    const ps = deep.init(key(0), { inputSize: 3, hiddenSize: 5 });
    expect(ps.map((p) => p.weight_ih.shape)).toEqual([
      [5, 3],
      [20, 5],
      [15, 5],
    ]);
    const carry = deep.initialCarry(2, ps);
    expect(carry.length).toBe(3);
    expect(carry[1].c.shape).toEqual([2, 5]);
    expect(deep.outputSize(ps)).toBe(5);
    expect(deep.inputSize?.(ps)).toBe(3);
    expect(deep.name).toBe("stack([elmanTanh, lstm, gru])");
  });

  it("equals running the layers one after the other by hand (outputs and final carries)", () => {
    const [pa, pb] = stack([lstm, gru]).init(key(1), { inputSize: 3, hiddenSize: 4 }, f64);
    const xs = randn(2, [3, 6, 3]);
    for (const opts of [{}, { lengths: [6, 2, 0] }, { lengths: [3, 6, 5], reverse: true }, { timeMajor: true }]) {
      const both = rnn(stack([lstm, gru]), [pa, pb], xs, opts);
      const a = rnn(lstm, pa, xs, opts);
      const b = rnn(gru, pb, a.outputs, opts);
      expectTreeClose(both.outputs, b.outputs, 1e-14);
      expectTreeClose(both.finalCarry, [a.finalCarry, b.finalCarry], 1e-14);
    }
  });

  it("gives per-layer hidden sizes through withSizes", () => {
    const deep = stack([withSizes(lstm, { hiddenSize: 6 }), withSizes(gru, { hiddenSize: 2 })]);
    const ps = deep.init(key(2), { inputSize: 3, hiddenSize: 99 });
    expect(ps[0].weight_hh.shape).toEqual([24, 6]);
    expect(ps[1].weight_ih.shape).toEqual([6, 6]);
    expect(rnn(deep, ps, T.ones([2, 4, 3])).outputs.shape).toEqual([2, 4, 2]);
  });

  it("drops the outputs between layers, not after the last, only with a key", () => {
    const xs = randn(3, [100, 10, 4]);
    const rate = 0.4;
    const three = stack([gain, gain, gain], { dropout: rate });
    const ps = three.init(key(0), { inputSize: 4, hiddenSize: 4 }, f64);
    // Two masks (after layers 0 and 1): kept with probability (1 − r)², scaled by 1/(1 − r)².
    const stats = dropStats(rnn(three, ps, xs, { key: key(9) }).outputs, xs, 1 / (1 - rate) ** 2);
    expect(stats.scaledOk).toBe(true);
    expect(Math.abs(stats.zeroFraction - (1 - (1 - rate) ** 2))).toBeLessThan(0.03);
    expect(nums(rnn(three, ps, xs).outputs)).toEqual(nums(xs));
    const one = stack([gain], { dropout: 0.5 });
    expect(one.noise).toBeUndefined();
    expect(nums(rnn(one, one.init(key(0), { inputSize: 4, hiddenSize: 4 }, f64), xs, { key: key(1) }).outputs)).toEqual(
      nums(xs),
    );
  });

  it("passes each layer its own noise (a dropout inside a layer)", () => {
    const xs = randn(4, [100, 10, 4]);
    const deep = stack([dropout(gain, 0.25), gain]);
    const ps = deep.init(key(0), { inputSize: 4, hiddenSize: 4 }, f64);
    const stats = dropStats(rnn(deep, ps, xs, { key: key(2) }).outputs, xs, 1 / 0.75);
    expect(stats.scaledOk).toBe(true);
    expect(Math.abs(stats.zeroFraction - 0.25)).toBeLessThan(0.03);
  });

  it("rejects empty lists, non-cells, bad rates and params of the wrong length", () => {
    expect(() => stack([])).toThrow(/stack.*non-empty array of cells/);
    expect(() => stack([lstm, 3 as unknown as AnyCell])).toThrow(/stack.*cells\[1\]/);
    expect(() => stack([lstm], { dropout: 1 })).toThrow(/stack.*\[0, 1\).*options\.dropout/);
    const deep = stack([lstm, lstm]);
    const ps = deep.init(key(0), { inputSize: 2, hiddenSize: 2 });
    expect(() => deep.step([ps[0]] as unknown as typeof ps)).toThrow(/stack\(\[lstm, lstm\]\)\.step.*array of 2/);
  });
});

describe("residual", () => {
  it("is x + cell(x) with the cell's parameters and carry", () => {
    const block = residual(gru);
    const p = block.init(key(3), { inputSize: 4, hiddenSize: 4 }, f64);
    expectTreeClose(p, gru.init(key(3), { inputSize: 4, hiddenSize: 4 }, f64), 0);
    const xs = randn(5, [2, 5, 4]);
    const plain = rnn(gru, p, xs);
    const res = rnn(block, p, xs);
    expectClose(nums(res.outputs), nums(A.add(xs, plain.outputs)), 1e-15);
    expectTreeClose(res.finalCarry, plain.finalCarry, 0);
  });

  it("fails clearly when outputSize ≠ inputSize, at init and at step", () => {
    expect(() => residual(lstm).init(key(0), { inputSize: 3, hiddenSize: 5 })).toThrow(
      /residual\(lstm\).*reads 3 features and outputs 5.*set hiddenSize to 3/,
    );
    const p = lstm.init(key(0), { inputSize: 3, hiddenSize: 5 });
    expect(() => residual(lstm).step(p)(lstm.initialCarry(2, p), T.ones([2, 3]))).toThrow(
      /residual\(lstm\).*\[2, 3\], \[2, 5\]/,
    );
    expect(() => residual(null as unknown as AnyCell)).toThrow(/residual.*expected a cell/);
  });
});

describe("mapInput / mapOutput", () => {
  it("mapInput(cell, linear) equals the linear applied to xs by hand, then the cell", () => {
    const cell = mapInput(gru, linear(4));
    const p = cell.init(key(4), { inputSize: 3, hiddenSize: 5 }, f64);
    expect(p.input.weight.shape).toEqual([4, 3]);
    expect(p.cell.weight_ih.shape).toEqual([15, 4]);
    const xs = randn(6, [2, 5, 3]);
    const byHand = rnn(gru, p.cell, linear(4).apply(p.input)(xs), { lengths: [5, 3] });
    const together = rnn(cell, p, xs, { lengths: [5, 3] });
    expectClose(nums(together.outputs), nums(byHand.outputs), 1e-14);
    expectTreeClose(together.finalCarry, byHand.finalCarry, 1e-14);
    expect(cell.inputSize?.(p)).toBe(3);
  });

  it("mapInput(cell, embedding) reads int32 token ids [B, T, 1] and trains the table", () => {
    const cell = mapInput(lstm, embedding(11, 3));
    const p = cell.init(key(5), { inputSize: 1, hiddenSize: 4 }, f64);
    const ids = T.tensor(
      [
        [[1], [4], [10], [4]],
        [[0], [2], [2], [9]],
      ],
      "int32",
    );
    const embedded = A.reshape(A.take(p.input.weight, A.reshape(ids, [8]), 0), [2, 4, 3]);
    expectClose(nums(rnn(cell, p, ids).outputs), nums(rnn(lstm, p.cell, embedded).outputs), 1e-14);
    const target = randn(7, [2, 4, 4]);
    checkGradFd((q: typeof p) => A.sum(A.mul(rnn(cell, q, ids, { lengths: [4, 3] }).outputs, target)), p);
  });

  it("mapOutput(cell, linear) equals the linear applied to the cell's outputs by hand", () => {
    const cell = mapOutput(lstm, linear(2));
    const p = cell.init(key(6), { inputSize: 3, hiddenSize: 5 }, f64);
    expect(p.output.weight.shape).toEqual([2, 5]);
    const xs = randn(8, [3, 4, 3]);
    const inner = rnn(lstm, p.cell, xs);
    const out = rnn(cell, p, xs);
    expect(out.outputs.shape).toEqual([3, 4, 2]);
    expectClose(nums(out.outputs), nums(linear(2).apply(p.output)(inner.outputs)), 1e-14);
    expectTreeClose(out.finalCarry, inner.finalCarry, 0);
    expect(cell.outputSize(p)).toBe(2);
  });

  it("reject non-layers and params without their keys", () => {
    expect(() => mapInput(lstm, {} as never)).toThrow(/mapInput.*expected a layer/);
    expect(() => mapOutput(lstm, null as never)).toThrow(/mapOutput.*expected a layer/);
    expect(() => mapOutput(lstm, linear(2)).step({} as never)).toThrow(
      /mapOutput\(lstm, linear\(2\)\).*keys cell, output/,
    );
  });
});

describe("dropout", () => {
  const xs = randn(10, [200, 10, 5]);
  const p = gain.init(key(0), { inputSize: 5, hiddenSize: 5 }, f64);

  it("without a key is the inner cell, bit for bit", () => {
    const q = lstm.init(key(1), { inputSize: 5, hiddenSize: 3 }, f64);
    const small = randn(11, [2, 4, 5]);
    expect(nums(rnn(dropout(lstm, 0.5), q, small).outputs)).toEqual(nums(rnn(lstm, q, small).outputs));
    expect(nums(rnn(dropout(gain, 0.9), p, xs).outputs)).toEqual(nums(xs));
  });

  test.prop([fc.constantFrom(0.1, 0.3, 0.5, 0.8), fc.integer({ min: 0, max: 1000 })], { numRuns: 8 })(
    "with a key zeroes a fraction ≈ rate of the inputs and scales the rest by 1/(1 − rate)",
    (rate, seed) => {
      const stats = dropStats(rnn(dropout(gain, rate), p, xs, { key: key(seed) }).outputs, xs, 1 / (1 - rate));
      expect(stats.scaledOk).toBe(true);
      expect(Math.abs(stats.zeroFraction - rate)).toBeLessThan(0.03);
    },
  );

  it("is a function of the key: same key, same masks; another key or step, other masks", () => {
    const cell = dropout(gain, 0.5);
    const a = nums(rnn(cell, p, xs, { key: key(3) }).outputs);
    expect(nums(rnn(cell, p, xs, { key: key(3) }).outputs)).toEqual(a);
    expect(nums(rnn(cell, p, xs, { key: key(4) }).outputs)).not.toEqual(a);
    // Fresh masks per step: the zero pattern of step 0 differs from step 1's.
    const zeroAt = (t: number): boolean[] =>
      Array.from({ length: 200 * 5 }, (_, i) => a[(Math.floor(i / 5) * 10 + t) * 5 + (i % 5)] === 0);
    expect(zeroAt(0)).not.toEqual(zeroAt(1));
  });

  it("rate 0 with a key changes nothing", () => {
    expect(nums(rnn(dropout(gain, 0), p, xs, { key: key(1) }).outputs)).toEqual(nums(xs));
  });

  it("composes with the inner cell's own noise", () => {
    const twice = dropout(dropout(gain, 0.5), 0.5);
    const stats = dropStats(rnn(twice, p, xs, { key: key(5) }).outputs, xs, 4);
    expect(stats.scaledOk).toBe(true);
    expect(Math.abs(stats.zeroFraction - 0.75)).toBeLessThan(0.03);
    const aroundStack = dropout(stack([gain, gain], { dropout: 0.5 }), 0.5);
    const ps = aroundStack.init(key(0), { inputSize: 5, hiddenSize: 5 }, f64);
    const s2 = dropStats(rnn(aroundStack, ps, xs, { key: key(6) }).outputs, xs, 4);
    expect(s2.scaledOk).toBe(true);
    expect(Math.abs(s2.zeroFraction - 0.75)).toBeLessThan(0.03);
  });

  it("validates the rate", () => {
    for (const bad of [-0.1, 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "0.5"]) {
      expect(() => dropout(gain, bad as number)).toThrow(/dropout.*rate must be a number in \[0, 1\)/);
    }
  });

  it("names the cell when it cannot size the input masks", () => {
    const opaque = defineCell<{ w: Value }, Value>({
      name: "opaque",
      init: () => ({ w: T.ones([2]) }),
      initialCarry: (b) => T.zeros([b, 2]),
      step: (_p, c, x) => [c, x],
      outputSize: 2,
    });
    const q = opaque.init(key(0), { inputSize: 2, hiddenSize: 2 });
    expect(nums(rnn(dropout(opaque, 0.5), q, T.ones([1, 2, 2])).outputs)).toEqual([1, 1, 1, 1]);
    expect(() => rnn(dropout(opaque, 0.5), q, T.ones([1, 2, 2]), { key: key(0) })).toThrow(
      /dropout\(opaque, 0\.5\).*cannot tell the input size of cell opaque/,
    );
    const tokens = mapInput(lstm, embedding(5, 2));
    const tq = tokens.init(key(0), { inputSize: 1, hiddenSize: 2 });
    expect(() => rnn(dropout(tokens, 0.5), tq, T.zeros([1, 2, 1], "int32"), { key: key(0) })).toThrow(
      /does not read feature vectors.*mapInput\(dropout\(cell, rate\), layer\)/,
    );
    // …and the suggested form works: dropout on the embedded vectors.
    const fixed = mapInput(dropout(lstm, 0.5), embedding(5, 2));
    expect(rnn(fixed, tq, T.zeros([1, 2, 1], "int32"), { key: key(0) }).outputs.shape).toEqual([1, 2, 2]);
  });
});

/** A random nesting of combinators over built-in and user cells, every width W. */
type Desc =
  | { readonly k: "base"; readonly i: number }
  | { readonly k: "stack"; readonly parts: readonly Desc[]; readonly rate: number }
  | { readonly k: "residual" | "mapIn" | "mapOut"; readonly d: Desc }
  | { readonly k: "dropout"; readonly d: Desc; readonly rate: number };

const indRnn = defineCell<{ w: Value; u: Value }, Value>({
  name: "indRnn",
  init: (k, { inputSize, hiddenSize }, { dtype = "float32" }) => {
    const [k1, k2] = T.random.split(k, 2) as [T.Key, T.Key];
    return {
      w: T.random.uniform(k1, [inputSize, hiddenSize], { min: -0.5, max: 0.5, dtype }),
      u: T.random.uniform(k2, [hiddenSize], { dtype }),
    };
  },
  initialCarry: (b, p) => T.zeros([b, p.u.shape[0]!], p.u.dtype),
  step: (p, h, x) => {
    const next = A.tanh(A.add(A.matmul(x, p.w), A.mul(p.u, h)));
    return [next, next];
  },
  outputSize: (p) => p.u.shape[0]!,
  inputSize: (p) => p.w.shape[0]!,
});
const bases: readonly AnyCell[] = [elmanTanh, lstm, gru, peepholeLstm, layerNormLstm, mgu, indRnn];

const descArb: fc.Arbitrary<Desc> = fc.letrec<{ d: Desc }>((tie) => ({
  d: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ k: fc.constant("base" as const), i: fc.integer({ min: 0, max: bases.length - 1 }) }),
    fc.record({
      k: fc.constant("stack" as const),
      parts: fc.array(tie("d"), { minLength: 1, maxLength: 2 }),
      rate: fc.constantFrom(0, 0.3),
    }),
    fc.record({ k: fc.constantFrom("residual" as const, "mapIn" as const, "mapOut" as const), d: tie("d") }),
    fc.record({ k: fc.constant("dropout" as const), d: tie("d"), rate: fc.constantFrom(0, 0.4) }),
  ),
})).d;

/** Builds the cell; `noDropout` builds the same cell with every dropout removed (same params). */
const build = (d: Desc, noDropout = false): AnyCell => {
  switch (d.k) {
    case "base":
      return bases[d.i]!;
    case "stack":
      return stack(
        d.parts.map((x) => build(x, noDropout)),
        { dropout: noDropout ? 0 : d.rate },
      );
    case "residual":
      return residual(build(d.d, noDropout));
    case "mapIn":
      return mapInput(build(d.d, noDropout), linear(W));
    case "mapOut":
      return mapOutput(build(d.d, noDropout), linear(W));
    case "dropout":
      return noDropout ? build(d.d, true) : dropout(build(d.d), d.rate);
  }
};
const W = 3;

describe("every combinator composes with every other and with user cells", () => {
  test.prop([descArb, fc.integer({ min: 0, max: 100 })], { numRuns: 30 })(
    "random nestings run; without a key they equal the nesting with dropout removed; same key, same result",
    (desc, seed) => {
      const cell = build(desc);
      const p = randomize(cell.init(key(seed), { inputSize: W, hiddenSize: W }, f64), seed, 0.7);
      const xs = randn(seed + 1, [2, 3, W]);
      const plain = rnn(cell, p, xs, { lengths: [3, 2] });
      expect(plain.outputs.shape).toEqual([2, 3, W]);
      expect(nums(plain.outputs).every(Number.isFinite)).toBe(true);
      expectTreeClose(plain, rnn(build(desc, true), p, xs, { lengths: [3, 2] }), 0);
      const noisy = rnn(cell, p, xs, { key: key(seed) });
      expectTreeClose(noisy, rnn(cell, p, xs, { key: key(seed) }), 0);
    },
  );

  test.prop([descArb, fc.integer({ min: 0, max: 100 })], { numRuns: 12 })(
    "gradients through rnn of random nestings match finite differences (float64, with dropout on)",
    (desc, seed) => {
      const cell = build(desc);
      const p = randomize(cell.init(key(seed), { inputSize: W, hiddenSize: W }, f64), seed, 0.7);
      const xs = randn(seed + 2, [2, 3, W]);
      const target = randn(seed + 3, [2, 3, W]);
      checkGradFd(
        (q: unknown) => A.sum(A.mul(rnn(cell, q, xs, { key: key(seed), lengths: [3, 1] }).outputs, target)),
        p,
        seed,
      );
    },
  );

  it("a deep composition of the new cells has finite-difference-exact gradients", () => {
    const cell: AnyCell = mapOutput(
      stack([dropout(residual(peepholeLstm), 0.2), layerNormLstm, mgu, indRnn], { dropout: 0.3 }),
      linear(2),
    );
    const p = randomize(cell.init(key(1), { inputSize: 4, hiddenSize: 4 }, f64), 41, 0.7);
    const xs = randn(12, [3, 5, 4]);
    const target = randn(13, [3, 5, 2]);
    const loss = (q: unknown): Value =>
      A.sum(A.mul(rnn(cell, q, xs, { key: key(2), lengths: [5, 2, 4] }).outputs, target));
    checkGradFd(loss, p);
    // The key's masks are really in the loss: another key gives another value.
    const other = A.sum(A.mul(rnn(cell, p, xs, { key: key(3), lengths: [5, 2, 4] }).outputs, target));
    expect(nums(loss(p))).not.toEqual(nums(other));
  });
});
