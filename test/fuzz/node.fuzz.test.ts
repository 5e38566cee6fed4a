/**
 * @file Fuzz suite of the Node entry points: `@rewind/rnn/node`, `@rewind/optim/node`,
 * `@rewind/tensor/node` (and `@rewind/testing/vitest`, which exports nothing and registers the
 * matcher). Their documented contract is stronger than the core's: they never throw — every
 * failure (a missing file, a directory, an unwritable or impossible path, bytes that are not the
 * right file, arguments that do not fit) is a `Left` whose message names the function, and the
 * path when there is one. Valid saves round-trip exactly, and failed saves leave no file behind.
 * Everything happens in a fresh temporary directory.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import * as TN from "@rewind/tensor/node";
import * as R from "@rewind/rnn";
import * as RN from "@rewind/rnn/node";
import * as O from "@rewind/optim";
import * as ON from "@rewind/optim/node";
import { testMisspeltKeys } from "./options.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { testEachSpec, dataOf, show } from "./apiKit.js";
import { misspeltCases } from "./options.js";
import { STATE_DICT_KEYS, TORCH_SPEC_KEYS } from "./rnnSpecs/keys.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rewind-node-fuzz-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ledger = new FuzzLedger("@rewind/*/node");
afterAll(() => ledger.write());

/** Paths no save or load can use: missing, a directory, under a regular file, with a NUL, not strings. */
const badPaths = (): Record<string, unknown> => {
  writeFileSync(join(dir, "plain-file"), "not a directory");
  mkdirSync(join(dir, "a-directory"), { recursive: true });
  return {
    "a missing file": join(dir, "missing", "nothing.safetensors"),
    "a directory": join(dir, "a-directory"),
    "a path under a regular file": join(dir, "plain-file", "x.safetensors"),
    "a path with a NUL byte": join(dir, "bad\0name"),
    "the empty string": "",
    null: null,
    "a number (read as a file descriptor by fs)": 5,
    "file descriptor 0 (stdin)": 0,
    "an object": {},
  };
};

/**
 * The call must return (never throw) a Left whose message names one of `names` and, for a string
 * path, the path itself; returns 1 for the ledger.
 */
const expectLeft = (
  names: readonly string[],
  label: string,
  path: unknown,
  thunk: () => E.Either<T.TensorError, unknown>,
): number => {
  let r: E.Either<T.TensorError, unknown>;
  try {
    r = thunk();
  } catch (e) {
    throw new Error(
      `${label}: threw instead of returning a Left: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      { cause: e },
    );
  }
  if (!E.isLeft(r)) throw new Error(`${label}: expected a Left, got a Right`);
  const text = T.formatTensorError(r.left);
  if (!names.some((n) => text.startsWith(`${n}: `)))
    throw new Error(`${label}: the message does not name any of [${names.join(", ")}]: ${text}`);
  if (typeof path === "string" && path !== "" && !path.includes("\0") && !text.includes(JSON.stringify(path)))
    throw new Error(`${label}: the message does not name the path ${path}: ${text}`);
  return 1;
};

/** A Left as the exception it stands for (a misspelt-key case checks its message like a throw's), or undefined for a Right. */
const asException = (r: unknown): Error | undefined => {
  const e = r as E.Either<T.TensorError, unknown>;
  return E.isLeft(e) ? new T.TensorException(e.left) : undefined;
};

/** The files in the temporary directory that a failed save must not have created. */
const leftovers = (): string[] => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

const spec = { mode: "lstm" as const, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true };
const params = R.torchRnn(spec).init(T.random.key(0));

const registry: Readonly<Record<string, () => number>> = {
  "rnn/node.saveTorchSafetensors": () => {
    let n = 0;
    fc.assert(
      fc.property(
        fc.record({
          mode: fc.constantFrom("rnn_tanh" as const, "gru" as const, "lstm" as const),
          hidden: fc.integer({ min: 1, max: 3 }),
          layers: fc.integer({ min: 1, max: 2 }),
          bi: fc.boolean(),
          seed: fc.nat(),
        }),
        (o) => {
          const s = { mode: o.mode, inputSize: 2, hiddenSize: o.hidden, numLayers: o.layers, bidirectional: o.bi };
          const p = R.torchRnn(s).init(T.random.key(o.seed));
          const path = join(dir, `rt-${o.seed}.safetensors`);
          expect(E.isRight(RN.saveTorchSafetensors(path, p, s, { epoch: "1" }, { prefix: "rnn." }))).toBe(true);
          const back = RN.loadTorchSafetensors(path, s, { prefix: "rnn." });
          if (E.isLeft(back)) throw new Error(T.formatTensorError(back.left));
          back.right.forEach((cell, i) => expect(dataOf(cell.weight_hh)).toEqual(dataOf(p[i]!.weight_hh)));
          n++;
        },
      ),
      { numRuns: 8 },
    );
    const names = ["saveTorchSafetensors", "toTorchStateDict", "safetensors.encode"];
    for (const [label, path] of Object.entries(badPaths()))
      n += expectLeft(names, `save to ${label}`, path, () => RN.saveTorchSafetensors(path as string, params, spec));
    const ok = join(dir, "ok.safetensors");
    const bad: Record<string, () => E.Either<T.TensorError, void>> = {
      "params of another spec": () => RN.saveTorchSafetensors(ok, params.slice(1), spec),
      "params null": () => RN.saveTorchSafetensors(ok, null as never, spec),
      "spec null": () => RN.saveTorchSafetensors(ok, params, null as never),
      "metadata with a number": () => RN.saveTorchSafetensors(ok, params, spec, { epoch: 3 as never }),
      "options null": () => RN.saveTorchSafetensors(ok, params, spec, {}, null as never),
      "a numeric prefix": () => RN.saveTorchSafetensors(ok, params, spec, {}, { prefix: 7 as never }),
    };
    for (const [label, thunk] of Object.entries(bad)) n += expectLeft(names, label, undefined, thunk);
    // A misspelt key of the spec or the options is a Left naming it, and nothing is written.
    n += misspeltCases({
      names: ["saveTorchSafetensors"],
      error: T.TensorException,
      known: TORCH_SPEC_KEYS,
      base: spec,
      call: (s) => RN.saveTorchSafetensors(ok, params, s as never),
      either: asException,
    });
    n += misspeltCases({
      names: ["saveTorchSafetensors"],
      error: T.TensorException,
      known: ["prefix"],
      base: { prefix: "rnn." },
      call: (o) => RN.saveTorchSafetensors(ok, params, spec, {}, o),
      either: asException,
    });
    expect(leftovers()).toEqual([]);
    return n;
  },
  "rnn/node.loadTorchSafetensors": () => {
    const path = join(dir, "weights.safetensors");
    expect(E.isRight(RN.saveTorchSafetensors(path, params, spec))).toBe(true);
    writeFileSync(join(dir, "garbage.safetensors"), "definitely not safetensors");
    writeFileSync(join(dir, "empty.safetensors"), "");
    const names = ["loadTorchSafetensors", "fromTorchStateDict"];
    let n = 0;
    for (const [label, p] of Object.entries({
      ...badPaths(),
      "a garbage file": join(dir, "garbage.safetensors"),
      "an empty file": join(dir, "empty.safetensors"),
    })) {
      n += expectLeft(names, `load from ${label}`, p, () => RN.loadTorchSafetensors(p, spec));
    }
    const bad: Record<string, () => E.Either<T.TensorError, unknown>> = {
      "a spec with another hidden size": () => RN.loadTorchSafetensors(path, { ...spec, hiddenSize: 4 }),
      "a unidirectional spec": () => RN.loadTorchSafetensors(path, { ...spec, bidirectional: false }),
      "spec null": () => RN.loadTorchSafetensors(path, null as never),
      "options null": () => RN.loadTorchSafetensors(path, spec, null as never),
      "the wrong prefix": () => RN.loadTorchSafetensors(path, spec, { prefix: "encoder." }),
      "a checkpoint file": () => {
        writeFileSync(
          join(dir, "ckpt.safetensors"),
          O.encodeCheckpoint({ params: { w: T.zeros([2]) }, optState: [], step: 0 }),
        );
        return RN.loadTorchSafetensors(join(dir, "ckpt.safetensors"), spec);
      },
    };
    for (const [label, thunk] of Object.entries(bad)) n += expectLeft(names, label, undefined, thunk);
    // Checked before the file is read: a misspelt key in a spec or the options is named even for a file that exists.
    n += misspeltCases({
      names: ["loadTorchSafetensors"],
      error: T.TensorException,
      known: TORCH_SPEC_KEYS,
      base: spec,
      call: (s) => RN.loadTorchSafetensors(path, s as never),
      either: asException,
    });
    n += misspeltCases({
      names: ["loadTorchSafetensors"],
      error: T.TensorException,
      known: STATE_DICT_KEYS,
      base: { prefix: "" },
      call: (o) => RN.loadTorchSafetensors(path, spec, o),
      either: asException,
    });
    return n;
  },
  "optim/node.saveCheckpoint": () => {
    const p = { w: T.random.normal(T.random.key(1), [3], "float64") };
    const opt = O.adam({ learningRate: 0.1 });
    let n = 0;
    fc.assert(
      fc.property(
        fc.record({ step: fc.nat(), seed: fc.nat(), updates: fc.integer({ min: 0, max: 2 }) }),
        ({ step, seed, updates }) => {
          let state = opt.init(p);
          for (let i = 0; i < updates; i++) state = opt.update({ w: T.ones([3], "float64") }, state, p)[1];
          const path = join(dir, `ckpt-${seed}.safetensors`);
          expect(
            E.isRight(ON.saveCheckpoint(path, { params: p, optState: state, step, key: T.random.key(seed) })),
          ).toBe(true);
          const back = ON.loadCheckpoint(path, { params: p, optState: opt.init(p) });
          if (E.isLeft(back)) throw new Error(T.formatTensorError(back.left));
          expect([back.right.step, Number(back.right.optState[0].count), back.right.key?.words]).toEqual([
            step,
            updates,
            T.random.key(seed).words,
          ]);
          n++;
        },
      ),
      { numRuns: 8 },
    );
    const names = ["saveCheckpoint", "encodeCheckpoint"];
    const good = { params: p, optState: opt.init(p), step: 1 };
    for (const [label, path] of Object.entries(badPaths()))
      n += expectLeft(names, `save to ${label}`, path, () => ON.saveCheckpoint(path as string, good));
    const cyclic: Record<string, unknown> = { w: p.w };
    cyclic["again"] = cyclic;
    const ok = join(dir, "ok-ckpt.safetensors");
    const bad: Record<string, unknown> = {
      null: null,
      "step -1": { ...good, step: -1 },
      "step 0.5": { ...good, step: 0.5 },
      "a key that is a string": { ...good, key: "k" },
      "a config with NaN": { ...good, config: { lr: NaN } },
      "params that contain themselves": { ...good, params: cyclic },
      "a function in the params": { ...good, params: { f: () => 0 } },
    };
    for (const [label, state] of Object.entries(bad))
      n += expectLeft(names, label, undefined, () => ON.saveCheckpoint(ok, state as never));
    n += misspeltCases({
      names: ["encodeCheckpoint"],
      error: T.TensorException,
      known: ["params", "optState", "step", "key", "config"],
      base: good,
      call: (s) => ON.saveCheckpoint(ok, s as never),
      either: asException,
    });
    expect(leftovers()).toEqual([]);
    return n;
  },
  "optim/node.loadCheckpoint": () => {
    const p = { w: T.zeros([2], "float64") };
    const opt = O.sgd({ learningRate: 0.1, momentum: 0.9 });
    const path = join(dir, "load-ckpt.safetensors");
    expect(E.isRight(ON.saveCheckpoint(path, { params: p, optState: opt.init(p), step: 3 }))).toBe(true);
    writeFileSync(join(dir, "junk.ckpt"), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const names = ["loadCheckpoint", "restoreCheckpoint"];
    let n = 0;
    for (const [label, bad] of Object.entries({ ...badPaths(), "a junk file": join(dir, "junk.ckpt") }))
      n += expectLeft(names, `load from ${label}`, bad, () => ON.loadCheckpoint(bad));
    const templates: Record<string, unknown> = {
      null: null,
      "an empty object": {},
      "params of another shape": {
        params: { w: T.zeros([3], "float64") },
        optState: opt.init({ w: T.zeros([3], "float64") }),
      },
      "an Adam state for an SGD one": { params: p, optState: O.adam({ learningRate: 0.1 }).init(p) },
      "float32 params": { params: { w: T.zeros([2], "float32") }, optState: opt.init({ w: T.zeros([2], "float32") }) },
    };
    for (const [label, t] of Object.entries(templates))
      n += expectLeft(names, `template ${label}`, undefined, () => ON.loadCheckpoint(path, t as never));
    return n;
  },
  "tensor/node.writeFileAtomic": () => {
    let n = 0;
    for (const [label, path] of Object.entries(badPaths()))
      n += expectLeft(["myOp"], `write to ${label}`, path, () =>
        TN.writeFileAtomic("myOp", path as string, new Uint8Array([1, 2])),
      );
    for (const bytes of [null, "bytes", [1, 2], 5])
      n += expectLeft(["myOp"], `bytes ${show(bytes)}`, join(dir, "w.bin"), () =>
        TN.writeFileAtomic("myOp", join(dir, "w.bin"), bytes as never),
      );
    const path = join(dir, "written.bin");
    expect(E.isRight(TN.writeFileAtomic("myOp", path, new Uint8Array([7, 8, 9])))).toBe(true);
    const back = TN.readFileBytes("myOp", path);
    expect(E.isRight(back) && Array.from(back.right)).toEqual([7, 8, 9]);
    expect(leftovers()).toEqual([]);
    return n + 1;
  },
  "tensor/node.readFileBytes": () => {
    let n = 0;
    for (const [label, path] of Object.entries(badPaths()))
      n += expectLeft(["myOp"], `read ${label}`, path, () => TN.readFileBytes("myOp", path as string));
    writeFileSync(join(dir, "bytes.bin"), new Uint8Array([0, 255, 3]));
    const r = TN.readFileBytes("myOp", join(dir, "bytes.bin"));
    expect(E.isRight(r) && Array.from(r.right)).toEqual([0, 255, 3]);
    return n + 1;
  },
};

test("every runtime export of the node entry points has a fuzz spec", async () => {
  const entries = [
    ...exportsOf(RN).map((e) => `rnn/node.${e}`),
    ...exportsOf(ON).map((e) => `optim/node.${e}`),
    ...exportsOf(TN).map((e) => `tensor/node.${e}`),
    ...exportsOf((await import("@rewind/testing/vitest")) as Record<string, unknown>).map((e) => `testing/vitest.${e}`),
  ];
  expect(entries.sort()).toEqual(Object.keys(registry).sort());
});

test("@rewind/testing/vitest registers toBeAllClose (its only effect)", () => {
  expect(T.zeros([2], "float64")).toBeAllClose(T.zeros([2], "float64"));
  expect(() => expect(T.ones([2], "float64")).toBeAllClose(T.zeros([2], "float64"))).toThrow(
    /received: 2 of 2 elements differ/,
  );
  ledger.record("testing/vitest", 2);
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
