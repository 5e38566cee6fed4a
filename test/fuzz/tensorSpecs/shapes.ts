/**
 * @file Specs of @rewind/tensor's shape helpers (sizeOf, stridesOf, shapesEqual, validateShape,
 * normalizeAxis, normalizeAxes, broadcastShapes), strided views (viewOffsets, gatherView,
 * broadcastStrides), errors (formatShape, formatTensorError, formatError, RewindError, TensorException, fail), toString and
 * the low-level matmul entry points (matmulKernel, matmulInto, set/getKernelBackend).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { expectRejected, type Outcome } from "../contract.js";
import {
  arbBroadcastShapes,
  arbShape,
  arbTensor,
  badOption,
  broadcastOf,
  countCases,
  expectTensor,
  notAxis,
  notBoolean,
  notDType,
  notInteger,
  misspelt,
  notOptionsObject,
  notShape,
  notTensor,
  omitted,
  rejected,
  returned,
  size,
  unknownOption,
  unravel,
  type Hostile,
  type Spec,
} from "../common.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });
const same = (what: string, got: unknown, want: unknown): void => {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
};
const rowMajorStrides = (shape: readonly number[]): number[] => shape.map((_, i) => size(shape.slice(i + 1)));
const notShapeLoose: readonly Hostile[] = notShape.filter((v) => !v.label.includes("too many"));

const matmulArgs = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.nat(2),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([m, k, n, pad, tA, tB]) => {
    const a = Float64Array.from({ length: pad + m * k }, (_, i) => i - 2);
    const b = Float64Array.from({ length: pad + k * n }, (_, i) => 3 - i);
    return [new Float64Array(pad + m * n), pad, a, pad, b, pad, m, k, n, { transA: tA, transB: tB }] as unknown[];
  });

/** The product the matmul entry points must write: op(a) (m × k) times op(b) (k × n), row-major. */
const naiveProduct = (args: readonly unknown[]): number[] => {
  const [, , a, ao, b, bo, m, k, n, opts] = args as [
    unknown,
    number,
    ArrayLike<number>,
    number,
    ArrayLike<number>,
    number,
    number,
    number,
    number,
    { transA?: boolean; transB?: boolean } | undefined,
  ];
  return Array.from({ length: m * n }, (_, o) => {
    const [i, j] = [Math.floor(o / n), o % n];
    let s = 0;
    for (let p = 0; p < k; p++)
      s += a[ao + (opts?.transA ? p * m + i : i * k + p)]! * b[bo + (opts?.transB ? j * k + p : p * n + j)]!;
    return s;
  });
};

const checkProduct =
  (op: string) =>
  (args: readonly unknown[], out: { ok: boolean }): void => {
    returned(out as never, op);
    const [buf, oo, , , , , m, , n] = args as [
      Float64Array,
      number,
      unknown,
      unknown,
      unknown,
      unknown,
      number,
      number,
      number,
    ];
    const got = Array.from(buf.subarray(oo, oo + m * n));
    const want = naiveProduct(args);
    if (got.some((v, i) => Math.abs(v - want[i]!) > 1e-9))
      throw new Error(`${op}: product ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  };

const notBuffer: readonly Hostile[] = [
  h("null", null),
  h("[1, 2]", [1, 2]),
  h('"x"', "x"),
  h("a DataView", new DataView(new ArrayBuffer(8))),
];
const notOffset: readonly Hostile[] = [...notInteger.slice(0, 6), h("-1", -1), h("2**40", 2 ** 40)];

/** Specs of the shape, view, error, format and matmul-kernel exports. */
export const shapeSpecs: Record<string, Spec> = {
  sizeOf: {
    valid: arbShape(4).map((s) => [s]),
    check: (args, out) => same("sizeOf", returned(out, "sizeOf"), size(args[0] as number[])),
    slots: [{ reject: notShapeLoose }],
  },
  stridesOf: {
    valid: arbShape(4).map((s) => [s]),
    check: (args, out) => same("stridesOf", returned(out, "stridesOf"), rowMajorStrides(args[0] as number[])),
    slots: [{ reject: notShapeLoose }],
    names: ["stridesOf", "sizeOf"],
  },
  shapesEqual: {
    valid: fc.tuple(arbShape(), arbShape()),
    check: (args, out) =>
      same("shapesEqual", returned(out, "shapesEqual"), JSON.stringify(args[0]) === JSON.stringify(args[1])),
    cases: () =>
      countCases(
        [h("null", null), h('"ab"', "ab"), h("{ length: 0 }", { length: 0 })].map((v) => () => {
          if ((T.shapesEqual as (a: unknown, b: unknown) => boolean)(v.value, v.value) !== false)
            throw new Error(`shapesEqual(${v.label}, itself) should be false`);
        }),
      ),
  },
  validateShape: {
    valid: fc.tuple(fc.constant("myOp"), fc.constant("myArg"), arbShape(4)),
    check: (args, out) => same("validateShape", returned(out, "validateShape"), args[2]),
    slots: [{}, {}, { reject: notShape }],
    names: ["myOp"],
  },
  normalizeAxis: {
    valid: fc
      .integer({ min: 0, max: 4 })
      .chain((r) =>
        fc.tuple(fc.constant("myOp"), fc.constant("axis"), fc.integer({ min: -r - 1, max: r }), fc.constant(r)),
      ),
    check: (args, out) => {
      const [, , a, r] = args as [string, string, number, number];
      if (a < -r || a >= r) return rejected(out, "axis out of range");
      same("normalizeAxis", returned(out, "normalizeAxis"), a < 0 ? a + r : a);
    },
    slots: [
      {},
      {},
      { reject: notAxis },
      { reject: [h("-1", -1), h("NaN", NaN), h('"2"', "2"), h("1.5", 1.5), h("null", null)] },
    ],
    names: ["myOp", "normalizeAxis"],
  },
  normalizeAxes: {
    valid: fc
      .integer({ min: 0, max: 4 })
      .chain((r) =>
        fc.tuple(
          fc.constant("myOp"),
          fc.constant("axes"),
          fc.array(fc.integer({ min: -r - 1, max: r }), { maxLength: 3 }),
          fc.constant(r),
        ),
      ),
    check: (args, out) => {
      const [, , axes, r] = args as [string, string, number[], number];
      const norm = axes.map((a) => (a < 0 ? a + r : a));
      if (axes.some((a) => a < -r || a >= r) || new Set(norm).size !== norm.length) return rejected(out, "bad axes");
      same(
        "normalizeAxes",
        returned(out, "normalizeAxes"),
        [...norm].sort((x, y) => x - y),
      );
    },
    slots: [
      {},
      {},
      { reject: [h("null", null), h('"0"', "0"), h("0 (not a list)", 0), h("[1.5]", [1.5]), h('["0"]', ["0"])] },
      { reject: [h("NaN", NaN), h("-1", -1)] },
    ],
    names: ["myOp", "normalizeAxis"],
  },
  broadcastShapes: {
    valid: arbBroadcastShapes(3).map((ss) => ["myOp", ...ss]),
    check: (args, out) => {
      const want = broadcastOf(...(args.slice(1) as number[][]));
      if (want === undefined) return rejected(out, "shapes that do not broadcast");
      same("broadcastShapes", returned(out, "broadcastShapes"), want);
    },
    slots: [{}, { reject: notShapeLoose }, { reject: notShapeLoose }],
    names: ["myOp"],
  },
  viewOffsets: {
    valid: arbShape(3).chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: s.length, maxLength: s.length }),
        fc.integer({ min: 0, max: 30 }),
      ),
    ),
    check: (args, out) => {
      const [s, st, o] = args as [number[], number[], number];
      const want = Array.from({ length: size(s) }, (_, i) => unravel(i, s).reduce((acc, v, a) => acc + v * st[a]!, o));
      same("viewOffsets", Array.from(returned(out, "viewOffsets") as Int32Array), want);
    },
    slots: [
      { reject: notShapeLoose },
      { reject: [h("null", null), h("[1.5]", [1.5]), h("[] (wrong length)", [9, 9, 9, 9, 9]), h('"1"', "1")] },
      { reject: [...notOffset.slice(0, 6), h("2**40", 2 ** 40)] },
    ],
    names: ["viewOffsets", "sizeOf"],
  },
  gatherView: {
    valid: arbTensor({ shape: arbShape(3, 3, 1) }).map((t) => [
      t.dtype,
      t.data,
      [...t.shape].reverse(),
      [...T.stridesOf(t.shape)].reverse(),
      0,
    ]),
    check: (args, out) => {
      const [dtype, data, s, st] = args as [T.DType, ArrayLike<number>, number[], number[]];
      const want = Array.from(
        { length: size(s) },
        (_, i) => data[unravel(i, s).reduce((acc, v, a) => acc + v * st[a]!, 0)]!,
      );
      expectTensor(
        T.fromBuffer(dtype, s, returned(out, "gatherView") as Float64Array),
        { dtype, shape: s, values: want },
        {},
        "gatherView",
      );
    },
    slots: [
      { reject: notDType },
      { reject: notBuffer },
      { reject: notShapeLoose },
      {
        reject: [h("null", null), h("[99, 99, 99] (reads past the end)", [99, 99, 99]), h("[1.5, 0, 0]", [1.5, 0, 0])],
      },
      { reject: [h("-1 (before the start)", -1), h("1.5", 1.5), h("1e9", 1e9), h('"0"', "0")] },
    ],
    names: ["gatherView", "sizeOf", "allocate"],
  },
  broadcastStrides: {
    valid: arbBroadcastShapes(2, 3, false).map(([a, b]) => [a, broadcastOf(a!, b!)]),
    check: (args, out) => {
      const [inS, outS] = args as [number[], number[]];
      const want = outS.map((_, j) => {
        const i = j - (outS.length - inS.length);
        return i < 0 || inS[i] === 1 ? 0 : size(inS.slice(i + 1));
      });
      same("broadcastStrides", returned(out, "broadcastStrides"), want);
    },
    slots: [{ reject: [...notShapeLoose, h("[7] (does not broadcast)", [7, 7, 7, 7])] }, { reject: notShapeLoose }],
    names: ["broadcastStrides", "sizeOf"],
  },
  formatShape: {
    valid: arbShape(4).map((s) => [s]),
    check: (args, out) => same("formatShape", returned(out, "formatShape"), `[${(args[0] as number[]).join(", ")}]`),
    slots: [{ reject: [h("null", null), h("undefined", undefined), h("5", 5), h('"ab"', "ab")] }],
  },
  capMessage: {
    valid: fc
      .tuple(
        fc.string({ maxLength: 3000, unit: "binary" }),
        fc.option(fc.integer({ min: 40, max: 2500 }), { nil: undefined }),
      )
      .map((a): unknown[] => a),
    check: (args, out) => {
      const [text, max = T.MAX_MESSAGE_LENGTH] = args as [string, number | undefined];
      const capped = returned(out, "capMessage") as string;
      if (text.length <= max) return same("capMessage", capped, text);
      const tail = / … \((\d+) more characters\)$/.exec(capped);
      if (capped.length > max || tail === null)
        throw new Error(`capMessage: ${capped.length} characters for max ${max}, or no "… (N more characters)" suffix`);
      const kept = capped.length - tail[0].length;
      if (capped.slice(0, kept) !== text.slice(0, kept) || Number(tail[1]) !== text.length - kept)
        throw new Error("capMessage: the kept prefix or the count of cut characters is wrong");
    },
    slots: [
      { reject: [h("null", null), h("undefined", undefined), h("5", 5), h("an object", { message: "x" })] },
      {
        reject: [
          h("39", 39),
          h("0", 0),
          h("-1", -1),
          h("1.5", 1.5),
          h('"100"', "100"),
          h("NaN", NaN),
          h("Infinity", Infinity),
        ],
        tolerate: [omitted],
      },
    ],
  },
  MAX_MESSAGE_LENGTH: {
    cases: () =>
      countCases([
        () => same("MAX_MESSAGE_LENGTH", T.MAX_MESSAGE_LENGTH, 2000),
        () => {
          const e = new T.TensorException({
            _tag: "ValueError",
            op: "myOp",
            arg: "x",
            detail: "d".repeat(10_000),
            fix: "f",
          });
          if (e.message.length > T.MAX_MESSAGE_LENGTH || !e.message.startsWith("myOp: ddd"))
            throw new Error(`TensorException message of ${e.message.length} characters`);
        },
      ]),
  },
  formatTensorError: {
    cases: () =>
      countCases([
        ...[
          h("null", null),
          h("{}", {}),
          h('{ _tag: "Nope" }', { _tag: "Nope", op: "f" }),
          h("ShapeError without shapes", { _tag: "ShapeError", op: "f", arg: "x", detail: "d", fix: "f" }),
          h('"x"', "x"),
        ].map((v) => () => {
          const msg = expectRejected(["formatTensorError"], () => T.formatTensorError(v.value as T.TensorError));
          if (!msg.includes("formatTensorError")) throw new Error("message must name formatTensorError");
        }),
        () =>
          same(
            "formatTensorError",
            T.formatTensorError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 }),
            "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]",
          ),
      ]),
  },
  RewindError: {
    cases: () =>
      countCases([
        () => {
          const e = new T.RewindError({ _tag: "ValueError", op: "myOp", arg: "x", detail: "bad", fix: "good" });
          if (
            !(e instanceof Error) ||
            e.name !== "RewindError" ||
            e.error.op !== "myOp" ||
            e.message !== "myOp: bad (argument `x`); good" ||
            "cause" in e
          )
            throw new Error("RewindError fields");
        },
        () => {
          const cause = new Error("inner");
          const e = new T.RewindError({ _tag: "MyTag", op: "myOp" }, "m".repeat(5000), { cause });
          if (e.message.length !== T.MAX_MESSAGE_LENGTH || e.cause !== cause || e.error._tag !== "MyTag")
            throw new Error("RewindError with its own message and a cause");
        },
        () => {
          if (!(new T.TensorException({ _tag: "DecodeError", op: "d", detail: "x" }) instanceof T.RewindError))
            throw new Error("TensorException must be a RewindError");
        },
        // Without a message, only the tensor package's tags can be formatted here.
        () => void expectRejected(["formatError"], () => new T.RewindError({ _tag: "NonScalarOutput", op: "grad" })),
        () => void expectRejected(["formatError"], () => new T.RewindError(null as never)),
      ]),
  },
  formatError: {
    cases: () =>
      countCases([
        () =>
          same(
            "formatError",
            T.formatError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 }),
            "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]",
          ),
        () =>
          same(
            "formatError",
            T.formatError(new T.RewindError({ _tag: "Other", op: "o" }, "o: as written")),
            "o: as written",
          ),
        ...[
          h("null", null),
          h("{}", {}),
          h('{ _tag: "NonScalarOutput" }', { _tag: "NonScalarOutput", op: "grad" }),
          h("ShapeError without shapes", { _tag: "ShapeError", op: "f", arg: "x", detail: "d", fix: "f" }),
          h('"x"', "x"),
        ].map((v) => () => {
          const msg = expectRejected(["formatError"], () => T.formatError(v.value as T.TensorError));
          if (!msg.startsWith("formatError")) throw new Error(`message must start with formatError: ${msg}`);
        }),
      ]),
  },
  TensorException: {
    cases: () =>
      countCases([
        () => {
          const e = new T.TensorException({ _tag: "ValueError", op: "myOp", arg: "x", detail: "bad", fix: "good" });
          if (
            !(e instanceof Error) ||
            e.name !== "TensorException" ||
            e.error._tag !== "ValueError" ||
            e.message !== "myOp: bad (argument `x`); good"
          )
            throw new Error("TensorException fields");
        },
        () => void expectRejected(["formatTensorError"], () => new T.TensorException(null as unknown as T.TensorError)),
      ]),
  },
  fail: {
    cases: () =>
      countCases([
        () => void expectRejected(["myOp"], () => T.fail({ _tag: "DecodeError", op: "myOp", detail: "bad bytes" })),
        () => void expectRejected(["formatTensorError"], () => T.fail(undefined as unknown as T.TensorError)),
      ]),
  },
  toString: {
    valid: fc
      .tuple(
        arbTensor(),
        fc.option(
          fc.record(
            {
              precision: fc.integer({ min: 0, max: 8 }),
              threshold: fc.integer({ min: 0, max: 20 }),
              edgeItems: fc.integer({ min: 0, max: 3 }),
              lineWidth: fc.integer({ min: 10, max: 80 }),
            },
            { requiredKeys: [] },
          ),
          { nil: undefined },
        ),
      )
      .map((a): unknown[] => a),
    check: (args: readonly unknown[], out: Outcome<unknown>) => {
      const text = returned(out, "toString");
      const t = args[0] as T.Tensor;
      if (typeof text !== "string" || !text.startsWith("tensor(") || !text.includes(`dtype=${t.dtype}`))
        throw new Error(`toString: ${String(text)}`);
    },
    slots: [
      { reject: notTensor },
      {
        reject: [
          ...notOptionsObject,
          ...badOption("precision", [h("-1", -1), h("1.5", 1.5), h('"2"', "2"), h("99", 99)]),
          ...badOption("threshold", [h("-1", -1), h('"5"', "5"), h("NaN", NaN)]),
          ...badOption("edgeItems", [h("-1", -1), h("0.5", 0.5)]),
          ...badOption("lineWidth", [h("0", 0), h("Infinity", Infinity)]),
          unknownOption,
          ...misspelt(["precision", "threshold", "edgeItems", "lineWidth"], {
            error: T.TensorException,
            names: ["toString"],
          }),
        ],
        tolerate: [omitted],
      },
    ],
  },
  matmulKernel: {
    valid: matmulArgs.map((a) => a.slice(0, 9)),
    check: checkProduct("matmulKernel"),
    slots: [
      { reject: [...notBuffer, h("a Float32Array (class differs from a and b)", new Float32Array(64))] },
      { reject: notOffset },
      { reject: notBuffer },
      { reject: notOffset },
      { reject: notBuffer },
      { reject: notOffset },
      { reject: [h("-1", -1), h("1.5", 1.5), h("99", 99)] },
      { reject: [h("NaN", NaN), h("99", 99)] },
      { reject: [h('"1"', "1"), h("99", 99)] },
    ],
  },
  matmulInto: {
    valid: matmulArgs,
    check: checkProduct("matmulInto"),
    slots: [
      { reject: [...notBuffer, h("an Int32Array", new Int32Array(64))] },
      { reject: notOffset },
      { reject: [...notBuffer, h("a Float32Array", new Float32Array(64))] },
      { reject: notOffset },
      { reject: notBuffer },
      { reject: notOffset },
      { reject: [h("-1", -1), h("99", 99)] },
      { reject: [h("1.5", 1.5)] },
      { reject: [h("NaN", NaN)] },
      {
        reject: [
          ...notOptionsObject,
          ...badOption("transA", notBoolean),
          unknownOption,
          ...misspelt(["transA", "transB"], {
            error: T.TensorException,
            names: ["matmulInto"],
            base: { transA: false, transB: false },
          }),
        ],
        tolerate: [omitted],
      },
    ],
  },
  setKernelBackend: {
    cases: () => {
      const before = T.getKernelBackend().setting;
      try {
        return countCases([
          ...[h('"gpu"', "gpu"), h("null", null), h("undefined", undefined), h("1", 1)].map(
            (v) => () =>
              void expectRejected(["setKernelBackend"], () => T.setKernelBackend(v.value as T.KernelBackend)),
          ),
          () => {
            const prev = T.setKernelBackend("js");
            if (T.getKernelBackend().setting !== "js" || T.getKernelBackend().large !== "js")
              throw new Error("setKernelBackend('js') must pin the JS kernel");
            T.setKernelBackend(prev);
          },
        ]);
      } finally {
        T.setKernelBackend(before);
      }
    },
  },
  getKernelBackend: {
    cases: () =>
      countCases([
        () => {
          const b = T.getKernelBackend();
          if (!["auto", "wasm", "js"].includes(b.setting) || !["wasm", "js"].includes(b.large))
            throw new Error(`getKernelBackend: ${JSON.stringify(b)}`);
        },
      ]),
  },
};
