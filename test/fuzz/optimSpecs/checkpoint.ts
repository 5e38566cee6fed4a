/**
 * @file Fuzz specs of checkpoint encoding through the API (hostile file bytes are the hostile
 * suite's): `encodeCheckpoint` ∘ `restoreCheckpoint` restores random states bit for bit (NaN and
 * −0 statics included), with or without a template; templates that do not fit and arguments
 * that are not bytes come back as a `Left` naming `restoreCheckpoint`, never a throw; states that
 * cannot be saved are refused by `encodeCheckpoint` with an error naming it.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as O from "@rewind/optim";
import { dataOf, prop, rejectEach, show, type Spec, expectLeft } from "../apiKit.js";
import { misspeltCases } from "../options.js";

const expectLeftOf = (label: string, thunk: () => E.Either<T.TensorError, unknown>): void =>
  expectLeft("restoreCheckpoint", label, thunk);
import { params0 } from "./transforms.js";

/** A random training state: params of two dtypes, an optimizer's state after some updates, a step, maybe a key and a config. */
const arbState = fc
  .record({
    n: fc.integer({ min: 0, max: 3 }),
    dtype: fc.constantFrom("float32" as const, "float64" as const),
    opt: fc.constantFrom("adam", "sgd", "skip", "rmsprop"),
    updates: fc.integer({ min: 0, max: 2 }),
    step: fc.nat(),
    seed: fc.nat(),
    key: fc.option(fc.nat()),
    config: fc.option(fc.jsonValue({ maxDepth: 2 })),
    statics: fc.constantFrom(NaN, -0, Infinity, 3),
  })
  .map((r) => {
    const params = {
      emb: T.random.normal(T.random.key(r.seed), [r.n, 2], r.dtype),
      layer: [{ b: T.zeros([r.n], "float64"), scale: r.statics }],
    };
    const opt: O.AnyTransformation =
      r.opt === "adam"
        ? O.adam({ learningRate: 0.1 })
        : r.opt === "sgd"
          ? O.sgd({ learningRate: 0.1, momentum: 0.9 })
          : r.opt === "rmsprop"
            ? O.rmsprop({ learningRate: 0.1, centered: true })
            : O.skipNonFinite(O.adamw({ learningRate: 0.1 }));
    let optState: unknown = opt.init(params);
    const grads = A.treeMap((p: A.Value) => T.mul(T.ones(p.shape, p.dtype), 0.5), params);
    for (let i = 0; i < r.updates; i++) optState = opt.update(grads, optState, params)[1];
    // JSON round trip: the checkpoint stores the config as JSON (−0 becomes 0).
    const config = r.config === null ? undefined : (JSON.parse(JSON.stringify(r.config)) as O.JsonConfig);
    return {
      params,
      optState,
      opt,
      step: r.step,
      ...(r.key === null ? {} : { key: T.random.key(r.key) }),
      ...(config === undefined ? {} : { config }),
    };
  });

/** Same structure (whose key spells statics out, NaN and −0 included) and tensor bits. */
const expectSame = (what: string, actual: unknown, expected: unknown): void => {
  const [al, ad] = A.treeFlatten(actual);
  const [el, ed] = A.treeFlatten(expected);
  expect(A.treeDefKey(ad), what).toBe(A.treeDefKey(ed));
  el.forEach((e, i) => {
    const a = al[i]!;
    expect([a.dtype, ...a.shape], what).toEqual([e.dtype, ...e.shape]);
    dataOf(e).forEach((v, j) => expect(Object.is(dataOf(a)[j], v), `${what} leaf ${i}[${j}]`).toBe(true));
  });
};

export const encodeCheckpointSpec: Spec = () => {
  let n = prop(
    arbState,
    (s) => {
      // The transformation is the test's own; the checkpoint holds the other fields (and refuses unknown ones).
      const { opt: _opt, ...state } = s;
      const bytes = O.encodeCheckpoint(state);
      expect(O.encodeCheckpoint(state)).toEqual(bytes); // deterministic
      for (const template of [undefined, { params: s.params, optState: s.opt.init(s.params) }]) {
        const r = template === undefined ? O.restoreCheckpoint(bytes) : O.restoreCheckpoint(bytes, template);
        if (E.isLeft(r)) throw new Error(T.formatTensorError(r.left));
        expectSame("params", r.right.params, s.params);
        expectSame("optState", r.right.optState, s.optState);
        expect(r.right.step).toBe(s.step);
        expect(r.right.key?.words).toEqual(s.key?.words);
        expect(r.right.config).toEqual(s.config);
      }
    },
    20,
  );
  const base = { params: params0, optState: [], step: 1 };
  const cyclic: Record<string, unknown> = { w: params0.w };
  cyclic["self"] = cyclic;
  n += rejectEach(["encodeCheckpoint", "treeFlatten"], {
    "state null": () => O.encodeCheckpoint(null as never),
    "state 5": () => O.encodeCheckpoint(5 as never),
    "step -1": () => O.encodeCheckpoint({ ...base, step: -1 }),
    "step 1.5": () => O.encodeCheckpoint({ ...base, step: 1.5 }),
    "step NaN": () => O.encodeCheckpoint({ ...base, step: NaN }),
    "step '1'": () => O.encodeCheckpoint({ ...base, step: "1" as never }),
    "step 2^53": () => O.encodeCheckpoint({ ...base, step: 2 ** 53 }),
    "a key that is a number": () => O.encodeCheckpoint({ ...base, key: 5 as never }),
    "a config with NaN": () => O.encodeCheckpoint({ ...base, config: { lr: NaN } }),
    "a config with a function": () => O.encodeCheckpoint({ ...base, config: { f: (() => 1) as never } }),
    "a config with a Date": () => O.encodeCheckpoint({ ...base, config: { d: new Date() as never } }),
    "a config with __proto__": () =>
      O.encodeCheckpoint({ ...base, config: JSON.parse('{"__proto__": 1}') as O.JsonConfig }),
    "a params leaf that is a function": () => O.encodeCheckpoint({ ...base, params: { f: () => 1 } }),
    "a params leaf that is a symbol": () => O.encodeCheckpoint({ ...base, params: { s: Symbol("s") } }),
    "a params leaf that is a bigint": () => O.encodeCheckpoint({ ...base, params: { n: 5n } }),
    "a params leaf that is a Date": () => O.encodeCheckpoint({ ...base, params: { d: new Date(0) } }),
    "params that contain themselves": () => O.encodeCheckpoint({ ...base, params: cyclic }),
    "a traced leaf": () =>
      A.grad((x: A.Value) => (O.encodeCheckpoint({ ...base, params: { x } }), A.sum(x)))(T.zeros([2], "float64")),
  });
  // The state's own keys are checked (a misspelt `confg` would be missing at resume); the config holds any JSON.
  n += misspeltCases({
    names: ["encodeCheckpoint"],
    error: T.TensorException,
    known: ["params", "optState", "step", "key", "config"],
    base: { ...base, key: T.random.key(1), config: { anything: { nested: [1] } } },
    call: (s) => O.encodeCheckpoint(s as never),
  });
  return n;
};

export const restoreCheckpointSpec: Spec = () => {
  const opt = O.adam({ learningRate: 0.1 });
  const state = { params: params0, optState: opt.init(params0), step: 7 };
  const bytes = O.encodeCheckpoint(state);
  const templates: Record<string, unknown> = {
    null: null,
    "a number": 5,
    "an empty object": {},
    "params only": { params: params0 },
    "params without b": { params: { w: params0.w }, optState: state.optState },
    "params with an extra leaf": { params: { ...params0, c: params0.b }, optState: state.optState },
    "w of shape [3]": {
      params: { ...params0, w: T.zeros([3], "float64") },
      optState: opt.init({ ...params0, w: T.zeros([3], "float64") }),
    },
    "float32 params": {
      params: { b: T.astype(params0.b, "float32"), w: T.astype(params0.w, "float32") },
      optState: state.optState,
    },
    "an SGD state for an Adam one": {
      params: params0,
      optState: O.sgd({ learningRate: 0.1, momentum: 0.9 }).init(params0),
    },
    "params as an array": { params: [params0.b, params0.w], optState: state.optState },
  };
  for (const [label, t] of Object.entries(templates))
    expectLeftOf(`template ${label}`, () => O.restoreCheckpoint(bytes, t as never));
  const notBytes: readonly unknown[] = [null, undefined, "bytes", [1, 2, 3], 5, new Uint16Array(4), bytes.buffer];
  for (const b of notBytes) expectLeftOf(`bytes ${show(b)}`, () => O.restoreCheckpoint(b as Uint8Array));
  // The right template restores the state (the property of encodeCheckpoint covers the rest).
  const ok = O.restoreCheckpoint(bytes, { params: params0, optState: opt.init(params0) });
  expect(E.isRight(ok) && ok.right.step).toBe(7);
  return Object.keys(templates).length + notBytes.length + 1;
};

export const checkpointConstantsSpec =
  (name: "CHECKPOINT_FORMAT" | "CHECKPOINT_VERSION"): Spec =>
  () => {
    // What encodeCheckpoint writes into the file's metadata, as a safetensors reader sees it.
    const file = T.safetensors.decode(O.encodeCheckpoint({ params: params0, optState: [], step: 0 }));
    if (E.isLeft(file)) throw new Error(T.formatTensorError(file.left));
    const key = name === "CHECKPOINT_FORMAT" ? "format" : "format_version";
    expect(file.right.metadata.get(key)).toBe(O[name]);
    if (name === "CHECKPOINT_FORMAT") expect(O.CHECKPOINT_FORMAT).toBe("rewind.checkpoint");
    else expect(O.CHECKPOINT_VERSION).toMatch(/^[1-9][0-9]*$/);
    return 2;
  };
