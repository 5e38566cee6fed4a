import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import type { ReduceOptions } from "../src/kernels/reduce.js";
import { logSoftmax, logSumExp, softmax } from "../src/kernels/softmax.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { size, unravel, ravel, values, throwsTensor } from "./helpers.js";

// ---- naive references: the textbook formulas, unshifted, over hand-computed multi-indices ----

/** Σ exp(x) of each output group, and the group (output) index of every input element. */
const expSums = (x: Tensor, axes: readonly number[]): { shape: number[]; sums: number[]; groupOf: number[] } => {
  const kept = x.shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const shape = kept.map((a) => x.shape[a]!);
  const sums = new Array<number>(size(shape)).fill(0);
  const groupOf: number[] = [];
  for (let i = 0; i < size(x.shape); i++) {
    const idx = unravel(i, x.shape);
    const g = ravel(
      kept.map((a) => idx[a]!),
      shape,
    );
    groupOf.push(g);
    sums[g] = sums[g]! + Math.exp(x.data[i]!);
  }
  return { shape, sums, groupOf };
};
const axesOf = (axis: ReduceOptions["axis"], rank: number): number[] =>
  axis === undefined
    ? [...Array(rank).keys()]
    : (typeof axis === "number" ? [axis] : [...axis]).map((a) => (a < 0 ? a + rank : a));

const close = (actual: readonly number[], expected: readonly number[], rel: number): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => {
    const e = expected[i]!;
    if (!Number.isFinite(e)) expect(v).toBe(e);
    else expect(Math.abs(v - e)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(e)));
  });
};

// ---- arbitraries: values small enough that the unshifted reference cannot overflow ----

const dtypeArb = fc.constantFrom<DType>("float64", "float32", "int32");
const tensorArb = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }), dtypeArb)
  .chain(([shape, dtype]) =>
    fc
      .array(dtype === "int32" ? fc.integer({ min: -20, max: 20 }) : fc.double({ min: -30, max: 30, noNaN: true }), {
        minLength: size(shape),
        maxLength: size(shape),
      })
      .map((d) => fromDataOrThrow(d, shape, dtype)),
  );
const axisArb = (rank: number): fc.Arbitrary<ReduceOptions["axis"]> =>
  rank === 0
    ? fc.constantFrom(undefined, [])
    : fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: -rank, max: rank - 1 }),
        fc
          .shuffledSubarray([...Array(rank).keys()])
          .map((axes): readonly number[] => axes.map((a, i) => (i % 2 ? a - rank : a))),
      );
const ranked = tensorArb.filter((x) => x.shape.length > 0);
const tolerance = (dtype: DType): number => (dtype === "float64" ? 1e-12 : 1e-6);

describe("logSumExp", () => {
  test.prop([tensorArb.chain((x) => fc.tuple(fc.constant(x), axisArb(x.shape.length), fc.boolean()))], {
    numRuns: 100,
  })("matches log(sum(exp(x))) where that does not overflow", ([x, axis, keepDims]) => {
    const before = values(x);
    const r = logSumExp(x, axis === undefined ? { keepDims } : { axis, keepDims });
    const axes = axesOf(axis, x.shape.length);
    const { shape, sums } = expSums(x, axes);
    expect(r.dtype).toBe(x.dtype === "float64" ? "float64" : "float32");
    expect(r.shape).toEqual(keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : shape);
    close(values(r), sums.map(Math.log), tolerance(r.dtype));
    expect(values(x)).toEqual(before);
  });

  it("is exact at ±1000, where the unshifted formula overflows or underflows", () => {
    expect(values(logSumExp(tensor([1000, 1000], "float64")))).toEqual([1000 + Math.LN2]);
    expect(values(logSumExp(tensor([-1000, -1000], "float64")))).toEqual([-1000 + Math.LN2]);
    expect(values(logSumExp(tensor([1000, 1000])))).toEqual([Math.fround(1000 + Math.LN2)]);
    expect(
      values(
        logSumExp(
          tensor(
            [
              [1000, -1000],
              [-1000, 1000],
            ],
            "float64",
          ),
          { axis: 1 },
        ),
      ),
    ).toEqual([1000, 1000]);
  });

  it("treats −Inf as a mask, gives −Inf for all −Inf and for an empty group, +Inf for +Inf, NaN for NaN", () => {
    expect(values(logSumExp(tensor([0, -Infinity], "float64")))).toEqual([0]);
    expect(values(logSumExp(tensor([-Infinity, -Infinity])))).toEqual([-Infinity]);
    expect(values(logSumExp(fromDataOrThrow([], [2, 0]), { axis: 1 }))).toEqual([-Infinity, -Infinity]);
    expect(values(logSumExp(tensor([Infinity, 1, -Infinity])))).toEqual([Infinity]);
    expect(values(logSumExp(tensor([1, NaN, Infinity])))).toEqual([NaN]);
    expect(values(logSumExp(tensor([-Infinity, NaN])))).toEqual([NaN]);
  });

  it("names itself in axis errors", () => {
    throwsTensor(() => logSumExp(tensor([[1, 2]]), { axis: [1, -1] }), "ValueError", "logSumExp", "same axis twice");
    throwsTensor(() => logSumExp(tensor([1, 2]), { axis: 1 }), "AxisError", "logSumExp: axis 1 is out of range");
  });
});

describe("softmax and logSoftmax", () => {
  const axisOf = (x: Tensor) => fc.integer({ min: -x.shape.length, max: x.shape.length - 1 });

  test.prop([ranked.chain((x) => fc.tuple(fc.constant(x), axisOf(x)))], { numRuns: 100 })(
    "match exp(x)/Σexp(x) and x − log Σexp(x) along the axis, and never write the input",
    ([x, axis]) => {
      const before = values(x);
      const ax = axis < 0 ? axis + x.shape.length : axis;
      const { sums, groupOf } = expSums(x, [ax]);
      const s = softmax(x, axis);
      const l = logSoftmax(x, axis);
      const dtype = x.dtype === "float64" ? "float64" : "float32";
      expect([s.dtype, s.shape, l.dtype, l.shape]).toEqual([dtype, x.shape, dtype, x.shape]);
      close(
        values(s),
        before.map((v, i) => Math.exp(v) / sums[groupOf[i]!]!),
        tolerance(dtype),
      );
      close(
        values(l),
        before.map((v, i) => v - Math.log(sums[groupOf[i]!]!)),
        tolerance(dtype),
      );
      expect(values(x)).toEqual(before);
    },
  );

  test.prop(
    [ranked.chain((x) => fc.tuple(fc.constant(x), axisOf(x), fc.double({ min: -500, max: 500, noNaN: true })))],
    { numRuns: 100 },
  )("sum to 1 along the axis and are unchanged by adding a constant (float64)", ([x, axis, c]) => {
    const x64 = fromDataOrThrow(values(x), x.shape, "float64");
    const shifted = fromDataOrThrow(
      values(x).map((v) => v + c),
      x.shape,
      "float64",
    );
    const s = softmax(x64, axis);
    const ax = axis < 0 ? axis + x.shape.length : axis;
    const { groupOf } = expSums(x64, [ax]);
    const totals = new Map<number, number>();
    values(s).forEach((v, i) => totals.set(groupOf[i]!, (totals.get(groupOf[i]!) ?? 0) + v));
    for (const t of totals.values()) expect(Math.abs(t - 1)).toBeLessThan(1e-12);
    close(values(softmax(shifted, axis)), values(s), 1e-9);
    close(values(logSoftmax(shifted, axis)), values(logSoftmax(x64, axis)), 1e-9);
  });

  it("is exact at ±1000", () => {
    expect(values(softmax(tensor([1000, 1000], "float64")))).toEqual([0.5, 0.5]);
    expect(values(softmax(tensor([-1000, -1000])))).toEqual([0.5, 0.5]);
    expect(values(logSoftmax(tensor([-1000, -1000], "float64")))).toEqual([-Math.LN2, -Math.LN2]);
    expect(values(logSoftmax(tensor([1000, 0], "float64")))).toEqual([0, -1000]);
    expect(values(softmax(tensor([1000, 0], "float64")))).toEqual([1, 0]);
  });

  it("treats −Inf as a mask; all −Inf or +Inf or NaN give NaN", () => {
    expect(values(softmax(tensor([0, -Infinity, 0], "float64")))).toEqual([0.5, 0, 0.5]);
    expect(values(logSoftmax(tensor([0, -Infinity], "float64")))).toEqual([0, -Infinity]);
    expect(
      values(
        softmax(
          tensor([
            [-Infinity, -Infinity],
            [1, 1],
          ]),
          1,
        ),
      ),
    ).toEqual([NaN, NaN, 0.5, 0.5]);
    expect(values(logSoftmax(tensor([-Infinity, -Infinity])))).toEqual([NaN, NaN]);
    expect(values(softmax(tensor([Infinity, 1])))).toEqual([NaN, 0]);
    expect(values(softmax(tensor([NaN, 1])))).toEqual([NaN, NaN]);
  });

  it("works along a leading axis and on zero-size tensors", () => {
    const s = softmax(
      tensor(
        [
          [0, 1],
          [0, 1],
        ],
        "float64",
      ),
      0,
    );
    expect(values(s)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(softmax(fromDataOrThrow([], [3, 0])).shape).toEqual([3, 0]);
    expect(logSoftmax(fromDataOrThrow([], [0, 3]), 0).shape).toEqual([0, 3]);
    expect(softmax(tensor([1, 2], "int32")).dtype).toBe("float32");
  });

  it("rejects a bad axis and scalars, naming the op", () => {
    throwsTensor(() => softmax(tensor([1, 2]), 1), "AxisError", "softmax: axis 1 is out of range for a rank-1 tensor");
    throwsTensor(() => logSoftmax(tensor(3)), "AxisError", "logSoftmax", "a scalar has no axes");
  });
});
