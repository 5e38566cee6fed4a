/**
 * @file Outputs nobody reads are not stacked (issue 18): `manyToOne` carries each sample's last
 * valid output through the loop, and `rnn(…, { outputs: false })` returns the final carry alone.
 * Values and gradients must equal the former behaviour — every output stacked, then the last
 * valid one picked — bit for bit in float64, eagerly and under `jit`, with lengths (length 0
 * included), reverse and either layout; the memory this saves is measured in
 * test/no-output-stacking.test.ts.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { manyToOne } from "../src/shapes.js";
import { rnn } from "../src/rnn.js";
import { encoderDecoder } from "../src/seq2seq.js";
import { dropout } from "../src/dropout.js";
import { mapInput, mapOutput } from "../src/combinators.js";
import { embedding, linear } from "../src/layers.js";
import { gru } from "../src/cells/gru.js";
import { lstm } from "../src/cells/lstm.js";
import { minGru } from "../src/cells/minimal.js";
import type { Cell } from "../src/Cell.js";
import { expectClose, expectThrows, key, normal64, nums, weighted } from "./shapes-helpers.js";

const [B, TIME, F, H] = [4, 6, 3, 5];
type AnyC = Cell<unknown, unknown>;

interface Options {
  readonly lengths?: readonly number[];
  readonly reverse?: boolean;
  readonly timeMajor?: boolean;
  readonly key?: T.Key;
  readonly mode?: "parallel";
}

/**
 * The former `manyToOne`, written independently: every output stacked by `rnn`, then each
 * sample's row at its last valid step sliced out (`length − 1`, step 0 with reverse, zeros for 0).
 */
const stackedThenPicked = (cell: AnyC, p: unknown, xs: A.Value, o: Options) => {
  const { outputs, finalCarry } = rnn(cell, p, xs, o);
  const seq = (o.timeMajor ?? false) ? outputs : A.transpose(outputs, [1, 0, 2]);
  const [time, batch, out] = seq.shape as [number, number, number];
  const rows = Array.from({ length: batch }, (_, b) => {
    const len = o.lengths?.[b] ?? time;
    if (len === 0)
      return A.mul(
        A.slice(seq, [
          { start: 0, stop: 1 },
          { start: b, stop: b + 1 },
        ]),
        0,
      );
    const t = (o.reverse ?? false) ? 0 : len - 1;
    return A.slice(seq, [
      { start: t, stop: t + 1 },
      { start: b, stop: b + 1 },
    ]);
  });
  return { output: A.reshape(A.concat(rows, 1), [batch, out]), finalCarry };
};

/** A scalar of the output and the final carry, so both gradients are compared. */
const lossOf =
  (run: (p: unknown, xs: A.Value) => { output: A.Value; finalCarry: unknown }) =>
  (p: unknown, xs: A.Value): A.Value => {
    const { output, finalCarry } = run(p, xs);
    return A.add(weighted(output, 50), weighted(finalCarry, 60));
  };

const flat = (tree: unknown): number[] => A.treeLeaves(tree).flatMap((l) => nums(l));

const CASES: ReadonlyArray<readonly [string, AnyC, "float" | "ids"]> = [
  ["lstm", lstm as AnyC, "float"],
  ["gru", gru as AnyC, "float"],
  // An output size other than the carry's, and token ids: the held output's zeros take y_t's shape.
  ["mapOutput(gru, linear(2))", mapOutput(gru, linear(2)) as AnyC, "float"],
  ["mapInput(lstm, embedding(7, 3)) on int32 ids", mapInput(lstm, embedding(7, F)) as AnyC, "ids"],
];
const OPTIONS: readonly Options[] = [
  {},
  { lengths: [6, 3, 1, 0] },
  { reverse: true },
  { lengths: [2, 6, 0, 5], reverse: true },
  { lengths: [6, 3, 1, 0], timeMajor: true },
  { reverse: true, timeMajor: true },
];

describe("manyToOne carries its output: values and gradients equal the stacked-then-picked former behaviour", () => {
  for (const [name, cell, input] of CASES) {
    const p = cell.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    for (const o of OPTIONS) {
      it(`${name} ${JSON.stringify(o)}`, () => {
        const bm =
          input === "ids"
            ? T.tensor(
                [...Array(B * TIME).keys()].map((i) => (i * 5) % 7),
                "int32",
              )
            : normal64(2, [B, TIME, F]);
        const batchMajor = input === "ids" ? T.reshape(bm, [B, TIME]) : bm;
        const xs = (o.timeMajor ?? false) ? T.transpose(batchMajor, input === "ids" ? [1, 0] : [1, 0, 2]) : batchMajor;
        const carried = lossOf((q, x) => manyToOne(cell, q, x, o));
        const former = lossOf((q, x) => stackedThenPicked(cell, q, x, o));
        const now = manyToOne(cell, p, xs, o);
        const old = stackedThenPicked(cell, p, xs, o);
        expect(nums(now.output)).toEqual(nums(old.output));
        expect(flat(now.finalCarry)).toEqual(flat(old.finalCarry));
        const args = input === "ids" ? [0] : [0, 1];
        const want = flat(A.grad(former, { argnums: args })(p, xs));
        expect(flat(A.grad(carried, { argnums: args })(p, xs))).toEqual(want);
        expect(flat(A.jit(A.grad(carried, { argnums: args }))(p, xs))).toEqual(want);
        expect(nums(A.jit(carried)(p, xs))).toEqual(nums(former(p, xs)));
      });
    }
  }

  it("dropout(lstm, 0.3) with a key: the same masks, values and gradients", () => {
    const cell = dropout(lstm, 0.3) as AnyC;
    const p = cell.init(key(3), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const xs = normal64(4, [B, TIME, F]);
    for (const o of [{ key: key(9) }, { key: key(9), lengths: [6, 3, 1, 0], reverse: true }]) {
      const carried = lossOf((q, x) => manyToOne(cell, q, x, o));
      const former = lossOf((q, x) => stackedThenPicked(cell, q, x, o));
      expect(nums(carried(p, xs))).toEqual(nums(former(p, xs)));
      expect(flat(A.grad(carried)(p, xs))).toEqual(flat(A.grad(former)(p, xs)));
    }
  });

  it('mode "parallel" (which still computes every output) equals the sequential carried form', () => {
    const p = minGru.init(key(5), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const xs = normal64(6, [B, TIME, F]);
    for (const o of [{ lengths: [6, 3, 1, 0] }, { lengths: [2, 6, 0, 5], reverse: true }]) {
      const seq = lossOf((q, x) => manyToOne(minGru as AnyC, q, x, o));
      const par = lossOf((q, x) => manyToOne(minGru as AnyC, q, x, { ...o, mode: "parallel" }));
      const former = lossOf((q, x) => stackedThenPicked(minGru as AnyC, q, x, { ...o, mode: "parallel" }));
      expect(flat(A.grad(par)(p, xs))).toEqual(flat(A.grad(former)(p, xs)));
      expectClose(par(p, xs), seq(p, xs), { atol: 1e-12 });
      expectClose(A.grad(par)(p, xs), A.grad(seq)(p, xs), { atol: 1e-12 });
    }
  });

  it("zero steps: output zeros of the output size, final carry the initial one", () => {
    const p = lstm.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const { output, finalCarry } = manyToOne(lstm, p, T.zeros([2, 0, F], "float64"));
    expect(output.shape).toEqual([2, H]);
    expect(nums(output).every((v) => v === 0)).toBe(true);
    expect(flat(finalCarry)).toEqual(flat(lstm.initialCarry(2, p)));
  });
});

/** Every value a traced function's graph defines, as shapes: a `[T, B, H]` one is stacked outputs. */
const definedShapes = (f: (p: unknown, xs: A.Value) => unknown, p: unknown, xs: A.Value): string[] =>
  [...A.makeGraph(f as (...a: never[]) => unknown)(p as never, xs as never).graph.eqns].flatMap((e) =>
    e.outputs.map((v) => v.aval.shape.join(",")),
  );

describe("no [time, batch, out] value when nobody reads the outputs (the graph eager execution runs)", () => {
  const p = lstm.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
  const xs = normal64(2, [B, TIME, F]);
  const stacked = [`${TIME},${B},${H}`, `${B},${TIME},${H}`];
  const o = { lengths: [6, 3, 1, 0], reverse: true };

  it("the stacked-then-picked form does define one (so the check can see it)", () => {
    const shapes = definedShapes((q, x) => stackedThenPicked(lstm as AnyC, q, x, o).output, p, xs);
    expect(shapes.filter((s) => stacked.includes(s)).length).toBeGreaterThan(0);
  });

  it("manyToOne defines none", () => {
    const shapes = definedShapes((q, x) => manyToOne(lstm as AnyC, q, x, o).output, p, xs);
    expect(shapes.filter((s) => stacked.includes(s))).toEqual([]);
  });

  it("rnn with outputs: false defines none, returns no outputs key, and the same final carry", () => {
    const shapes = definedShapes((q, x) => rnn(lstm as AnyC, q, x, { ...o, outputs: false }).finalCarry, p, xs);
    expect(shapes.filter((s) => stacked.includes(s))).toEqual([]);
    const r = rnn(lstm, p, xs, { ...o, outputs: false });
    expect(Object.keys(r)).toEqual(["finalCarry"]);
    // @ts-expect-error -- with outputs: false the result's type has no outputs
    expect(r.outputs).toBeUndefined();
    expect(flat(r.finalCarry)).toEqual(flat(rnn(lstm, p, xs, o).finalCarry));
    const finalOnly = (q: typeof p, x: A.Value) => rnn(lstm, q, x, { ...o, outputs: false }).finalCarry;
    expect(flat(A.jit(finalOnly)(p, xs))).toEqual(flat(r.finalCarry));
    const loss = (q: typeof p) => weighted(finalOnly(q, xs), 7);
    const former = (q: typeof p) => weighted(rnn(lstm, q, xs, o).finalCarry, 7);
    expect(flat(A.grad(loss)(p))).toEqual(flat(A.grad(former)(p)));
    expect(flat(A.jit(A.grad(loss))(p))).toEqual(flat(A.grad(former)(p)));
    expect(nums(rnn(lstm, p, xs, { ...o, outputs: true }).outputs)).toEqual(nums(rnn(lstm, p, xs, o).outputs));
  });
});

describe("encoderDecoder reads only the encoder's final carry", () => {
  it("its encoder stacks no [source time, batch, H] outputs", () => {
    const enc = gru.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const dec = gru.init(key(2), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const [src, tgt, w] = [normal64(3, [B, 7, F]), normal64(4, [B, 4, F]), normal64(5, [H, 2])];
    const run = (q: unknown, x: A.Value) =>
      encoderDecoder(gru, gru, q as { encoder: typeof enc; decoder: typeof dec }, x, tgt, {
        readout: (y) => A.matmul(y, w),
        srcLengths: [7, 3, 1, 0],
      }).logits;
    const shapes = definedShapes(run, { encoder: enc, decoder: dec }, src);
    expect(shapes).toContain(`${B},4,2`);
    expect(shapes.filter((s) => s === `7,${B},${H}` || s === `${B},7,${H}`)).toEqual([]);
  });
});

describe("manyToOne's outputs: { outputs: true }, and the deprecated property", () => {
  const p = gru.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
  const xs = normal64(2, [B, TIME, F]);
  const o = { lengths: [6, 3, 1, 0] };

  it("{ outputs: true } returns rnn's outputs and the same output and carry", () => {
    const both = manyToOne(gru, p, xs, { ...o, outputs: true });
    const alone = manyToOne(gru, p, xs, o);
    expect(nums(both.outputs)).toEqual(nums(rnn(gru, p, xs, o).outputs));
    expect(nums(both.output)).toEqual(nums(alone.output));
    expect(flat(both.finalCarry)).toEqual(flat(alone.finalCarry));
  });

  it("reading outputs without asking still gives them (computed on demand), and spreading skips them", () => {
    const r = manyToOne(gru, p, xs, o);
    expect(Object.keys(r).sort()).toEqual(["finalCarry", "output"]);
    expect(nums(r.outputs)).toEqual(nums(rnn(gru, p, xs, o).outputs));
    expect(r.outputs).toBe(r.outputs);
    // Their gradient flows too: the on-demand run is an ordinary call of rnn on the same values.
    const viaOld = (q: typeof p) => A.sum(A.square(manyToOne(gru, q, xs, o).outputs));
    const viaRnn = (q: typeof p) => A.sum(A.square(rnn(gru, q, xs, o).outputs));
    expect(flat(A.grad(viaOld)(p))).toEqual(flat(A.grad(viaRnn)(p)));
  });

  it("a cell whose carry changes shape gets scan's message about its own carry, as from rnn", () => {
    const bad = {
      ...gru,
      step: (q: typeof p) => (c: A.Value, x: A.Value) => {
        const [next, y] = gru.step(q)(c, x);
        return [A.reshape(next, [H, B]), y] as const;
      },
    } as typeof gru;
    const message = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    const fromRnn = message(() => rnn(bad, p, xs));
    expect(fromRnn).toContain("the carry output at carry is");
    expect(message(() => manyToOne(bad, p, xs))).toBe(fromRnn);
  });

  it("a non-boolean outputs is refused, naming the op and the option", () => {
    expectThrows(() => manyToOne(gru, p, xs, { outputs: 1 as never }), "manyToOne", "options.outputs");
    expectThrows(() => rnn(gru, p, xs, { outputs: "no" as never }), "rnn", "options.outputs");
    expectThrows(() => manyToOne(gru, p, xs, { output: false } as never), "manyToOne", '"output"', "outputs");
  });
});
