import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { arange, scalar, zeros } from "../src/creation.js";
import type { DType } from "../src/DType.js";
import { addAlongAxis, addAt, gather, oneHot, take } from "../src/kernels/indexing.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { size, unravel, ravel, values, throwsTensor } from "./helpers.js";

// ---- naive references: multi-index arithmetic written out by hand ----

const at = (x: Tensor, idx: readonly number[]): number => x.data[ravel(idx, x.shape)]!;
const dot = (a: Tensor, b: Tensor): number => values(a).reduce((s, v, i) => s + v * b.data[i]!, 0);
const wrap = (i: number, n: number): number => (i < 0 ? i + n : i);

/** np.take, by definition: for every output multi-index, the source multi-index it reads. */
const takeSources = (
  xShape: readonly number[],
  ind: Tensor,
  axis: number | undefined,
): { shape: number[]; src: number[] } => {
  if (axis === undefined) {
    const n = size(xShape);
    return { shape: [...ind.shape], src: values(ind).map((i) => wrap(i, n)) };
  }
  const shape = [...xShape.slice(0, axis), ...ind.shape, ...xShape.slice(axis + 1)];
  const src = Array.from({ length: size(shape) }, (_, f) => {
    const idx = unravel(f, shape);
    const j = at(ind, idx.slice(axis, axis + ind.shape.length));
    return ravel([...idx.slice(0, axis), wrap(j, xShape[axis]!), ...idx.slice(axis + ind.shape.length)], xShape);
  });
  return { shape, src };
};

/** np.take_along_axis, by definition, with the non-axis broadcasting written out. */
const gatherSources = (xShape: readonly number[], ind: Tensor, axis: number): { shape: number[]; src: number[] } => {
  const shape = ind.shape.map((d, i) =>
    i === axis ? d : Math.max(d, xShape[i]!) * (d === 0 || xShape[i] === 0 ? 0 : 1),
  );
  const src = Array.from({ length: size(shape) }, (_, f) => {
    const idx = unravel(f, shape);
    const j = at(
      ind,
      idx.map((v, i) => (ind.shape[i] === 1 ? 0 : v)),
    );
    return ravel(
      idx.map((v, i) => (i === axis ? wrap(j, xShape[axis]!) : xShape[i] === 1 ? 0 : v)),
      xShape,
    );
  });
  return { shape, src };
};

// ---- arbitraries ----

const dataOf = (shape: readonly number[], lo: number, hi: number) =>
  fc.array(fc.integer({ min: lo, max: hi }), { minLength: size(shape), maxLength: size(shape) });
const tensorOf = (shape: readonly number[], dtype: DType = "float64") =>
  dataOf(shape, -99, 99).map((d) => fromDataOrThrow(d, shape, dtype));
/** Valid int32 indices (negative ones included) into an axis of size n. */
const indicesOf = (shape: readonly number[], n: number) =>
  n === 0
    ? fc.constant(fromDataOrThrow([], size(shape) === 0 ? shape : [0], "int32"))
    : dataOf(shape, -n, n - 1).map((d) => fromDataOrThrow(d, shape, "int32"));
const dimsArb = (minRank: number, maxRank: number) =>
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: minRank, maxLength: maxRank });

const takeCase = dimsArb(0, 3).chain((xs) =>
  fc
    .tuple(
      xs.length === 0
        ? fc.constant(undefined)
        : fc.option(fc.integer({ min: -xs.length, max: xs.length - 1 }), { nil: undefined }),
      dimsArb(0, 2),
    )
    .chain(([axis, is]) => {
      const n = axis === undefined ? size(xs) : xs[axis < 0 ? axis + xs.length : axis]!;
      return fc.tuple(tensorOf(xs), indicesOf(is, n), fc.constant(axis));
    }),
);

const gatherCase = dimsArb(1, 3).chain((xs) =>
  fc
    .integer({ min: 0, max: xs.length - 1 })
    .chain((axis) =>
      fc
        .tuple(
          ...xs.map((d, i) =>
            i === axis
              ? d === 0
                ? fc.constant(0)
                : fc.integer({ min: 0, max: 3 })
              : d === 1
                ? fc.integer({ min: 0, max: 3 })
                : fc.constantFrom(d, 1),
          ),
        )
        .chain((is) => fc.tuple(tensorOf(xs), indicesOf(is, xs[axis]!), fc.constant(axis))),
    ),
);

describe("take and addAt", () => {
  test.prop([takeCase], { numRuns: 100 })("take matches np.take", ([x, ind, axis]) => {
    const { shape, src } = takeSources(
      x.shape,
      ind,
      axis === undefined ? undefined : axis < 0 ? axis + x.shape.length : axis,
    );
    const y = take(x, ind, axis);
    expect(y.shape).toEqual(shape);
    expect(values(y)).toEqual(src.map((s) => x.data[s]!));
  });

  test.prop(
    [
      takeCase.chain(([x, ind, axis]) =>
        fc.tuple(fc.constant(x), fc.constant(ind), fc.constant(axis), tensorOf(take(x, ind, axis).shape)),
      ),
    ],
    {
      numRuns: 100,
    },
  )("addAt matches np.add.at and is the adjoint of take", ([x, ind, axis, v]) => {
    const a = axis === undefined ? undefined : axis < 0 ? axis + x.shape.length : axis;
    const expected = values(x);
    takeSources(x.shape, ind, a).src.forEach((s, k) => (expected[s]! += v.data[k]!));
    const y = addAt(x, ind, v, axis);
    expect(y.shape).toEqual(x.shape);
    expect(values(y)).toEqual(expected);
    // Integer-valued float64 data keeps both inner products exact.
    expect(dot(take(x, ind, axis), v)).toBe(dot(x, addAt(zeros(x.shape, "float64"), ind, v, axis)));
  });

  it("agrees with NumPy on hand-checked cases", () => {
    const x = fromDataOrThrow([...Array(12).keys()], [3, 4], "int32");
    const y = take(
      x,
      tensor(
        [
          [0, -1],
          [2, 2],
        ],
        "int32",
      ),
      1,
    );
    expect(y.shape).toEqual([3, 2, 2]);
    expect(y.dtype).toBe("int32");
    expect(values(y)).toEqual([0, 3, 2, 2, 4, 7, 6, 6, 8, 11, 10, 10]);
    expect(values(take(x, [-1, 0, 5]))).toEqual([11, 0, 5]);
    expect(take(x, scalar(2, "int32"), 0).shape).toEqual([4]);
    expect(take(scalar(7), [0, 0]).shape).toEqual([2]);
    const acc = addAt(zeros([3, 4]), [1, 1, 3], fromDataOrThrow(Array(9).fill(1), [3, 3]), 1);
    expect(values(acc)).toEqual([0, 2, 0, 1, 0, 2, 0, 1, 0, 2, 0, 1]);
    expect(take(zeros([0, 2]), [], 0).shape).toEqual([0, 2]);
    expect(values(take(tensor([true, false]), [1, 0]))).toEqual([0, 1]);
  });

  it("addAt promotes dtypes and treats bool addition as or", () => {
    const y = addAt(arange(3), [2], tensor([0.5], "float64"));
    expect(y.dtype).toBe("float64");
    expect(values(y)).toEqual([0, 1, 2.5]);
    expect(values(addAt(tensor([true, false]), [0, 0], tensor([true, true])))).toEqual([1, 0]);
  });

  it("names the index, the axis and its size when out of range", () => {
    throwsTensor(() => take(zeros([2, 3]), [1, 3], 1), "ValueError", "take", "index 3", "axis 1", "size 3");
    throwsTensor(() => take(zeros([2, 3]), [-7]), "ValueError", "take", "index -7", "flattened tensor of size 6");
    // Plain arrays are not squeezed through int32 first, so 2^32 cannot wrap around to 0.
    throwsTensor(() => take(zeros([2]), [2 ** 32]), "ValueError", "take", "index 4294967296");
    throwsTensor(() => take(zeros([0]), [0]), "ValueError", "take", "size 0");
    throwsTensor(() => addAt(zeros([2]), [2], zeros([1])), "ValueError", "addAt", "index 2");
  });

  it("rejects float indices, bad axes and mis-shaped values", () => {
    throwsTensor(() => take(zeros([3]), tensor([1])), "DTypeError", "take", "int32", "float32");
    throwsTensor(() => take(zeros([3]), [0.5]), "ValueError", "take", "integers");
    throwsTensor(() => take(zeros([3]), [0], 1), "AxisError", "take");
    throwsTensor(() => addAt(zeros([2, 3]), [0, 1], zeros([2, 3]), 1), "ShapeError", "addAt", "[2, 3]", "[2, 2]");
  });
});

describe("gather and addAlongAxis", () => {
  test.prop([gatherCase], { numRuns: 100 })("gather matches np.take_along_axis", ([x, ind, axis]) => {
    const { shape, src } = gatherSources(x.shape, ind, axis);
    const y = gather(x, ind, axis - x.shape.length);
    expect(y.shape).toEqual(shape);
    expect(values(y)).toEqual(src.map((s) => x.data[s]!));
  });

  test.prop(
    [
      gatherCase.chain(([x, ind, axis]) =>
        fc.tuple(fc.constant(x), fc.constant(ind), fc.constant(axis), tensorOf(gather(x, ind, axis).shape)),
      ),
    ],
    {
      numRuns: 100,
    },
  )("addAlongAxis accumulates repeats and is the adjoint of gather", ([x, ind, axis, v]) => {
    const expected = values(x);
    gatherSources(x.shape, ind, axis).src.forEach((s, k) => (expected[s]! += v.data[k]!));
    const y = addAlongAxis(x, ind, v, axis);
    expect(y.shape).toEqual(x.shape);
    expect(values(y)).toEqual(expected);
    expect(dot(gather(x, ind, axis), v)).toBe(dot(x, addAlongAxis(zeros(x.shape, "float64"), ind, v, axis)));
  });

  it("agrees with NumPy on hand-checked cases", () => {
    const x = fromDataOrThrow([...Array(12).keys()], [3, 4], "int32");
    expect(values(gather(x, tensor([[3], [0], [1]], "int32"), 1))).toEqual([3, 4, 9]);
    expect(values(gather(x, tensor([[2, 0, 1, -1]], "int32"), 0))).toEqual([8, 1, 6, 11]);
    const put = addAlongAxis(zeros([3, 4]), tensor([[2, 0, 1, 2]], "int32"), fromDataOrThrow([5, 5, 5, 5], [1, 4]), 0);
    expect(values(put)).toEqual([0, 5, 0, 0, 0, 0, 5, 0, 5, 0, 0, 5]);
    // x broadcasts along axis 0 of size 1 against indices with 2 rows.
    expect(gather(zeros([1, 4]), tensor([[0], [1]], "int32"), 1).shape).toEqual([2, 1]);
  });

  it("rejects rank mismatches, unbroadcastable shapes and out-of-range indices", () => {
    throwsTensor(() => gather(zeros([2, 3]), [0, 1], 1), "ShapeError", "gather", "rank", "[2, 3]", "[2]");
    throwsTensor(
      () => gather(zeros([2, 3]), tensor([[0], [0], [0]], "int32"), 1),
      "ShapeError",
      "gather",
      "[2, 3]",
      "[3, 1]",
    );
    throwsTensor(
      () => gather(zeros([2, 3]), tensor([[0, 3]], "int32"), 1),
      "ValueError",
      "gather",
      "index 3",
      "axis 1",
      "size 3",
    );
    throwsTensor(() => gather(zeros([2, 3]), tensor([[0.0]]), 1), "DTypeError", "gather", "int32");
    throwsTensor(
      () => addAlongAxis(zeros([2, 3]), tensor([[0], [1]], "int32"), zeros([2, 3]), 1),
      "ShapeError",
      "addAlongAxis",
      "[2, 1]",
    );
  });
});

describe("oneHot", () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 5 }).chain((depth) =>
        fc.tuple(
          dimsArb(0, 2).chain((s) => dataOf(s, 0, depth - 1).map((d) => fromDataOrThrow(d, s, "int32"))),
          fc.constant(depth),
        ),
      ),
    ],
    {
      numRuns: 50,
    },
  )("matches the naive encoding", ([ind, depth]) => {
    const y = oneHot(ind, depth);
    expect(y.shape).toEqual([...ind.shape, depth]);
    expect(y.dtype).toBe("float32");
    expect(values(y)).toEqual(values(ind).flatMap((i) => Array.from({ length: depth }, (_, c) => (c === i ? 1 : 0))));
  });

  it("takes arrays, dtypes and zero-size inputs", () => {
    const y = oneHot([2, 0], 3, "int32");
    expect(y.dtype).toBe("int32");
    expect(values(y)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(oneHot(scalar(1, "int32"), 2).shape).toEqual([2]);
    expect(oneHot([], 0).shape).toEqual([0, 0]);
  });

  it("rejects out-of-range indices and bad depths", () => {
    throwsTensor(() => oneHot([0, 3], 3), "ValueError", "oneHot", "index 3", "depth 3");
    throwsTensor(() => oneHot([-1], 3), "ValueError", "oneHot", "index -1");
    throwsTensor(() => oneHot([0], -1), "ValueError", "oneHot", "depth");
    throwsTensor(() => oneHot(tensor([1]), 3), "DTypeError", "oneHot", "int32");
  });
});

test.prop([gatherCase], { numRuns: 30 })("no indexing op writes its inputs", ([x, ind, axis]) => {
  const before = [values(x), values(ind)];
  gather(x, ind, axis);
  const g = addAlongAxis(x, ind, gather(x, ind, axis), axis);
  take(x, ind, axis);
  const t = addAt(x, ind, take(x, ind, axis), axis);
  expect([values(x), values(ind)]).toEqual(before);
  expect(g.data).not.toBe(x.data);
  expect(t.data).not.toBe(x.data);
});
