/**
 * @file Fuzz specs of decoding: `topKLogits`, `generate` (greedy against a float64 loop with a
 * stop token; top-1 sampling equals greedy; bad temperatures, k, lengths, tokens and keys are
 * refused), `encoderDecoder` (teacher forcing 1 and free running 0 against the float64 loop) and
 * `teacherForcingMask`.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import {
  BAD_COUNTS,
  dataOf,
  expectNear,
  normal,
  NOT_TENSORS,
  prop,
  rejectEach,
  rejectPool,
  type Spec,
} from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { hasCellState, REFERENCE_STEPS, referenceSequence, rowAt, rowOf, type State } from "./reference.js";
import { CELLS } from "./sequence.js";

const k0 = T.random.key(0);
type Params = Record<string, T.Tensor>;

export const topKLogitsSpec: Spec = () => {
  let n = prop(
    fc.record({
      rows: fc.integer({ min: 0, max: 3 }),
      v: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 8 }),
      seed: fc.nat({ max: 1000 }),
    }),
    ({ rows, v, k, seed }) => {
      // Values on a coarse grid, so ties with the k-th largest happen; they are kept.
      const logits = T.fromDataOrThrow(
        dataOf(normal(seed, [rows, v])).map((x) => Math.round(x * 2) / 2),
        [rows, v],
        "float64",
      );
      const d = dataOf(logits);
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = d.slice(r * v, (r + 1) * v);
        const kth = [...row].sort((a, b) => b - a)[Math.min(k, v) - 1]!;
        want.push(...row.map((x) => (x >= kth ? x : -Infinity)));
      }
      expectNear("topKLogits", R.topKLogits(logits, k), want, [rows, v], 0, 0);
    },
    20,
  );
  n += rejectPool(["topKLogits"], [0, ...BAD_COUNTS], (k) => R.topKLogits(normal(1, [2, 3]), k as number));
  n += rejectPool(["topKLogits"], NOT_TENSORS, (l) => R.topKLogits(l as T.Tensor, 1));
  return n;
};

/** Index of the first maximum. */
const argmax = (v: readonly number[]): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
const logitsOf = (h: readonly number[], w: T.Tensor): number[] =>
  Array.from({ length: w.shape[1]! }, (_, j) => h.reduce((acc, hk, k) => acc + hk * w.data[k * w.shape[1]! + j]!, 0));
const zeroState = (name: string, h: number): State =>
  hasCellState(name)
    ? { h: new Array<number>(h).fill(0), c: new Array<number>(h).fill(0) }
    : { h: new Array<number>(h).fill(0) };

/** A greedy decoding problem: cell, parameters, an embedding table E [V, F] and a readout W [H, V]. */
const arbDecode = fc.record({
  cell: fc.constantFrom(...CELLS),
  vocab: fc.integer({ min: 1, max: 4 }),
  f: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 3 }),
  batch: fc.integer({ min: 0, max: 3 }),
  steps: fc.integer({ min: 1, max: 4 }),
  seed: fc.nat({ max: 10_000 }),
  stop: fc.option(fc.nat()),
});

export const generateSpec: Spec = () => {
  let n = prop(
    arbDecode,
    ({ cell, vocab, f, h, batch, steps, seed, stop }) => {
      const p = cell.init(T.random.key(seed), { inputSize: f, hiddenSize: h }, { dtype: "float64" }) as Params;
      const table = normal(seed + 1, [vocab, f]);
      const w = normal(seed + 2, [h, vocab], 2);
      const stopToken = stop === null ? undefined : stop % vocab;
      const base = {
        startToken: 0,
        batch,
        embed: (ids: A.Value) => A.take(table, ids, 0),
        readout: (y: A.Value) => A.matmul(y, w),
        maxLength: steps,
        ...(stopToken === undefined ? {} : { stopToken }),
      };
      const out = R.generate(cell, p, base);
      const step = REFERENCE_STEPS[cell.name]!;
      const tokens: number[] = [];
      const lengths: number[] = [];
      let tie = false;
      for (let b = 0; b < batch; b++) {
        let s = zeroState(cell.name, h);
        let x = rowOf(table, 0);
        let done = false;
        let len = 0;
        for (let t = 0; t < steps; t++) {
          if (done) {
            tokens.push(stopToken!);
            continue;
          }
          s = step(p, s, x);
          const logits = logitsOf(s.h, w);
          const tok = argmax(logits);
          tie ||= logits.filter((v) => v === logits[tok]).length > 1;
          tokens.push(tok);
          len++;
          done = tok === stopToken;
          x = rowOf(table, tok);
        }
        lengths.push(len);
      }
      expectNear(`generate(${cell.name}) tokens`, out.tokens, tokens, [batch, steps], 0, 0);
      expectNear(`generate(${cell.name}) lengths`, out.lengths, lengths, [batch], 0, 0);
      // Sampling among the single most likely token is greedy decoding, whatever the key (unless
      // the maximum is tied, e.g. all-zero relu states: top-k keeps ties and the key picks one).
      if (tie) return;
      const top1 = R.generate(cell, p, {
        ...base,
        sampling: { kind: "topK", k: 1, temperature: 0.7 },
        key: T.random.key(seed),
      });
      expectNear(`generate(${cell.name}) top-1`, top1.tokens, tokens, [batch, steps], 0, 0);
    },
    20,
  );
  const p = R.gru.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
  const table = normal(1, [5, 2]);
  const w = normal(2, [3, 5]);
  const ok = {
    startToken: 0,
    batch: 2,
    embed: (ids: A.Value) => A.take(table, ids, 0),
    readout: (y: A.Value) => A.matmul(y, w),
    maxLength: 3,
  };
  const gen = (o: object) => () => R.generate(R.gru, p, { ...ok, ...o });
  n += rejectEach(["generate", "gru.step", "take"], {
    "maxLength 0": gen({ maxLength: 0 }),
    "temperature 0": gen({ sampling: { kind: "temperature", temperature: 0 }, key: k0 }),
    "temperature -1": gen({ sampling: { kind: "temperature", temperature: -1 }, key: k0 }),
    "temperature NaN": gen({ sampling: { kind: "temperature", temperature: NaN }, key: k0 }),
    "temperature Infinity": gen({ sampling: { kind: "topK", k: 2, temperature: Infinity }, key: k0 }),
    "topK k 0": gen({ sampling: { kind: "topK", k: 0 }, key: k0 }),
    "topK k 1.5": gen({ sampling: { kind: "topK", k: 1.5 }, key: k0 }),
    "sampling kind 'beam'": gen({ sampling: { kind: "beam" } }),
    "sampling without a key": gen({ sampling: { kind: "temperature", temperature: 1 } }),
    "a key that is a number": gen({ sampling: { kind: "topK", k: 2 }, key: 5 }),
    "startToken -1": gen({ startToken: -1 }),
    "startToken 1.5": gen({ startToken: 1.5 }),
    "startToken 99 (outside the table)": gen({ startToken: 99 }),
    "startToken ids with a negative id": gen({ startToken: T.fromDataOrThrow([0, -2], [2], "int32") }),
    "startToken float ids": gen({ startToken: T.fromDataOrThrow([0, 1], [2], "float32") }),
    "startToken ids of batch 3": gen({ startToken: T.zeros([3], "int32") }),
    "stopToken 5 (= vocab)": gen({ stopToken: 5 }),
    "stopToken -1": gen({ stopToken: -1 }),
    "both firstInput and startToken": gen({ firstInput: normal(1, [2, 2]) }),
    "neither firstInput nor startToken": gen({ startToken: undefined }),
    "float32 firstInput": gen({ startToken: undefined, firstInput: T.zeros([2, 2], "float32") }),
    "firstInput of 5 features": gen({ startToken: undefined, firstInput: normal(1, [2, 5]) }),
    "teacherTokens of 1 step for 3": gen({ teacherTokens: T.zeros([2, 1], "int32") }),
    "teacherTokens with a negative id": gen({ teacherTokens: T.full([2, 3], -1, "int32") }),
    "embed 5": gen({ embed: 5 }),
    "readout null": gen({ readout: null }),
    "a readout returning int32": gen({ readout: (y: A.Value) => A.astype(y, "int32") }),
    "timeMajor 'yes'": gen({ timeMajor: "yes" }),
    "mode 'parallel' (each step reads the last one's token)": gen({ mode: "parallel" }),
  });
  n += rejectPool(["generate"], [-1, 1.5, NaN, "2"], (batch) => gen({ batch })());
  n += rejectPool(["generate"], [null, 5, "x"], (o) => R.generate(R.gru, p, o as never));
  const generateKeys = [
    "initialCarry",
    "firstInput",
    "startToken",
    "batch",
    "embed",
    "readout",
    "maxLength",
    "stopToken",
    "sampling",
    "key",
    "teacherTokens",
    "timeMajor",
    "context",
  ];
  n += misspeltCases({
    names: ["generate"],
    error: T.TensorException,
    known: generateKeys,
    base: ok,
    call: (o) => R.generate(R.gru, p, o as never),
  });
  // A sampling is an options object too: { kind: "topK", K: 5 } must not sample from every token.
  n += misspeltCases({
    names: ["generate"],
    error: T.TensorException,
    known: ["kind", "k", "temperature"],
    base: { kind: "topK", k: 2, temperature: 0.5 },
    call: (s) => R.generate(R.gru, p, { ...ok, sampling: s as never, key: k0 }),
  });
  n += rejectEach(["generate"], {
    "a k for temperature sampling": gen({ sampling: { kind: "temperature", temperature: 1, k: 2 }, key: k0 }),
    "a temperature for greedy sampling": gen({ sampling: { kind: "greedy", temperature: 0.5 } }),
  });
  return n;
};

export const encoderDecoderSpec: Spec = () => {
  let n = prop(
    fc.tuple(arbDecode, fc.integer({ min: 0, max: 3 }), fc.constantFrom(0, 1)).chain(([d, srcT, ratio]) =>
      fc
        .record({
          srcLengths: fc.array(fc.integer({ min: 0, max: srcT }), { minLength: d.batch, maxLength: d.batch }),
          tgt: fc.array(fc.nat(), { minLength: d.batch * d.steps, maxLength: d.batch * d.steps }),
        })
        .map((r) => ({ ...d, srcT, ratio, ...r })),
    ),
    ({ cell, vocab, f, h, batch, steps, seed, srcT, ratio, srcLengths, tgt }) => {
      const [pe, pd] = [0, 1].map(
        (i) => cell.init(T.random.key(seed + i), { inputSize: f, hiddenSize: h }, { dtype: "float64" }) as Params,
      ) as [Params, Params];
      const table = normal(seed + 2, [vocab, f]);
      const w = normal(seed + 3, [h, vocab], 2);
      const src = normal(seed + 4, [batch, srcT, f]);
      const ids = tgt.map((t) => t % vocab);
      const out = R.encoderDecoder(
        cell,
        cell,
        { encoder: pe, decoder: pd },
        src,
        T.fromDataOrThrow(ids, [batch, steps], "int32"),
        {
          srcLengths,
          embedTarget: (x) => A.take(table, x, 0),
          readout: (y) => A.matmul(y, w),
          teacherForcing: ratio,
        },
      );
      const step = REFERENCE_STEPS[cell.name]!;
      const want: number[] = [];
      for (let b = 0; b < batch; b++) {
        const rows = Array.from({ length: srcT }, (_, t) => rowAt(src, b, t, false));
        let s = referenceSequence(step, pe, zeroState(cell.name, h), rows, srcLengths[b]!, false).final;
        let x = rowOf(table, ids[b * steps]!);
        for (let t = 0; t < steps; t++) {
          s = step(pd, s, x);
          const logits = logitsOf(s.h, w);
          want.push(...logits);
          // Ratio 1 feeds the next ground-truth token; ratio 0 the model's own greedy choice.
          if (t + 1 < steps) x = rowOf(table, ratio === 1 ? ids[b * steps + t + 1]! : argmax(logits));
        }
      }
      expectNear(`encoderDecoder(${cell.name}, ratio ${ratio})`, out.logits, want, [batch, steps, vocab], 1e-9, 1e-12);
    },
    15,
  );
  const pl = R.lstm.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
  const pg = R.gru.init(k0, { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
  const table = normal(1, [5, 2]);
  const w = normal(2, [3, 5]);
  const src = normal(3, [2, 3, 2]);
  const tgt = T.fromDataOrThrow([0, 1, 2, 3], [2, 2], "int32");
  const ok = { embedTarget: (x: A.Value) => A.take(table, x, 0), readout: (y: A.Value) => A.matmul(y, w) };
  const ed =
    (o: object, s: T.Tensor = src, t: T.Tensor = tgt) =>
    () =>
      R.encoderDecoder(R.lstm, R.lstm, { encoder: pl, decoder: pl }, s, t, { ...ok, ...o });
  n += rejectEach(["encoderDecoder", "teacherForcingMask", "lstm.step", "take"], {
    "teacherForcing 2": ed({ teacherForcing: 2 }),
    "teacherForcing NaN": ed({ teacherForcing: NaN }),
    "teacherForcing 0.5 without a key": ed({ teacherForcing: 0.5 }),
    "a key that is a number": ed({ teacherForcing: 0.5, key: 7 }),
    "a target id ≥ vocab": ed({}, src, T.fromDataOrThrow([0, 1, 9, 3], [2, 2], "int32")),
    "a negative target id": ed({}, src, T.fromDataOrThrow([0, 1, -1, 3], [2, 2], "int32")),
    "src of rank 2": ed({}, normal(1, [2, 3])),
    "srcLengths out of range": ed({ srcLengths: [4, 1] }),
    "tgtIn of another batch": ed({}, src, T.zeros([3, 2], "int32")),
    "tgtIn of 0 steps": ed({}, src, T.zeros([2, 0], "int32")),
    "ids without embedTarget": ed({ embedTarget: undefined }),
    "embedded targets with ratio 0.5": ed({ teacherForcing: 0.5, key: k0 }, src, normal(1, [2, 2, 2])),
    "readout 5": ed({ readout: 5 }),
    "bridge 'x'": ed({ bridge: "x" }),
    "an LSTM encoder for a GRU decoder": () =>
      R.encoderDecoder(R.lstm, R.gru, { encoder: pl, decoder: pg }, src, tgt, ok),
    "params null": () => R.encoderDecoder(R.lstm, R.lstm, null as never, src, tgt, ok),
    "options null": () => R.encoderDecoder(R.lstm, R.lstm, { encoder: pl, decoder: pl }, src, tgt, null as never),
    "src a plain array": ed({}, [[[1]]] as never),
  });
  const encoderDecoderKeys = ["srcLengths", "embedTarget", "readout", "teacherForcing", "key", "bridge", "timeMajor"];
  n += misspeltCases({
    names: ["encoderDecoder"],
    error: T.TensorException,
    known: encoderDecoderKeys,
    base: ok,
    call: (o) => R.encoderDecoder(R.lstm, R.lstm, { encoder: pl, decoder: pl }, src, tgt, o as never),
  });
  return n;
};

export const teacherForcingMaskSpec: Spec = () => {
  let n = prop(
    fc.record({
      ratio: fc.constantFrom(0, 1, 0.3, 0.7),
      time: fc.integer({ min: 0, max: 5 }),
      batch: fc.integer({ min: 0, max: 4 }),
      seed: fc.nat(),
    }),
    ({ ratio, time, batch, seed }) => {
      const key = T.random.key(seed);
      const m = R.teacherForcingMask(key, ratio, time, batch);
      const d = dataOf(m);
      expect([m.dtype, ...m.shape]).toEqual(["bool", time, batch]);
      // Step 0 is always forced; 0 and 1 are deterministic; the same key gives the same flips.
      d.forEach((v, i) => {
        if (i < batch || ratio === 1) expect(v).toBe(1);
        else if (ratio === 0) expect(v).toBe(0);
      });
      expect(dataOf(R.teacherForcingMask(key, ratio, time, batch))).toEqual(d);
    },
    15,
  );
  n += rejectPool(["teacherForcingMask"], [-0.1, 1.1, NaN, "0.5", null], (r) =>
    R.teacherForcingMask(k0, r as number, 2, 2),
  );
  n += rejectPool(["teacherForcingMask"], [undefined, 5, {}], (key) => R.teacherForcingMask(key as T.Key, 0.5, 2, 2));
  n += rejectPool(["teacherForcingMask"], BAD_COUNTS, (t) => R.teacherForcingMask(k0, 0.5, t as number, 2));
  n += rejectPool(["teacherForcingMask"], BAD_COUNTS, (b) => R.teacherForcingMask(k0, 0.5, 2, b as number));
  return n;
};
