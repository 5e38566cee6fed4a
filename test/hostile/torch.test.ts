/**
 * @file Hostile PyTorch weight files against @rewind/rnn's loading: `fromTorchStateDict` on what
 * `safetensors.decode` makes of damaged files, and `loadTorchSafetensors` on damaged files on
 * disk. The base files are the 21 real fixtures PyTorch wrote (packages/rnn/test/fixtures).
 *
 * The contract (guard.ts around every call): a clear `Left` naming the op, or parameters that are
 * exactly the file's tensors under PyTorch's names; never an exception, never a partial result,
 * the bytes, spec and options untouched, the prototypes untouched.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import {
  fromTorchStateDict,
  torchParamNames,
  type TorchRnnMode,
  type TorchRnnParams,
  type TorchRnnSpec,
} from "@rewind/rnn";
import { loadTorchSafetensors } from "@rewind/rnn/node";
import { arbEdit, edit } from "./edits.js";
import { arbMutation, expectAsBytesSay, expectClearError, HostileLedger, mutate, ROOT } from "./files.js";
import { assertPrototypesPristine, guarded } from "./guard.js";

const ledger = new HostileLedger("torch");
const dir = mkdtempSync(join(tmpdir(), "rewind-hostile-torch-"));
afterAll(() => {
  assertPrototypesPristine("after the torch cases", true);
  rmSync(dir, { recursive: true, force: true });
  const counts = ledger.write();
  console.log(
    `hostile torch files: ${counts.files} files, ${counts.mutations} mutations, ${counts.targeted} hand-made cases`,
  );
});

const FIXTURES = join(ROOT, "packages", "rnn", "test", "fixtures");
const PREFIX = "rnn.";
const FIELDS = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] as const;

/** A fixture's bytes and the module it holds (from its metadata; the fixtures are external data). */
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".safetensors"))
  .sort()
  .map((name) => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
    const decoded = T.safetensors.decode(bytes);
    if (E.isLeft(decoded)) throw new Error(`${name}: ${T.formatTensorError(decoded.left)}`);
    const meta = (k: string): string => decoded.right.metadata.get(k) ?? "";
    const spec: TorchRnnSpec = Object.freeze({
      mode: meta("mode") as TorchRnnMode,
      inputSize: Number(meta("input_size")),
      hiddenSize: Number(meta("hidden_size")),
      numLayers: Number(meta("num_layers")),
      bidirectional: meta("bidirectional") === "true",
      bias: meta("bias") !== "false",
    });
    return { name, bytes, spec };
  });
const OPTIONS = Object.freeze({ prefix: PREFIX, dtype: "float64" as const });

/** Right: every parameter is, bit for bit, the tensor the file holds under its PyTorch name. */
const expectFileTensors = (
  params: TorchRnnParams<false>,
  tensors: ReadonlyMap<string, T.Tensor>,
  spec: TorchRnnSpec,
): void => {
  const names = torchParamNames(spec);
  // A bias=False module's cells hold the two weights only (no bias fields at all).
  const fields = spec.bias === false ? FIELDS.slice(0, 2) : FIELDS;
  expect(params.length * fields.length).toBe(names.length);
  params.forEach((cell, i) => {
    const got = new Map(Object.entries(cell));
    expect([...got.keys()].sort()).toEqual([...fields].sort());
    fields.forEach((f, j) => {
      const name = names[fields.length * i + j]!;
      expect(got.get(f), name).toEqual(tensors.get(PREFIX + name));
    });
  });
  expect(Object.isFrozen(params)).toBe(true);
};

/** Decodes and reads the state dict under the guard, holding each step to the contract. */
const loadChecked = (where: string, bytes: Uint8Array, spec: TorchRnnSpec): "refused" | "loaded" => {
  const decoded = guarded(where, bytes, () => T.safetensors.decode(bytes));
  if (E.isLeft(decoded)) {
    expectClearError(decoded.left, "safetensors.decode");
    return "refused";
  }
  expectAsBytesSay(bytes, decoded.right);
  const params = guarded(where, bytes, () => fromTorchStateDict(decoded.right.tensors, spec, OPTIONS));
  if (E.isLeft(params)) {
    expectClearError(params.left, "fromTorchStateDict", ["ValueError", "ShapeError", "DTypeError"]);
    return "refused";
  }
  expectFileTensors(params.right, decoded.right.tensors, spec);
  return "loaded";
};

describe("the real PyTorch files", () => {
  it.each(fixtures.map((f) => [f.name, f] as const))("%s loads intact", (name, f) => {
    expect(loadChecked(name, f.bytes, f.spec)).toBe("loaded");
    ledger.file(name);
  });

  it("every strict prefix of the smallest one is refused", () => {
    const f = fixtures.reduce((a, b) => (b.bytes.length < a.bytes.length ? b : a));
    for (let len = 0; len < f.bytes.length; len++)
      expect(loadChecked(`prefix ${len}`, f.bytes.slice(0, len), f.spec)).toBe("refused");
    ledger.mutation(f.bytes.length);
  });

  it("random damage: a clear Left or the file's own tensors (fast-check)", () => {
    const outcomes = { refused: 0, loaded: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), arbMutation, (f, m) => {
        outcomes[loadChecked(`${f.name} ${m.kind}`, mutate(f.bytes, m), f.spec)]++;
        ledger.mutation();
      }),
      { numRuns: 400 },
    );
    // Flips in the tensor bytes load (safetensors has no checksum); most other damage is refused.
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(outcomes.loaded);
  });

  it("random JSON field mutations: a clear Left or the file's own tensors (fast-check)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), arbEdit, (f, e) => {
        loadChecked(`${f.name} ${JSON.stringify(e)}`, edit(f.bytes, e), f.spec);
        ledger.mutation();
      }),
      { numRuns: 300 },
    );
  });
});

describe("hand-made state dicts", () => {
  const spec: TorchRnnSpec = Object.freeze({ mode: "gru", inputSize: 2, hiddenSize: 3 });
  const good = (dtype: T.DType = "float32"): Record<string, T.Tensor> =>
    Object.fromEntries(
      torchParamNames(spec).map((n) => [
        PREFIX + n,
        T.zeros(n.startsWith("weight_ih") ? [9, 2] : n.startsWith("weight_hh") ? [9, 3] : [9], dtype),
      ]),
    );
  const cases: [string, Record<string, T.Tensor>, RegExp][] = [
    ["a __proto__ parameter name", { ...good(), "rnn.__proto__": T.zeros([1]) }, /unexpected: rnn\.__proto__/],
    [
      "constructor and prototype names",
      { ...good(), "rnn.constructor": T.zeros([1]), "rnn.prototype": T.zeros([1]) },
      /unexpected: rnn\.constructor, rnn\.prototype/,
    ],
    [
      "an int32 weight",
      { ...good(), "rnn.weight_ih_l0": T.zeros([9, 2], "int32") },
      /expected rnn\.weight_ih_l0 \[9, 2\] float32, found \[9, 2\] int32/,
    ],
    [
      "a bool bias",
      { ...good(), "rnn.bias_hh_l0": T.zeros([9], "bool") },
      /expected rnn\.bias_hh_l0 \[9\] float32, found \[9\] bool/,
    ],
    [
      "a transposed weight",
      { ...good(), "rnn.weight_hh_l0": T.zeros([3, 9]) },
      /expected rnn\.weight_hh_l0 \[9, 3\] float32, found \[3, 9\] float32/,
    ],
    ["an empty weight", { ...good(), "rnn.weight_ih_l0": T.zeros([0, 2]) }, /found \[0, 2\] float32/],
    [
      "float32 and float64 mixed",
      { ...good(), "rnn.bias_ih_l0": T.zeros([9], "float64") },
      /expected rnn\.bias_ih_l0 \[9\] float32, found \[9\] float64/,
    ],
    [
      "a missing parameter",
      Object.fromEntries(Object.entries(good()).slice(1)),
      /missing rnn\.weight_ih_l0 \[9, 2\] float32/,
    ],
    [
      "a 1 MiB unexpected name (cut short in the message)",
      { ...good(), [`${PREFIX}${"n".repeat(1 << 20)}`]: T.zeros([0]) },
      /unexpected: rnn\.n{73}\.\.\. \(argument/,
    ],
  ];

  it.each(cases)("%s is refused, listing the mismatch", (label, tensors, message) => {
    const bytes = T.safetensors.encode(tensors, { format: "pt" });
    const decoded = T.safetensors.decode(bytes);
    if (E.isLeft(decoded)) return expect.fail(T.formatTensorError(decoded.left));
    const r = guarded(label, bytes, () => fromTorchStateDict(decoded.right.tensors, spec, { prefix: PREFIX }));
    expect(
      E.isLeft(r) && expectClearError(r.left, "fromTorchStateDict", ["ValueError", "ShapeError", "DTypeError"]),
    ).toMatch(message);
    ledger.case();
  });

  it("Maps with keys that are not strings, and Map-likes whose entries cannot be read, are refused naming the key", () => {
    // Before: `k.startsWith is not a function` (a TypeError) from a function that promises an Either.
    const tensors = new Map<unknown, T.Tensor>(Object.entries(good()));
    const odd: Array<[string, unknown, RegExp]> = [
      ["a number key", new Map([...tensors, [7, T.zeros([1])]]), /a key is the number 7, not a parameter name/],
      ["a symbol key", new Map([...tensors, [Symbol("w"), T.zeros([1])]]), /a key is a symbol, not a parameter name/],
      [
        "an object key",
        new Map([[{ name: "rnn.weight_ih_l0" }, T.zeros([9, 2])], ...tensors]),
        /a key is an object, not a parameter name/,
      ],
      ["a null key", new Map([[null, T.zeros([1])]]), /a key is null, not a parameter name/],
      [
        "entries that are not pairs",
        { entries: () => [1, 2], get: () => undefined },
        /an entry is not a \[name, tensor\] pair/,
      ],
      [
        "entries() that throws",
        {
          entries: () => {
            throw new Error("no");
          },
          get: () => undefined,
        },
        /its entries\(\) could not be read \(no\)/,
      ],
    ];
    for (const [label, named, message] of odd) {
      const r = guarded(label, new Uint8Array(0), () =>
        fromTorchStateDict(named as ReadonlyMap<string, T.Tensor>, spec, { prefix: PREFIX }),
      );
      expect(E.isLeft(r) && expectClearError(r.left, "fromTorchStateDict", ["ValueError"]), label).toMatch(message);
      ledger.case();
    }
  });

  it("20,000 unexpected names give a message of bounded length", () => {
    const extra = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`${PREFIX}junk_${"x".repeat(20)}_${i}`, T.zeros([0])]),
    );
    const bytes = T.safetensors.encode({ ...good(), ...extra });
    const decoded = T.safetensors.decode(bytes);
    if (E.isLeft(decoded)) return expect.fail(T.formatTensorError(decoded.left));
    const r = guarded("20k names", bytes, () => fromTorchStateDict(decoded.right.tensors, spec, { prefix: PREFIX }));
    expect(
      E.isLeft(r) && expectClearError(r.left, "fromTorchStateDict", ["ValueError", "ShapeError", "DTypeError"]),
    ).toMatch(/unexpected: rnn\.junk_x+_0, .* and 19980 more \(argument `named`\)/);
    ledger.case();
  });
});

describe("loadTorchSafetensors on damaged files", () => {
  it("gives a clear Left naming the file, or the file's own tensors", () => {
    const samples = fc.sample(fc.tuple(fc.constantFrom(...fixtures), arbMutation), { numRuns: 60 });
    let loaded = 0;
    samples.forEach(([f, m], i) => {
      const bytes = mutate(f.bytes, m);
      const path = join(dir, `m${i}.safetensors`);
      writeFileSync(path, bytes);
      const r = guarded(path, bytes, () => loadTorchSafetensors(path, f.spec, OPTIONS), 4);
      if (E.isLeft(r)) {
        const op = r.left.op === "fromTorchStateDict" ? "fromTorchStateDict" : "loadTorchSafetensors";
        const message = expectClearError(r.left, op, ["DecodeError", "ValueError", "ShapeError", "DTypeError"]);
        if (op === "loadTorchSafetensors")
          expect(message).toMatch(/m\d+\.safetensors" is not a valid safetensors file: safetensors\.decode: /);
      } else {
        const decoded = T.safetensors.decode(bytes);
        if (E.isLeft(decoded)) return expect.fail("loaded a file that does not decode");
        expectFileTensors(r.right, decoded.right.tensors, f.spec);
        loaded++;
      }
    });
    ledger.mutation(samples.length);
    expect(loaded).toBeLessThan(samples.length);
  });

  it("a missing file and a directory give a Left naming the path", () => {
    const spec = fixtures[0]!.spec;
    for (const [path, message] of [
      [join(dir, "nope.safetensors"), /cannot read ".*nope\.safetensors": ENOENT/],
      [dir, /cannot read ".*": it is a directory, not a regular file/],
    ] as const) {
      const r = guarded(path, new Uint8Array(0), () => loadTorchSafetensors(path, spec), 0);
      expect(E.isLeft(r) && expectClearError(r.left, "loadTorchSafetensors")).toMatch(message);
    }
    ledger.case(2);
  });
});
