/**
 * @file jit invariance, bit for bit: compiled code (`jit(f)`) against the interpreter
 * (`jit(f, { compile: false })`) for every row of the gradient-check tables (every primitive and
 * composite) in float64 and float32, for their VJPs and JVPs, and for whole training steps of
 * recurrent models (the LSTM and min-char-rnn benchmarks, every built-in cell, lengths,
 * bidirectional layers, checkpoint/unroll/truncate options).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import {
  bidirectional,
  elmanRelu,
  elmanTanh,
  gru,
  layerNormLstm,
  lstm,
  peepholeLstm,
  rnn,
  stack,
  type AnyCell,
} from "@rewind/rnn";
import type { GradCase, GradSpec } from "./gradcheck/harness.js";
import { compositeSpecs } from "./gradcheck/composites.js";
import { binarySpecs, unarySpecs } from "./gradcheck/elementwise.js";
import { reduceSpecs, shapeSpecs } from "./gradcheck/structural.js";
import { controlSpecs, indexingSpecs } from "./gradcheck/indexingControl.js";
import { randomSpecs } from "./gradcheck/random.js";

type Fn = (...args: never[]) => unknown;
const call = (f: Fn, args: readonly unknown[]): unknown => (f as (...a: unknown[]) => unknown)(...args);

/** Throws unless both pytrees have the same leaves: dtype, shape and every bit (NaN, −0 included). */
const expectBits = (label: string, got: unknown, want: unknown): void => {
  const [g] = A.treeFlatten(got);
  const [w] = A.treeFlatten(want);
  if (g.length !== w.length) throw new Error(`${label}: ${g.length} leaves, expected ${w.length}`);
  w.forEach((wl, i) => {
    const gl = g[i] as T.Tensor;
    const wt = wl as T.Tensor;
    if (gl.dtype !== wt.dtype || !T.shapesEqual(gl.shape, wt.shape)) {
      throw new Error(`${label}: leaf ${i} is ${gl.dtype}[${gl.shape}], expected ${wt.dtype}[${wt.shape}]`);
    }
    const j = wt.data.findIndex((x, k) => !Object.is(x, gl.data[k]));
    if (j >= 0) throw new Error(`${label}: leaf ${i} differs at ${j}: ${gl.data[j]} vs ${wt.data[j]}`);
  });
};

/** Compiled and interpreted results of `f(...args)` agree bit for bit (or both throw the same message). */
const expectInvariant = (label: string, f: Fn, args: readonly unknown[]): void => {
  const run = (g: Fn): { value?: unknown; error?: string } => {
    try {
      return { value: call(g, args) };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  };
  // A new jit per case, on purpose (warnRetraces: false: the warning is about doing so in a loop).
  const want = run(A.jit(f as (...a: unknown[]) => unknown, { compile: false, warnRetraces: false }));
  const got = run(A.jit(f as (...a: unknown[]) => unknown, { warnRetraces: false }));
  if (want.error !== undefined || got.error !== undefined) {
    expect(got.error, label).toBe(want.error);
    return;
  }
  expectBits(label, got.value, want.value);
};

const floatLeaves = (tree: unknown): boolean =>
  A.treeFlatten(tree)[0].every((l) => T.isFloating((l as T.Tensor).dtype));

/** A deterministic pytree like `tree` (its float leaves' dtypes), for cotangents and tangents. */
const like = (tree: unknown, seed: number): unknown => {
  const [leaves, def] = A.treeFlatten(tree);
  const keys = T.random.split(T.random.key(seed), Math.max(1, leaves.length));
  return A.treeUnflatten(
    def,
    leaves.map((l, i) =>
      T.random.normal(keys[i]!, l.shape, T.isFloating(l.dtype) ? (l.dtype as "float32") : "float64"),
    ),
  );
};

const toFloat32 = (tree: unknown): unknown =>
  A.treeMap((l) => (T.isTensor(l) && l.dtype === "float64" ? T.astype(l, "float32") : l), tree);

/** Value, VJP and JVP of a gradient-check case, compiled vs interpreted. */
const checkCase = (c: GradCase, dtype: "float32" | "float64", seed: number): void => {
  const args = (dtype === "float32" ? toFloat32(c.args) : c.args) as unknown[];
  expectInvariant(`${c.label} ${dtype}`, c.f, args);
  const out = call(c.f, args);
  if (!floatLeaves(out) || !floatLeaves(args)) return;
  const ct = like(out, seed);
  const pulled = (...a: unknown[]) => A.vjp(c.f as (...x: unknown[]) => unknown, ...a)[1](ct);
  expectInvariant(`vjp of ${c.label} ${dtype}`, pulled, args);
  const tangents = like(args, seed + 1) as unknown[];
  const pushed = (...a: unknown[]) => A.jvp(c.f, a, tangents)[1];
  expectInvariant(`jvp of ${c.label} ${dtype}`, pushed, args);
};

const tables: Record<string, GradSpec> = {
  ...unarySpecs,
  ...binarySpecs,
  ...reduceSpecs,
  ...shapeSpecs,
  ...indexingSpecs,
  ...controlSpecs,
  ...randomSpecs,
  ...Object.fromEntries(Object.entries(compositeSpecs).map(([k, v]) => [`composite ${k}`, v])),
};

describe("jit invariance: every gradient-check row, compiled = interpreted bit for bit", () => {
  for (const [name, spec] of Object.entries(tables)) {
    for (const dtype of ["float64", "float32"] as const) {
      it(`${name} ${dtype}`, () => {
        fc.assert(
          fc.property(spec.cases, fc.integer({ min: 0, max: 1e6 }), (c, seed) => checkCase(c, dtype, seed)),
          { numRuns: 8 },
        );
      });
    }
  }
});

describe("jit invariance: second order", () => {
  it("grad of grad (hessian-vector products) through tanh/exp/scan", () => {
    const f = (x: Value) => A.sum(A.mul(A.tanh(x), A.exp(A.mul(x, 0.3))));
    const hvp = (x: Value) => A.grad((y: Value) => A.sum(A.mul(A.grad(f)(y), A.cos(y))))(x);
    for (const dtype of ["float64", "float32"] as const) {
      expectInvariant(`hvp ${dtype}`, hvp, [T.random.normal(T.random.key(3), [3, 4], dtype)]);
      const scanned = (x: Value) =>
        A.sum(
          A.scan((c: Value, r: Value) => [A.tanh(A.add(A.mul(c, r), 0.1)), A.mul(c, c)], A.sum(x, { axis: 0 }), x)[1],
        );
      expectInvariant(`grad grad scan ${dtype}`, (x: Value) => A.grad((y: Value) => A.sum(A.grad(scanned)(y)))(x), [
        T.random.normal(T.random.key(4), [5, 3], dtype),
      ]);
    }
  });
});

// ---- training steps of recurrent models ----------------------------------------------------

const lstmStep = () => {
  const [B, TT, IN, H] = [32, 50, 64, 128];
  const [k1, k2, k3, k4, k5] = T.random.split(T.random.key(42), 5) as T.random.Key[];
  const model = {
    cell: lstm.init(k1!, { inputSize: IN, hiddenSize: H }, { dtype: "float32" }),
    w: T.mul(T.random.normal(k2!, [1, H], "float32"), 1 / Math.sqrt(H)),
    b: T.random.normal(k3!, [1], "float32"),
  };
  const xs = T.random.normal(k4!, [B, TT, IN], "float32");
  const ys = T.random.normal(k5!, [B, 1], "float32");
  const loss = (m: typeof model): Value => {
    const { finalCarry } = rnn(lstm, m.cell, xs);
    return A.mean(A.square(A.sub(A.add(A.matmul(finalCarry.h, A.transpose(m.w)), m.b), ys)));
  };
  return { f: A.valueAndGrad(loss) as Fn, args: [model] };
};

const charStep = () => {
  const [V, H, TT] = [65, 100, 25];
  const [k1, k2, k3] = T.random.split(T.random.key(7), 3) as T.random.Key[];
  const model = {
    cell: elmanTanh.init(k1!, { inputSize: V, hiddenSize: H }, { dtype: "float64" }),
    why: T.mul(T.random.normal(k2!, [V, H], "float64"), 0.01),
    by: T.random.normal(k3!, [V], "float64"),
  };
  const chars = Array.from({ length: TT + 1 }, (_, t) => (t * 37 + 11) % V);
  const inputs = T.oneHot(T.tensor([chars.slice(0, TT)], "int32"), V, "float64");
  const targets = T.oneHot(T.tensor([chars.slice(1)], "int32"), V, "float64");
  const loss = (m: typeof model): Value => {
    const { outputs } = rnn(elmanTanh, m.cell, inputs);
    const logits = A.add(A.matmul(outputs, A.transpose(m.why)), m.by);
    return A.neg(A.sum(A.mul(targets, A.logSoftmax(logits, -1))));
  };
  return { f: A.valueAndGrad(loss) as Fn, args: [model] };
};

describe("jit invariance: training steps", () => {
  it("the LSTM benchmark step (B 32, T 50, in 64, H 128, float32): loss and every gradient", () => {
    const { f, args } = lstmStep();
    expectInvariant("lstm step", f, args);
  });

  it("the min-char-rnn benchmark step (V 65, H 100, T 25, float64)", () => {
    const { f, args } = charStep();
    expectInvariant("min-char-rnn step", f, args);
  });

  const cells: ReadonlyArray<readonly [string, AnyCell]> = [
    ["elmanTanh", elmanTanh],
    ["elmanRelu", elmanRelu],
    ["lstm", lstm],
    ["gru", gru],
    ["peepholeLstm", peepholeLstm],
    ["layerNormLstm", layerNormLstm],
  ];
  for (const [name, cell] of cells) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${name} ${dtype}: grads with lengths, reverse, remat, unroll and truncate`, () => {
        const [k1, k2] = T.random.split(T.random.key(name.length), 2) as T.random.Key[];
        const params = cell.init(k1!, { inputSize: 3, hiddenSize: 4 }, { dtype });
        const xs = T.random.normal(k2!, [2, 7, 3], dtype);
        const lengths = T.tensor([7, 4], "int32");
        const variants = [
          {},
          { lengths },
          { reverse: true },
          { remat: "carries" as const },
          { remat: { every: 3 } },
          { unroll: 2 },
          { truncate: 3 },
        ];
        for (const opts of variants) {
          const loss = (p: unknown) => A.sum(A.square(rnn(cell, p, xs, opts).outputs));
          expectInvariant(`${name} ${JSON.stringify(opts)}`, A.valueAndGrad(loss), [params]);
        }
      });
    }
  }

  for (const [name, cell] of cells) {
    it(`${name} float32 at SIMD sizes (B 8, H 32): grads with lengths (one of them 0) and reverse, through the WebAssembly loops`, () => {
      const [k1, k2] = T.random.split(T.random.key(name.length + 100), 2) as T.random.Key[];
      const params = cell.init(k1!, { inputSize: 12, hiddenSize: 32 }, { dtype: "float32" });
      const xs = T.random.normal(k2!, [8, 9, 12], "float32");
      const lengths = T.tensor([9, 4, 0, 7, 1, 9, 3, 6], "int32");
      for (const opts of [{ lengths }, { lengths, reverse: true }, { lengths, remat: { every: 4 } }]) {
        const loss = (p: unknown) => A.sum(A.square(rnn(cell, p, xs, opts).outputs));
        const f = A.valueAndGrad(loss) as Fn;
        expectInvariant(`${name} ${JSON.stringify(opts)}`, f, [params]);
        // The path under test was taken: the masked step's loops run as SIMD kernels.
        expect(
          A.compileGraph(A.makeGraph(f as (...a: unknown[]) => unknown)(params).graph).simdKernels,
        ).toBeGreaterThan(0);
      }
    });
  }

  it("bidirectional and stacked layers with lengths", () => {
    const [k1, k2, k3] = T.random.split(T.random.key(11), 3) as T.random.Key[];
    const bi = bidirectional(gru, lstm);
    const pb = bi.init(k1!, { inputSize: 3, hiddenSize: 4 }, { dtype: "float64" });
    const xs = T.random.normal(k2!, [3, 5, 3], "float64");
    const lengths = T.tensor([5, 0, 2], "int32");
    expectInvariant(
      "bidirectional",
      A.valueAndGrad((p: typeof pb) => A.sum(A.square(bi.apply(p, xs, { lengths }).outputs))),
      [pb],
    );
    const st = stack([lstm, gru]);
    const ps = st.init(k3!, { inputSize: 3, hiddenSize: 4 }, { dtype: "float32" });
    const x32 = T.astype(xs, "float32");
    expectInvariant(
      "stack",
      A.valueAndGrad((p: typeof ps) => A.sum(A.square(rnn(st, p, x32, { lengths }).outputs))),
      [ps],
    );
  });
});
