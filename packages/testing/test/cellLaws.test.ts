/**
 * Each RNN law passes on Rewind's layers and FAILS on a deliberately broken one — a broken `rnn`,
 * `stack`, `bidirectional` or `jit` injected through the options, or a broken cell — with a
 * message naming the law, the cell, the configuration and the first differing path.
 */
import { describe, expect, it } from "vitest";
import "../src/vitest.js";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  bidirectional,
  defineCell,
  dropout,
  elmanTanh,
  gru,
  lstm,
  rnn,
  stack,
  stepMask,
  uniformInit,
  validateLengths,
  type AnyCell,
  type Cell,
  type CellSpec,
} from "@rewind/rnn";
import {
  arbCellCase,
  bidirectionalPaddingLaw,
  bpttLawForCell,
  cellCase,
  cellLawChecks,
  cellLawConfigs,
  cellLawProperties,
  cellLaws,
  invarianceLawForCell,
  paddingLaw,
  reverseLawForCell,
  rnnUnrolled,
  stackingLaw,
  type BidirectionalImpl,
  type JitImpl,
  type RnnImpl,
  type StackImpl,
} from "../src/index.js";

const sizes = { inputSize: 2, hiddenSize: 3 };
const square = { inputSize: 3, hiddenSize: 3 };
const flipTime = (x: A.Value, timeMajor: boolean | undefined): A.Value => A.flip(x, (timeMajor ?? false) ? 0 : 1);
const dims = (xs: A.Value, timeMajor: boolean | undefined): [number, number] =>
  ((timeMajor ?? false) ? [xs.shape[1], xs.shape[0]] : [xs.shape[0], xs.shape[1]]) as [number, number];
const without = <O extends object, K extends keyof O>(o: O, key: K): Omit<O, K> => {
  const { [key]: _dropped, ...rest } = o;
  return rest;
};

// ---- Broken layers, each a plausible bug ----
const ignoresLengths: RnnImpl = (cell, p, xs, o = {}) => rnn(cell, p, xs, without(o, "lengths"));
/** Masks the outputs past each length, but lets padded steps run on into the carry. */
const leakyCarry: RnnImpl = (cell, p, xs, o = {}) => {
  if (o.lengths === undefined) return rnn(cell, p, xs, o);
  const r = rnn(cell, p, xs, without(o, "lengths"));
  const ref = rnn(cell, p, xs, o);
  return { outputs: ref.outputs, finalCarry: r.finalCarry };
};
/** Gives empty sequences (length 0) a zero final carry instead of their initial carry. */
const zeroCarryWhenEmpty: RnnImpl = (cell, p, xs, o = {}) => {
  const r = rnn(cell, p, xs, o);
  if (o.lengths === undefined) return r;
  const [batch, time] = dims(xs, o.timeMajor);
  const empty = A.equal(validateLengths("test", o.lengths, batch, time), 0);
  const finalCarry = A.treeMap(
    (c) => A.where(A.reshape(empty, [batch, ...c.shape.slice(1).map(() => 1)]), 0, c),
    r.finalCarry,
  );
  return { outputs: r.outputs, finalCarry: finalCarry as typeof r.finalCarry };
};
const noGradToInit: RnnImpl = (cell, p, xs, o = {}) =>
  rnn(cell, p, xs, {
    ...o,
    initialCarry: A.treeMap((x) => A.stopGradient(x), o.initialCarry ?? cell.initialCarry(dims(xs, o.timeMajor)[0], p)),
  });
const ignoresReverse: RnnImpl = (cell, p, xs, o = {}) => rnn(cell, p, xs, { ...o, reverse: false });
/** Reverses the whole padded sequence, then reads the first `lengths` steps: it reads padding. */
const flipsPadding: RnnImpl = (cell, p, xs, o = {}) => {
  if (!(o.reverse ?? false)) return rnn(cell, p, xs, o);
  const r = rnn(cell, p, flipTime(xs, o.timeMajor), { ...o, reverse: false });
  return { outputs: flipTime(r.outputs, o.timeMajor), finalCarry: r.finalCarry };
};
const carriesIsTruncation: RnnImpl = (cell, p, xs, o = {}) =>
  rnn(cell, p, xs, o.remat === "carries" ? { ...o, remat: "all", truncate: 1 } : o);
const unrollForgetsReverse: RnnImpl = (cell, p, xs, o = {}) =>
  rnn(cell, p, xs, o.unroll !== undefined && o.unroll !== 1 ? { ...o, reverse: false } : o);
const ignoresKey: RnnImpl = (cell, p, xs, o = {}) => rnn(cell, p, xs, without(o, "key"));
/** rnn with dropout noise in loop order on every path: the lengths path's order (see the report). */
const loopOrderNoise: RnnImpl = (cell, p, xs, o = {}) => {
  if (o.key === undefined || o.lengths !== undefined || !(o.reverse ?? false)) return rnn(cell, p, xs, o);
  const [batch, time] = dims(xs, o.timeMajor);
  return rnn(cell, p, xs, { ...o, lengths: Array.from({ length: batch }, () => time) });
};

/** Runs layer a only: layer b's carry is passed through and a's outputs come out. */
const skipsLayer: StackImpl = (cells) => {
  const real = stack(cells);
  return {
    ...real,
    step: (ps) => {
      const first = cells[0]!.step(ps[0]);
      return (carry, x) => {
        const [c0, y] = first(carry[0], x);
        return [[c0, ...carry.slice(1)], y];
      };
    },
  };
};
/** Feeds every layer the stack's input instead of the previous layer's output. */
const parallelLayers: StackImpl = (cells) => {
  const real = stack(cells);
  return {
    ...real,
    step: (ps) => {
      const fs = cells.map((c, k) => c.step(ps[k]));
      return (carry, x) => {
        const outs = fs.map((f, k) => f(carry[k], x));
        return [outs.map((r) => r[0]), outs[outs.length - 1]![1]];
      };
    },
  };
};

/** A bidirectional layer whose backward half flips the whole padded sequence, not each valid prefix. */
const wholeFlipBidirectional: BidirectionalImpl = (cf, cb, options) => {
  const real = bidirectional(cf, cb, options);
  return {
    ...real,
    apply: (p, xs, o = {}) => {
      const fwd = rnn(cf, p.forward, xs, {
        ...without(o, "initialCarry"),
        ...(o.initialCarry?.forward === undefined ? {} : { initialCarry: o.initialCarry.forward }),
      });
      const bwd = rnn(cb, p.reverse, flipTime(xs, o.timeMajor), {
        ...without(without(o, "initialCarry"), "lengths"),
        ...(o.initialCarry?.reverse === undefined ? {} : { initialCarry: o.initialCarry.reverse }),
      });
      // Zero past each length like the real layer, so only the misread valid steps differ.
      const [batch, time] = dims(xs, o.timeMajor);
      const flipped = flipTime(bwd.outputs, o.timeMajor);
      const m = o.lengths === undefined ? undefined : stepMask(validateLengths("test", o.lengths, batch, time), time);
      const bwdOut =
        m === undefined ? flipped : A.where(A.expandDims((o.timeMajor ?? false) ? m : A.transpose(m), 2), flipped, 0);
      return {
        outputs: A.concat([fwd.outputs, bwdOut], 2),
        finalCarry: { forward: fwd.finalCarry, reverse: bwd.finalCarry },
      };
    },
  };
};

const staleJit: JitImpl = <Args extends unknown[], R>(f: (...args: Args) => R) => {
  let first: [R] | undefined;
  return (...args: Args): R => (first ??= [f(...args)])[0];
};

// ---- Broken cells ----
type Wu = { readonly w: A.Value; readonly u: A.Value };
/** A small Elman-like user cell whose extra term is `extra(x)`. */
const userCell = (name: string, extra: (x: A.Value) => A.Value): Cell<Wu, A.Value> =>
  defineCell<Wu, A.Value>({
    name,
    init: (key, { inputSize, hiddenSize: h }, { dtype = "float32" }) => {
      const [k1, k2] = T.random.split(key, 2) as [T.Key, T.Key];
      return { w: uniformInit(k1, [inputSize, h], h, dtype), u: uniformInit(k2, [h, h], h, dtype) };
    },
    initialCarry: (batch, p) => T.zeros([batch, p.u.shape[0]!], p.u.dtype),
    step: (p, h, x) => {
      const next = A.tanh(A.add(A.add(A.matmul(x, p.w), A.matmul(h, p.u)), extra(x)));
      return [next, next];
    },
    outputSize: (p) => p.u.shape[0]!,
  } satisfies CellSpec<Wu, A.Value>);
/** Adds the batch mean of x_t to every sample's state: one sample's padded inputs leak into another's carry. */
const batchCoupled = userCell("batchCoupled", (x) =>
  A.sum(A.mean(x, { axis: 0, keepDims: true }), { axis: 1, keepDims: true }),
);
/** Divides by x: fine on data, but a zero padding step gives 0 · ∞ = NaN in the masked gradient. */
const reciprocal = userCell("reciprocal", (x) => A.mul(A.mean(A.div(1, x), { axis: 1, keepDims: true }), 0.01));

/** tanh with a hand-written VJP that is 10% off: rnn and the unrolled loop agree, finite differences do not. */
const wrongTanh = A.customVjp(
  (x: A.Value) => A.tanh(x),
  (x: A.Value) => [A.tanh(x), A.tanh(x)] as const,
  (y: A.Value, g: A.Value) => [A.mul(A.mul(g, A.sub(1, A.mul(y, y))), 1.1)],
);
const wrongGradient: AnyCell = {
  ...elmanTanh,
  name: "wrongGradient",
  step: (p) => (h, x) => {
    const pre = A.add(
      A.add(A.matmul(x, A.transpose(p.weight_ih)), p.bias_ih),
      A.add(A.matmul(h, A.transpose(p.weight_hh)), p.bias_hh),
    );
    const next = wrongTanh(pre);
    return [next, next];
  },
};

describe("the RNN laws hold for Rewind's layers", () => {
  it("every law on lstm in every configuration", () => cellLaws(lstm, { sizes }));
  it("one-law entry points", () => {
    bpttLawForCell(gru, { sizes, order: 2, configs: cellLawConfigs(false).slice(0, 1) });
    reverseLawForCell(gru, { sizes });
    invarianceLawForCell(elmanTanh, { sizes, segments: [2] });
    paddingLaw(elmanTanh, { sizes, lengths: [5, 0, 1] });
    bidirectionalPaddingLaw(gru, { sizes, batch: 2, time: 3, lengths: [3, 1] });
    stackingLaw(lstm, gru, { sizes });
  });
  it("dropout with and without a key, given an rnn that feeds noise in loop order", () =>
    cellLaws(dropout(gru, 0.4), {
      sizes,
      rnn: loopOrderNoise,
      laws: ["bptt", "reverse", "invariance", "padding", "stacking"],
    }));
  it("rnnUnrolled on zero steps gives empty outputs and the initial carry", () => {
    const c = cellCase(lstm, { sizes, time: 0 });
    const r = rnnUnrolled(c.cell, c.params, c.xs, { initialCarry: c.initialCarry });
    expect(r.outputs.shape).toEqual([3, 0, 3]);
    expect(r.finalCarry).toBeAllClose(c.initialCarry, { rtol: 0, atol: 0 });
  });
  it("as fast-check properties", () => {
    const props = cellLawProperties(gru, { sizes, maxBatch: 2, maxTime: 3 });
    fc.assert(props.all, { numRuns: 3, seed: 1 });
    fc.assert(props.stacking, { numRuns: 2, seed: 2 });
  });
});

describe("each RNN law fails on a broken implementation", () => {
  it("BPTT: an rnn that ignores lengths, or drops the gradient into the initial carry", () => {
    expect(() => bpttLawForCell(lstm, { sizes, rnn: ignoresLengths })).toThrow(
      /^BPTT law violated for lstm \(B 3, T 5, batch-major, forward, lengths \[\d, 5, 0\]\):\n {2}rnn vs the unrolled loop: outputs: /,
    );
    expect(() => bpttLawForCell(gru, { sizes, rnn: noGradToInit })).toThrow(
      /BPTT law violated for gru[^]*rnn vs the unrolled loop: grad\.initialCarry/,
    );
  });
  it("BPTT: a cell whose hand-written gradient is wrong (only finite differences see it)", () => {
    expect(() => bpttLawForCell(wrongGradient, { sizes })).toThrow(
      /BPTT law violated for wrongGradient[^]*rnn's derivatives vs central finite differences/,
    );
  });
  it("BPTT: an rnn that ignores the dropout key", () => {
    expect(() => bpttLawForCell(dropout(lstm, 0.5), { sizes, rnn: ignoresKey })).toThrow(
      /BPTT law violated for dropout\(lstm, 0\.5\) \([^)]*keyed[^]*outputs/,
    );
  });
  it("reverse: an rnn that ignores `reverse`, or reverses the whole padded sequence", () => {
    expect(() => reverseLawForCell(gru, { sizes, rnn: ignoresReverse })).toThrow(
      /^reverse law violated for gru[^]*rnn\(reverse: false\) vs flip ∘ rnn\(reverse: true\) ∘ flip: outputs/,
    );
    const c = cellCase(gru, { sizes, lengths: [5, 2, 0], reverse: true });
    expect(() => cellLawChecks.reverse(c)).not.toThrow();
    expect(() => cellLawChecks.reverse(c, { rnn: flipsPadding })).toThrow(
      /reverse law violated for gru \(B 3, T 5, batch-major, reverse, lengths \[5, 2, 0\]\)[^]*outputs/,
    );
  });
  it('invariance: remat "carries" that truncates the gradient, unroll that forgets reverse, a stale jit', () => {
    expect(() => invarianceLawForCell(lstm, { sizes, rnn: carriesIsTruncation })).toThrow(
      /invariance law violated for lstm[^]*remat "carries" vs plain rnn: grad\./,
    );
    expect(() => invarianceLawForCell(gru, { sizes, rnn: unrollForgetsReverse })).toThrow(
      /invariance law violated for gru \([^)]*reverse[^]*unroll 2 vs plain rnn: outputs/,
    );
    expect(() => invarianceLawForCell(elmanTanh, { sizes, jit: staleJit })).toThrow(
      /invariance law violated[^]*jit\(loss\) vs loss on other values/,
    );
  });
  it("padding: an rnn that ignores lengths, forgets an empty sequence's carry, or lets padded steps run on in the carry", () => {
    expect(() => paddingLaw(lstm, { sizes, rnn: ignoresLengths })).toThrow(
      /^padding law violated for lstm[^]*outputs of sample 0 past its length \d must be exactly zero/,
    );
    expect(() => paddingLaw(lstm, { sizes, rnn: zeroCarryWhenEmpty })).toThrow(
      /padding law violated for lstm[^]*sample 2 \(length 0\) in the padded batch vs alone without padding: finalCarry\.c/,
    );
    expect(() => paddingLaw(gru, { sizes, rnn: leakyCarry })).toThrow(
      /padding law violated for gru[^]*the gradient w\.r\.t\. sample 0's padded inputs/,
    );
  });
  it("padding: a cell that mixes samples leaks one sample's padding into another's carry", () => {
    expect(() => cellLaws(batchCoupled, { sizes, laws: ["bptt", "reverse"] })).not.toThrow();
    expect(() => paddingLaw(batchCoupled, { sizes })).toThrow(
      /padding law violated for batchCoupled[^]*sample 0's padded inputs/,
    );
  });
  it("padding: a cell whose gradient is NaN on zero padding (0 · ∞ through the mask)", () => {
    expect(() =>
      cellLawChecks.padding(cellCase(reciprocal, { sizes, batch: 2, time: 4, lengths: [3, 1] })),
    ).not.toThrow();
    const xs = T.mul(
      T.random.normal(T.random.key(3), [2, 4, 2], "float64"),
      T.fromArrayOrThrow(
        [
          [[1], [1], [1], [0]],
          [[1], [0], [0], [0]],
        ],
        "float64",
      ),
    );
    expect(() => cellLawChecks.padding(cellCase(reciprocal, { sizes, xs, lengths: [3, 1] }))).toThrow(
      /padding law violated for reciprocal[^]*the gradient w\.r\.t\. sample 0's padded inputs \(steps 3\.\.3\) must be exactly zero: grad\.xs: .*NaN/,
    );
  });
  it("bidirectional padding: a backward half that flips the whole padded sequence", () => {
    expect(() => bidirectionalPaddingLaw(gru, { sizes, bidirectional: wholeFlipBidirectional })).toThrow(
      /^bidirectional padding law violated for bidirectional\(gru, gru\) \([^)]*lengths[^]*the gradient w\.r\.t\. sample 0's padded inputs \(steps \d\.\.4\) must be exactly zero/,
    );
  });
  it("stacking: a stack that skips a layer, or feeds every layer the input", () => {
    expect(() => stackingLaw(elmanTanh, gru, { sizes: square, stack: skipsLayer })).toThrow(
      /^stacking law violated for stack\(\[elmanTanh, gru\]\) [^]*by hand: outputs/,
    );
    expect(() => stackingLaw(gru, gru, { sizes: square, stack: parallelLayers })).toThrow(
      /stacking law violated for stack\(\[gru, gru\]\)[^]*outputs/,
    );
  });
  it("a cell that cannot run names the law and the case", () => {
    const broken: AnyCell = {
      ...gru,
      name: "throws",
      step: () => () => {
        throw new Error("boom");
      },
    };
    expect(() => cellLaws(broken, { sizes })).toThrow(/^BPTT law could not run for throws \(B 3, T 5, [^)]*\): boom/);
  });
  it("float32 parameters are refused", () => {
    expect(() => cellLaws(gru, { sizes, params: gru.init(T.random.key(0), sizes) })).toThrow(
      /params of gru\.bias_hh is float32; the laws need float64/,
    );
  });
  it("as fast-check properties: the counterexample names the case", () => {
    const run = fc.check(
      cellLawProperties(lstm, { sizes, maxTime: 4, lengths: true, minTime: 2, rnn: ignoresLengths }).padding,
      { seed: 5, numRuns: 20 },
    );
    expect(run.failed).toBe(true);
    expect(fc.stringify(run.counterexample)).toMatch(/lstm \(B \d, T \d/);
    const cases = fc.sample(arbCellCase(dropout(gru, 0.5), { sizes, key: true }), { numRuns: 3, seed: 1 });
    for (const c of cases) expect(c.key).toBeDefined();
  });
});
