/**
 * @file Fuzz specs of the attention combinators — `additiveAttention`, `dotAttention`,
 * `generalAttention` — each run through `rnn` with a random context `{ memory, lengths? }` and
 * compared with a float64 reference in plain JavaScript (the wrapped cell's reference step, the
 * scores, the masked softmax, the context vector), then with non-cells, bad options, misspelt
 * keys, bad sizes and bad contexts.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import { expectNear, normal, NOT_FLAGS, NOT_OPTIONS, prop, rejectEach, rejectPool, type Spec } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { hasCellState, REFERENCE_STEPS, rowAt, type State } from "./reference.js";

type Kind = "additive" | "dot" | "general";
type Params = Record<string, T.Tensor>;
type AttnParams = { cell: Params; attention: Params };
type AnyAttn = R.AttentionCell<AttnParams, unknown>;

const k0 = T.random.key(0);
const NOT_CELLS: readonly unknown[] = [null, undefined, 5, "gru", {}, { name: "x", init: () => 0 }];
const INNER: readonly R.AnyCell[] = [R.gru, R.lstm, R.elmanTanh];

const combinator = (kind: Kind, cell: R.AnyCell): AnyAttn =>
  (kind === "additive"
    ? R.additiveAttention(cell)
    : kind === "dot"
      ? R.dotAttention(cell)
      : R.generalAttention(cell)) as unknown as AnyAttn;

/** Row r of a `[rows, cols]` tensor, and `v · W` for W `[rows, cols]`. */
const vecMat = (v: readonly number[], w: T.Tensor): number[] => {
  const [rows, cols] = w.shape as [number, number];
  return Array.from({ length: cols }, (_, c) => {
    let acc = 0;
    for (let r = 0; r < rows; r++) acc += v[r]! * w.data[r * cols + c]!;
    return acc;
  });
};

/** Masked softmax over the first `len` scores; the rest get 0. */
const maskedSoftmax = (e: readonly number[], len: number): number[] => {
  const m = Math.max(...e.slice(0, len));
  const ex = e.map((v, j) => (j < len ? Math.exp(v - m) : 0));
  const z = ex.reduce((a, b) => a + b, 0);
  return ex.map((v) => v / z);
};

/** Σ_j a_j m_j over memory rows `[S][D]`. */
const mix = (a: readonly number[], mem: readonly number[][]): number[] =>
  mem[0]!.map((_, d) => mem.reduce((acc, row, j) => acc + a[j]! * row[d]!, 0));

/** One sample's reference run: outputs `[T][H]` (zeros past `len`). */
const referenceSample = (
  kind: Kind,
  cellName: string,
  p: AttnParams,
  xs: number[][],
  mem: number[][],
  len: number,
  srcLen: number,
  hidden: number,
): number[][] => {
  const step = REFERENCE_STEPS[cellName]!;
  let s: State = hasCellState(cellName)
    ? { h: new Array<number>(hidden).fill(0), c: new Array<number>(hidden).fill(0) }
    : { h: new Array<number>(hidden).fill(0) };
  const w = p.attention;
  return xs.map((x, t) => {
    if (t >= len) return new Array<number>(hidden).fill(0);
    if (kind === "additive") {
      const q = vecMat(s.h, w["query"]!);
      const e = mem.map((row) => {
        const k = vecMat(row, w["key"]!);
        return k.reduce((acc, kv, a) => acc + w["v"]!.data[a]! * Math.tanh(kv + q[a]!), 0);
      });
      s = step(p.cell, s, [...x, ...mix(maskedSoftmax(e, srcLen), mem)]);
      return s.h;
    }
    s = step(p.cell, s, x);
    const keys = kind === "dot" ? mem : mem.map((row) => vecMat(row, w["score"]!));
    const e = keys.map((k) => k.reduce((acc, kv, d) => acc + kv * s.h[d]!, 0));
    const c = mix(maskedSoftmax(e, srcLen), mem);
    return vecMat([...c, ...s.h], w["output"]!).map(Math.tanh);
  });
};

const arbCase = (kind: Kind) =>
  fc
    .record({
      cell: fc.constantFrom(...INNER),
      batch: fc.integer({ min: 1, max: 2 }),
      time: fc.integer({ min: 0, max: 3 }),
      src: fc.integer({ min: 1, max: 4 }),
      f: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 1, max: 3 }),
      d: fc.integer({ min: 1, max: 3 }),
      seed: fc.nat({ max: 10_000 }),
    })
    .chain((r) =>
      fc
        .record({
          lengths: fc.option(fc.array(fc.integer({ min: 0, max: r.time }), { minLength: r.batch, maxLength: r.batch })),
          srcLengths: fc.option(
            fc.array(fc.integer({ min: 1, max: r.src }), { minLength: r.batch, maxLength: r.batch }),
          ),
        })
        .map((o) => ({ ...r, d: kind === "dot" ? r.h : r.d, ...o })),
    );

const specFor =
  (kind: Kind, op: string): Spec =>
  () => {
    let n = prop(
      arbCase(kind),
      (c) => {
        const cell = combinator(kind, c.cell);
        const sizes = { inputSize: c.f, hiddenSize: c.h, memorySize: c.d };
        const p = cell.init(T.random.key(c.seed), sizes, { dtype: "float64" });
        const xs = normal(c.seed + 1, [c.batch, c.time, c.f]);
        const memory = normal(c.seed + 2, [c.batch, c.src, c.d]);
        const out = R.rnn(cell, p, xs, {
          ...(c.lengths === null ? {} : { lengths: c.lengths }),
          context: { memory, ...(c.srcLengths === null ? {} : { lengths: c.srcLengths }) },
        }).outputs;
        const want: number[] = [];
        for (let b = 0; b < c.batch; b++) {
          const rows = Array.from({ length: c.time }, (_, t) => rowAt(xs, b, t, false));
          const mem = Array.from({ length: c.src }, (_, j) => rowAt(memory, b, j, false));
          const len = c.lengths?.[b] ?? c.time;
          const srcLen = c.srcLengths?.[b] ?? c.src;
          want.push(...referenceSample(kind, c.cell.name, p, rows, mem, len, srcLen, c.h).flat());
        }
        expectNear(`${op}(${c.cell.name}) outputs`, out, want, [c.batch, c.time, c.h], 1e-9, 1e-11);
      },
      25,
    );
    const make = (o: unknown) =>
      kind === "additive"
        ? R.additiveAttention(R.gru, o as never)
        : kind === "dot"
          ? R.dotAttention(R.gru, o as never)
          : R.generalAttention(R.gru, o as never);
    n += rejectPool([op], NOT_CELLS, (c) => combinator(kind, c as R.AnyCell));
    n += rejectPool([op], NOT_OPTIONS, make);
    n += rejectPool([op], NOT_FLAGS, (w) => make({ weights: w }));
    if (kind === "additive") n += rejectPool([op], [5, "h", {}], (q) => make({ query: q }));
    n += misspeltCases({
      names: [op],
      error: T.TensorException,
      known: kind === "additive" ? ["query", "weights"] : ["weights"],
      base: kind === "additive" ? { weights: false, query: (c: T.Tensor) => c } : { weights: false },
      call: (o) => make(o),
    });
    const cell = combinator(kind, R.gru);
    const p = cell.init(k0, { inputSize: 2, hiddenSize: 3, memorySize: 3 }, { dtype: "float64" });
    const xs = normal(1, [2, 3, 2]);
    const memory = normal(2, [2, 4, 3]);
    const run = (context: unknown) => () => R.rnn(cell, p, xs, { context: context as R.AttentionContext });
    n += rejectEach(["rnn"], {
      "no context": () => R.rnn(cell, p, xs),
      "memory as the context": run(memory),
      "memory of rank 2": run({ memory: normal(3, [2, 3]) }),
      "memory of batch 3": run({ memory: normal(3, [3, 4, 3]) }),
      "memory of 5 features": run({ memory: normal(3, [2, 4, 5]) }),
      "memory float32": run({ memory: T.zeros([2, 4, 3]) }),
      "memory of 0 positions": run({ memory: normal(3, [2, 0, 3]) }),
      "lengths above S": run({ memory, lengths: [5, 1] }),
      "a length of 0": run({ memory, lengths: [0, 1] }),
      "lengths of another batch": run({ memory, lengths: [1] }),
      "an unknown field": run({ memory, mask: [1, 1] }),
    });
    n += rejectEach([`${cell.name}.init`], {
      "memorySize 0": () => cell.init(k0, { inputSize: 2, hiddenSize: 3, memorySize: 0 }),
      "memorySize 1.5": () => cell.init(k0, { inputSize: 2, hiddenSize: 3, memorySize: 1.5 }),
      "sizes null": () => cell.init(k0, null as never),
    });
    n += rejectEach([cell.name], {
      "params of the wrapped cell": () => cell.initialCarry(2, p.cell as never),
    });
    return n;
  };

export const additiveAttentionSpec: Spec = specFor("additive", "additiveAttention");
export const dotAttentionSpec: Spec = specFor("dot", "dotAttention");
export const generalAttentionSpec: Spec = specFor("general", "generalAttention");
