/**
 * @file Specs of @rewind/tensor's constructors, conversions and dtype helpers: full, zeros, ones,
 * zerosLike, onesLike, scalar, arange, linspace, eye, the fromData/fromArray family, tensor,
 * validateTensor, toArray, item, astype, fromBuffer, isTensor, and the DType exports.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import {
  arbDType,
  arbElement,
  arbShape,
  arbTensor,
  countCases,
  expectTensor,
  notDType,
  notInteger,
  notShape,
  notTensor,
  omitted,
  rejected,
  returned,
  size,
  store,
  type Expected,
  type Hostile,
  type Spec,
} from "../common.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });
const notNumber: readonly Hostile[] = [
  h('"1"', "1"),
  h("null", null),
  h("{}", {}),
  h("[1]", [1]),
  h("true", true),
  h("1n", 1n),
];
const filled = (shape: readonly number[], v: number, dtype: T.DType): Expected => ({
  dtype,
  shape,
  values: new Array<number>(size(shape)).fill(store(dtype, v)),
});
const optDType = fc.option(arbDType, { nil: undefined });

/** The shape a nested array describes (following first elements, as the constructors do). */
const nestedShape = (v: unknown): number[] =>
  Array.isArray(v) ? [v.length, ...(v.length > 0 ? nestedShape(v[0]) : [])] : [];

/** `tensor` and `fromArrayOrThrow`: nested arrays from a tensor, rebuilt with an optional dtype. */
const fromArraySpec = (op: string): Spec => ({
  valid: fc.tuple(arbShape(3, 2), optDType).chain(([s, d]) =>
    fc.tuple(
      arbTensor({ shape: fc.constant(s), dtype: fc.constant<T.DType>("float64") }).map((t) => T.toArray(t)),
      fc.constant(d),
    ),
  ),
  check: (args, out) => {
    const dtype = (args[1] as T.DType | undefined) ?? "float32";
    const values = ([args[0]].flat(8) as number[]).map((v) => store(dtype, v));
    expectTensor(returned(out, op), { dtype, shape: nestedShape(args[0]), values }, {}, op);
  },
  slots: [
    {
      reject: [
        h("null", null),
        h("undefined", undefined),
        h('"x"', "x"),
        h("ragged [[1], [2, 3]]", [[1], [2, 3]]),
        h("[[1], 2]", [[1], 2]),
        h("[{}]", [{}]),
        h("[1n]", [1n]),
      ],
    },
    { reject: notDType, tolerate: [omitted] },
  ],
  names: ["fromArray"],
});

const fullLike = (op: string, v: number | undefined): Spec => ({
  valid: fc.tuple(arbShape(), ...(v === undefined ? [arbElement("float64")] : []), optDType),
  check: (args, out) => {
    const value = v ?? (args[1] as number);
    expectTensor(
      returned(out, op),
      filled(args[0] as number[], value, (args[v === undefined ? 2 : 1] as T.DType | undefined) ?? "float32"),
      {},
      op,
    );
  },
  slots:
    v === undefined
      ? [{ reject: notShape }, { reject: notNumber }, { reject: notDType, tolerate: [omitted] }]
      : [{ reject: notShape }, { reject: notDType, tolerate: [omitted] }],
});

const likeSpec = (op: "zerosLike" | "onesLike", v: number): Spec => ({
  valid: fc.tuple(arbTensor(), optDType),
  check: (args, out) => {
    const x = args[0] as T.Tensor;
    expectTensor(returned(out, op), filled(x.shape, v, (args[1] as T.DType | undefined) ?? x.dtype), {}, op);
  },
  slots: [{ reject: notTensor }, { reject: notDType, tolerate: [omitted] }],
});

/** Specs of the constructors and conversions. */
export const constructSpecs: Record<string, Spec> = {
  full: fullLike("full", undefined),
  zeros: fullLike("zeros", 0),
  ones: fullLike("ones", 1),
  zerosLike: likeSpec("zerosLike", 0),
  onesLike: likeSpec("onesLike", 1),
  scalar: {
    valid: fc.tuple(arbElement("float64"), optDType),
    check: (args, out) =>
      expectTensor(
        returned(out, "scalar"),
        filled([], args[0] as number, (args[1] as T.DType | undefined) ?? "float32"),
        {},
        "scalar",
      ),
    slots: [{ reject: notNumber }, { reject: notDType, tolerate: [omitted] }],
  },
  arange: {
    valid: fc.tuple(
      fc.integer({ min: -5, max: 5 }),
      fc.option(fc.oneof(fc.integer({ min: -5, max: 8 }), fc.double({ min: -5, max: 8, noNaN: true })), {
        nil: undefined,
      }),
      fc.oneof(fc.constantFrom(1, -1, 2, 0.5, 0, NaN)),
      optDType,
    ),
    check: (args, out) => {
      const [a, b, step, dtype] = args as [number, number | undefined, number, T.DType | undefined];
      const [lo, hi] = b === undefined ? [0, a] : [a, b];
      if (!Number.isFinite(step) || step === 0 || !Number.isFinite(hi))
        return rejected(out, "arange with a zero or non-finite step");
      if (Math.ceil((hi - lo) / step) > 2147483647)
        return rejected(out, "arange with more elements than a tensor holds");
      const dt = dtype ?? ([lo, hi, step].every(Number.isInteger) ? "int32" : "float32");
      const values: number[] = [];
      for (let v = lo; step > 0 ? v < hi : v > hi; v = lo + values.length * step) values.push(store(dt, v));
      expectTensor(returned(out, "arange"), { dtype: dt, shape: [values.length], values }, {}, "arange");
    },
    slots: [
      { reject: [h('"3"', "3"), h("NaN", NaN), h("Infinity", Infinity), h("null", null)] },
      { reject: [h('"3"', "3"), h("NaN", NaN)], tolerate: [h("2**40 (too many elements when counting up)", 2 ** 40)] },
      { reject: [h("0", 0), h('"1"', "1"), h("NaN", NaN)] },
      { reject: notDType, tolerate: [omitted] },
    ],
  },
  linspace: {
    valid: fc.tuple(
      fc.double({ min: -5, max: 5, noNaN: true }),
      fc.double({ min: -5, max: 5, noNaN: true }),
      fc.integer({ min: 0, max: 5 }),
      optDType,
    ),
    check: (args, out) => {
      const [a, b, num, dtype = "float32"] = args as [number, number, number, T.DType | undefined];
      const values = Array.from({ length: num }, (_, i) =>
        store(dtype, num > 1 && i === num - 1 ? b : a + (i * (b - a)) / Math.max(1, num - 1)),
      );
      expectTensor(
        returned(out, "linspace"),
        { dtype, shape: [num], values },
        { rtol: 1e-15, atol: 1e-15 },
        "linspace",
      );
    },
    slots: [
      { reject: notNumber },
      { reject: notNumber },
      { reject: [...notInteger, h("-1", -1), h("2**40", 2 ** 40)] },
      { reject: notDType, tolerate: [omitted] },
    ],
  },
  eye: {
    valid: fc.tuple(
      fc.integer({ min: 0, max: 4 }),
      fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
      fc.option(fc.integer({ min: -4, max: 4 }), { nil: undefined }),
      optDType,
    ),
    check: (args, out) => {
      const [n, m = n, k = 0, dtype = "float32"] = args as [
        number,
        number | undefined,
        number | undefined,
        T.DType | undefined,
      ];
      if (n * m > 2147483647) return rejected(out, "eye with more elements than a tensor holds");
      const values = Array.from({ length: n * m }, (_, p) => (Math.floor(p / m) + k === p % m ? 1 : 0));
      expectTensor(returned(out, "eye"), { dtype, shape: [n, m], values }, {}, "eye");
    },
    slots: [
      { reject: [...notInteger, h("-1", -1), h("2**40", 2 ** 40)] },
      {
        reject: [h("-1", -1), h("1.5", 1.5), h('"2"', "2")],
        tolerate: [omitted, h("2**40 (too big unless n is 0)", 2 ** 40)],
      },
      { reject: [h("1.5", 1.5), h('"1"', "1"), h("NaN", NaN)], tolerate: [omitted] },
      { reject: notDType, tolerate: [omitted] },
    ],
  },
  fromDataOrThrow: {
    valid: fc
      .tuple(arbShape(), optDType)
      .chain(([s, d]) =>
        fc.tuple(
          fc.oneof(
            fc.array(arbElement("float64"), { minLength: size(s), maxLength: size(s) }),
            fc.array(arbElement("float64"), { maxLength: 4 }),
          ),
          fc.constant(s),
          fc.constant(d),
        ),
      ),
    check: (args, out) => {
      const [data, shape, dtype = "float32"] = args as [number[], number[], T.DType | undefined];
      if (data.length !== size(shape)) return rejected(out, "fromData with the wrong element count");
      expectTensor(
        returned(out, "fromData"),
        { dtype, shape, values: data.map((v) => store(dtype, v)) },
        {},
        "fromDataOrThrow",
      );
    },
    slots: [
      { reject: [h("null", null), h('"ab"', "ab"), h("5", 5), h('["1"]', ["1"]), h("[{}]", [{}])] },
      { reject: notShape },
      { reject: notDType, tolerate: [omitted] },
    ],
    names: ["fromData"],
  },
  tensor: fromArraySpec("tensor"),
  toArray: {
    valid: arbTensor().map((t) => [t]),
    check: (args, out) => {
      const t = args[0] as T.Tensor;
      const nested = returned(out, "toArray");
      const shape = nestedShape(nested);
      // Axes after a size-0 one leave no trace in a nested array, so only compare up to it.
      const upTo = t.shape.indexOf(0) + 1 || t.shape.length;
      if (!T.shapesEqual(shape, t.shape.slice(0, upTo)))
        throw new Error(`toArray: nested shape ${JSON.stringify(shape)} for ${JSON.stringify(t.shape)}`);
      const leaves = [nested].flat(8);
      const want = Array.from(t.data, (v) => (t.dtype === "bool" ? v !== 0 : v));
      if (leaves.length !== want.length || leaves.some((v, i) => !Object.is(v, want[i])))
        throw new Error("toArray: leaves differ from the data");
    },
    slots: [{ reject: notTensor }],
  },
  item: {
    valid: arbTensor({ shape: fc.constantFrom([], [1], [1, 1], [2], [0]) }).map((t) => [t]),
    check: (args, out) => {
      const t = args[0] as T.Tensor;
      if (t.data.length !== 1) return rejected(out, "item of a tensor without exactly one element");
      const v = returned(out, "item") as number;
      if (!Object.is(v, t.data[0]) && !(Number.isNaN(v) && Number.isNaN(t.data[0]!)))
        throw new Error(`item: got ${v}, expected ${t.data[0]}`);
    },
    slots: [{ reject: notTensor }],
  },
  astype: {
    valid: fc.tuple(arbTensor(), arbDType),
    check: (args, out) => {
      const [x, d] = args as [T.Tensor, T.DType];
      expectTensor(
        returned(out, "astype"),
        { dtype: d, shape: x.shape, values: Array.from(x.data, (v) => store(d, v)) },
        {},
        "astype",
      );
    },
    slots: [{ reject: notTensor }, { reject: [...notDType, h("undefined", undefined)] }],
  },
  fromBuffer: {
    valid: arbTensor().map((t) => [t.dtype, t.shape, t.data]),
    check: (args, out) => {
      const [dtype, shape, data] = args as [T.DType, number[], ArrayLike<number>];
      expectTensor(returned(out, "fromBuffer"), { dtype, shape, values: Array.from(data) }, {}, "fromBuffer");
    },
    slots: [
      { reject: notDType },
      { reject: notShape },
      {
        reject: [
          h("null", null),
          h("[1, 2]", [1, 2]),
          h("a Float64Array of the wrong length", new Float64Array(7)),
          h("a DataView", new DataView(new ArrayBuffer(4))),
        ],
      },
    ],
  },
  isTensor: {
    cases: () =>
      countCases([
        ...[...notTensor.slice(0, 9), h("a Map", new Map())].map((v) => () => {
          if (T.isTensor(v.value) !== false) throw new Error(`isTensor(${v.label}) should be false`);
        }),
        ...[T.zeros([2]), T.scalar(1, "int32"), T.zeros([0, 3], "bool")].map((t) => () => {
          if (!T.isTensor(t)) throw new Error("isTensor(a tensor) should be true");
        }),
      ]),
  },
  validateTensor: {
    cases: () =>
      countCases([
        ...notTensor.map((v) => () => {
          if (!E.isLeft(T.validateTensor(v.value))) throw new Error(`validateTensor(${v.label}) should be Left`);
        }),
        () => {
          const t = T.tensor([[1, 2]]);
          const r = T.validateTensor(t);
          if (!E.isRight(r) || r.right !== t) throw new Error("validateTensor(a tensor) should be Right(itself)");
        },
      ]),
  },
  fromData: {
    cases: () =>
      countCases([
        ...[
          h("null data", [null, [1], "float32"]),
          h("short data", [[1], [2], "float32"]),
          h("bad shape", [[1], [1.5], "float32"]),
          h("bad dtype", [[1], [1], "float16"]),
          h("huge shape", [[], [2 ** 40], "float32"]),
        ].map((v) => () => {
          if (!E.isLeft((T.fromData as (...a: unknown[]) => E.Either<unknown, unknown>)(...(v.value as unknown[]))))
            throw new Error(`fromData(${v.label}) should be Left`);
        }),
        () => {
          const r = T.fromData([1, 2], [2], "int32");
          if (!E.isRight(r) || r.right.dtype !== "int32") throw new Error("fromData(valid) should be Right");
        },
      ]),
  },
  fromArray: {
    cases: () => {
      const cyclic: unknown[] = [];
      cyclic.push(cyclic);
      return countCases([
        ...[h("null", null), h("ragged", [[1], [2, 3]]), h("strings", ["a"]), h("a self-containing array", cyclic)].map(
          (v) => () => {
            if (!E.isLeft(T.fromArray(v.value as T.NestedArray)))
              throw new Error(`fromArray(${v.label}) should be Left`);
          },
        ),
        () => {
          const r = T.fromArray([[true, false]]);
          if (!E.isRight(r) || r.right.dtype !== "bool")
            throw new Error("fromArray of booleans should be a bool tensor");
        },
      ]);
    },
  },
  fromArrayOrThrow: fromArraySpec("fromArrayOrThrow"),
  defaultFloat: {
    cases: () =>
      countCases([
        () => {
          if (
            T.defaultFloat !== "float32" ||
            T.zeros([1]).dtype !== T.defaultFloat ||
            T.tensor([1.5]).dtype !== T.defaultFloat
          )
            throw new Error("constructors must default to defaultFloat (float32)");
        },
      ]),
  },
};

/** Specs of the DType exports. */
export const dtypeSpecs: Record<string, Spec> = {
  dtypes: {
    cases: () =>
      countCases([
        () => {
          if (!Object.isFrozen(T.dtypes) || T.dtypes.join() !== "bool,int32,float32,float64")
            throw new Error("dtypes must be the frozen promotion order");
        },
        ...T.dtypes.map((d) => () => {
          if (!T.isDType(d) || T.promoteTypes(d, "bool") !== d)
            throw new Error(`${d}: isDType and promotion above bool`);
        }),
      ]),
  },
  byteSize: {
    cases: () =>
      countCases(
        T.dtypes.map((d) => () => {
          if (T.allocate(d, 1).BYTES_PER_ELEMENT !== T.byteSize[d])
            throw new Error(`byteSize[${d}] disagrees with its buffer`);
        }),
      ),
  },
  isDType: {
    cases: () =>
      countCases(
        [
          ...notDType,
          h("toString (inherited)", "toString"),
          h("__proto__", "__proto__"),
          h("undefined", undefined),
        ].map((v) => () => {
          if (T.isDType(v.value) !== false) throw new Error(`isDType(${v.label}) should be false`);
        }),
      ),
  },
  isFloating: {
    cases: () =>
      countCases([
        () => {
          if (T.dtypes.filter(T.isFloating).join() !== "float32,float64")
            throw new Error("isFloating is true exactly for float32 and float64");
        },
        ...notDType.map((v) => () => {
          if ((T.isFloating as (x: unknown) => boolean)(v.value) !== false)
            throw new Error(`isFloating(${v.label}) should be false`);
        }),
      ]),
  },
  promoteTypes: {
    valid: fc.tuple(arbDType, arbDType),
    check: (args, out) => {
      const [a, b] = args as [T.DType, T.DType];
      const order = ["bool", "int32", "float32", "float64"];
      if (returned(out, "promoteTypes") !== (order.indexOf(a) >= order.indexOf(b) ? a : b))
        throw new Error(`promoteTypes(${a}, ${b})`);
    },
    slots: [{ reject: notDType }, { reject: [...notDType, h("toString", "toString")] }],
  },
  floatResultType: {
    valid: arbDType.map((d) => [d]),
    check: (args, out) => {
      const d = args[0] as T.DType;
      if (returned(out, "floatResultType") !== (d === "float64" ? "float64" : "float32"))
        throw new Error(`floatResultType(${d})`);
    },
    slots: [{ reject: notDType }],
  },
  allocate: {
    valid: fc.tuple(arbDType, fc.integer({ min: 0, max: 5 })),
    check: (args, out) => {
      const buf = returned(out, "allocate") as ArrayLike<number>;
      if (buf.length !== args[1] || Array.from(buf).some((v) => v !== 0))
        throw new Error("allocate: wrong length or not zeroed");
    },
    slots: [{ reject: notDType }, { reject: [...notInteger, h("-1", -1), h("2**31", 2 ** 31), h("2**40", 2 ** 40)] }],
  },
  coerce: {
    valid: fc.tuple(arbDType, arbElement("float64")),
    check: (args, out) => {
      const [d, v] = args as [T.DType, number];
      if (!Object.is(returned(out, "coerce"), d === "float32" || d === "float64" ? v : store(d, v)))
        throw new Error(`coerce(${d}, ${v})`);
    },
    slots: [{ reject: notDType }, { reject: notNumber }],
  },
};
