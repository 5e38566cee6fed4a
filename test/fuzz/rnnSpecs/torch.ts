/**
 * @file Fuzz specs of PyTorch interop: `torchRnn` (every mode, stacked, bidirectional, either
 * layout, with lengths and a random h_0) against the float64 reference of its layers, the state
 * dict codec (`toTorchStateDict` ∘ `fromTorchStateDict` is the identity; missing, extra,
 * mis-shaped, mistyped entries and bad options come back as a `Left` naming the function, never a
 * throw) and `torchParamNames`.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import * as R from "@rewind/rnn";
import {
  BAD_SIZES,
  dataOf,
  expectNear,
  normal,
  NOT_FLAGS,
  NOT_OPTIONS,
  NOT_TENSORS,
  prop,
  rejectEach,
  rejectPool,
  show,
  type Spec,
  expectLeft,
} from "../apiKit.js";

const expectLeftOf = (label: string, thunk: () => E.Either<T.TensorError, unknown>): void =>
  expectLeft("fromTorchStateDict", label, thunk);
import { misspeltCases } from "../options.js";
import { INIT_KEYS, STATE_DICT_KEYS, TORCH_SPEC_KEYS } from "./keys.js";
import { REFERENCE_STEPS, referenceSequence, rowAt, type State } from "./reference.js";
import { BAD_LENGTHS } from "./sequence.js";

const k0 = T.random.key(0);
const MODES: readonly R.TorchRnnMode[] = ["rnn_tanh", "rnn_relu", "lstm", "gru"];
const CELL_OF: Readonly<Record<R.TorchRnnMode, string>> = {
  rnn_tanh: "elmanTanh",
  rnn_relu: "elmanRelu",
  lstm: "lstm",
  gru: "gru",
};

const arbSpec = fc.record({
  mode: fc.constantFrom(...MODES),
  inputSize: fc.integer({ min: 1, max: 3 }),
  hiddenSize: fc.integer({ min: 1, max: 3 }),
  numLayers: fc.integer({ min: 1, max: 2 }),
  bidirectional: fc.boolean(),
  batchFirst: fc.boolean(),
  bias: fc.boolean(),
});
/** The fields of each cell's parameters for a spec (PyTorch's bias=False has the weights only). */
const fieldsOf = (spec: { readonly bias: boolean }): ReadonlyArray<keyof R.TorchCellParams> =>
  spec.bias ? ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] : ["weight_ih", "weight_hh"];

export const torchRnnSpec: Spec = () => {
  let n = prop(
    fc
      .record({
        spec: arbSpec,
        batch: fc.integer({ min: 0, max: 2 }),
        time: fc.integer({ min: 0, max: 3 }),
        seed: fc.nat({ max: 1000 }),
        withLengths: fc.boolean(),
      })
      .chain((r) =>
        fc
          .array(fc.integer({ min: 0, max: r.time }), { minLength: r.batch, maxLength: r.batch })
          .map((ls) => ({ ...r, lengths: r.withLengths ? ls : undefined })),
      ),
    ({ spec, batch, time, seed, lengths }) => {
      const layer = R.torchRnn(spec);
      const params = layer.init(T.random.key(seed), { dtype: "float64" });
      const D = spec.bidirectional ? 2 : 1;
      const H = spec.hiddenSize;
      const lstm = spec.mode === "lstm";
      const h0 = normal(seed + 1, [spec.numLayers * D, batch, H], 0.5);
      const c0 = normal(seed + 2, [spec.numLayers * D, batch, H], 0.5);
      const xs = normal(seed + 3, [batch, time, spec.inputSize]);
      const out = layer.apply(params, spec.batchFirst ? xs : T.transpose(xs, [1, 0, 2]), {
        initialCarry: (lstm ? { h: h0, c: c0 } : h0) as never,
        ...(lengths === undefined ? {} : { lengths }),
      });
      // Layer by layer, direction by direction, sample by sample; layer k reads [fwd, bwd] of k − 1.
      const step = REFERENCE_STEPS[CELL_OF[spec.mode]]!;
      let inputs = Array.from({ length: batch }, (_, b) =>
        Array.from({ length: time }, (_, t) => rowAt(xs, b, t, false)),
      );
      const finals: State[][] = [];
      for (let k = 0; k < spec.numLayers; k++) {
        const outs = Array.from({ length: D }, (_, d) => {
          const i = k * D + d;
          const row = (x: T.Tensor, b: number) => dataOf(x).slice((i * batch + b) * H, (i * batch + b + 1) * H);
          const per = inputs.map((rows, b) =>
            referenceSequence(
              step,
              params[i] as never,
              { h: row(h0, b), ...(lstm ? { c: row(c0, b) } : {}) },
              rows,
              lengths?.[b] ?? time,
              d === 1,
            ),
          );
          finals.push(per.map((r) => r.final));
          return per.map((r) => r.outputs);
        });
        inputs = inputs.map((_, b) => Array.from({ length: time }, (_, t) => outs.flatMap((o) => o[b]![t]!)));
      }
      const flat = spec.batchFirst
        ? inputs.flat(2)
        : Array.from({ length: time }, (_, t) => inputs.flatMap((rows) => rows[t]!)).flat();
      expectNear(
        `torchRnn(${spec.mode}) outputs`,
        out.outputs,
        flat,
        spec.batchFirst ? [batch, time, D * H] : [time, batch, D * H],
      );
      const hn = lstm ? (out.finalCarry as R.LstmCarry).h : out.finalCarry;
      expectNear(
        `torchRnn(${spec.mode}) h_n`,
        hn,
        finals.flatMap((f) => f.flatMap((s) => s.h)),
        [spec.numLayers * D, batch, H],
      );
      if (lstm)
        expectNear(
          "torchRnn(lstm) c_n",
          (out.finalCarry as R.LstmCarry).c,
          finals.flatMap((f) => f.flatMap((s) => s.c!)),
          [spec.numLayers * D, batch, H],
        );
    },
    20,
  );
  const spec = { mode: "lstm" as const, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true };
  n += rejectPool(
    ["torchRnn"],
    [
      null,
      5,
      { ...spec, mode: "LSTM" },
      ...BAD_SIZES.filter((v) => v != null).map((v) => ({ ...spec, numLayers: v })),
      { ...spec, hiddenSize: 0 },
      ...NOT_FLAGS.filter((v) => v !== null).map((v) => ({ ...spec, bidirectional: v })),
      { ...spec, batchFirst: "no" },
      ...NOT_FLAGS.filter((v) => v !== null).map((v) => ({ ...spec, bias: v })),
    ],
    (s) => R.torchRnn(s as never),
  );
  const layer = R.torchRnn(spec);
  const p = layer.init(k0, { dtype: "float64" });
  const xs = normal(1, [2, 3, 2]);
  const z = (shape: number[], dtype: T.DType = "float64") => T.zeros(shape, dtype);
  const names = ["torchRnn.apply", "torchRnn.init", "lstm.step"];
  n += rejectEach(names, {
    "3 parameter records for 4": () => layer.apply(p.slice(1), xs),
    "null records": () => layer.apply([null, null, null, null] as never, xs),
    "a record with a float32 weight": () =>
      layer.apply([{ ...p[0]!, weight_hh: T.astype(p[0]!.weight_hh as T.Tensor, "float32") }, ...p.slice(1)], xs),
    "xs of 5 features": () => layer.apply(p, normal(1, [2, 3, 5])),
    "xs of rank 2": () => layer.apply(p, normal(1, [2, 3])),
    "float32 xs": () => layer.apply(p, T.astype(xs, "float32")),
    "h_0 of 3 rows for 4": () => layer.apply(p, xs, { initialCarry: { h: z([3, 2, 3]), c: z([4, 2, 3]) } }),
    "a float32 h_0": () =>
      layer.apply(p, xs, { initialCarry: { h: z([4, 2, 3], "float32"), c: z([4, 2, 3], "float32") } }),
    "h_0 without c_0": () => layer.apply(p, xs, { initialCarry: { h: z([4, 2, 3]) } as never }),
    "h_0 null": () => layer.apply(p, xs, { initialCarry: null as never }),
    "init with dtype int32": () => layer.init(k0, { dtype: "int32" as never }),
    "init with a key that is a number": () => layer.init(5 as never),
  });
  n += rejectPool(names, NOT_TENSORS, (x) => layer.apply(p, x as T.Tensor));
  n += rejectPool(names, NOT_OPTIONS, (o) => layer.apply(p, xs, o as never));
  n += rejectPool(names, BAD_LENGTHS, (lengths) => layer.apply(p, xs, { lengths: lengths as number[] }));
  // The spec, apply's and init's options are options objects: `{ num_layers: 2 }` or `{ proj_size }` must not build another layer.
  n += misspeltCases({
    names: ["torchRnn"],
    error: T.TensorException,
    known: TORCH_SPEC_KEYS,
    base: spec,
    call: (s) => R.torchRnn(s as never),
  });
  n += misspeltCases({
    names: ["torchRnn.apply"],
    error: T.TensorException,
    known: ["lengths", "initialCarry", "remat", "checkpoint", "unroll"],
    base: { lengths: [3, 1] },
    call: (o) => layer.apply(p, xs, o),
  });
  n += misspeltCases({
    names: ["torchRnn.init"],
    error: T.TensorException,
    known: INIT_KEYS,
    base: { dtype: "float64" },
    call: (o) => layer.init(k0, o),
  });
  return n;
};

export const fromTorchStateDictSpec: Spec = () => {
  let n = prop(
    fc.record({
      spec: arbSpec,
      prefix: fc.constantFrom("", "rnn.", "encoder.rnn."),
      asMap: fc.boolean(),
      seed: fc.nat(),
    }),
    ({ spec, prefix, asMap, seed }) => {
      const params = R.torchRnn(spec).init(T.random.key(seed));
      const named = R.toTorchStateDict(params, spec, { prefix });
      const back = R.fromTorchStateDict(asMap ? new Map(Object.entries(named)) : named, spec, { prefix });
      if (E.isLeft(back)) throw new Error(T.formatTensorError(back.left));
      back.right.forEach((cell, i) => {
        expect(Object.keys(cell).sort()).toEqual([...fieldsOf(spec)].sort());
        for (const f of fieldsOf(spec)) expect(dataOf(cell[f])).toEqual(dataOf(params[i]![f]));
      });
    },
    15,
  );
  const spec = { mode: "gru" as const, inputSize: 2, hiddenSize: 3, numLayers: 2 };
  const named = R.toTorchStateDict(R.torchRnn(spec).init(k0), spec);
  const { weight_ih_l1: _dropped, ...missing } = named;
  const cases: Record<string, () => E.Either<T.TensorError, unknown>> = {
    "a missing weight_ih_l1": () => R.fromTorchStateDict(missing, spec),
    "an extra entry": () => R.fromTorchStateDict({ ...named, "foo.bar": normal(1, [1]) }, spec),
    "a reverse direction's entries": () =>
      R.fromTorchStateDict({ ...named, weight_ih_l0_reverse: named["weight_ih_l0"]! }, spec),
    "a mis-shaped weight": () => R.fromTorchStateDict({ ...named, weight_hh_l0: normal(1, [9, 2]) }, spec),
    "a float64 bias among float32": () =>
      R.fromTorchStateDict({ ...named, bias_ih_l0: T.astype(named["bias_ih_l0"]!, "float64") }, spec),
    "an int32 weight": () => R.fromTorchStateDict({ ...named, weight_ih_l0: T.zeros([9, 2], "int32") }, spec),
    "a fake tensor": () =>
      R.fromTorchStateDict({ ...named, weight_ih_l0: { dtype: "float32", shape: [9, 2], data: [1] } as never }, spec),
    "a null entry": () => R.fromTorchStateDict({ ...named, weight_ih_l0: null as never }, spec),
    "the wrong prefix": () => R.fromTorchStateDict(named, spec, { prefix: "rnn." }),
    "dtype float64 for float32 weights": () => R.fromTorchStateDict(named, spec, { dtype: "float64" }),
  };
  for (const [label, thunk] of Object.entries(cases)) expectLeftOf(label, thunk);
  n += Object.keys(cases).length;
  for (const bad of [null, 5, "x"]) expectLeftOf(`named ${show(bad)}`, () => R.fromTorchStateDict(bad as never, spec));
  for (const bad of [null, { ...spec, mode: "x" }, { ...spec, numLayers: 0 }])
    expectLeftOf(`spec ${show(bad)}`, () => R.fromTorchStateDict(named, bad as never));
  for (const bad of [...NOT_OPTIONS, { prefix: 5 }, { dtype: "int32" }])
    expectLeftOf(`options ${show(bad)}`, () => R.fromTorchStateDict(named, spec, bad as never));
  // A misspelt key is a Left too (this function never throws).
  const left = (r: unknown): Error | undefined =>
    E.isLeft(r as E.Either<T.TensorError, unknown>)
      ? new T.TensorException((r as E.Left<T.TensorError>).left)
      : undefined;
  n += misspeltCases({
    names: ["fromTorchStateDict"],
    error: T.TensorException,
    known: TORCH_SPEC_KEYS,
    base: spec,
    call: (s) => R.fromTorchStateDict(named, s as never),
    either: left,
  });
  n += misspeltCases({
    names: ["fromTorchStateDict"],
    error: T.TensorException,
    known: STATE_DICT_KEYS,
    base: { prefix: "" },
    call: (o) => R.fromTorchStateDict(named, spec, o),
    either: left,
  });
  return n + 3 + 3 + NOT_OPTIONS.length + 2;
};

export const toTorchStateDictSpec: Spec = () => {
  let n = prop(
    fc.record({ spec: arbSpec, prefix: fc.constantFrom("", "m.") }),
    ({ spec, prefix }) => {
      const params = R.torchRnn(spec).init(k0);
      const named = R.toTorchStateDict(params, spec, { prefix });
      expect(Object.keys(named)).toEqual(R.torchParamNames(spec).map((name) => prefix + name));
    },
    10,
  );
  const spec = { mode: "rnn_tanh" as const, inputSize: 2, hiddenSize: 3 };
  const p = R.torchRnn(spec).init(k0);
  n += rejectEach(["toTorchStateDict"], {
    "two records for one": () => R.toTorchStateDict([...p, ...p], spec),
    "a null record": () => R.toTorchStateDict([null] as never, spec),
    "a mis-shaped weight": () => R.toTorchStateDict([{ ...p[0]!, weight_ih: normal(1, [3, 5]) }], spec),
    "a weight that is an array": () => R.toTorchStateDict([{ ...p[0]!, bias_hh: [1, 2, 3] as never }], spec),
    "spec null": () => R.toTorchStateDict(p, null as never),
    "options null": () => R.toTorchStateDict(p, spec, null as never),
    "a numeric prefix": () => R.toTorchStateDict(p, spec, { prefix: 5 as never }),
  });
  n += misspeltCases({
    names: ["toTorchStateDict"],
    error: T.TensorException,
    known: TORCH_SPEC_KEYS,
    base: spec,
    call: (s) => R.toTorchStateDict(p, s as never),
  });
  n += misspeltCases({
    names: ["toTorchStateDict"],
    error: T.TensorException,
    known: ["prefix"],
    base: { prefix: "m." },
    call: (o) => R.toTorchStateDict(p, spec, o),
  });
  return n;
};

export const torchParamNamesSpec: Spec = () => {
  let n = prop(
    arbSpec,
    (spec) => {
      const want: string[] = [];
      for (let k = 0; k < spec.numLayers; k++) {
        for (const sfx of spec.bidirectional ? ["", "_reverse"] : [""])
          for (const w of fieldsOf(spec)) want.push(`${w}_l${k}${sfx}`);
      }
      expect(R.torchParamNames(spec)).toEqual(want);
    },
    10,
  );
  n += rejectPool(
    ["torchParamNames"],
    [
      null,
      { mode: "lstm", inputSize: 2 },
      { mode: "lstm", inputSize: 2, hiddenSize: -3 },
      { mode: "elman", inputSize: 2, hiddenSize: 3 },
    ],
    (s) => R.torchParamNames(s as never),
  );
  n += misspeltCases({
    names: ["torchParamNames"],
    error: T.TensorException,
    known: TORCH_SPEC_KEYS,
    base: { mode: "gru", inputSize: 2, hiddenSize: 3, batchFirst: false },
    call: (s) => R.torchParamNames(s as never),
  });
  return n;
};
