import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { argmax, argmin, max, mean, min, prod, sum, sumTo, type ReduceOptions } from "../src/kernels/reduce.js";
import { fromBuffer, fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { size, unravel, ravel, values, throwsTensor } from "./helpers.js";

// ---- naive references: multi-index arithmetic by hand, no strides or offset tables ----

/** The reduced axes an `axis` option means, positive, in NumPy's reading. */
const axesOf = (axis: ReduceOptions["axis"], rank: number): number[] =>
  axis === undefined
    ? [...Array(rank).keys()]
    : (typeof axis === "number" ? [axis] : [...axis]).map((a) => (a < 0 ? a + rank : a));

/** Each output element's values, in row-major order of the input (so in the kernels' fold order). */
const groupsOf = (x: Tensor, axes: readonly number[]): { shape: number[]; kept: number[]; groups: number[][] } => {
  const kept = x.shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const shape = kept.map((a) => x.shape[a]!);
  const groups = Array.from({ length: size(shape) }, (): number[] => []);
  for (let i = 0; i < size(x.shape); i++) {
    const idx = unravel(i, x.shape);
    groups[
      ravel(
        kept.map((a) => idx[a]!),
        shape,
      )
    ]!.push(x.data[i]!);
  }
  return { shape, kept, groups };
};
const keptShape = (x: Tensor, axes: readonly number[]): number[] => x.shape.map((d, a) => (axes.includes(a) ? 1 : d));

const store = (dtype: DType, v: number): number =>
  dtype === "float32" ? Math.fround(v) : dtype === "int32" ? v | 0 : dtype === "bool" ? (v ? 1 : 0) : v;

const refSum = (g: number[], int: boolean): number => g.reduce((s, v) => (int ? (s + v) | 0 : s + v), 0);
const refProd = (g: number[], int: boolean): number => g.reduce((p, v) => (int ? Math.imul(p, v) : p * v), 1);
const refExtreme = (g: number[], better: (v: number, b: number) => boolean): number[] => {
  let best = g[0]!;
  let at = 0;
  for (let j = 1; j < g.length; j++) {
    if (Number.isNaN(best)) break;
    if (Number.isNaN(g[j]!) || better(g[j]!, best)) [best, at] = [g[j]!, j];
  }
  return [best, at];
};

// ---- arbitraries ----

const dtypeArb = fc.constantFrom<DType>("float64", "float32", "int32", "bool");
const valueArb = (dtype: DType): fc.Arbitrary<number> =>
  dtype === "bool"
    ? fc.integer({ min: 0, max: 1 })
    : dtype === "int32"
      ? fc.integer({ min: -99, max: 99 })
      : fc.oneof(
          { weight: 20, arbitrary: fc.double({ min: -100, max: 100, noNaN: true }) },
          { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
        );
const tensorArb = (maxRank = 4, maxDim = 4) =>
  fc
    .tuple(fc.array(fc.integer({ min: 0, max: maxDim }), { maxLength: maxRank }), dtypeArb)
    .chain(([shape, dtype]) =>
      fc
        .array(valueArb(dtype), { minLength: size(shape), maxLength: size(shape) })
        .map((d) => fromDataOrThrow(d, shape, dtype)),
    );
/** undefined, a single (maybe negative) axis, or a shuffled list of distinct (maybe negative) axes. */
const axisArb = (rank: number): fc.Arbitrary<ReduceOptions["axis"]> => {
  const one = fc.integer({ min: 0, max: Math.max(0, rank - 1) }).chain((a) => fc.constantFrom(a, a - rank));
  const list = fc
    .shuffledSubarray([...Array(rank).keys()])
    .chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - rank))).map((xs): readonly number[] => xs));
  return rank === 0 ? fc.constantFrom(undefined, []) : fc.oneof(fc.constant(undefined), one, list);
};
const caseArb = tensorArb().chain((x) =>
  fc.record({ x: fc.constant(x), axis: axisArb(x.shape.length), keepDims: fc.boolean() }),
);

const opts = (axis: ReduceOptions["axis"], keepDims: boolean): ReduceOptions =>
  axis === undefined ? { keepDims } : { axis, keepDims };

// ---- properties ----

describe("reductions against a naive reference", () => {
  test.prop([caseArb], { numRuns: 100 })("sum, mean, prod (exact: same fold order)", ({ x, axis, keepDims }) => {
    const axes = axesOf(axis, x.shape.length);
    const { shape, groups } = groupsOf(x, axes);
    const expectShape = keepDims ? keptShape(x, axes) : shape;
    const int = x.dtype === "int32" || x.dtype === "bool";
    const intType: DType = int ? "int32" : x.dtype;
    const floatType: DType = int ? "float32" : x.dtype;
    const s = sum(x, opts(axis, keepDims));
    expect([s.dtype, s.shape]).toEqual([intType, expectShape]);
    expect(values(s)).toEqual(groups.map((g) => store(intType, refSum(g, int))));
    const m = mean(x, opts(axis, keepDims));
    expect([m.dtype, m.shape]).toEqual([floatType, expectShape]);
    expect(values(m)).toEqual(groups.map((g) => store(floatType, refSum(g, false) / g.length)));
    const p = prod(x, opts(axis, keepDims));
    expect([p.dtype, p.shape]).toEqual([intType, expectShape]);
    expect(values(p)).toEqual(groups.map((g) => store(intType, refProd(g, int))));
  });

  test.prop([caseArb], { numRuns: 100 })(
    "max, min keep the dtype, propagate NaN, and reject empty groups",
    ({ x, axis, keepDims }) => {
      const axes = axesOf(axis, x.shape.length);
      const { shape, groups } = groupsOf(x, axes);
      const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
      if (count === 0) {
        throwsTensor(() => max(x, opts(axis, keepDims)), "ValueError", "max", "maximum which has no identity");
        throwsTensor(() => min(x, opts(axis, keepDims)), "ValueError", "min", "minimum which has no identity");
        return;
      }
      const hi = max(x, opts(axis, keepDims));
      const lo = min(x, opts(axis, keepDims));
      expect([hi.dtype, hi.shape, lo.dtype, lo.shape]).toEqual([
        x.dtype,
        keepDims ? keptShape(x, axes) : shape,
        x.dtype,
        keepDims ? keptShape(x, axes) : shape,
      ]);
      expect(values(hi)).toEqual(groups.map((g) => refExtreme(g, (v, b) => v > b)[0]));
      expect(values(lo)).toEqual(groups.map((g) => refExtreme(g, (v, b) => v < b)[0]));
    },
  );

  const argCaseArb = tensorArb().chain((x) =>
    fc.record({
      x: fc.constant(x),
      axis:
        x.shape.length === 0
          ? fc.constant(undefined)
          : fc.option(fc.integer({ min: -x.shape.length, max: x.shape.length - 1 }), { nil: undefined }),
      keepDims: fc.boolean(),
    }),
  );
  test.prop([argCaseArb], { numRuns: 100 })(
    "argmax, argmin: first extreme, first NaN, flat index without axis",
    ({ x, axis, keepDims }) => {
      const axes = axesOf(axis, x.shape.length);
      const { shape, groups } = groupsOf(x, axes);
      const o = axis === undefined ? { keepDims } : { axis, keepDims };
      if (axes.some((a) => x.shape[a] === 0)) {
        throwsTensor(() => argmax(x, o), "ValueError", "argmax", "empty sequence");
        throwsTensor(() => argmin(x, o), "ValueError", "argmin", "empty sequence");
        return;
      }
      const hi = argmax(x, o);
      const lo = argmin(x, o);
      expect([hi.dtype, hi.shape, lo.shape]).toEqual([
        "int32",
        keepDims ? keptShape(x, axes) : shape,
        keepDims ? keptShape(x, axes) : shape,
      ]);
      expect(values(hi)).toEqual(groups.map((g) => refExtreme(g, (v, b) => v > b)[1]));
      expect(values(lo)).toEqual(groups.map((g) => refExtreme(g, (v, b) => v < b)[1]));
    },
  );

  test.prop([caseArb], { numRuns: 50 })("reductions never write their input", ({ x, axis, keepDims }) => {
    const before = values(x);
    for (const f of [sum, mean, prod, max, min]) {
      try {
        f(x, opts(axis, keepDims));
      } catch {
        // empty max/min: the throw is tested above; here only the input matters
      }
    }
    expect(values(x)).toEqual(before);
  });
});

describe("reduction edge cases", () => {
  const x = tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    "float64",
  );

  it("axis: [] reduces nothing, like NumPy axis=()", () => {
    expect(sum(x, { axis: [] }).shape).toEqual([2, 3]);
    expect(values(sum(x, { axis: [] }))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sum(tensor([true, false]), { axis: [] }).dtype).toBe("int32");
    expect(values(max(fromDataOrThrow([], [0]), { axis: [] }))).toEqual([]);
  });

  it("scalars reduce to scalars; any axis on a scalar is out of range", () => {
    const s = tensor(5, "float64");
    for (const f of [sum, mean, prod, max, min]) expect([f(s).shape, values(f(s))]).toEqual([[], [5]]);
    expect(values(argmax(s))).toEqual([0]);
    throwsTensor(() => sum(s, { axis: 0 }), "AxisError", "sum", "a scalar has no axes");
  });

  it("empty reductions give the identity, NaN for mean, and errors for max/min/argmax", () => {
    const e = fromDataOrThrow([], [2, 0], "float64");
    expect(values(sum(e, { axis: 1 }))).toEqual([0, 0]);
    expect(values(prod(e, { axis: 1 }))).toEqual([1, 1]);
    expect(values(mean(e))).toEqual([NaN]);
    expect(max(e, { axis: 0 }).shape).toEqual([0]); // groups of 2 elements, but no groups
    throwsTensor(
      () => max(e, { axis: 1 }),
      "ValueError",
      "max: zero-size array to reduction operation maximum which has no identity",
      "[2, 0]",
    );
    throwsTensor(() => argmin(e), "ValueError", "argmin: attempt to get argmin of an empty sequence");
  });

  it("NaN and infinities follow NumPy", () => {
    const v = tensor([1, NaN, -Infinity, NaN, Infinity], "float64");
    expect(values(max(v))).toEqual([NaN]);
    expect(values(min(tensor([3, -Infinity, 2])))).toEqual([-Infinity]);
    expect(values(argmax(v))).toEqual([1]);
    expect(values(argmin(tensor([2, -Infinity, -Infinity])))).toEqual([1]);
    expect(values(sum(tensor([Infinity, -Infinity])))).toEqual([NaN]);
  });

  it("argmax without an axis indexes the flattened tensor; keepDims keeps every axis", () => {
    const t = tensor([
      [1, 9, 3],
      [9, 5, 6],
    ]);
    expect(values(argmax(t))).toEqual([1]);
    expect(argmax(t, { keepDims: true }).shape).toEqual([1, 1]);
    expect(values(argmax(t, { axis: 0 }))).toEqual([1, 0, 1]);
    expect(values(argmin(t, { axis: -1, keepDims: true }))).toEqual([0, 1]);
  });

  it("sums float32 in float64 and rounds once", () => {
    // 2^24 + 1 + 1 + ... is not representable step by step in float32, but is in float64.
    const ones = fromDataOrThrow([16777216, ...Array<number>(8).fill(1)], [9], "float32");
    expect(values(sum(ones))).toEqual([16777224]);
  });

  it("int32 sum and prod wrap around like NumPy int32", () => {
    expect(values(sum(fromDataOrThrow([2147483647, 1], [2], "int32")))).toEqual([-2147483648]);
    expect(values(prod(fromDataOrThrow([65536, 65537], [2], "int32")))).toEqual([65536]);
    // (2^31 − 1)^2 needs 62 bits: a float64 product would lose the low bits that int32 keeps.
    expect(values(prod(fromDataOrThrow([2147483647, 2147483647], [2], "int32")))).toEqual([1]);
    expect(values(mean(fromDataOrThrow([2147483647, 2147483647], [2], "int32")))).toEqual([Math.fround(2147483647)]);
  });

  it("int32 sums stay exact past 2^53, on both loop orders", () => {
    // More than 2^22 copies of 2^31 − 1: partial sums pass 2^53, where float64 accumulation
    // would start dropping low bits (it would give -4194304 for n below, not imul(n, 2^31 − 1)).
    const n = 2 ** 22 + 2 ** 19;
    const big = new Int32Array(2 * n).fill(2147483647);
    expect(values(sum(fromBuffer("int32", [2 * n], big)))).toEqual([Math.imul(2 * n, 2147483647)]);
    const cols = Math.imul(n, 2147483647);
    expect(values(sum(fromBuffer("int32", [n, 2], big), { axis: 0 }))).toEqual([cols, cols]);
  });

  it("leading-axis and trailing-axis sums agree bit for bit with a transposed layout", () => {
    const d = Array.from({ length: 60 }, (_, i) => Math.sin(i) * 1e3);
    const a = fromDataOrThrow(d, [12, 5], "float32");
    const t = fromDataOrThrow(
      Array.from({ length: 60 }, (_, i) => d[(i % 12) * 5 + Math.floor(i / 12)]!),
      [5, 12],
      "float32",
    );
    expect(values(sum(a, { axis: 0 }))).toEqual(values(sum(t, { axis: 1 })));
  });

  it("rejects bad axes with messages naming the op", () => {
    throwsTensor(() => sum(x, { axis: [0, -2] }), "ValueError", "sum", "same axis twice");
    throwsTensor(() => mean(x, { axis: 2 }), "AxisError", "mean: axis 2 is out of range for a rank-2 tensor");
    throwsTensor(() => argmax(x, { axis: -3 }), "AxisError", "argmax");
    throwsTensor(() => max(x, { axis: 0.5 }), "AxisError", "max");
  });
});

// ---- sumTo ----

/** A shape that broadcasts to `shape`: some leading axes dropped, some kept axes set to 1. */
const targetArb = (shape: readonly number[]) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: shape.length }),
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
    )
    .map(([lead, ones]) => shape.slice(lead).map((d, i) => (ones[i + lead] ? 1 : d)));

const refSumTo = (x: Tensor, target: readonly number[]): number[] => {
  const lead = x.shape.length - target.length;
  const out = new Array<number>(size(target)).fill(0);
  for (let i = 0; i < size(x.shape); i++) {
    const idx = unravel(i, x.shape)
      .slice(lead)
      .map((v, a) => (target[a] === 1 ? 0 : v));
    const o = ravel(idx, target);
    out[o] = out[o]! + x.data[i]!;
  }
  return out;
};

describe("sumTo", () => {
  test.prop(
    [
      tensorArb()
        .filter((x) => x.dtype === "float64" || x.dtype === "int32")
        .chain((x) => fc.tuple(fc.constant(x), targetArb(x.shape))),
    ],
    { numRuns: 100 },
  )("matches a naive unbroadcast sum", ([x, target]) => {
    const before = values(x);
    const r = sumTo(x, target);
    expect(r.shape).toEqual(target);
    expect(r.dtype).toBe(x.dtype);
    // Integer-valued inputs (as int32) sum exactly in any order; floats are compared closely.
    const ref = refSumTo(x, target);
    values(r).forEach((v, i) =>
      Number.isFinite(ref[i]!) ? expect(v).toBeCloseTo(ref[i]!, 9) : expect(v).toBe(ref[i]!),
    );
    expect(values(x)).toEqual(before);
  });

  it("is the identity on equal shapes and sums leading axes and size-1 axes", () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      "float64",
    );
    expect(sumTo(x, [2, 2])).toBe(x);
    expect(values(sumTo(x, []))).toEqual([10]);
    expect(values(sumTo(x, [2]))).toEqual([4, 6]);
    expect(values(sumTo(x, [2, 1]))).toEqual([3, 7]);
    expect(values(sumTo(fromDataOrThrow([], [0, 3]), [1, 3]))).toEqual([0, 0, 0]);
    expect(sumTo(tensor([true, true]), [1]).dtype).toBe("int32");
  });

  it("rejects shapes that do not broadcast to x", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    throwsTensor(() => sumTo(x, [2]), "ShapeError", "sumTo", "[2, 3], [2]", "size 2", "size 3");
    throwsTensor(() => sumTo(x, [1, 2, 3]), "ShapeError", "sumTo", "target rank 3 exceeds");
    throwsTensor(() => sumTo(x, [3, 3]), "ShapeError", "sumTo", "broadcasts to x.shape");
  });
});
