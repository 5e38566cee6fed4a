/**
 * @file Checkpoints: exact round trips (tensors of every dtype, Immutable containers, static
 * values such as NaN and −0, step, key, config), deterministic bytes, and a clear `Left` for
 * every kind of bad file — truncated, damaged, not a checkpoint, bad metadata, not fitting the
 * template — never a half-built state and never an exception.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { List, Map as IMap, Record as IRecord } from "immutable";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { formatTensorError, random, safetensors } from "@rewind/tensor";
import {
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  encodeCheckpoint,
  restoreCheckpoint,
  sgd,
  skipNonFinite,
  type Checkpoint,
} from "../src/index.js";
import { sealCheckpoint } from "../src/checkpoint.js";
import { loadCheckpoint, saveCheckpoint } from "../src/node.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
type JsonConfigLike = number | { readonly [key: string]: JsonConfigLike };

/** Asserts two pytrees have the same structure, static values (by Object.is) and tensor bits. */
const expectSameTree = (actual: unknown, expected: unknown): void => {
  const [al, ad] = A.treeFlatten(actual);
  const [el, ed] = A.treeFlatten(expected);
  const statics = (d: A.TreeDef): unknown[] =>
    d.kind === "leaf" ? [] : d.kind === "static" ? [d.value] : d.children.flatMap(statics);
  const kinds = (d: A.TreeDef): string =>
    d.kind === "leaf" || d.kind === "static"
      ? d.kind
      : `${d.kind}(${"keys" in d ? d.keys.map(String).join(",") : ""})[${d.children.map(kinds).join(",")}]`;
  expect(kinds(ad)).toBe(kinds(ed));
  const [as, es] = [statics(ad), statics(ed)];
  expect(as.length).toBe(es.length);
  as.forEach((v, i) => expect(Object.is(v, es[i]), `static ${i}: ${String(v)} vs ${String(es[i])}`).toBe(true));
  expect(al.length).toBe(el.length);
  al.forEach((l, i) => {
    const [a, e] = [l as T.Tensor, el[i] as T.Tensor];
    expect([a.dtype, a.shape]).toEqual([e.dtype, e.shape]);
    Array.from(a.data).forEach((x, j) => expect(Object.is(x, e.data[j]), `leaf ${i}[${j}]`).toBe(true));
  });
};

const leftMessage = (r: E.Either<T.TensorError, unknown>): string => {
  if (E.isRight(r)) return expect.fail("expected a Left, got a Right");
  return formatTensorError(r.left);
};

/** A model's parameters and an optimizer state two updates in (so counts and moments are not initial). */
const trained = () => {
  const params = {
    layers: [
      {
        b: f64([0.1, -0.2]),
        w: f64([
          [1, 2],
          [3, 4],
        ]),
      },
    ],
    out: T.tensor([[0.5], [-0.5]], "float32"),
  };
  const opt = skipNonFinite(chain(clipByGlobalNorm(1), adamw({ learningRate: 0.01, weightDecay: 0.1 })));
  let [p, s] = [params as unknown, opt.init(params)];
  for (const scale of [1, -2]) {
    const g = A.treeMap((x: A.Value) => A.mul(A.onesLike(x), scale), p);
    const [u, next] = opt.update(g, s, p);
    [p, s] = [applyUpdates(p, u), next];
  }
  const bad = A.treeMap((x: A.Value) => A.mul(A.onesLike(x), NaN), p);
  s = opt.update(bad, s, p)[1];
  const state: Checkpoint = {
    params: p,
    optState: s,
    step: 3,
    key: random.split(random.key(42))[1]!,
    config: { hidden: 2, cell: "lstm", lr: 0.01, flags: [true, null] },
  };
  return { opt, params, state };
};

describe("round trip", () => {
  it("params, optimizer state, step, key and config come back exactly, with and without a template", () => {
    const { opt, params, state } = trained();
    const bytes = encodeCheckpoint(state);
    for (const restored of [
      restoreCheckpoint(bytes),
      restoreCheckpoint(bytes, { params, optState: opt.init(params) }),
    ]) {
      if (E.isLeft(restored)) return expect.fail(formatTensorError(restored.left));
      const r = restored.right;
      expectSameTree(r.params, state.params);
      expectSameTree(r.optState, state.optState);
      expect([r.step, r.key, r.config]).toEqual([state.step, state.key, state.config]);
      expect(random.isKey(r.key)).toBe(true);
    }
  });

  it("every dtype, Immutable List/Map/Record, and static NaN, −0, ±Infinity, strings, null, undefined", () => {
    const Pair = IRecord({ a: T.scalar(0), n: 0 });
    const tree = {
      params: {
        i: T.tensor([[1, -2147483648]], "int32"),
        bits: T.tensor([true, false], "bool"),
        list: List([f64([1]), T.scalar(2, "float32")]),
        map: IMap<unknown, unknown>([
          ["x", f64([3])],
          [7, f64([])],
        ]),
      },
      optState: {
        rec: Pair({ a: f64([-0, NaN, Infinity]), n: 5 }),
        statics: [NaN, -0, -Infinity, "s", null, undefined, true, 1e-300],
      },
      step: 0,
    };
    const bytes = encodeCheckpoint(tree);
    const withTemplate = restoreCheckpoint(bytes, tree);
    if (E.isLeft(withTemplate)) return expect.fail(formatTensorError(withTemplate.left));
    expectSameTree(
      { params: withTemplate.right.params, optState: withTemplate.right.optState },
      { params: tree.params, optState: tree.optState },
    );
    expect(IRecord.isRecord((withTemplate.right.optState as { rec: unknown }).rec)).toBe(true);
    expect(leftMessage(restoreCheckpoint(bytes))).toMatch(
      /optState\.rec: an Immutable Record was saved here; pass a template/,
    );
    expect("key" in withTemplate.right || "config" in withTemplate.right).toBe(false);
  });

  it("keeps every NaN payload bit for bit (signalling, quiet, negative, with payloads), in bytes and through a file", () => {
    // Before: a signalling float32 NaN (0x7fa00001) came back quieted (0x7fe00001).
    const f32Bits = [
      0x7fa00001, 0x7f800001, 0xffa00001, 0x7fc00000, 0xffc00000, 0x7fc12345, 0xffffffff, 0x7f800000, 0x80000000,
    ];
    const f64Bits = [
      0x7ff0000000000001n,
      0x7ff4000000000000n,
      0xfff0000000000001n,
      0x7ff8000000000000n,
      0xfff8000000000000n,
      0x7ffc0000deadbeefn,
      0xffffffffffffffffn,
    ];
    const bitsOf = (t: T.Tensor): string =>
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("hex");
    const params = {
      f32: T.fromBuffer("float32", [f32Bits.length], new Float32Array(Uint32Array.from(f32Bits).buffer)),
      f64: T.fromBuffer("float64", [f64Bits.length], new Float64Array(BigUint64Array.from(f64Bits).buffer)),
    };
    const optState = { mu: params.f32, nu: params.f64 };
    const state = { params, optState, step: 1 };
    const dir = mkdtempSync(join(tmpdir(), "rewind-nan-bits-"));
    try {
      const path = join(dir, "ckpt.safetensors");
      expect(E.isRight(saveCheckpoint(path, state))).toBe(true);
      for (const restored of [
        restoreCheckpoint(encodeCheckpoint(state)),
        restoreCheckpoint(encodeCheckpoint(state), state),
        loadCheckpoint(path, state),
      ]) {
        if (E.isLeft(restored)) return expect.fail(formatTensorError(restored.left));
        const [p, o] = [restored.right.params as typeof params, restored.right.optState as typeof optState];
        expect([bitsOf(p.f32), bitsOf(o.mu)]).toEqual([bitsOf(params.f32), bitsOf(params.f32)]);
        expect([bitsOf(p.f64), bitsOf(o.nu)]).toEqual([bitsOf(params.f64), bitsOf(params.f64)]);
      }
      expect(bitsOf(params.f32).slice(0, 8)).toBe("0100a07f");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is deterministic: the same state gives the same bytes", () => {
    expect(encodeCheckpoint(trained().state)).toEqual(encodeCheckpoint(trained().state));
  });

  it("any safetensors reader sees the tensors by their pytree paths", () => {
    const file = safetensors.decode(encodeCheckpoint(trained().state));
    if (E.isLeft(file)) return expect.fail("not decodable");
    expect([...file.right.tensors.keys()].sort()).toContain("params.layers[0].w");
    expect([...file.right.tensors.keys()]).toContain("optState.inner[1][0].mu.out");
    expect(file.right.tensors.get("key")?.dtype).toBe("int32");
    expect(file.right.metadata.get("format")).toBe("rewind.checkpoint");
  });
});

describe("encoding refuses what it cannot restore", () => {
  it("a tree of more than 500,000 nodes and keys, or a config of more than 100,000 values (the reader's limits)", () => {
    const wide = Object.fromEntries(Array.from({ length: 500_000 }, (_, i) => [`k${i}`, null]));
    expect(() => encodeCheckpoint({ params: wide, optState: {}, step: 0 })).toThrow(
      /the tree has more than 500000 nodes and keys/,
    );
    expect(() =>
      encodeCheckpoint({ params: {}, optState: {}, step: 0, config: Array<number>(100_000).fill(0) }),
    ).toThrow(/config\[99999\]: the configuration holds more than 100000 values \(the limit\)/);
    expect(
      E.isRight(
        restoreCheckpoint(
          encodeCheckpoint({ params: {}, optState: {}, step: 0, config: Array<number>(99_999).fill(0) }),
        ),
      ),
    ).toBe(true);
  });

  it("says which config value is bad in a message of bounded length, however long its key or deep its path", () => {
    const longKey = { ["k".repeat(1_000_000)]: NaN };
    let deep: JsonConfigLike = NaN;
    for (let i = 0; i < 250; i++) deep = { abc: deep };
    for (const config of [longKey, deep]) {
      let message = "";
      try {
        encodeCheckpoint({ params: {}, optState: {}, step: 0, config: config });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/config\.(k+|abc\.abc.*….*abc)(\.\.\.)?: NaN is not a JSON number/);
      expect(message.length).toBeLessThan(400);
    }
  });

  const params = { w: f64([1]) };
  it.each([
    ["a negative step", { params, optState: {}, step: -1 }, /step must be a non-negative integer/],
    [
      "a bad key",
      { params, optState: {}, step: 0, key: { _tag: "PRNGKey", words: [1] } as unknown as T.Key },
      /not a PRNG key/,
    ],
    [
      "a non-JSON config",
      { params, optState: {}, step: 0, config: { lr: NaN } },
      /config\.lr: NaN is not a JSON number/,
    ],
    [
      "a function in the state",
      { params, optState: { f: () => 1 }, step: 0 },
      /the static value \(a function\) cannot be saved \(argument `optState\.f`\)/,
    ],
  ])("%s", (_, state, message) => {
    expect(() => encodeCheckpoint(state as Checkpoint)).toThrow(message);
  });

  it("a traced leaf", () => {
    expect(() =>
      A.jit((w: A.Value) => (encodeCheckpoint({ params: { w }, optState: {}, step: 0 }), w))(f64([1])),
    ).toThrow(/the leaf is a traced value \(argument `params\.w`\); save concrete tensors/);
  });
});

describe("damaged files are refused with a clear message", () => {
  const bytes = encodeCheckpoint(trained().state);

  it.each([
    ["empty", new Uint8Array(0)],
    ["truncated header", bytes.slice(0, 20)],
    ["truncated data", bytes.slice(0, bytes.length - 3)],
  ])("%s", (_, damaged) => {
    expect(leftMessage(restoreCheckpoint(damaged))).toMatch(
      /^restoreCheckpoint: the bytes are not a valid safetensors file: safetensors\.decode: /,
    );
  });

  it("a flipped bit in the tensor data fails the checksum", () => {
    const damaged = bytes.slice();
    damaged[damaged.length - 5]! ^= 0x10;
    expect(leftMessage(restoreCheckpoint(damaged))).toMatch(
      /the file is damaged: its checksum is "crc32:[0-9a-f]{8}" but its contents give "crc32:[0-9a-f]{8}"/,
    );
  });

  test.prop([fc.nat(), fc.integer({ min: 1, max: 255 })])(
    "any changed byte gives a Left or the very same state, never an exception",
    (at, xor) => {
      const damaged = bytes.slice();
      damaged[at % bytes.length]! ^= xor;
      const r = restoreCheckpoint(damaged);
      if (E.isRight(r)) {
        const original = restoreCheckpoint(bytes);
        if (E.isLeft(original)) return expect.fail("original unreadable");
        expectSameTree(r.right, original.right);
      }
    },
  );

  it("a plain safetensors file is not a checkpoint", () => {
    expect(leftMessage(restoreCheckpoint(safetensors.encode({ w: f64([1]) })))).toMatch(
      /not a Rewind checkpoint: the metadata "format" is missing/,
    );
  });
});

describe("well-sealed files with bad contents", () => {
  const w = f64([[1, 2, 3]]);
  const meta = { format: "rewind.checkpoint", format_version: "1", step: "4" };
  const leaf = (name: string) => ({ kind: "leaf", name });
  const tree = (params: unknown, optState: unknown = { kind: "object", keys: [], children: [] }) =>
    JSON.stringify({ kind: "object", keys: ["optState", "params"], children: [optState, params] });
  const deep = (n: number): string => `${'{"kind":"array","children":['.repeat(n)}${"]}".repeat(n)}`;
  const restore = (tensors: Record<string, T.Tensor>, metadata: Record<string, string>) =>
    restoreCheckpoint(sealCheckpoint(new Map(Object.entries(tensors)), metadata));

  it("restores a hand-made file", () => {
    const r = restore({ params: w }, { ...meta, tree: tree(leaf("params")) });
    if (E.isLeft(r)) return expect.fail(formatTensorError(r.left));
    expect(r.right.step).toBe(4);
    expectSameTree(r.right.params, w);
  });

  it.each([
    [
      "a newer version",
      { params: w },
      { ...meta, format_version: "3", tree: tree(leaf("params")) },
      /unsupported checkpoint format_version "3"/,
    ],
    [
      "a bad step",
      { params: w },
      { ...meta, step: "1.5", tree: tree(leaf("params")) },
      /the "step" metadata must be a non-negative integer, got "1.5"/,
    ],
    ["no tree", { params: w }, meta, /the "tree" metadata .* is missing/],
    ["a tree that is not JSON", { params: w }, { ...meta, tree: "{kind" }, /the "tree" metadata is not valid JSON/],
    [
      "an unknown node kind",
      { params: w },
      { ...meta, tree: tree({ kind: "tuple", children: [] }) },
      /bad "tree" metadata: tree\/1: unknown node kind "tuple"/,
    ],
    [
      "a forbidden key",
      { params: w },
      { ...meta, tree: tree({ kind: "object", keys: ["__proto__"], children: [leaf("params")] }) },
      /the key "__proto__" is not allowed/,
    ],
    [
      "a wrong root",
      { params: w },
      { ...meta, tree: JSON.stringify(leaf("params")) },
      /the root must be an object with exactly the keys "optState" and "params"/,
    ],
    [
      "a missing tensor",
      { params: w },
      { ...meta, tree: tree({ kind: "array", children: [leaf("params"), leaf("other")] }) },
      /the tensor "other" is missing from the file/,
    ],
    [
      "an extra tensor",
      { params: w, stray: w },
      { ...meta, tree: tree(leaf("params")) },
      /the tensor "stray" is not part of the structure/,
    ],
    [
      "a tensor named twice",
      { params: w },
      { ...meta, tree: tree({ kind: "array", children: [leaf("params"), leaf("params")] }) },
      /names the tensor "params" twice/,
    ],
    [
      "a bad key tensor",
      { params: w, key: f64([1, 2]) },
      { ...meta, tree: tree(leaf("params")) },
      /the tensor "key" must be int32\[2\].*got float64\[2\]/,
    ],
    [
      "a config that is not JSON",
      { params: w },
      { ...meta, tree: tree(leaf("params")), config: "{" },
      /the "config" metadata is not valid JSON/,
    ],
    [
      "a hostile nesting depth",
      { params: w },
      { ...meta, tree: tree(JSON.parse(deep(400))) },
      /nested deeper than 256 levels/,
    ],
    [
      "a non-canonical number",
      { params: w },
      { ...meta, tree: tree({ kind: "static", value: { type: "number", value: "0x10" } }) },
      /bad static value/,
    ],
  ])("%s", (_, tensors, metadata, message) => {
    expect(leftMessage(restore(tensors, metadata))).toMatch(message);
  });
});

describe("a template the checkpoint does not fit", () => {
  const params = {
    b: f64([0, 0]),
    w: f64([
      [1, 2, 3],
      [4, 5, 6],
    ]),
  };
  const opt = adam({ learningRate: 0.1 });
  const bytes = encodeCheckpoint({ params, optState: opt.init(params), step: 1 });

  it("lists every difference: shape, dtype, missing and extra entries", () => {
    const template = {
      params: {
        w: f64([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        c: T.tensor([0, 0], "float32"),
      },
      optState: opt.init(params),
    };
    const message = leftMessage(restoreCheckpoint(bytes, template));
    expect(message).toMatch(/^restoreCheckpoint: the checkpoint does not fit the template: /);
    expect(message).toContain("params.c: missing from the checkpoint (the template has a tensor float32[2])");
    expect(message).toContain("params.w: the checkpoint has float64[2, 3], the template float64[3, 2]");
    expect(message).toContain("params.b: in the checkpoint but not in the template (a tensor float64[2])");
  });

  it("names a different optimizer's state", () => {
    const message = leftMessage(
      restoreCheckpoint(bytes, { params, optState: sgd({ learningRate: 0.1, momentum: 0.9 }).init(params) }),
    );
    expect(message).toContain("optState[0].count: in the checkpoint but not in the template");
    expect(message).toContain("optState[0].mu: in the checkpoint but not in the template");
    expect(message).toContain("optState[0].trace: missing from the checkpoint");
  });

  it("names a dtype difference", () => {
    const template = { params: { b: T.tensor([0, 0], "float32"), w: params.w }, optState: opt.init(params) };
    expect(leftMessage(restoreCheckpoint(bytes, template))).toContain(
      "params.b: the checkpoint has float64[2], the template float32[2]",
    );
  });
});
