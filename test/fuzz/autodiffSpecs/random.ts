/**
 * @file Specs of autodiff's `random.*`: keys as records or int32 data `[2]`. Every sample, split
 * and fold-in must equal @rewind/tensor's eager answer for the same key bit for bit (its own
 * known-answer tests pin those); bad keys, shapes, options and data are refused with library
 * errors naming the op.
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { arbShape, notDType, notShape, omitted, returned, type Hostile, type Spec } from "../common.js";
import { badUniformOptions } from "../tensorSpecs/random.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });
const R = A.random;
const arbKey = fc.integer({ min: -1000, max: 1000 }).map((s) => T.random.key(s));
/** A key as its record or as its int32 data, half the time each. */
const arbKeyLike = fc.tuple(arbKey, fc.boolean()).map(([k, asData]) => (asData ? R.keyData(k) : k));
const recordOf = (k: unknown): T.Key => (T.random.isKey(k) ? k : R.wrapKeyData(k as T.Tensor));

const notKey: readonly Hostile[] = [
  h("null", null),
  h("{}", {}),
  h("a seed number", 0),
  h("words [1]", { _tag: "PRNGKey", words: [1] }),
  h("an int32 tensor [3]", T.zeros([3], "int32")),
  h("a float32 tensor [2]", T.zeros([2], "float32")),
  h("a batch of keys int32 [2, 2]", T.zeros([2, 2], "int32")),
  h("[0, 1]", [0, 1]),
];

/** Bit-for-bit equality of a result with the eager answer. */
const same = (op: string, got: unknown, want: T.Tensor): void => {
  const g = returned({ ok: true, value: got }, op) as T.Tensor;
  if (
    !T.isTensor(g) ||
    g.dtype !== want.dtype ||
    !T.shapesEqual(g.shape, want.shape) ||
    !g.data.every((v, i) => Object.is(v, want.data[i]))
  )
    throw new Error(`${op}: differs from @rewind/tensor's eager answer for the same key`);
};

const checked =
  (op: string, eager: (args: readonly unknown[]) => T.Tensor): NonNullable<Spec["check"]> =>
  (args, out) =>
    same(op, returned(out, op), eager(args));

/** Specs of the random namespace of @rewind/autodiff. */
export const randomSpecs: Record<string, Spec> = {
  "random.keyData": {
    valid: arbKey.map((k) => [k]),
    check: (args, out) => {
      const k = args[0] as T.Key;
      same("keyData", returned(out, "keyData"), T.fromDataOrThrow([k.words[0] | 0, k.words[1] | 0], [2], "int32"));
    },
    slots: [{ reject: notKey }],
  },
  "random.keysData": {
    valid: fc.array(arbKey, { maxLength: 4 }).map((ks) => [ks]),
    check: (args, out) => {
      const ks = args[0] as readonly T.Key[];
      const want = ks.length === 0 ? T.zeros([0, 2], "int32") : T.stack(ks.map((k) => R.keyData(k)));
      same("keysData", returned(out, "keysData"), want);
    },
    slots: [
      { reject: [h("null", null), h('"k"', "k"), h("[null]", [null]), h("[{}]", [{}]), h("a tensor", T.zeros([2]))] },
    ],
  },
  "random.wrapKeyData": {
    valid: arbKey.map((k) => [R.keyData(k)]),
    check: (args, out) => {
      const k = returned(out, "wrapKeyData") as T.Key;
      same("wrapKeyData", R.keyData(k), args[0] as T.Tensor);
    },
    slots: [{ reject: [...notKey, h("a key record", T.random.key(0))] }],
  },
  "random.bits": {
    valid: fc.tuple(arbKeyLike, arbShape()),
    check: checked("bits", ([k, s]) => T.random.randomBits(recordOf(k), s as number[])),
    slots: [{ reject: notKey }, { reject: notShape }],
  },
  "random.normal": {
    valid: fc.tuple(
      arbKeyLike,
      arbShape(),
      fc.option(fc.constantFrom<T.DType>("float32", "float64"), { nil: undefined }),
    ),
    check: checked("normal", ([k, s, d]) => T.random.normal(recordOf(k), s as number[], d as T.DType | undefined)),
    slots: [
      { reject: notKey },
      { reject: notShape },
      { reject: [...notDType, h('"int32"', "int32"), h('"bool"', "bool")], tolerate: [omitted] },
    ],
  },
  "random.uniform": {
    valid: fc.tuple(
      arbKeyLike,
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
    check: checked("uniform", ([k, s, o]) =>
      T.random.uniform(recordOf(k), s as number[], o as T.random.UniformOptions | undefined),
    ),
    slots: [
      { reject: notKey },
      { reject: notShape },
      {
        reject: [...badUniformOptions],
        tolerate: [omitted],
      },
    ],
  },
  "random.bernoulli": {
    valid: fc.tuple(arbKeyLike, fc.constantFrom(0, 0.3, 1), arbShape()),
    check: checked("bernoulli", ([k, p, s]) => T.random.bernoulli(recordOf(k), p as number, s as number[])),
    slots: [
      { reject: notKey },
      { reject: [h("-0.1", -0.1), h("1.5", 1.5), h("NaN", NaN), h('"0.5"', "0.5"), h("null", null)] },
      { reject: notShape },
    ],
  },
  "random.split": {
    valid: fc.tuple(arbKeyLike, fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined })),
    check: checked("split", ([k, n]) => {
      const keys = T.random.split(recordOf(k), n as number | undefined);
      return keys.length === 0 ? T.zeros([0, 2], "int32") : R.keysData(keys);
    }),
    slots: [
      { reject: notKey },
      {
        reject: [h("-1", -1), h("1.5", 1.5), h("NaN", NaN), h('"2"', "2"), h("null", null), h("2**31", 2 ** 31)],
        tolerate: [omitted],
      },
    ],
  },
  "random.foldIn": {
    valid: fc
      .tuple(arbKeyLike, fc.integer({ min: -2147483648, max: 2147483647 }), fc.boolean())
      .map(([k, d, t]) => [k, t ? T.scalar(d, "int32") : d]),
    check: checked("foldIn", ([k, d]) =>
      R.keyData(T.random.foldIn(recordOf(k), typeof d === "number" ? d : (d as T.Tensor).data[0]!)),
    ),
    slots: [
      { reject: notKey },
      {
        reject: [
          h("1.5", 1.5),
          h('"1"', "1"),
          h("null", null),
          h("NaN", NaN),
          h("2**40 (beyond int32)", 2 ** 40),
          h("a float64 scalar", T.scalar(1, "float64")),
          h("an int32 vector [2]", T.zeros([2], "int32")),
        ],
      },
    ],
  },
};
