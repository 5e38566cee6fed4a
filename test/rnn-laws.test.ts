/**
 * @file The RNN laws of DESIGN.md, run with @rewind/testing's one-liners: BPTT (rnn = the unrolled
 * loop = finite differences), reverse, checkpoint/unroll/truncate/jit invariance, padding,
 * bidirectional padding and stacking — on every built-in cell, on random compositions of the
 * combinators drawn by fast-check, and on two user-style cells written here. `cellLaws` covers
 * both layouts, both directions, lengths with 0 and T, and (for dropout) keyed and unkeyed runs;
 * the properties add random batches, lengths in [0, T] and T = 0.
 */
import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  defineCell,
  dropout,
  embedding,
  elmanTanh,
  gru,
  linear,
  lstm,
  mapInput,
  mapOutput,
  residual,
  rnn,
  stack,
  uniformInit,
  type AnyCell,
  type Cell,
  type CellSpec,
  type LstmCarry,
} from "@rewind/rnn";
import { BUILTIN_CELLS } from "./builtinCells.js";
import {
  arbCellCase,
  bpttLawForCell,
  cellCase,
  cellLawChecks,
  cellLawConfigs,
  cellLaws,
  cellLawsReport,
  rnnUnrolled,
  type CellCase,
} from "@rewind/testing";

const sizes = { inputSize: 2, hiddenSize: 3 };
/** Width-preserving sizes, so residual, stacks and input layers compose freely. */
const square = { inputSize: 3, hiddenSize: 3 };

// elmanRelu: finite differences are only wrong within ~1e-6 of a kink, and no pre-activation of
// these random float64 draws (random initial carries, N(0, 1) inputs) comes that close.
const builtins = BUILTIN_CELLS;

/** Every law on one drawn case (padding laws when it has lengths). */
const allLaws = (c: CellCase): void => {
  cellLawChecks.bptt(c);
  cellLawChecks.reverse(c);
  cellLawChecks.invariance(c, { segments: [2] });
  if (c.cell.sequence !== undefined) cellLawChecks.parallel(c);
  if (c.lengths !== undefined) {
    cellLawChecks.padding(c);
    cellLawChecks.bidirectionalPadding(c);
  }
};

describe("every law on every built-in cell", () => {
  it.each(builtins.map(([name, cell], i) => [name, cell, i] as const))(
    "%s: cellLaws in every configuration",
    (_, cell, seed) => {
      // The parallel law runs exactly on the cells with a sequence form (minGru, minLstm, …).
      const { ran, skipped } = cellLawsReport(cell, { sizes, seed });
      expect(ran.includes("parallel")).toBe(cell.sequence !== undefined);
      expect(skipped.map((s) => s.law)).toEqual(cell.sequence === undefined ? ["parallel"] : []);
    },
  );
  it.each(builtins.filter(([name]) => ["elmanTanh", "lstm", "gru"].includes(name)))(
    "%s: BPTT with second-order finite differences",
    (_, cell) =>
      bpttLawForCell(cell, {
        sizes,
        batch: 2,
        time: 3,
        order: 2,
        modes: ["rev"],
        configs: cellLawConfigs(false).slice(0, 2),
      }),
  );
  for (const [name, cell] of builtins) {
    test.prop([arbCellCase(cell, { sizes, maxBatch: 3, maxTime: 5 })], { numRuns: 3 })(
      `${name}: random batches, lengths in [0, T], layouts, directions`,
      allLaws,
    );
  }
  it("the unrolled loop gives rnn's outputs and final carry on a padded, reversed, time-major batch", () => {
    const c = cellCase(lstm, { sizes, seed: 3, lengths: [5, 0, 2], reverse: true, timeMajor: true });
    const opts = { initialCarry: c.initialCarry as LstmCarry, lengths: [5, 0, 2], reverse: true, timeMajor: true };
    expect(rnn(lstm, c.params as never, c.xs, opts)).toBeAllClose(rnnUnrolled(lstm, c.params as never, c.xs, opts), {
      rtol: 1e-12,
      atol: 1e-14,
    });
  });
});

/** The cell, printed by its name in fast-check counterexamples (instead of its functions' source). */
const named = (cell: AnyCell): AnyCell => ({ ...cell, [fc.toStringMethod]: () => cell.name }) as AnyCell;

/** Width-preserving compositions of the combinators over the built-in cells, up to `depth` deep. */
const arbComposite = (depth: number, withDropout: boolean): fc.Arbitrary<AnyCell> =>
  composite(depth, withDropout).map(named);

const composite = (depth: number, withDropout: boolean): fc.Arbitrary<AnyCell> => {
  const base = fc.constantFrom(...builtins.map(([, c]) => c));
  if (depth === 0) return base;
  const inner = composite(depth - 1, withDropout);
  const rate = fc.constantFrom(0.25, 0.5);
  const options: Array<fc.Arbitrary<AnyCell>> = [
    base,
    inner.map((c) => residual(c)),
    inner.map((c) => mapInput(c, linear(3))),
    inner.map((c) => mapOutput(c, linear(3))),
    fc.tuple(inner, inner).map(([a, b]) => stack([a, b])),
  ];
  if (withDropout)
    options.push(
      fc.tuple(inner, rate).map(([c, r]) => dropout(c, r)),
      fc.tuple(inner, inner, rate).map(([a, b, r]) => stack([a, b], { dropout: r })),
    );
  return fc.oneof(...options);
};

describe("every law on random compositions of combinators", () => {
  test.prop([arbComposite(2, false), fc.nat({ max: 1000 })], { numRuns: 4 })(
    "stack / residual / mapInput(linear) / mapOutput(linear)",
    (cell, seed) => cellLaws(cell, { sizes: square, seed, batch: 3, time: 4 }),
  );
  // Keyed configurations need rnn to give loop step s the noise of split(key, T)[s] on every path;
  // see the last test below (an rnn bug: this fails until the no-lengths reverse path does).
  test.prop([arbComposite(2, true).filter((c) => c.noise !== undefined), fc.nat({ max: 1000 })], { numRuns: 3 })(
    "… and dropout (cell dropout and stack dropout), keyed and unkeyed",
    (cell, seed) => cellLaws(cell, { sizes: square, seed, batch: 3, time: 4 }),
  );
  it("a readout changes the output width: mapOutput(stack([lstm, residual(gru)]), linear(2))", () =>
    cellLaws(mapOutput(stack([lstm, residual(gru)]), linear(2)), { sizes: square, seed: 5 }));
  it("token ids through an embedding: mapInput(gru, embedding(5, 3)) on int32 xs [B, T, 1]", () => {
    const xs = T.fromDataOrThrow([0, 1, 2, 3, 4, 1, 2, 2, 3, 0, 1, 4, 4, 3, 2, 1, 0, 0], [3, 6, 1], "int32");
    // Stacking a second copy would feed it hidden vectors as ids, so that law is left out.
    cellLaws(mapInput(gru, embedding(5, 3)), {
      sizes: { inputSize: 1, hiddenSize: 3 },
      xs,
      laws: ["bptt", "reverse", "invariance", "padding", "bidirectionalPadding"],
    });
  });
});

// ---- User-style cells ----

interface CifgParams {
  readonly wx: A.Value;
  readonly wh: A.Value;
  readonly b: A.Value;
}
interface CifgCarry {
  readonly h: A.Value;
  readonly c: A.Value;
}

/** A coupled input-forget gate LSTM (CIFG, Greff et al. 2017): i = 1 − f, with a `{ h, c }` carry. */
const cifg: Cell<CifgParams, CifgCarry> = defineCell<CifgParams, CifgCarry>({
  name: "cifg",
  init: (key, { inputSize, hiddenSize: h }, { dtype = "float32" }) => {
    const [k1, k2, k3] = T.random.split(key, 3) as [T.Key, T.Key, T.Key];
    return {
      wx: uniformInit(k1, [inputSize, 3 * h], h, dtype),
      wh: uniformInit(k2, [h, 3 * h], h, dtype),
      b: uniformInit(k3, [3 * h], h, dtype),
    };
  },
  initialCarry: (batch, p) => {
    const zero = T.zeros([batch, p.wh.shape[0]!], p.wh.dtype);
    return { h: zero, c: zero };
  },
  step: (p, { h, c }, x) => {
    const [f, g, o] = A.split(A.add(A.add(A.matmul(x, p.wx), A.matmul(h, p.wh)), p.b), 3, 1) as [
      A.Value,
      A.Value,
      A.Value,
    ];
    const forget = A.sigmoid(f);
    const cNext = A.add(A.mul(forget, c), A.mul(A.sub(1, forget), A.tanh(g)));
    const hNext = A.mul(A.sigmoid(o), A.tanh(cNext));
    return [{ h: hNext, c: cNext }, hNext];
  },
  outputSize: (p) => p.wh.shape[0]!,
  inputSize: (p) => p.wx.shape[0]!,
} satisfies CellSpec<CifgParams, CifgCarry>);

interface LeakyParams {
  readonly w: A.Value;
  readonly u: A.Value;
  readonly logRate: A.Value;
}

/** A plain object literal: a leaky integrator h' = (1 − a) h + a tanh(W x + U h), a = σ(logRate) per unit. */
const leaky: Cell<LeakyParams, A.Value> = {
  name: "leaky",
  init: (key, { inputSize, hiddenSize }, options = {}) => {
    const dtype = options.dtype ?? "float32";
    const [k1, k2, k3] = T.random.split(key, 3) as [T.Key, T.Key, T.Key];
    return {
      w: uniformInit(k1, [inputSize, hiddenSize], hiddenSize, dtype),
      u: uniformInit(k2, [hiddenSize, hiddenSize], hiddenSize, dtype),
      logRate: T.random.normal(k3, [hiddenSize], dtype),
    };
  },
  initialCarry: (batch, p) => T.zeros([batch, p.u.shape[0]!], p.u.dtype),
  step: (p) => (h, x) => {
    const a = A.sigmoid(p.logRate);
    const next = A.add(h, A.mul(a, A.sub(A.tanh(A.add(A.matmul(x, p.w), A.matmul(h, p.u))), h)));
    return [next, next];
  },
  outputSize: (p) => p.u.shape[0]!,
  inputSize: (p) => p.w.shape[0]!,
};

describe("every law on user-style cells", () => {
  it("a defineCell cell with a pytree carry (CIFG LSTM)", () => cellLaws(cifg, { sizes, seed: 11 }));
  it("a plain object-literal cell (leaky integrator)", () => cellLaws(leaky, { sizes, seed: 12 }));
  it("user cells inside combinators: stack([cifg, leaky]) and residual(leaky)", () => {
    cellLaws(stack([cifg, leaky]), { sizes, seed: 13, laws: ["bptt", "padding", "stacking"] });
    cellLaws(residual(leaky), { sizes: square, seed: 14, laws: ["bptt", "reverse", "padding"] });
  });
  test.prop([arbCellCase(cifg, { sizes, maxBatch: 3, maxTime: 5 })], { numRuns: 3 })("cifg on random batches", allLaws);
});

describe("rnn bug: dropout noise must follow the loop step on every path", () => {
  // With a key, loop step s should read the noise of split(key, T)[s]. The lengths path does; the
  // no-lengths reverse path gives step s the noise of split(key, T)[T − 1 − s] (scan reverse
  // reads xs and noise at the same index), so full lengths change a keyed reverse run.
  it("rnn(…, { reverse: true, key }) equals the same call with every length = T", () => {
    const cell = dropout(elmanTanh, 0.5);
    const c = cellCase(cell, { sizes, seed: 1 });
    const key = T.random.key(7);
    const plain = rnn(cell, c.params as never, c.xs, { reverse: true, key });
    const full = rnn(cell, c.params as never, c.xs, { reverse: true, key, lengths: [5, 5, 5] });
    expect(plain.outputs).toBeAllClose(full.outputs, { rtol: 1e-12 });
  });
});
