/**
 * @file Attention cells (`additiveAttention`, `dotAttention`, `generalAttention`) and the cell
 * context they read: gradients against central finite differences and against an explicitly
 * unrolled loop, the source-length mask (padding gets weight exactly 0, padded memory changes
 * nothing), weights summing to 1, jit = eager bit for bit, and the errors for a bad context.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import { assertAllClose, cellLaws, checkGrads, rnnUnrolled } from "@rewind/testing";

type AnyAttn = R.AttentionCell<unknown, unknown>;
type Dt = "float32" | "float64";

const KINDS: ReadonlyArray<readonly [string, (c: R.AnyCell) => AnyAttn]> = [
  ["additive(gru)", (c) => R.additiveAttention(c) as AnyAttn],
  ["dot(lstm)", (c) => R.dotAttention(c) as AnyAttn],
  ["general(gru)", (c) => R.generalAttention(c) as AnyAttn],
];
const innerOf = (name: string): R.AnyCell => (name.includes("lstm") ? R.lstm : R.gru);
const make = (i: number): AnyAttn => KINDS[i]![1](innerOf(KINDS[i]![0]));

const [B, T_, S, F, H] = [2, 4, 5, 3, 4];
const SRC = [5, 2];
const LENS = [4, 3];

const setup = (cell: AnyAttn, dtype: Dt, seed = 0) => {
  const params = cell.init(T.random.key(seed), { inputSize: F, hiddenSize: H, memorySize: H }, { dtype });
  const memory = T.random.normal(T.random.key(seed + 1), [B, S, H], dtype);
  const xs = T.random.normal(T.random.key(seed + 2), [B, T_, F], dtype);
  return { params, memory, xs };
};

/** The cell with its context bound: an ordinary context-free cell (what a user had to write by hand). */
const bind = <P, C>(cell: R.Cell<P, C, R.AttentionContext>, ctx: R.AttentionContext): R.Cell<P, C> => {
  const { checkContext: _drop, ...rest } = cell;
  return { ...rest, step: (p: P) => cell.step(p, ctx) };
};

const bits = (v: unknown): number[][] => A.treeLeaves(v).map((l) => Array.from((l as T.Tensor).data as Float64Array));

const loss = (outputs: A.Value): A.Value => A.sum(A.mul(outputs, A.sin(outputs)));

describe("attention cells: gradients", () => {
  KINDS.forEach(([name], i) => {
    it(`${name}: rnn with context equals the explicitly unrolled loop (values and grads wrt params, memory, xs)`, () => {
      const cell = make(i);
      const { params, memory, xs } = setup(cell, "float64");
      const viaRnn = (p: unknown, m: A.Value, x: A.Value): A.Value =>
        loss(R.rnn(cell, p, x, { lengths: LENS, context: { memory: m, lengths: SRC } }).outputs);
      const unrolled = (p: unknown, m: A.Value, x: A.Value): A.Value =>
        loss(rnnUnrolled(bind(cell, { memory: m, lengths: SRC }), p, x, { lengths: LENS }).outputs);
      const [v1, g1] = A.valueAndGrad(viaRnn, { argnums: [0, 1, 2] })(params, memory, xs);
      const [v2, g2] = A.valueAndGrad(unrolled, { argnums: [0, 1, 2] })(params, memory, xs);
      assertAllClose(`${name} value`, v1, v2, { rtol: 1e-12, atol: 1e-12 });
      assertAllClose(`${name} grads`, g1, g2, { rtol: 1e-10, atol: 1e-12 });
      // The memory's gradient is not zero (the context really is differentiated through the scan).
      expect(T.item(T.sum(T.abs((g1 as unknown[])[1] as T.Tensor)))).toBeGreaterThan(0);
    });

    it(`${name}: gradients wrt params, memory and xs match central finite differences (float64)`, () => {
      const cell = make(i);
      const { params, memory, xs } = setup(cell, "float64", 7);
      checkGrads(
        (p: unknown, m: A.Value, x: A.Value) =>
          R.rnn(cell, p, x, { lengths: LENS, context: { memory: m, lengths: SRC } }).outputs,
        [params, memory, xs],
        { modes: ["rev"], rtol: 1e-5, atol: 1e-7 },
      );
    });
  });
});

/** The cells with `{ weights: true }`: each step outputs `{ output, weights }`. */
type Weighted = R.AttentionCell<unknown, unknown, R.AttentionStep>;
const WEIGHTED: ReadonlyArray<readonly [string, () => Weighted]> = [
  ["additive(gru)", () => R.additiveAttention(R.gru, { weights: true }) as unknown as Weighted],
  ["dot(lstm)", () => R.dotAttention(R.lstm, { weights: true }) as unknown as Weighted],
  ["general(gru)", () => R.generalAttention(R.gru, { weights: true }) as unknown as Weighted],
];

describe("attention cells: the source-length mask", () => {
  WEIGHTED.forEach(([name, mk]) => {
    for (const dtype of ["float64", "float32"] as const) {
      it(`${name}, ${dtype}: padding gets weight exactly 0 and no gradient; valid weights sum to 1; padded memory changes nothing`, () => {
        const cell = mk();
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 3 }),
            fc.integer({ min: 1, max: 6 }),
            fc.nat({ max: 1000 }),
            fc.double({ min: -1e3, max: 1e3, noNaN: true }),
            (batch, s, seed, junk) => {
              const lengths = Array.from({ length: batch }, (_, b) => 1 + ((seed + 7 * b) % s));
              const params = cell.init(T.random.key(seed), { inputSize: 2, hiddenSize: 3 }, { dtype });
              const memory = T.random.normal(T.random.key(seed + 1), [batch, s, 3], dtype);
              const xs = T.random.normal(T.random.key(seed + 2), [batch, 3, 2], dtype);
              // Padded rows overwritten with a large junk value: nothing may change.
              const valid = A.less(A.expandDims(T.arange(s), 0), A.expandDims(T.tensor(lengths, "int32"), 1));
              const junked = A.where(A.expandDims(valid, 2), memory, T.scalar(junk, dtype)) as T.Tensor;
              const run = (m: A.Value) => R.rnn(cell, params, xs, { context: { memory: m, lengths } }).outputs;
              const a = run(memory);
              const b = run(junked);
              expect(bits(b)).toEqual(bits(a));
              const w = a.weights as T.Tensor;
              const wd = w.data;
              for (let bi = 0; bi < batch; bi++)
                for (let t = 0; t < 3; t++) {
                  let total = 0;
                  for (let j = 0; j < s; j++) {
                    const v = wd[(bi * 3 + t) * s + j]!;
                    if (j >= lengths[bi]!) expect(v).toBe(0);
                    else total += v;
                  }
                  expect(Math.abs(total - 1)).toBeLessThan(dtype === "float64" ? 1e-12 : 1e-6);
                }
              const g = A.grad((m: A.Value) => {
                const o = run(m);
                return A.add(A.sum(A.tanh(o.output)), A.sum(A.mul(o.weights, o.weights)));
              })(junked);
              const gd = g.data;
              for (let bi = 0; bi < batch; bi++)
                for (let j = 0; j < s; j++)
                  for (let d = 0; d < 3; d++) {
                    const v = gd[(bi * s + j) * 3 + d]!;
                    expect(Number.isFinite(v)).toBe(true);
                    if (j >= lengths[bi]!) expect(Object.is(v, 0) || Object.is(v, -0)).toBe(true);
                  }
            },
          ),
          { numRuns: 15 },
        );
      });
    }
  });
});

/**
 * The cell reading one fixed memory `[1, S, D]` (broadcast to whatever batch a law runs) with
 * `srcLength` valid positions: a context-free cell the RNN laws can run with their own batches.
 */
const lawCell = <P, C>(cell: R.AttentionCell<P, C>, memory1: T.Tensor, srcLength: number): R.Cell<P, C> => {
  const { checkContext: _drop, ...rest } = cell;
  const [, s, d] = memory1.shape as [number, number, number];
  return {
    ...rest,
    name: `${cell.name} over a fixed memory`,
    step: (p: P) => (c: C, x: A.Value, n?: unknown) => {
      const batch = x.shape[0]!;
      const ctx = { memory: A.broadcastTo(memory1, [batch, s, d]), lengths: T.full([batch], srcLength, "int32") };
      return cell.step(p, ctx)(c, x, n);
    },
  };
};

describe("attention cells: the RNN laws (cellLaws) over a fixed memory", () => {
  KINDS.forEach(([name], i) => {
    it(`${name}: BPTT, reverse, invariance, padding, bidirectional, stacking, vmap`, () => {
      const memory1 = T.random.normal(T.random.key(40 + i), [1, 5, 3], "float64");
      cellLaws(lawCell(make(i), memory1, 3), { sizes: { inputSize: 3, hiddenSize: 3 }, batch: 3, time: 4 });
    });
  });
});

describe("attention cells: jit equals eager bit for bit", () => {
  KINDS.forEach(([name], i) => {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${name}, ${dtype}: outputs and gradients`, () => {
        const cell = make(i);
        const { params, memory, xs } = setup(cell, dtype, 3);
        const f = (p: unknown, m: A.Value, x: A.Value) => {
          const r = R.rnn(cell, p, x, { lengths: LENS, context: { memory: m, lengths: SRC } });
          return [r.outputs, r.finalCarry] as const;
        };
        const g = A.grad((p: unknown, m: A.Value, x: A.Value) => A.sum(A.tanh(f(p, m, x)[0])), { argnums: [0, 1, 2] });
        const leaves = (v: unknown) => A.treeLeaves(v).map((l) => Array.from((l as T.Tensor).data));
        expect(leaves(A.jit(f)(params, memory, xs))).toEqual(leaves(f(params, memory, xs)));
        expect(leaves(A.jit(g)(params, memory, xs))).toEqual(leaves(g(params, memory, xs)));
      });
    }
  });
});

describe("attention cells at SIMD sizes: jit equals eager bit for bit", () => {
  // B 8, H 32, S 20: the cells' loops hold hundreds of elements, so jit runs them as WebAssembly SIMD.
  const [b, t, s, f, h] = [8, 6, 20, 12, 32];
  const lengths = [6, 3, 1, 6, 5, 2, 6, 4];
  const srcLengths = [20, 7, 1, 13, 20, 2, 9, 16];
  KINDS.forEach(([name], i) => {
    it(`${name}, float32: outputs and gradients through the WebAssembly loops`, () => {
      const cell = make(i);
      const params = cell.init(
        T.random.key(60 + i),
        { inputSize: f, hiddenSize: h, memorySize: h },
        { dtype: "float32" },
      );
      const memory = T.random.normal(T.random.key(70 + i), [b, s, h]);
      const xs = T.random.normal(T.random.key(80 + i), [b, t, f]);
      const run = (p: unknown, m: A.Value, x: A.Value) => {
        const r = R.rnn(cell, p, x, { lengths, context: { memory: m, lengths: srcLengths } });
        return [r.outputs, r.finalCarry] as const;
      };
      const g = A.grad((p: unknown, m: A.Value, x: A.Value) => A.sum(A.tanh(run(p, m, x)[0])), {
        argnums: [0, 1, 2],
      });
      const leaves = (v: unknown) => A.treeLeaves(v).map((l) => Array.from((l as T.Tensor).data));
      expect(leaves(A.jit(run)(params, memory, xs))).toEqual(leaves(run(params, memory, xs)));
      expect(leaves(A.jit(g)(params, memory, xs))).toEqual(leaves(g(params, memory, xs)));
      // The path under test is taken.
      const graph = A.makeGraph(g)(params, memory, xs).graph;
      expect(A.compileGraph(graph).simdKernels).toBeGreaterThan(0);
    });
  });
});

const message = (thunk: () => unknown): string => {
  try {
    thunk();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error("expected a throw");
};

describe("cell context: errors name the op, the argument, the problem and the fix", () => {
  const cell = make(0);
  const { params, memory, xs } = setup(cell, "float64");
  const gp = R.gru.init(T.random.key(0), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
  const run = (context: unknown) => () => R.rnn(cell, params, xs, { context: context as R.AttentionContext });

  it("a context given to a cell that reads none", () => {
    const m = message(() => R.rnn(R.gru, gp, xs, { context: { memory } as never }));
    expect(m).toMatch(/rnn.*options\.context/s);
    expect(m).toMatch(/gru reads no context/);
    expect(m).toMatch(/remove the context/);
  });
  it("no context for a cell that reads one (rnn, generate)", () => {
    expect(message(() => R.rnn(cell, params, xs))).toMatch(/reads a per-sequence context, but none was given.*pass/s);
    const g = message(() =>
      R.generate(cell, params, {
        startToken: 0,
        batch: B,
        embed: (ids) => A.oneHot(ids, F, "float64"),
        readout: (y) => y,
        maxLength: 2,
      }),
    );
    expect(g).toMatch(/generate.*context.*none was given/s);
  });
  it("mode parallel refuses a context", () => {
    const mp = R.minGru.init(T.random.key(0), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const m = message(() => R.rnn(R.minGru, mp, xs, { mode: "parallel", context: { memory } as never }));
    expect(m).toMatch(/options\.context/);
  });
  it("memory of the wrong rank", () => {
    const m = message(run({ memory: T.zeros([B, H], "float64") }));
    expect(m).toMatch(/memory must be \[batch, S, D\] \(rank 3\), got \[2, 4\]/);
    expect(m).toMatch(/batch-major/);
  });
  it("memory of another batch", () => {
    const m = message(run({ memory: T.zeros([3, S, H], "float64") }));
    expect(m).toMatch(/memory must be \[batch 2, S ≥ 1, D 4\].*got \[3, 5, 4\]/s);
    expect(m).toMatch(/one row per sample/);
  });
  it("memory of another feature size", () => {
    expect(message(run({ memory: T.zeros([B, S, 6], "float64") }))).toMatch(/init the cell with \{ memorySize: 6 \}/);
  });
  it("memory of another dtype", () => {
    expect(message(run({ memory: T.zeros([B, S, H], "float32") }))).toMatch(
      /memory is float32 but the parameters are float64.*astype/s,
    );
  });
  it("lengths out of range: above S, and 0", () => {
    expect(message(run({ memory, lengths: [6, 1] }))).toMatch(/lengths/);
    const zero = message(run({ memory, lengths: [0, 1] }));
    expect(zero).toMatch(/at least one valid source position, got a length of 0/);
    expect(zero).toMatch(/drop empty sources/);
  });
  it("a context that is not { memory, lengths? }", () => {
    expect(message(run(memory))).toMatch(/must be \{ memory, lengths\? \}/);
    expect(message(run({ memory, lenghts: [1, 1] }))).toMatch(/unknown context field\(s\) lenghts/);
  });
  it("a step called directly with a bad context says so (not a TypeError)", () => {
    for (const bad of [memory, undefined, { lengths: [1, 1] }]) {
      const thrown = (() => {
        try {
          cell.step(params, bad as never);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(thrown).toBeInstanceOf(T.TensorException);
      expect((thrown as Error).message).toMatch(/additiveAttention\(gru\)\.step.*context/s);
    }
  });
  it("dot attention needs memorySize = hiddenSize", () => {
    const m = message(() =>
      R.dotAttention(R.gru).init(T.random.key(0), { inputSize: 2, hiddenSize: 3, memorySize: 5 }),
    );
    expect(m).toMatch(/memorySize \(5\) must equal hiddenSize \(3\).*generalAttention/s);
  });
});
