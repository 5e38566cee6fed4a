import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { arange, ones, scalar, zeros } from "../src/creation.js";
import { dtypes, type DType } from "../src/DType.js";
import { concat, pad, split, stack } from "../src/kernels/join.js";
import { expandDims } from "../src/kernels/movement.js";
import { slice } from "../src/kernels/slice.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { size, unravel, values, throwsTensor } from "./helpers.js";

// ---- naive references: multi-index arithmetic written out by hand ----

const at = (x: Tensor, idx: readonly number[]): number => x.data[idx.reduce((f, v, a) => f * x.shape[a]! + v, 0)]!;
const build = (shape: readonly number[], f: (idx: number[]) => number): number[] =>
  Array.from({ length: size(shape) }, (_, i) => f(unravel(i, shape)));
const order: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

// ---- arbitraries ----

const tensorOf = (shape: readonly number[], dtype: DType = "float64") =>
  fc
    .array(fc.integer({ min: -99, max: 99 }), { minLength: size(shape), maxLength: size(shape) })
    .map((d) => fromDataOrThrow(d, shape, dtype));
const dimsArb = (minRank: number, maxRank: number) =>
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: minRank, maxLength: maxRank });
const tensorArb = dimsArb(0, 4).chain((s) => tensorOf(s));

/** Tensors equal in shape except along `axis`, each with its own dtype. */
const concatCase = dimsArb(1, 4).chain((base) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: base.length - 1 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(...dtypes)), { minLength: 1, maxLength: 4 }),
    )
    .chain(([axis, parts]) =>
      fc.tuple(
        fc.constant(axis),
        fc.tuple(
          ...parts.map(([n, dt]) =>
            tensorOf(
              base.map((d, i) => (i === axis ? n : d)),
              dt,
            ),
          ),
        ),
      ),
    ),
);

describe("concat", () => {
  test.prop([concatCase], { numRuns: 100 })("matches the naive concatenation and promotes dtypes", ([axis, xs]) => {
    const starts = xs.map((_, k) => xs.slice(0, k).reduce((s, x) => s + x.shape[axis]!, 0));
    const total = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    const shape = xs[0]!.shape.map((d, i) => (i === axis ? total : d));
    const y = concat(xs, axis - xs[0]!.shape.length); // a negative axis names the same one
    expect(y.shape).toEqual(shape);
    expect(y.dtype).toBe(xs.map((x) => x.dtype).reduce((a, b) => (order[a] >= order[b] ? a : b)));
    const expected = build(shape, (idx) => {
      let k = xs.length - 1;
      while (starts[k]! > idx[axis]!) k--;
      return at(
        xs[k]!,
        idx.map((v, i) => (i === axis ? v - starts[k]! : v)),
      );
    });
    expect(values(y)).toEqual(expected);
  });

  test.prop([concatCase], { numRuns: 50 })("split at the part boundaries undoes it", ([axis, xs]) => {
    const cuts = xs.slice(0, -1).map((_, k) => xs.slice(0, k + 1).reduce((s, x) => s + x.shape[axis]!, 0));
    const parts = split(concat(xs, axis), cuts, axis);
    expect(parts.length).toBe(xs.length);
    parts.forEach((p, k) => {
      expect(p.shape).toEqual(xs[k]!.shape);
      expect(values(p)).toEqual(values(xs[k]!));
    });
  });

  it("handles zero-size inputs, a single input and bool", () => {
    const y = concat([zeros([2, 0]), ones([2, 3]), zeros([2, 0])], 1);
    expect(y.shape).toEqual([2, 3]);
    expect(values(y)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(concat([zeros([0, 3]), zeros([0, 3])]).shape).toEqual([0, 3]);
    const x = arange(3);
    expect(concat([x])).toBe(x);
    const b = concat([tensor([true]), tensor([false, true])]);
    expect(b.dtype).toBe("bool");
    expect(values(b)).toEqual([1, 0, 1]);
  });

  it("rejects empty lists, scalars and mismatched shapes", () => {
    throwsTensor(() => concat([]), "ValueError", "concat", "empty list", "non-empty array");
    throwsTensor(() => concat([scalar(1), scalar(2)]), "ShapeError", "concat", "stack");
    throwsTensor(() => concat([zeros([2, 3]), zeros([3, 3])], 1), "ShapeError", "concat", "[2, 3]", "[3, 3]", "xs[1]");
    throwsTensor(() => concat([zeros([2, 3]), zeros([2, 3, 1])]), "ShapeError", "concat", "[2, 3, 1]");
    throwsTensor(() => concat([zeros([2, 3])], 2), "AxisError", "concat");
  });
});

describe("stack", () => {
  const stackCase = dimsArb(0, 3).chain((shape) =>
    fc.tuple(
      fc.integer({ min: -shape.length - 1, max: shape.length }),
      fc.array(tensorOf(shape), { minLength: 1, maxLength: 4 }),
    ),
  );

  test.prop([stackCase], { numRuns: 100 })("matches the naive stack and expandDims + concat", ([axis, xs]) => {
    const rank = xs[0]!.shape.length;
    const a = axis < 0 ? axis + rank + 1 : axis;
    const shape = [...xs[0]!.shape.slice(0, a), xs.length, ...xs[0]!.shape.slice(a)];
    const y = stack(xs, axis);
    expect(y.shape).toEqual(shape);
    expect(values(y)).toEqual(
      build(shape, (idx) =>
        at(
          xs[idx[a]!]!,
          idx.filter((_, i) => i !== a),
        ),
      ),
    );
    expect(values(y)).toEqual(
      values(
        concat(
          xs.map((x) => expandDims(x, a)),
          a,
        ),
      ),
    );
  });

  it("stacks scalars and promotes", () => {
    const y = stack([scalar(1, "int32"), scalar(2.5, "float64")]);
    expect(y.shape).toEqual([2]);
    expect(y.dtype).toBe("float64");
    expect(values(y)).toEqual([1, 2.5]);
  });

  it("rejects empty lists, unequal shapes and bad axes", () => {
    throwsTensor(() => stack([]), "ValueError", "stack", "empty list");
    throwsTensor(() => stack([zeros([2]), zeros([3])]), "ShapeError", "stack", "[2]", "[3]");
    throwsTensor(() => stack([zeros([2])], 2), "AxisError", "stack");
  });
});

describe("split", () => {
  test.prop(
    [
      dimsArb(1, 3).chain((shape) =>
        fc.tuple(
          tensorOf(shape),
          fc.integer({ min: 0, max: shape.length - 1 }),
          fc.array(fc.integer({ min: 0, max: shape[0]! }), { maxLength: 3 }),
        ),
      ),
    ],
    { numRuns: 100 },
  )("concatenating sorted split parts gives back x", ([x, axis, raw]) => {
    const cuts = raw.map((c) => Math.min(c, x.shape[axis]!)).sort((p, q) => p - q);
    const parts = split(x, cuts, axis);
    expect(parts.length).toBe(cuts.length + 1);
    parts.forEach((p, k) => expect(p.shape[axis]).toBe((cuts[k] ?? x.shape[axis]!) - (k === 0 ? 0 : cuts[k - 1]!)));
    const y = concat(parts, axis);
    expect(y.shape).toEqual(x.shape);
    expect(values(y)).toEqual(values(x));
  });

  it("splits into equal sections", () => {
    const parts = split(fromDataOrThrow([...Array(12).keys()], [2, 6], "int32"), 3, -1);
    expect(parts.map((p) => p.shape)).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
    expect(values(parts[1]!)).toEqual([2, 3, 8, 9]);
    expect(split(zeros([0]), 3).map((p) => p.shape)).toEqual([[0], [0], [0]]);
  });

  it("follows NumPy for unsorted, negative and out-of-range indices", () => {
    const r = arange(5);
    expect(split(r, [3, 1]).map(values)).toEqual([[0, 1, 2], [], [1, 2, 3, 4]]);
    expect(split(r, [-2, 10]).map(values)).toEqual([[0, 1, 2], [3, 4], []]);
    expect(split(r, []).map(values)).toEqual([[0, 1, 2, 3, 4]]);
  });

  it("rejects sections that do not divide the axis", () => {
    throwsTensor(() => split(zeros([2, 5]), 2, 1), "ShapeError", "split", "size 5", "2 equal sections", "[2, 5]");
    throwsTensor(() => split(zeros([4]), 0), "ShapeError", "split", "positive integer");
    throwsTensor(() => split(zeros([4]), [1.5]), "ValueError", "split", "integers");
    throwsTensor(() => split(scalar(1), 1), "AxisError", "split");
  });
});

describe("pad", () => {
  const padCase = tensorArb.chain((x) =>
    fc.tuple(
      fc.constant(x),
      fc.tuple(...x.shape.map(() => fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })))),
      fc.integer({ min: -5, max: 5 }),
    ),
  );

  test.prop([padCase], { numRuns: 100 })(
    "matches the naive pad, and slicing the padding off is the identity",
    ([x, widths, value]) => {
      const shape = x.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]);
      const y = pad(x, widths, value);
      expect(y.shape).toEqual(shape);
      expect(values(y)).toEqual(
        build(shape, (idx) => {
          const src = idx.map((v, i) => v - widths[i]![0]);
          return src.every((v, i) => v >= 0 && v < x.shape[i]!) ? at(x, src) : value;
        }),
      );
      const back = slice(
        y,
        widths.map(([lo], i) => ({ start: lo, stop: lo + x.shape[i]! })),
      );
      expect(back.shape).toEqual(x.shape);
      expect(values(back)).toEqual(values(x));
    },
  );

  it("converts the value to x's dtype", () => {
    const y = pad(arange(2), [[1, 0]], 2.7);
    expect(y.dtype).toBe("int32");
    expect(values(y)).toEqual([2, 0, 1]);
    expect(values(pad(tensor([false]), [[1, 1]], 3))).toEqual([1, 0, 1]);
    expect(values(pad(zeros([0]), [[1, 2]], 4))).toEqual([4, 4, 4]);
  });

  it("rejects widths of the wrong length or sign", () => {
    throwsTensor(() => pad(zeros([2, 3]), [[1, 1]]), "ShapeError", "pad", "[2, 3]", "2 pairs");
    throwsTensor(() => pad(zeros([2]), [[-1, 0]]), "ShapeError", "pad", "non-negative");
    throwsTensor(() => pad(zeros([2]), [[0.5, 0]]), "ShapeError", "pad");
  });
});

test.prop([concatCase], { numRuns: 30 })("no join op writes its inputs", ([axis, xs]) => {
  const before = xs.map(values);
  concat(xs, axis);
  stack(
    xs.map((x) => (x.shape.every((d, i) => d === xs[0]!.shape[i]) ? x : xs[0]!)),
    axis,
  );
  split(xs[0]!, [1], axis);
  pad(
    xs[0]!,
    xs[0]!.shape.map(() => [1, 1] as const),
    9,
  );
  expect(xs.map(values)).toEqual(before);
});
