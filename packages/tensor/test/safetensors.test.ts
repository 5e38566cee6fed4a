import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { TensorException } from "../src/errors.js";
import { decode, encode, type SafetensorsContents } from "../src/safetensors.js";
import { parseStrictJson } from "../src/strictJson.js";
import { fromDataOrThrow, validateTensor, type Tensor } from "../src/Tensor.js";

declare const TextEncoder: new () => { encode(input: string): Uint8Array };
declare const TextDecoder: new (label?: string) => { decode(input: Uint8Array): string };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const fromUtf8 = (b: Uint8Array): string => new TextDecoder("utf-8").decode(b);

// ---------------------------------------------------------------------------------------------
// Helpers

const RESERVED = new Set(["__metadata__", "__proto__", "constructor", "prototype"]);
const nameArb = fc
  .oneof(fc.string({ maxLength: 8 }), fc.string({ unit: "binary", maxLength: 4 }))
  .filter((s) => !RESERVED.has(s));

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const valuesArb = (dtype: DType, n: number): fc.Arbitrary<number[]> => {
  const element = {
    float32: fc.float(),
    float64: fc.double(),
    int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    bool: fc.integer({ min: 0, max: 1 }),
  }[dtype];
  return fc.array(element, { minLength: n, maxLength: n });
};
const tensorArb: fc.Arbitrary<Tensor> = fc
  .tuple(fc.constantFrom<DType>("float32", "float64", "int32", "bool"), shapeArb)
  .chain(([dtype, shape]) =>
    valuesArb(
      dtype,
      shape.reduce((a, d) => a * d, 1),
    ).map((values) => fromDataOrThrow(values, shape, dtype)),
  );
const namedArb = fc
  .uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([name]) => name, maxLength: 5 })
  .map((entries) => new Map(entries));
const metadataArb = fc.option(fc.dictionary(nameArb, fc.string({ maxLength: 6 }), { maxKeys: 3 }), { nil: undefined });

const sameTensor = (a: Tensor, b: Tensor): boolean =>
  a.dtype === b.dtype &&
  a.shape.length === b.shape.length &&
  a.shape.every((d, i) => d === b.shape[i]) &&
  a.data.constructor === b.data.constructor &&
  a.data.length === b.data.length &&
  a.data.every((x, i) => Object.is(x, b.data[i]));

const right = (bytes: Uint8Array): SafetensorsContents => {
  const r = decode(bytes);
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};
const leftDetail = (bytes: Uint8Array): string => {
  const r = decode(bytes);
  if (E.isRight(r)) throw new Error("expected a Left");
  expect(r.left._tag).toBe("DecodeError");
  return r.left._tag === "DecodeError" ? r.left.detail : "";
};

/** A file with exactly this header text (unpadded) and data buffer. */
const file = (header: string, data: Uint8Array | number[] = []): Uint8Array => {
  const json = utf8(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
};
const info = (dtype: string, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

/** Decoding must never throw; a Right must hold valid tensors. */
const decodesSafely = (bytes: Uint8Array): boolean => {
  const r = decode(bytes);
  if (E.isLeft(r)) return r.left._tag === "DecodeError" && r.left.detail.length > 0;
  return [...r.right.tensors.values()].every((t) => E.isRight(validateTensor(t)));
};

const sample = (): Uint8Array =>
  encode(
    {
      a: fromDataOrThrow([1, 2, 3], [3], "float64"),
      b: fromDataOrThrow([-1, 7], [2, 1], "int32"),
      c: fromDataOrThrow([1, 0, 1], [3], "bool"),
      s: fromDataOrThrow([0.5], [], "float32"),
    },
    { format: "rewind" },
  );

// ---------------------------------------------------------------------------------------------

describe("encode", () => {
  it("writes the published layout, little-endian, header padded with spaces to 8 bytes", () => {
    const bytes = encode({ x: fromDataOrThrow([1], [1], "float32") });
    const header = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(utf8(header).length).toBe(54);
    expect([...bytes.slice(0, 8)]).toEqual([56, 0, 0, 0, 0, 0, 0, 0]);
    expect([...bytes.slice(8, 8 + 54)]).toEqual([...utf8(header)]);
    expect([...bytes.slice(8 + 54, 8 + 56)]).toEqual([0x20, 0x20]);
    expect([...bytes.slice(64)]).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  test.prop([namedArb, metadataArb], { numRuns: 100 })(
    "is deterministic whatever the insertion order; header is a multiple of 8; tensors are aligned",
    (tensors, metadata) => {
      const bytes = encode(tensors, metadata);
      const reversed = new Map([...tensors.entries()].reverse());
      expect([...encode(reversed, metadata)]).toEqual([...bytes]);
      const view = new DataView(bytes.buffer);
      const n = view.getUint32(0, true);
      expect(view.getUint32(4, true)).toBe(0);
      expect(n % 8).toBe(0);
      const header = parseStrictJson(fromUtf8(bytes.subarray(8, 8 + n)));
      if (E.isLeft(header) || !(header.right instanceof Map)) throw new Error("header is not a JSON object");
      for (const [name, entry] of header.right) {
        if (name === "__metadata__" || !(entry instanceof Map)) continue;
        const size = { F64: 8, F32: 4, I32: 4, BOOL: 1 }[entry.get("dtype") as string]!;
        expect(((entry.get("data_offsets") as number[])[0]! + 8 + n) % size).toBe(0);
      }
    },
  );

  it("accepts a Map or a record, and rejects reserved names, non-tensors and non-string metadata", () => {
    const t = fromDataOrThrow([1], [1]);
    expect([...encode(new Map([["w", t]]))]).toEqual([...encode({ w: t })]);
    for (const name of ["__metadata__", "__proto__", "constructor", "prototype"]) {
      expect(() => encode(new Map([[name, t]]))).toThrow(/is reserved/);
    }
    expect(() => encode({ w: { dtype: "float32", shape: [2], data: new Float32Array(1) } })).toThrow(TensorException);
    expect(() => encode({ w: t }, { n: 3 as unknown as string })).toThrow(/metadata values must be strings/);
  });

  it("refuses to write what decode would refuse: rank above 64, more than 100,000 tensors or 10,000 metadata entries", () => {
    const rank = (r: number): Tensor => fromDataOrThrow([1], Array<number>(r).fill(1));
    expect(right(encode({ w: rank(64) })).tensors.get("w")!.shape).toHaveLength(64);
    expect(() => encode({ w: rank(65) })).toThrow(/safetensors\.encode: a tensor of rank 65 \(the limit is 64\)/);
    const empty = fromDataOrThrow([], [0]);
    expect(() => encode(new Map(Array.from({ length: 100_001 }, (_, i) => [`t${i}`, empty])))).toThrow(
      /100001 tensors \(a file holds at most 100000\)/,
    );
    expect(() => encode({}, Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, ""])))).toThrow(
      /10001 entries \(a file holds at most 10000\)/,
    );
  });
});

describe("decode(encode(x)) = x", () => {
  test.prop([namedArb, metadataArb], { numRuns: 100 })(
    "for named tensors of every dtype, scalars and empties",
    (tensors, metadata) => {
      const out = right(encode(tensors, metadata));
      expect([...out.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [name, t] of tensors) expect(sameTensor(out.tensors.get(name)!, t)).toBe(true);
      expect(Object.fromEntries(out.metadata)).toEqual(metadata ?? {});
    },
  );

  it("round-trips special values", () => {
    const f = fromDataOrThrow([NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38], [6], "float32");
    const d = fromDataOrThrow([NaN, -0, Number.MIN_VALUE, Number.MAX_VALUE], [2, 2], "float64");
    const i = fromDataOrThrow([-(2 ** 31), 2 ** 31 - 1, 0], [3], "int32");
    const out = right(encode({ f, d, i }));
    expect(sameTensor(out.tensors.get("f")!, f)).toBe(true);
    expect(sameTensor(out.tensors.get("d")!, d)).toBe(true);
    expect(sameTensor(out.tensors.get("i")!, i)).toBe(true);
  });

  it("decodes an empty file set, null metadata, and a file inside a larger buffer", () => {
    expect(right(encode({})).tensors.size).toBe(0);
    expect(right(file(`{"__metadata__":null}`)).metadata.size).toBe(0);
    const inner = sample();
    const outer = new Uint8Array(inner.length + 5);
    outer.set(inner, 3);
    expect(right(outer.subarray(3, 3 + inner.length)).tensors.get("a")!.data).toEqual(Float64Array.of(1, 2, 3));
  });

  it("decoded buffers are fresh copies, not views of the caller's bytes", () => {
    const bytes = sample();
    const out = right(bytes);
    const a = out.tensors.get("a")!;
    expect(a.data.buffer).not.toBe(bytes.buffer);
    bytes.fill(0xff, bytes.length - 40);
    expect([...a.data]).toEqual([1, 2, 3]);
    expect([...out.tensors.get("c")!.data]).toEqual([1, 0, 1]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("decode rejects hostile bytes", () => {
  it("every truncation of a file is a Left, including at each region boundary", () => {
    const bytes = sample();
    const n = new DataView(bytes.buffer).getUint32(0, true);
    const boundaries = [0, 7, 8, 9, 8 + n - 1, 8 + n, 8 + n + 24, 8 + n + 32, bytes.length - 1];
    for (const cut of boundaries) expect(E.isLeft(decode(bytes.slice(0, cut)))).toBe(true);
    for (let cut = 0; cut < bytes.length; cut++) expect(E.isLeft(decode(bytes.slice(0, cut)))).toBe(true);
    expect(leftDetail(bytes.slice(0, 5))).toMatch(/5 bytes, shorter than the 8-byte header length/);
    expect(leftDetail(bytes.slice(0, 8 + n - 1))).toMatch(/header length \d+ is larger than/);
    expect(leftDetail(bytes.slice(0, bytes.length - 1))).toMatch(/run past the end/);
  });

  test.prop([namedArb.filter((m) => m.size > 0), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })], {
    numRuns: 100,
  })("truncation at a random point is a Left; appended bytes are a Left", (tensors, where) => {
    const bytes = encode(tensors);
    expect(E.isLeft(decode(bytes.slice(0, Math.floor(where * bytes.length))))).toBe(true);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(leftDetail(longer)).toMatch(/1 trailing bytes belong to no tensor/);
  });

  const flipsArb = (max: number) =>
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: max });

  test.prop([namedArb, flipsArb(4)], { numRuns: 100 })(
    "random byte flips anywhere give a Left or a valid decode, never a throw",
    (tensors, flips) => {
      const bytes = encode(tensors);
      for (const [pos, x] of flips) bytes[pos % bytes.length] = bytes[pos % bytes.length]! ^ x;
      expect(decodesSafely(bytes)).toBe(true);
    },
  );

  test.prop([namedArb, flipsArb(3)], { numRuns: 100 })(
    "random byte flips in the length and header give a Left or a valid decode",
    (tensors, flips) => {
      const bytes = encode(tensors);
      const headerEnd = 8 + new DataView(bytes.buffer).getUint32(0, true);
      for (const [pos, x] of flips) bytes[pos % headerEnd] = bytes[pos % headerEnd]! ^ x;
      expect(decodesSafely(bytes)).toBe(true);
    },
  );

  test.prop([fc.nat({ max: 40 }), fc.nat({ max: 40 })], { numRuns: 100 })(
    "lying offsets are rejected",
    (begin, end) => {
      fc.pre(!(begin === 0 && end === 12));
      const bytes = file(`{"w":${info("F32", [3], [begin, end])}}`, new Uint8Array(12));
      expect(E.isLeft(decode(bytes))).toBe(true);
    },
  );

  it("names the problem with offsets: out of range, reversed, overlapping, holes, wrong size", () => {
    const data = new Uint8Array(16);
    expect(leftDetail(file(`{"w":${info("F32", [2], [8, 24])}}`, data))).toMatch(
      /tensor "w": data_offsets \[8, 24\] run past the end of the 16-byte/,
    );
    expect(leftDetail(file(`{"w":${info("F32", [0], [8, 4])}}`, data))).toMatch(
      /tensor "w": data_offsets \[8, 4\] are reversed/,
    );
    expect(leftDetail(file(`{"a":${info("F32", [3], [0, 12])},"b":${info("F32", [2], [8, 16])}}`, data))).toMatch(
      /tensor "b": data_offsets \[8, 16\] overlap another tensor's bytes/,
    );
    expect(leftDetail(file(`{"a":${info("F32", [1], [0, 4])},"b":${info("F32", [2], [8, 16])}}`, data))).toMatch(
      /tensor "b": .* leave a hole: bytes \[4, 8\) belong to no tensor/,
    );
    expect(leftDetail(file(`{"a":${info("F32", [2], [4, 12])},"b":${info("F32", [1], [12, 16])}}`, data))).toMatch(
      /tensor "a": .*leave a hole: bytes \[0, 4\)/,
    );
    expect(leftDetail(file(`{"a":${info("F32", [2], [0, 8])}}`, data))).toMatch(/8 trailing bytes belong to no tensor/);
    expect(leftDetail(file(`{"w":${info("F64", [3], [0, 16])}}`, new Uint8Array(32)))).toMatch(
      /tensor "w": shape \[3\] of F64 needs 24 bytes but data_offsets \[0, 16\] span 16/,
    );
    expect(leftDetail(file(`{"w":${info("F32", [1e15, 1e15], [0, 16])}}`, data))).toMatch(
      /tensor "w": shape \[1000000000000000, 1000000000000000\] of F32 needs more bytes than the 16-byte data buffer holds/,
    );
    expect(leftDetail(file(`{"w":${info("F64", [3], [0, 16])}}`, data))).toMatch(
      /shape \[3\] of F64 needs more bytes than the 16-byte/,
    );
    for (const offsets of [[0], [0, 1, 2], [-1, 4], [0, 1.5], ["0", "4"], null, [0, 2 ** 60]]) {
      expect(leftDetail(file(`{"w":${info("F32", [1], offsets)}}`, data))).toMatch(
        /tensor "w": "data_offsets" must be two non-negative integers/,
      );
    }
  });

  it("rejects oversized or lying header lengths", () => {
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 100_000_001, true);
    expect(leftDetail(huge)).toMatch(/header length 100000001 exceeds the limit of 100000000 bytes/);
    new DataView(huge.buffer).setUint32(0, 0, true);
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    expect(leftDetail(huge)).toMatch(/exceeds the limit/);
    const lying = file("{}");
    new DataView(lying.buffer).setUint32(0, 1000, true);
    expect(leftDetail(lying)).toMatch(/header length 1000 is larger than the 2 bytes after the length field/);
  });

  it("rejects headers that are not UTF-8, not JSON, or not an object", () => {
    const bad = file("{}");
    bad[8] = 0xff;
    expect(leftDetail(bad)).toMatch(/not valid UTF-8/);
    const surrogate = new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xed, 0xa0, 0x80]); // UTF-8-encoded U+D800
    expect(leftDetail(surrogate)).toMatch(/not valid UTF-8/);
    const bom = new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
    expect(leftDetail(bom)).toMatch(/not valid JSON/);
    expect(leftDetail(file("{abc"))).toMatch(/not valid JSON: expected a string but found "a" .* at character 1/);
    expect(leftDetail(file(`{"w":${info("F32", [0], [0, 0])},}`))).toMatch(
      /not valid JSON: expected a string but found "}"/,
    );
    expect(leftDetail(file("[1]"))).toMatch(/the header must be a JSON object, got \[1\]/);
    expect(leftDetail(file(""))).toMatch(/not valid JSON: unexpected end of input/);
    expect(leftDetail(file(`{"w":${info("F32", [0], [0, 0])}}\u0000`))).toMatch(/not valid JSON/);
  });

  it("rejects duplicate keys, which JSON.parse would silently merge", () => {
    const header = `{"w":${info("F32", [1], [0, 4])},"w":${info("F32", [1], [4, 8])}}`;
    expect(leftDetail(file(header, new Uint8Array(8)))).toMatch(/duplicate key "w"/);
    const inner = `{"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}`;
    expect(leftDetail(file(inner, new Uint8Array(4)))).toMatch(/duplicate key "dtype"/);
  });

  it("rejects __proto__, constructor and prototype keys without touching Object.prototype", () => {
    for (const name of ["__proto__", "constructor", "prototype"]) {
      expect(leftDetail(file(`{${JSON.stringify(name)}:${info("F32", [1], [0, 4])}}`, new Uint8Array(4)))).toMatch(
        new RegExp(`tensor "${name}": the name is not allowed`),
      );
      expect(leftDetail(file(`{"__metadata__":{${JSON.stringify(name)}:"x"}}`))).toMatch(
        /"__metadata__": the key .* is not allowed/,
      );
    }
    expect(
      leftDetail(file(`{"w":{"__proto__":{"polluted":"yes"},"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`)),
    ).toMatch(/tensor "w": unknown field "__proto__"/);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(({} as Record<string, unknown>)["dtype"]).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain("dtype");
  });

  it("rejects excessive nesting, even very deep, without overflowing the stack", () => {
    expect(leftDetail(file(`{"w":${info("F32", [[[[[[[[[1]]]]]]]]], [0, 4])}}`, new Uint8Array(4)))).toMatch(
      /nesting deeper than 8 levels/,
    );
    expect(leftDetail(file(`{"w":${"[".repeat(200_000)}`))).toMatch(/nesting deeper/);
  });

  it("names unsupported and unknown dtypes and lists the supported ones", () => {
    for (const code of ["F16", "BF16", "I64", "U8", "F8_E4M3"]) {
      expect(leftDetail(file(`{"half":${info(code, [1], [0, 2])}}`, new Uint8Array(2)))).toBe(
        `tensor "half": dtype ${code} is not supported (supported: F32, F64, I32, BOOL); convert it before saving`,
      );
    }
    expect(leftDetail(file(`{"w":${info("Q7", [1], [0, 1])}}`, new Uint8Array(1)))).toMatch(
      /tensor "w": unknown dtype "Q7" \(supported: F32, F64, I32, BOOL\)/,
    );
    expect(leftDetail(file(`{"w":${info("float32", [1], [0, 4])}}`, new Uint8Array(4)))).toMatch(
      /unknown dtype "float32"/,
    );
    expect(leftDetail(file(`{"w":{"dtype":3,"shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4)))).toMatch(
      /"dtype" must be a string, got 3/,
    );
  });

  it("rejects shapes that are not arrays of non-negative safe integers", () => {
    for (const shape of [3, "3", [-1], [1.5], [2 ** 53], [1e300], ["1"], [null], null, [[1]]]) {
      expect(leftDetail(file(`{"w":${info("F32", shape, [0, 4])}}`, new Uint8Array(4)))).toMatch(
        /tensor "w": "shape" must be an array of non-negative integers/,
      );
    }
    expect(leftDetail(file(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, new Uint8Array(4)))).toMatch(
      /"shape" must be .*got nothing/,
    );
  });

  it("rejects malformed entries and unknown fields", () => {
    expect(leftDetail(file(`{"w":[1,2]}`))).toMatch(
      /tensor "w": expected an object \{ dtype, shape, data_offsets \}, got \[1,2\]/,
    );
    expect(leftDetail(file(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"extra":1}}`))).toMatch(
      /tensor "w": unknown field "extra"/,
    );
  });

  it("rejects BOOL bytes other than 0 and 1, naming the element", () => {
    expect(leftDetail(file(`{"m":${info("BOOL", [3], [0, 3])}}`, [1, 0, 2]))).toBe(
      'tensor "m": BOOL element 2 is the byte 2, not 0 or 1',
    );
  });

  it("rejects metadata that is not an object of strings", () => {
    expect(leftDetail(file(`{"__metadata__":{"epoch":3}}`))).toMatch(
      /"__metadata__": the value of "epoch" must be a string, got 3/,
    );
    expect(leftDetail(file(`{"__metadata__":["a"]}`))).toMatch(/"__metadata__" must be an object of strings/);
    expect(leftDetail(file(`{"__metadata__":{"a":{"b":"c"}}}`))).toMatch(/must be a string, got an object/);
  });

  it("rejects input that is not a Uint8Array", () => {
    expect(leftDetail([1, 2, 3] as unknown as Uint8Array)).toMatch(/expected a Uint8Array/);
  });
});
