/**
 * @file Fuzz specs of the non-recurrent pieces: `linear` and `embedding` (against plain float64
 * arithmetic; ids out of the vocabulary, negative or non-integer are refused), the weight
 * initialisers (shapes, bounds, orthogonality; bad shapes, dtypes and schemes are refused), and
 * `layerNorm` with `LAYER_NORM_EPS`.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import {
  BAD_SIZES,
  dataOf,
  expectNear,
  normal,
  NOT_OPTIONS,
  NOT_TENSORS,
  prop,
  rejectEach,
  rejectPool,
  type Spec,
} from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { INIT_KEYS } from "./keys.js";

const k0 = T.random.key(0);
const dims = fc.record({
  out: fc.integer({ min: 1, max: 4 }),
  fanIn: fc.integer({ min: 1, max: 4 }),
  batch: fc.integer({ min: 0, max: 3 }),
  seed: fc.nat({ max: 10_000 }),
  bias: fc.boolean(),
});

export const linearSpec: Spec = () => {
  let n = prop(
    dims,
    ({ out, fanIn, batch, seed, bias }) => {
      const layer = R.linear(out, { bias });
      const q = layer.init(T.random.key(seed), fanIn, { dtype: "float64" });
      const x = normal(seed, [batch, fanIn]);
      const w = dataOf(q.weight);
      const b = q.bias === undefined ? undefined : dataOf(q.bias);
      const want = Array.from({ length: batch * out }, (_, i) => {
        const [r, o] = [Math.floor(i / out), i % out];
        return (
          (b?.[o] ?? 0) +
          Array.from({ length: fanIn }, (_, k) => x.data[r * fanIn + k]! * w[o * fanIn + k]!).reduce((s, v) => s + v, 0)
        );
      });
      expectNear("linear.apply", layer.apply(q)(x), want, [batch, out]);
      expect(layer.outputSize(q)).toBe(out);
      expect(layer.inputSize?.(q)).toBe(fanIn);
      // PyTorch's bound ±1/√fanIn.
      expect(w.every((v) => Math.abs(v) <= 1 / Math.sqrt(fanIn))).toBe(true);
    },
    15,
  );
  n += rejectPool(["linear"], BAD_SIZES, (size) => R.linear(size as number));
  n += rejectPool(["linear"], [...NOT_OPTIONS, { bias: "yes" }, { bias: 1 }], (o) => R.linear(2, o as never));
  const layer = R.linear(3);
  const q = layer.init(k0, 2, { dtype: "float64" });
  n += rejectPool(["linear(3).init"], BAD_SIZES, (size) => layer.init(k0, size as number));
  n += rejectPool(["linear(3).init"], [null, 5, { dtype: "int32" }, { scheme: "he" }], (o) =>
    layer.init(k0, 2, o as never),
  );
  n += misspeltCases({
    names: ["linear"],
    error: T.TensorException,
    known: ["bias"],
    base: { bias: false },
    call: (o) => R.linear(2, o),
  });
  n += misspeltCases({
    names: ["linear(3).init"],
    error: T.TensorException,
    known: INIT_KEYS,
    base: { dtype: "float64", scheme: "glorot" },
    call: (o) => layer.init(k0, 2, o),
  });
  n += rejectPool(["linear(3).apply"], [...NOT_TENSORS, normal(1, [4, 5]), T.scalar(1, "float64")], (x) =>
    layer.apply(q)(x as T.Tensor),
  );
  n += rejectPool(
    ["linear(3)"],
    [null, {}, { weight: normal(0, [3]) }, { weight: [[1]] }, { weight: q.weight, bias: normal(0, [2]) }],
    (p) => layer.apply(p as never),
  );
  return n;
};

export const embeddingSpec: Spec = () => {
  let n = prop(
    fc
      .record({
        vocab: fc.integer({ min: 1, max: 5 }),
        dim: fc.integer({ min: 1, max: 3 }),
        seed: fc.nat({ max: 10_000 }),
      })
      .chain((r) => fc.array(fc.integer({ min: 0, max: r.vocab - 1 }), { maxLength: 4 }).map((ids) => ({ ...r, ids }))),
    ({ vocab, dim, seed, ids }) => {
      const layer = R.embedding(vocab, dim);
      const q = layer.init(T.random.key(seed), 1, { dtype: "float64" });
      const table = dataOf(q.weight);
      const rows = layer.apply(q)(T.fromDataOrThrow(ids, [ids.length], "int32"));
      expectNear(
        "embedding.apply",
        rows,
        ids.flatMap((id) => table.slice(id * dim, (id + 1) * dim)),
        [ids.length, dim],
        0,
        0,
      );
      expect(layer.outputSize(q)).toBe(dim);
    },
    15,
  );
  n += rejectPool(["embedding"], BAD_SIZES, (v) => R.embedding(v as number, 2));
  n += rejectPool(["embedding"], BAD_SIZES, (d) => R.embedding(5, d as number));
  const layer = R.embedding(5, 3);
  const q = layer.init(k0, 1, { dtype: "float64" });
  const ids = (d: number[]) => T.fromDataOrThrow(d, [d.length], "int32");
  n += rejectEach(["embedding(5, 3)"], {
    "id -1": () => layer.apply(q)(ids([-1, 1])),
    "id 5 (= vocab)": () => layer.apply(q)(ids([5, 1])),
    "id 2^31 − 1": () => layer.apply(q)(ids([2 ** 31 - 1])),
    "float ids 1.5": () => layer.apply(q)(T.fromDataOrThrow([1.5, 1], [2], "float32")),
    "float64 ids": () => layer.apply(q)(T.fromDataOrThrow([1, 1], [2], "float64")),
    "a scalar id": () => layer.apply(q)(T.scalar(1, "int32")),
    "init with dtype int32": () => layer.init(k0, 1, { dtype: "int32" as never }),
  });
  n += rejectPool(["embedding(5, 3)"], NOT_TENSORS, (x) => layer.apply(q)(x as T.Tensor));
  n += misspeltCases({
    names: ["embedding(5, 3).init"],
    error: T.TensorException,
    known: INIT_KEYS,
    base: { dtype: "float64" },
    call: (o) => layer.init(k0, 1, o),
  });
  n += rejectPool(["embedding(5, 3)"], [null, {}, { weight: [[1]] }, { weight: normal(0, [5]) }], (p) =>
    layer.apply(p as never),
  );
  return n;
};

const matrix = fc.record({
  rows: fc.integer({ min: 0, max: 5 }),
  cols: fc.integer({ min: 0, max: 5 }),
  seed: fc.nat({ max: 10_000 }),
  dtype: fc.constantFrom("float32" as const, "float64" as const),
});
const BAD_MATRIX_SHAPES: readonly unknown[] = [[-1, 2], [1.5, 2], [2], [2, 2, 2], null, "2x2", [NaN, 1]];

export const uniformInitSpec: Spec = () => {
  let n = prop(
    fc.record({ m: matrix, hidden: fc.integer({ min: 1, max: 64 }) }),
    ({ m, hidden }) => {
      const w = R.uniformInit(T.random.key(m.seed), [m.rows, m.cols], hidden, m.dtype);
      expect([w.dtype, ...w.shape]).toEqual([m.dtype, m.rows, m.cols]);
      expect(dataOf(w).every((v) => Math.abs(v) <= 1 / Math.sqrt(hidden))).toBe(true);
    },
    10,
  );
  n += rejectPool(["uniformInit"], BAD_SIZES, (h) => R.uniformInit(k0, [2, 2], h as number));
  n += rejectPool(["uniformInit", "uniform"], [[-1, 2], [1.5, 2], [NaN, 1], null], (shape) =>
    R.uniformInit(k0, shape as number[], 2),
  );
  n += rejectPool(["uniformInit", "uniform"], ["int32", "bool", "float16"], (dtype) =>
    R.uniformInit(k0, [2, 2], 2, dtype as never),
  );
  return n;
};

export const glorotInitSpec: Spec = () => {
  let n = prop(
    matrix.filter((m) => m.rows + m.cols > 0),
    (m) => {
      const w = R.glorotInit(T.random.key(m.seed), [m.rows, m.cols], m.dtype);
      expect([w.dtype, ...w.shape]).toEqual([m.dtype, m.rows, m.cols]);
      expect(dataOf(w).every((v) => Math.abs(v) <= Math.sqrt(6 / (m.rows + m.cols)))).toBe(true);
    },
    10,
  );
  n += rejectPool(["glorotInit"], BAD_MATRIX_SHAPES, (shape) => R.glorotInit(k0, shape as [number, number]));
  n += rejectPool(["glorotInit", "uniform"], ["int32", "float16"], (dtype) => R.glorotInit(k0, [2, 2], dtype as never));
  return n;
};

export const orthogonalInitSpec: Spec = () => {
  let n = prop(
    matrix,
    (m) => {
      const w = R.orthogonalInit(T.random.key(m.seed), [m.rows, m.cols], m.dtype);
      expect([w.dtype, ...w.shape]).toEqual([m.dtype, m.rows, m.cols]);
      // The fewer of rows and columns are orthonormal: their Gram matrix is the identity.
      const d = dataOf(w);
      const [vecs, len, at] =
        m.rows >= m.cols
          ? [m.cols, m.rows, (v: number, i: number) => d[i * m.cols + v]!]
          : [m.rows, m.cols, (v: number, i: number) => d[v * m.cols + i]!];
      const tol = m.dtype === "float32" ? 1e-5 : 1e-12;
      for (let a = 0; a < vecs; a++) {
        for (let b = 0; b < vecs; b++) {
          let dot = 0;
          for (let i = 0; i < len; i++) dot += at(a, i) * at(b, i);
          expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThanOrEqual(tol);
        }
      }
    },
    12,
  );
  n += rejectPool(["orthogonalInit"], BAD_MATRIX_SHAPES, (shape) => R.orthogonalInit(k0, shape as [number, number]));
  n += rejectPool(["orthogonalInit"], ["int32", "bool", "float16", 5], (dtype) =>
    R.orthogonalInit(k0, [2, 2], dtype as never),
  );
  return n;
};

export const gateWeightSpec: Spec = () => {
  let n = prop(
    fc.record({
      gates: fc.integer({ min: 1, max: 4 }),
      hidden: fc.integer({ min: 1, max: 3 }),
      fanIn: fc.integer({ min: 1, max: 3 }),
      seed: fc.nat(),
      scheme: fc.constantFrom("default" as const, "orthogonal" as const, "glorot" as const),
    }),
    ({ gates, hidden, fanIn, seed, scheme }) => {
      const w = R.gateWeight(T.random.key(seed), gates, hidden, fanIn, { scheme, dtype: "float64" });
      expect([w.dtype, ...w.shape]).toEqual(["float64", gates * hidden, fanIn]);
      const bound =
        scheme === "default"
          ? 1 / Math.sqrt(hidden)
          : scheme === "glorot"
            ? Math.sqrt(6 / (hidden + fanIn))
            : 1 + 1e-12;
      expect(dataOf(w).every((v) => Math.abs(v) <= bound)).toBe(true);
    },
    12,
  );
  n += rejectPool(["gateWeight"], [0, -1, 1.5, NaN, "2", null], (g) => R.gateWeight(k0, g as number, 2, 2));
  n += rejectPool(["gateWeight"], [null, 5, { scheme: "xavier" }, { dtype: "int32" }], (o) =>
    R.gateWeight(k0, 2, 2, 2, o as never),
  );
  n += misspeltCases({
    names: ["gateWeight"],
    error: T.TensorException,
    known: INIT_KEYS,
    base: { scheme: "orthogonal" },
    call: (o) => R.gateWeight(k0, 2, 2, 2, o),
  });
  n += rejectPool(["gateWeight", "uniform", "orthogonalInit", "glorotInit"], [-1, 1.5, NaN], (h) =>
    R.gateWeight(k0, 2, h, 2, { scheme: "orthogonal" }),
  );
  return n;
};

export const layerNormSpec: Spec = () => {
  let n = prop(
    fc.record({
      rows: fc.integer({ min: 0, max: 3 }),
      f: fc.integer({ min: 1, max: 5 }),
      seed: fc.nat({ max: 10_000 }),
      eps: fc.constantFrom(undefined, 1e-3, 0.5),
    }),
    ({ rows, f, seed, eps }) => {
      const a = normal(seed, [rows, f]);
      const gain = normal(seed + 1, [f]);
      const shift = normal(seed + 2, [f]);
      const out = eps === undefined ? R.layerNorm(a, gain, shift) : R.layerNorm(a, gain, shift, eps);
      const e = eps ?? R.LAYER_NORM_EPS;
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        const v = dataOf(a).slice(r * f, (r + 1) * f);
        const mean = v.reduce((s, x) => s + x, 0) / f;
        const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / f;
        want.push(...v.map((x, j) => gain.data[j]! * ((x - mean) / Math.sqrt(variance + e)) + shift.data[j]!));
      }
      expectNear("layerNorm", out, want, [rows, f], 1e-9, 1e-12);
    },
    12,
  );
  const a = normal(1, [2, 3]);
  n += rejectEach(["layerNorm", "mul", "add", "sub", "mean"], {
    "a gain of 4 features for 3": () => R.layerNorm(a, normal(1, [4]), normal(1, [3])),
    "a shift of 2 features for 3": () => R.layerNorm(a, normal(1, [3]), normal(1, [2])),
    "a plain array": () => R.layerNorm([[1, 2]] as never, normal(1, [2]), normal(1, [2])),
  });
  return n;
};

export const layerNormEpsSpec: Spec = () => {
  // PyTorch's nn.LayerNorm default, and what layerNorm uses when no eps is given.
  expect(R.LAYER_NORM_EPS).toBe(1e-5);
  const a = normal(3, [2, 4]);
  const g = normal(4, [4]);
  const s = normal(5, [4]);
  expectNear("layerNorm default eps", R.layerNorm(a, g, s), dataOf(R.layerNorm(a, g, s, 1e-5)), [2, 4], 0, 0);
  return 2;
};
