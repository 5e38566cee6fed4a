/**
 * @file Hostile safetensors files against `safetensors.decode` (@rewind/tensor): a table of
 * hand-made attacks on every region of the format, every truncation and every single-bit flip of
 * a real file, and random damage (truncations, bit flips, splices, overwrites) and random JSON
 * field mutations of real files drawn by fast-check.
 *
 * The contract, checked around every call (guard.ts): a `Left` DecodeError from
 * "safetensors.decode" with a clear message, or a `Right` that is exactly what the bytes say
 * (files.ts's independent reading). Never an exception, never more than a few times the file's
 * size allocated, the input untouched, the built-in prototypes untouched. The format has no
 * checksum, so a flip inside a tensor's bytes legitimately changes that one value.
 */
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import { arbTensor } from "@rewind/testing";
import { arbEdit, edit } from "./edits.js";
import { arbMutation, expectAsBytesSay, expectClearError, file, HostileLedger, mutate, parts } from "./files.js";
import { assertPrototypesPristine, guarded, metered } from "./guard.js";
import { accepted, refused } from "./safetensorsCases.js";

const { safetensors } = T;
const ledger = new HostileLedger("safetensors");
afterAll(() => {
  assertPrototypesPristine("after the safetensors cases", true);
  const counts = ledger.write();
  console.log(
    `hostile safetensors: ${counts.files} files, ${counts.mutations} mutations, ${counts.targeted} hand-made cases`,
  );
});

type Decoded = E.Either<T.TensorError, T.safetensors.SafetensorsContents>;

/** Decodes under the guard and holds the outcome to the contract; returns it for further checks. */
const decodeChecked = (where: string, bytes: Uint8Array): Decoded => {
  const r = guarded(where, bytes, () => safetensors.decode(bytes));
  if (E.isLeft(r)) expectClearError(r.left, "safetensors.decode");
  else expectAsBytesSay(bytes, r.right);
  return r;
};

/** A real file with every dtype, a scalar, empty tensors and edge values, plus metadata. */
const mixed = safetensors.encode(
  {
    w: T.tensor(
      [
        [1.5, -0, NaN],
        [Infinity, -Infinity, 3.4028234663852886e38],
      ],
      "float32",
    ),
    d: T.tensor([Number.MIN_VALUE, -1e308, 0.1], "float64"),
    i: T.tensor([-2147483648, 2147483647, 0], "int32"),
    b: T.tensor([true, false, true, true], "bool"),
    s: T.scalar(2.5, "float64"),
    e: T.zeros([0, 3], "float32"),
  },
  { format: "pt", note: 'héllo \u2028 "quoted"' },
);

const TENSOR_NAMES = ["w", "b", "layer.0.weight", "0", "é\u2028", 'a"b', "toString"];
/** Real files: 1–4 tensors of random dtypes and shapes under random names, maybe metadata. */
const arbFile: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.uniqueArray(
      fc.tuple(fc.constantFrom(...TENSOR_NAMES), fc.constantFrom<T.DType>("float32", "float64", "int32", "bool")),
      { minLength: 1, maxLength: 4, selector: ([n]) => n },
    ),
    fc.option(fc.dictionary(fc.constantFrom("format", "epoch", "note"), fc.string({ maxLength: 8 })), {
      nil: undefined,
    }),
  )
  .chain(([named, metadata]) =>
    fc
      .tuple(
        ...named.map(([, dtype]) =>
          arbTensor({ dtype, shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), min: -1e6, max: 1e6 }),
        ),
      )
      .map((ts) => safetensors.encode(new Map(named.map(([n], i) => [n, ts[i]!])), metadata)),
  );

describe("hand-made hostile files", () => {
  it.each(refused.map((c) => [c.label, c] as const))("%s is refused with a clear message", (label, c) => {
    const r = decodeChecked(label, c.bytes);
    if (E.isRight(r)) return expect.fail(`${label}: decoded`);
    expect(T.formatTensorError(r.left)).toMatch(c.message);
    ledger.case();
  });

  it.each(accepted.map((c) => [c.label, c] as const))("%s decodes to what the bytes say", (label, c) => {
    const r = decodeChecked(label, c.bytes);
    if (E.isLeft(r)) return expect.fail(T.formatTensorError(r.left));
    expect([...r.right.tensors.keys()]).toEqual(c.names);
    ledger.case();
  });

  it("a -0 dimension comes back as +0", () => {
    const r = safetensors.decode(accepted.find((c) => c.label.startsWith("a -0 dim"))!.bytes);
    expect(E.isRight(r) && Object.is(r.right.tensors.get("z")!.shape[0], 0)).toBe(true);
  });

  it("values that are not byte arrays are refused", () => {
    // The last three pass `instanceof Uint8Array` (before: a TypeError from the first getter, or bytes read through a DataView).
    const inheriting = Object.create(Uint8Array.prototype) as unknown;
    const dressedView = Object.setPrototypeOf(new DataView(new ArrayBuffer(16)), Uint8Array.prototype) as unknown;
    const dressedFloats = Object.setPrototypeOf(new Float32Array(4), Uint8Array.prototype) as unknown;
    const values = [
      null,
      undefined,
      "abc",
      [1, 2, 3, 4, 5, 6, 7, 8],
      new ArrayBuffer(16),
      new DataView(new ArrayBuffer(16)),
      new Float32Array(4),
      { length: 8 },
      inheriting,
      dressedView,
      dressedFloats,
    ];
    for (const [i, v] of values.entries()) {
      const r = guarded(`value ${i}`, new Uint8Array(0), () => safetensors.decode(v as Uint8Array));
      expect(E.isLeft(r) && expectClearError(r.left, "safetensors.decode")).toMatch(
        /expected a Uint8Array of file contents/,
      );
      ledger.case();
    }
  });

  it("a byte array's own properties cannot change what is read (the intrinsic getters are used)", () => {
    const lying = mixed.slice();
    Object.defineProperty(lying, "length", { value: 1e9 });
    Object.defineProperty(lying, "byteOffset", { value: 3 });
    Object.defineProperty(lying, "subarray", { value: () => new Uint8Array(0) });
    const [r, want] = [safetensors.decode(lying), safetensors.decode(mixed)];
    if (E.isLeft(r) || E.isLeft(want)) return expect.fail("did not decode");
    expect([...r.right.tensors].map(([k, t]) => [k, t.shape, Array.from(t.data)])).toEqual(
      [...want.right.tensors].map(([k, t]) => [k, t.shape, Array.from(t.data)]),
    );
    // A buffer transferred away (detached) reads as an empty file.
    const detached = mixed.slice();
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(
      E.isLeft(safetensors.decode(detached)) &&
        T.formatTensorError((safetensors.decode(detached) as E.Left<T.TensorError>).left),
    ).toMatch(/the file is 0 bytes/);
    ledger.case(2);
  });

  it("a file inside a larger buffer (a Node Buffer slice) is read at its own offset", () => {
    const outer = new Uint8Array(mixed.length + 13).fill(0xee);
    outer.set(mixed, 5);
    const view = outer.subarray(5, 5 + mixed.length);
    decodeChecked("a subarray", view);
    expect(E.isRight(safetensors.decode(Buffer.from(outer.buffer, 5, mixed.length)))).toBe(true);
    ledger.case(2);
  });

  it("MAX_TENSORS (100,000) empty tensors decode in bounded time; one more is refused (a row above)", () => {
    expect(safetensors.MAX_TENSORS).toBe(100_000);
    const header = `{${Array.from({ length: safetensors.MAX_TENSORS }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(",")}}`;
    const r = decodeChecked("100k tensors", file(header));
    expect(E.isRight(r) && r.right.tensors.size).toBe(100_000);
    ledger.case();
  });

  it("MAX_METADATA_ENTRIES (10,000) metadata entries decode", () => {
    const meta = Array.from({ length: safetensors.MAX_METADATA_ENTRIES }, (_, i) => `"k${i}":"${i}"`).join(",");
    const r = decodeChecked("10k metadata entries", file(`{"__metadata__":{${meta}}}`));
    expect(E.isRight(r) && r.right.metadata.get("k9999")).toBe("9999");
    ledger.case();
  });

  it("a string of a million escapes decodes to its value (joined in chunks, not a million-node rope)", () => {
    const value = String.raw`\n\u00e9\"`.repeat(333_334);
    const r = decodeChecked("1M escapes", file(`{"__metadata__":{"x":"${value}"}}`));
    expect(E.isRight(r) && r.right.metadata.get("x")).toBe('\né"'.repeat(333_334));
    ledger.case();
  });
});

describe("the guard itself", () => {
  it("sees every byte a decode allocates (so a lying length would show)", () => {
    const { cost } = metered(() => safetensors.decode(mixed));
    expect(cost.allocated).toBeGreaterThanOrEqual(parts(mixed).data.length);
    expect(cost.allocated).toBeLessThanOrEqual(2 * mixed.length);
  });

  it("fails a call that allocates what a header claims", () => {
    expect(() => guarded("greedy", new Uint8Array(8), () => new Float64Array(1 << 20))).toThrow(
      /allocated 8388608 bytes for a 8-byte input/,
    );
  });

  it("fails a call that pollutes a prototype", () => {
    const proto = Object.prototype as Record<string, unknown>;
    try {
      expect(() => guarded("polluter", new Uint8Array(0), () => (proto["polluted"] = 1))).toThrow(
        /prototype pollution: Object\.polluted was added/,
      );
    } finally {
      delete proto["polluted"];
    }
  });

  it("fails a call that replaces a prototype method (in the full check)", () => {
    // String.prototype.anchor: a method nothing in the test runner uses, unlike toString.
    const proto = String.prototype as unknown as Record<string, unknown>;
    const original = proto["anchor"];
    try {
      proto["anchor"] = () => "pwned";
      expect(() => assertPrototypesPristine("replacer", true)).toThrow(
        /prototype pollution: String\.anchor was replaced/,
      );
    } finally {
      proto["anchor"] = original;
    }
    expect(() => assertPrototypesPristine("restored", true)).not.toThrow();
  });

  it("fails a call that writes into its input", () => {
    expect(() => guarded("writer", new Uint8Array(4), () => undefined)).not.toThrow();
    const input = new Uint8Array(4);
    expect(() => guarded("writer", input, () => (input[2] = 1))).toThrow(/the input bytes were modified/);
  });
});

describe("every truncation and every single-bit flip of a real file", () => {
  const { n, header } = parts(mixed);
  const dataStart = 8 + n;
  const entries = JSON.parse(header) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const original = safetensors.decode(mixed);

  it("decodes the intact file exactly", () => {
    decodeChecked("intact", mixed);
    ledger.file("mixed");
  });

  it(`refuses all ${mixed.length} strict prefixes`, () => {
    for (let len = 0; len < mixed.length; len++) {
      const r = decodeChecked(`prefix ${len}`, mixed.slice(0, len));
      if (E.isRight(r)) expect.fail(`the ${len}-byte prefix decoded`);
    }
    ledger.mutation(mixed.length);
  });

  it(`flips each of the ${8 * mixed.length} bits: a data flip changes one value (BOOL: only bit 0), a header flip is refused or read as written`, () => {
    if (E.isLeft(original)) return expect.fail("the base file does not decode");
    let read = 0;
    for (let bit = 0; bit < 8 * mixed.length; bit++) {
      const at = bit >> 3;
      const flipped = mixed.slice();
      flipped[at]! ^= 1 << (bit & 7);
      const r = decodeChecked(`bit ${bit}`, flipped);
      if (E.isRight(r)) read++;
      if (at < dataStart) continue;
      const [name, info] = Object.entries(entries).find(
        ([k, e]) => k !== "__metadata__" && at - dataStart >= e.data_offsets[0] && at - dataStart < e.data_offsets[1],
      )!;
      if (info.dtype === "BOOL" && (bit & 7) !== 0) {
        expect(E.isLeft(r) && T.formatTensorError(r.left)).toMatch(
          new RegExp(`tensor "${name}": BOOL element \\d+ is the byte`),
        );
        continue;
      }
      if (E.isLeft(r)) return expect.fail(`a flip in the bytes of ${name} was refused: ${T.formatTensorError(r.left)}`);
      const [before, after] = [original.right.tensors.get(name)!.data, r.right.tensors.get(name)!.data];
      expect(Array.from(after).filter((x, i) => !Object.is(x, before[i])).length).toBeLessThanOrEqual(1);
      for (const [other, t] of r.right.tensors)
        if (other !== name) expect(t.data).toEqual(original.right.tensors.get(other)!.data);
    }
    ledger.mutation(8 * mixed.length);
    expect(read).toBeGreaterThan(8 * (mixed.length - dataStart) * 0.5);
  });
});

describe("random damage to real files (fast-check)", () => {
  it("truncations, bit flips, splices and overwrites: a clear Left or what the bytes say", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(arbFile, arbMutation, (bytes, m) => {
        seen.add(Buffer.from(bytes).toString("base64"));
        decodeChecked(`intact (${m.kind})`, bytes);
        decodeChecked(
          JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)),
          mutate(bytes, m),
        );
        ledger.mutation();
      }),
      { numRuns: 600 },
    );
    seen.forEach((f) => ledger.file(f));
  });
});

describe("random JSON field mutations of real files (fast-check)", () => {
  it("hostile dtypes, shapes, offsets, names, keys and metadata: a clear Left or what the bytes say", () => {
    let rights = 0;
    fc.assert(
      fc.property(arbFile, arbEdit, (bytes, e) => {
        const r = decodeChecked(JSON.stringify(e), edit(bytes, e));
        if (E.isRight(r)) rights++;
        ledger.mutation();
      }),
      { numRuns: 600 },
    );
    // Both outcomes occur: the mutations reach past the JSON syntax into the entries' checks.
    expect(rights).toBeGreaterThan(0);
    expect(rights).toBeLessThan(600);
  });
});
