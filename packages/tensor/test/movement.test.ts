import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { arange, scalar, zeros } from "../src/creation.js";
import type { DType } from "../src/DType.js";
import { broadcastTo, expandDims, flip, permute, reshape, squeeze, transpose } from "../src/kernels/movement.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { size, unravel, ravel, values, throwsTensor } from "./helpers.js";

// ---- naive references: multi-index arithmetic written out by hand, no strides ----

const at = (x: Tensor, idx: readonly number[]): number => x.data[ravel(idx, x.shape)]!;
const build = (shape: readonly number[], f: (idx: number[]) => number): number[] =>
  Array.from({ length: size(shape) }, (_, i) => f(unravel(i, shape)));

// ---- arbitraries ----

const dimsArb = (maxRank = 4, maxDim = 4) => fc.array(fc.integer({ min: 0, max: maxDim }), { maxLength: maxRank });
const tensorOf = (shape: readonly number[], dtype: DType = "float64") =>
  fc
    .array(fc.integer({ min: -99, max: 99 }), { minLength: size(shape), maxLength: size(shape) })
    .map((d) => fromDataOrThrow(d, shape, dtype));
const tensorArb = (maxRank = 4, maxDim = 4) => dimsArb(maxRank, maxDim).chain((s) => tensorOf(s));
const permOf = (n: number) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });
/** Merges random runs of adjacent dimensions: another shape with the same element count. */
const regroup = (ds: readonly number[]) =>
  fc.array(fc.boolean(), { minLength: ds.length, maxLength: ds.length }).map((merge) => {
    const out: number[] = [];
    ds.forEach((d, i) => (merge[i] && out.length > 0 ? (out[out.length - 1]! *= d) : out.push(d)));
    return out;
  });

describe("reshape", () => {
  test.prop(
    [
      dimsArb(5, 3)
        .chain((ds) =>
          fc.tuple(regroup(ds), fc.shuffledSubarray(ds, { minLength: ds.length, maxLength: ds.length }).chain(regroup)),
        )
        .chain(([from, to]) => fc.tuple(tensorOf(from), fc.constant(to))),
    ],
    { numRuns: 100 },
  )("keeps the row-major data, and reshaping back is the identity", ([x, to]) => {
    const y = reshape(x, to);
    expect(y.shape).toEqual(to);
    expect(values(y)).toEqual(values(x));
    const back = reshape(y, x.shape);
    expect(back.shape).toEqual(x.shape);
    expect(values(back)).toEqual(values(x));
  });

  test.prop([dimsArb(4, 4).filter((s) => s.length > 0 && size(s) > 0), fc.nat()], { numRuns: 50 })(
    "-1 infers the missing dimension",
    (shape, k) => {
      const x = zeros(shape);
      const i = k % shape.length;
      const y = reshape(
        x,
        shape.map((d, j) => (j === i ? -1 : d)),
      );
      expect(y.shape).toEqual(shape);
    },
  );

  it("shares the buffer and keeps the dtype", () => {
    const x = arange(6);
    const y = reshape(x, [3, 2]);
    expect(y.data).toBe(x.data);
    expect(y.dtype).toBe("int32");
    expect(reshape(scalar(4), [1, 1]).shape).toEqual([1, 1]);
    expect(reshape(tensor([[7]]), []).shape).toEqual([]);
    expect(reshape(zeros([0, 3]), [3, 0, 5]).shape).toEqual([3, 0, 5]);
    expect(reshape(zeros([0, 3]), [-1]).shape).toEqual([0]);
  });

  it("rejects mismatched sizes, two -1s and ambiguous -1s", () => {
    throwsTensor(() => reshape(zeros([2, 3]), [4]), "ShapeError", "reshape", "[2, 3]", "[4]");
    throwsTensor(() => reshape(zeros([2, 3]), [-1, 4]), "ShapeError", "reshape", "[2, 3]");
    throwsTensor(() => reshape(zeros([6]), [-1, -1]), "ValueError", "reshape", "at most one -1");
    throwsTensor(() => reshape(zeros([0, 3]), [0, -1]), "ShapeError", "reshape", "any size would fit");
    throwsTensor(() => reshape(zeros([6]), [2.5, 2]), "ValueError", "reshape");
  });
});

describe("transpose and permute", () => {
  const withPerm = tensorArb(4, 3).chain((x) => fc.tuple(fc.constant(x), permOf(x.shape.length)));

  test.prop([withPerm], { numRuns: 100 })("matches the naive transpose", ([x, p]) => {
    const outShape = p.map((a) => x.shape[a]!);
    const y = transpose(x, p);
    expect(y.shape).toEqual(outShape);
    expect(values(y)).toEqual(
      build(outShape, (idx) => {
        const src = new Array<number>(p.length);
        p.forEach((a, i) => (src[a] = idx[i]!));
        return at(x, src);
      }),
    );
    expect(values(permute(x, p))).toEqual(values(y));
  });

  test.prop([withPerm], { numRuns: 100 })("transpose(transpose(x, p), inverse(p)) = x", ([x, p]) => {
    const inverse = new Array<number>(p.length);
    p.forEach((a, i) => (inverse[a] = i));
    const back = transpose(transpose(x, p), inverse);
    expect(back.shape).toEqual(x.shape);
    expect(values(back)).toEqual(values(x));
  });

  test.prop([tensorArb(4, 3)], { numRuns: 50 })("defaults to reversing the axes", (x) => {
    const rev = [...x.shape.keys()].reverse();
    expect(values(transpose(x))).toEqual(values(transpose(x, rev)));
    expect(transpose(x).shape).toEqual([...x.shape].reverse());
  });

  it("accepts negative axes and keeps int32/bool dtypes", () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      "int32",
    );
    const y = transpose(x, [-1, 0]);
    expect(y.dtype).toBe("int32");
    expect(values(y)).toEqual([1, 4, 2, 5, 3, 6]);
    const b = permute(tensor([[true, false]]), [1, 0]);
    expect(b.dtype).toBe("bool");
    expect(b.shape).toEqual([2, 1]);
    expect(transpose(scalar(3)).shape).toEqual([]);
  });

  it("rejects bad permutations", () => {
    throwsTensor(() => transpose(zeros([2, 3]), [0, 0]), "ValueError", "transpose", "same axis twice");
    throwsTensor(() => permute(zeros([2, 3]), [0]), "ValueError", "permute", "[2, 3]");
    throwsTensor(() => permute(zeros([2, 3]), [0, 2]), "AxisError", "permute", "axis 2");
  });
});

describe("expandDims and squeeze", () => {
  test.prop(
    [
      tensorArb(4, 3).chain((x) =>
        fc.tuple(fc.constant(x), fc.integer({ min: -x.shape.length - 1, max: x.shape.length })),
      ),
    ],
    {
      numRuns: 50,
    },
  )("expandDims inserts a 1 that squeeze removes", ([x, axis]) => {
    const y = expandDims(x, axis);
    const a = axis < 0 ? axis + x.shape.length + 1 : axis;
    expect(y.shape).toEqual([...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
    expect(y.data).toBe(x.data);
    expect(squeeze(y, axis).shape).toEqual(x.shape);
  });

  it("squeeze drops all size-1 axes by default, or the named ones", () => {
    expect(squeeze(zeros([1, 3, 1, 1])).shape).toEqual([3]);
    expect(squeeze(zeros([1, 3, 1, 1]), [0, -1]).shape).toEqual([3, 1]);
    expect(squeeze(zeros([1, 1])).shape).toEqual([]);
    expect(squeeze(scalar(1)).shape).toEqual([]);
    expect(squeeze(zeros([0, 2])).shape).toEqual([0, 2]);
  });

  it("rejects out-of-range axes and squeezing a non-1 axis", () => {
    throwsTensor(() => expandDims(zeros([2, 3]), 3), "AxisError", "expandDims", "axis 3");
    throwsTensor(() => expandDims(zeros([2, 3]), -4), "AxisError", "expandDims");
    throwsTensor(() => squeeze(zeros([1, 3]), 1), "ShapeError", "squeeze", "[1, 3]", "axis 1 has size 3");
    throwsTensor(() => squeeze(zeros([1, 3]), 2), "AxisError", "squeeze");
  });
});

describe("broadcastTo", () => {
  /** A target shape and a source that drops leading axes and turns some axes into 1. */
  const pair = dimsArb(4, 3).chain((target) =>
    fc
      .tuple(
        fc.integer({ min: 0, max: target.length }),
        fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length }),
      )
      .chain(([drop, ones]) => tensorOf(target.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))))
      .map((x) => [x, target] as const),
  );

  test.prop([pair], { numRuns: 100 })("matches the naive broadcast", ([x, target]) => {
    const y = broadcastTo(x, target);
    const lead = target.length - x.shape.length;
    expect(y.shape).toEqual(target);
    expect(values(y)).toEqual(
      build(target, (idx) =>
        at(
          x,
          x.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i]!)),
        ),
      ),
    );
  });

  it("broadcasts scalars and keeps dtypes", () => {
    const y = broadcastTo(scalar(2, "int32"), [2, 2]);
    expect(y.dtype).toBe("int32");
    expect(values(y)).toEqual([2, 2, 2, 2]);
    expect(broadcastTo(zeros([1, 3]), [0, 3]).shape).toEqual([0, 3]);
  });

  it("names both shapes when the broadcast is impossible", () => {
    throwsTensor(() => broadcastTo(zeros([2, 3]), [4, 3]), "ShapeError", "broadcastTo", "[2, 3]", "[4, 3]");
    throwsTensor(() => broadcastTo(zeros([3]), [3, 1]), "ShapeError", "broadcastTo", "[3]", "[3, 1]");
    throwsTensor(() => broadcastTo(zeros([2, 3]), [3]), "ShapeError", "broadcastTo", "lower rank");
  });
});

describe("flip", () => {
  const withAxes = tensorArb(4, 3).chain((x) =>
    fc.tuple(
      fc.constant(x),
      fc.subarray([...x.shape.keys()]).map((axes) => axes.map((a, i) => (i % 2 === 0 ? a - x.shape.length : a))),
    ),
  );

  test.prop([withAxes], { numRuns: 100 })("matches the naive flip, and flipping twice is the identity", ([x, axes]) => {
    const flipped = new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)));
    const y = flip(x, axes);
    expect(y.shape).toEqual(x.shape);
    expect(values(y)).toEqual(
      build(x.shape, (idx) =>
        at(
          x,
          idx.map((v, a) => (flipped.has(a) ? x.shape[a]! - 1 - v : v)),
        ),
      ),
    );
    expect(values(flip(y, axes))).toEqual(values(x));
  });

  test.prop([tensorArb(3, 3)], { numRuns: 50 })("defaults to every axis", (x) => {
    expect(values(flip(x))).toEqual(values(x).reverse());
  });

  it("handles a single axis, scalars and bool", () => {
    expect(
      values(
        flip(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          1,
        ),
      ),
    ).toEqual([2, 1, 4, 3]);
    expect(values(flip(scalar(5)))).toEqual([5]);
    const b = flip(tensor([true, false, false]));
    expect(b.dtype).toBe("bool");
    expect(values(b)).toEqual([0, 0, 1]);
    throwsTensor(() => flip(zeros([2]), 1), "AxisError", "flip");
    throwsTensor(() => flip(zeros([2, 2]), [1, -1]), "ValueError", "flip");
  });
});

test.prop([tensorArb(3, 3)], { numRuns: 30 })("no movement op writes its input", (x) => {
  const before = values(x);
  transpose(x);
  flip(x);
  broadcastTo(x, [2, ...x.shape]);
  reshape(x, [-1]);
  expandDims(x, 0);
  squeeze(x);
  expect(values(x)).toEqual(before);
  expect(Object.isFrozen(transpose(x))).toBe(true);
});
