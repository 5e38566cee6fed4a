/**
 * @file Specs of `random.*` and `safetensors.*`. Samples are checked by what the definitions
 * promise (shape, dtype, range, a permutation is a permutation, a -Infinity logit is never drawn);
 * the bit-exact Threefry answers are the package's own known-answer tests. The codec is checked
 * by round trips and by hostile bytes, which must give `Left`, never a throw.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import {
  arbShape,
  arbTensor,
  badOption,
  countCases,
  expectTensor,
  notDType,
  misspelt,
  notOptionsObject,
  notShape,
  notTensor,
  omitted,
  rejected,
  returned,
  size,
  unknownOption,
  type Hostile,
  type Spec,
} from "../common.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });

/** Options `uniform` must refuse (shared with autodiff's traced `random.uniform`, which checks the same way). */
export const badUniformOptions: readonly Hostile[] = [
  ...notOptionsObject,
  ...badOption("min", [h('"0"', "0"), h("NaN", NaN), h("5 (above max)", 5)]),
  ...badOption("max", [h("Infinity", Infinity), h("null", null)]),
  ...badOption("dtype", [...notDType, h('"int32"', "int32")]),
  unknownOption,
  ...misspelt(["min", "max", "dtype"], {
    error: T.TensorException,
    names: ["uniform"],
    base: { min: 0, max: 1, dtype: "float64" },
  }),
];
const R = T.random;
const arbKey = fc.integer({ min: -1000, max: 1000 }).map((s) => R.key(s));
const notKey: readonly Hostile[] = [
  h("null", null),
  h("{}", {}),
  h("a seed number", 0),
  h("words [1]", { _tag: "PRNGKey", words: [1] }),
  h("words [-1, 0]", { _tag: "PRNGKey", words: [-1, 0] }),
  h("a tensor", T.zeros([2])),
  h('"k"', "k"),
];
const notCount: readonly Hostile[] = [
  h("-1", -1),
  h("1.5", 1.5),
  h("NaN", NaN),
  h('"2"', "2"),
  h("null", null),
  h("2**40", 2 ** 40),
];

const expectSample = (
  op: string,
  got: unknown,
  dtype: T.DType,
  shape: readonly number[],
  ok: (v: number) => boolean,
): void => {
  if (!T.isTensor(got) || got.dtype !== dtype || !T.shapesEqual(got.shape, shape))
    throw new Error(`${op}: expected ${dtype}${JSON.stringify(shape)}`);
  const bad = Array.from(got.data).findIndex((v) => !ok(v));
  if (bad >= 0) throw new Error(`${op}: element ${bad} = ${got.data[bad]} is outside what ${op} can draw`);
};

/** Specs of the random namespace. */
export const randomSpecs: Record<string, Spec> = {
  "random.key": {
    valid: fc.oneof(fc.integer(), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n })).map((s) => [s]),
    check: (args, out) => {
      const k = returned(out, "key");
      const s = BigInt.asUintN(64, BigInt(args[0] as number | bigint));
      if (!R.isKey(k) || k.words[0] !== Number(s >> 32n) || k.words[1] !== Number(s & 0xffffffffn))
        throw new Error(`key(${String(args[0])}) words`);
    },
    slots: [
      { reject: [h("1.5", 1.5), h("NaN", NaN), h('"1"', "1"), h("null", null), h("2**60 (unsafe number)", 2 ** 60)] },
    ],
  },
  "random.isKey": {
    cases: () =>
      countCases([
        ...notKey.map((v) => () => {
          if (R.isKey(v.value)) throw new Error(`isKey(${v.label}) should be false`);
        }),
        () => {
          if (!R.isKey(R.key(3)) || !R.isKey(R.split(R.key(3))[1])) throw new Error("isKey of made keys");
        },
      ]),
  },
  "random.split": {
    valid: fc.tuple(arbKey, fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined })),
    check: (args, out) => {
      const keys = returned(out, "split") as readonly T.Key[];
      const n = (args[1] as number | undefined) ?? 2;
      if (keys.length !== n || !keys.every(R.isKey) || new Set(keys.map((k) => k.words.join())).size !== n)
        throw new Error(`split: ${n} distinct keys expected`);
    },
    slots: [{ reject: notKey }, { reject: [...notCount, h("2**31 (too many keys)", 2 ** 31)], tolerate: [omitted] }],
  },
  "random.foldIn": {
    valid: fc.tuple(arbKey, fc.integer({ min: 0, max: 100 })),
    check: (args, out) => {
      const k = returned(out, "foldIn") as T.Key;
      const [key, d] = args as [T.Key, number];
      if (k.words.join() !== R.split(key, d + 1)[d]!.words.join())
        throw new Error("foldIn(k, i) must equal split(k, n)[i]");
    },
    slots: [{ reject: notKey }, { reject: [h("1.5", 1.5), h('"1"', "1"), h("null", null), h("NaN", NaN)] }],
  },
  "random.randomBits": {
    valid: fc.tuple(arbKey, arbShape()),
    check: (args, out) =>
      expectSample("randomBits", returned(out, "randomBits"), "int32", args[1] as number[], (v) => Number.isInteger(v)),
    slots: [{ reject: notKey }, { reject: notShape }],
  },
  "random.uniform": {
    valid: fc.tuple(
      arbKey,
      arbShape(),
      fc.option(
        fc.record(
          {
            min: fc.constantFrom(-2, 0, 0.5),
            max: fc.constantFrom(1, 3),
            dtype: fc.constantFrom<T.DType>("float32", "float64"),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
    ),
    check: (args, out) => {
      const o = (args[2] as { min?: number; max?: number; dtype?: T.DType } | undefined) ?? {};
      const [lo, hi] = [o.min ?? 0, o.max ?? 1];
      expectSample(
        "uniform",
        returned(out, "uniform"),
        o.dtype ?? "float32",
        args[1] as number[],
        (v) => v >= lo && v < hi,
      );
    },
    slots: [
      { reject: notKey },
      { reject: notShape },
      {
        reject: [...badUniformOptions],
        tolerate: [omitted],
      },
    ],
  },
  "random.normal": {
    valid: fc.tuple(arbKey, arbShape(), fc.option(fc.constantFrom<T.DType>("float32", "float64"), { nil: undefined })),
    check: (args, out) =>
      expectSample(
        "normal",
        returned(out, "normal"),
        (args[2] as T.DType | undefined) ?? "float32",
        args[1] as number[],
        (v) => Math.abs(v) < 6.7,
      ),
    slots: [
      { reject: notKey },
      { reject: notShape },
      { reject: [...notDType, h('"bool"', "bool")], tolerate: [omitted] },
    ],
  },
  "random.bernoulli": {
    valid: fc.tuple(arbKey, fc.constantFrom(0, 0.3, 1), arbShape()),
    check: (args, out) => {
      const p = args[1] as number;
      expectSample("bernoulli", returned(out, "bernoulli"), "bool", args[2] as number[], (v) =>
        p === 0 ? v === 0 : p === 1 ? v === 1 : v === 0 || v === 1,
      );
    },
    slots: [
      { reject: notKey },
      { reject: [h("-0.1", -0.1), h("1.5", 1.5), h("NaN", NaN), h('"0.5"', "0.5"), h("null", null)] },
      { reject: notShape },
    ],
  },
  "random.categorical": {
    valid: fc.tuple(
      arbKey,
      arbTensor({ shape: arbShape(3, 3, 1), dtype: fc.constantFrom<T.DType>("float32", "float64", "int32") }),
      fc.option(fc.integer({ min: -3, max: 2 }), { nil: undefined }),
    ),
    check: (args, out) => {
      const [, logits, axis = -1] = args as [T.Key, T.Tensor, number | undefined];
      const r = logits.shape.length;
      if (axis < -r || axis >= r) return rejected(out, "axis out of range");
      const a = axis < 0 ? axis + r : axis;
      const classes = logits.shape[a]!;
      const outShape = logits.shape.filter((_, i) => i !== a);
      if (classes === 0 && size(outShape) > 0) return rejected(out, "no classes");
      const got = returned(out, "categorical") as T.Tensor;
      expectSample("categorical", got, "int32", outShape, (v) => v >= 0 && v < Math.max(1, classes));
      // A -Infinity logit is drawn only when its whole slice is -Infinity (NaN wins as in argmax).
      const inner = size(logits.shape.slice(a + 1));
      Array.from(got.data).forEach((c, o) => {
        const base = Math.floor(o / inner) * classes * inner + (o % inner);
        const slice = Array.from({ length: classes }, (_, j) => logits.data[base + j * inner]!);
        if (slice[c] === -Infinity && slice.some((v) => v !== -Infinity))
          throw new Error("categorical drew a -Infinity logit");
      });
    },
    slots: [
      { reject: notKey },
      { reject: [...notTensor, h("a bool tensor", T.tensor([true, false])), h("a scalar", T.scalar(1))] },
      { reject: [h("1.5", 1.5), h('"0"', "0"), h("2**40", 2 ** 40)], tolerate: [omitted] },
    ],
  },
  "random.permutation": {
    valid: fc.tuple(arbKey, fc.integer({ min: 0, max: 20 })),
    check: (args, out) => {
      const n = args[1] as number;
      const got = returned(out, "permutation") as T.Tensor;
      expectSample("permutation", got, "int32", [n], (v) => v >= 0 && v < n);
      if (new Set(got.data).size !== n) throw new Error("permutation repeats a value");
    },
    slots: [{ reject: notKey }, { reject: [...notCount, h("2**31", 2 ** 31)] }],
  },
};

const S = T.safetensors;
const refusedByEncode = (what: string, write: () => unknown): void => {
  try {
    write();
  } catch (e) {
    if (e instanceof T.TensorException) return;
    throw e;
  }
  throw new Error(`safetensors.encode must refuse ${what}`);
};

/** Specs of the safetensors namespace. */
export const safetensorsSpecs: Record<string, Spec> = {
  "safetensors.encode": {
    valid: fc.tuple(
      fc.dictionary(fc.constantFrom("a", "b.w", "layer 0", "ü"), arbTensor(), { maxKeys: 3 }),
      fc.option(fc.dictionary(fc.constantFrom("format", "k"), fc.string({ maxLength: 5 })), { nil: undefined }),
    ),
    check: (args, out) => {
      const bytes = returned(out, "safetensors.encode") as Uint8Array;
      const back = S.decode(bytes);
      if (E.isLeft(back)) throw new Error(`encode → decode failed: ${back.left._tag}`);
      const tensors = args[0] as Record<string, T.Tensor>;
      for (const [name, t] of Object.entries(tensors))
        expectTensor(
          back.right.tensors.get(name),
          { dtype: t.dtype, shape: t.shape, values: Array.from(t.data) },
          {},
          `round trip of ${name}`,
        );
      if (back.right.tensors.size !== Object.keys(tensors).length)
        throw new Error("round trip changed the tensor count");
    },
    slots: [
      {
        reject: [
          h("null", null),
          h('"x"', "x"),
          h("[t]", [T.zeros([1])]),
          h("{ a: [1, 2] }", { a: [1, 2] }),
          h("{ __metadata__: t }", { __metadata__: T.zeros([1]) }),
          h("a Map with a number key", new Map([[1, T.zeros([1])]])),
          h("{ a: forged record }", { a: { dtype: "int32", shape: [1], data: Float64Array.of(1) } }),
        ],
      },
      { reject: [h('"x"', "x"), h("{ a: 1 }", { a: 1 }), h("[]", []), h("null", null)], tolerate: [omitted] },
    ],
    names: ["safetensors.encode"],
    runs: 25,
  },
  "safetensors.decode": {
    valid: fc
      .oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.tuple(fc.integer({ min: 0, max: 60 }), fc.uint8Array({ maxLength: 40 })).map(([cut, noise]) => {
          const good = S.encode({ w: T.tensor([[1, 2]]) });
          return Uint8Array.from([...good.subarray(0, cut), ...noise]);
        }),
      )
      .map((b) => [b]),
    check: (_args, out) => {
      const r = returned(out, "safetensors.decode");
      if (!E.isLeft(r as E.Either<unknown, unknown>) && !E.isRight(r as E.Either<unknown, unknown>))
        throw new Error("decode must return an Either");
    },
    cases: () =>
      countCases(
        [
          h("null", null),
          h('"bytes"', "bytes"),
          h("[1, 2]", [1, 2]),
          h("an ArrayBuffer", new ArrayBuffer(16)),
          h("a Float32Array", new Float32Array(4)),
        ].map((v) => () => {
          if (!E.isLeft(S.decode(v.value as Uint8Array))) throw new Error(`decode(${v.label}) should be Left`);
        }),
      ),
    names: ["safetensors.decode"],
  },
  "safetensors.MAX_HEADER_BYTES": {
    cases: () =>
      countCases([
        () => {
          const bytes = new Uint8Array(16);
          new DataView(bytes.buffer).setUint32(0, S.MAX_HEADER_BYTES + 1, true);
          const r = S.decode(bytes);
          if (!E.isLeft(r) || !/exceeds the limit/.test(r.left._tag === "DecodeError" ? r.left.detail : ""))
            throw new Error("a header above MAX_HEADER_BYTES must be refused as such");
        },
      ]),
  },
  // What decode refuses, encode refuses to write (a TensorException), so every file it writes reads back.
  "safetensors.MAX_RANK": {
    cases: () =>
      countCases([
        () => {
          const at = (rank: number): T.Tensor => T.reshape(T.scalar(1), Array<number>(rank).fill(1));
          const ok = S.decode(S.encode({ w: at(S.MAX_RANK) }));
          if (!E.isRight(ok) || ok.right.tensors.get("w")!.shape.length !== S.MAX_RANK)
            throw new Error("a tensor of rank MAX_RANK must round-trip");
          refusedByEncode("a rank above MAX_RANK", () => S.encode({ w: at(S.MAX_RANK + 1) }));
          const header = new TextEncoder().encode(
            `{"w":{"dtype":"F32","shape":[${Array<number>(S.MAX_RANK + 1)
              .fill(1)
              .join(",")}],"data_offsets":[0,4]}}`,
          );
          const bytes = new Uint8Array(8 + header.length + 4);
          new DataView(bytes.buffer).setUint32(0, header.length, true);
          bytes.set(header, 8);
          const r = S.decode(bytes);
          if (!E.isLeft(r) || !/more than 64 dimensions/.test(r.left._tag === "DecodeError" ? r.left.detail : ""))
            throw new Error("a shape above MAX_RANK must be refused as such");
        },
      ]),
  },
  "safetensors.MAX_TENSORS": {
    cases: () =>
      countCases([
        () => {
          const entries = Array.from(
            { length: S.MAX_TENSORS + 1 },
            (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`,
          );
          const header = new TextEncoder().encode(`{${entries.join(",")}}`);
          const bytes = new Uint8Array(8 + header.length);
          new DataView(bytes.buffer).setUint32(0, header.length, true);
          bytes.set(header, 8);
          const r = S.decode(bytes);
          if (!E.isLeft(r) || !/more than 100000 tensors/.test(r.left._tag === "DecodeError" ? r.left.detail : ""))
            throw new Error("a header above MAX_TENSORS must be refused as such");
        },
      ]),
  },
  "safetensors.MAX_METADATA_ENTRIES": {
    cases: () =>
      countCases([
        () => {
          const metadata = Object.fromEntries(
            Array.from({ length: S.MAX_METADATA_ENTRIES + 1 }, (_, i) => [`k${i}`, ""]),
          );
          refusedByEncode("metadata above MAX_METADATA_ENTRIES", () => S.encode({}, metadata));
          const header = new TextEncoder().encode(JSON.stringify({ __metadata__: metadata }));
          const bytes = new Uint8Array(8 + header.length);
          new DataView(bytes.buffer).setUint32(0, header.length, true);
          bytes.set(header, 8);
          const r = S.decode(bytes);
          if (!E.isLeft(r) || !/more than 10000 entries/.test(r.left._tag === "DecodeError" ? r.left.detail : ""))
            throw new Error("metadata above MAX_METADATA_ENTRIES must be refused as such");
        },
      ]),
  },
};
