import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { arange, scalar, zeros } from "../src/creation.js";
import { flip } from "../src/kernels/movement.js";
import { slice, type SliceSpec } from "../src/kernels/slice.js";
import { fromDataOrThrow, tensor, toArray, type NestedArray } from "../src/Tensor.js";
import { size, values, throwsTensor } from "./helpers.js";

// ---- naive reference: CPython's list slicing, applied recursively to nested arrays ----

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** The positions `list[start:stop:step]` visits, following CPython's PySlice_AdjustIndices. */
const pyIndices = (len: number, spec: SliceSpec | null | undefined): number[] => {
  const step = spec?.step ?? 1;
  const norm = (v: number): number => (v < 0 ? v + len : v);
  const [lo, hi] = step > 0 ? [0, len] : [-1, len - 1];
  const start = spec?.start === undefined ? (step > 0 ? 0 : len - 1) : clamp(norm(spec.start), lo, hi);
  const stop = spec?.stop === undefined ? (step > 0 ? len : -1) : clamp(norm(spec.stop), lo, hi);
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
};

const naiveSlice = (value: NestedArray, specs: ReadonlyArray<SliceSpec | null>): NestedArray => {
  if (!Array.isArray(value)) return value;
  const [head, ...rest] = specs;
  return pyIndices(value.length, head).map((i) => naiveSlice(value[i], rest));
};

const flatten = (value: NestedArray): number[] => (Array.isArray(value) ? value.flatMap(flatten) : [Number(value)]);

// ---- arbitraries ----

const tensorArb = fc
  .array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 })
  .chain((shape) =>
    fc
      .array(fc.integer({ min: -99, max: 99 }), { minLength: size(shape), maxLength: size(shape) })
      .map((d) => fromDataOrThrow(d, shape, "float64")),
  );
const bound = fc.option(fc.integer({ min: -8, max: 8 }), { nil: undefined });
const specArb: fc.Arbitrary<SliceSpec | null> = fc.oneof(
  fc.constant(null),
  fc
    .record(
      {
        start: bound,
        stop: bound,
        step: fc.option(
          fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0),
          { nil: undefined },
        ),
      },
      { requiredKeys: [] },
    )
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as SliceSpec),
);
const withSpecs = tensorArb.chain((x) => fc.tuple(fc.constant(x), fc.array(specArb, { maxLength: x.shape.length })));

describe("slice", () => {
  test.prop([withSpecs], { numRuns: 100 })("matches Python slicing of nested lists", ([x, specs]) => {
    const expected = naiveSlice(toArray(x), specs);
    const y = slice(x, specs);
    // Shapes come from the index lists, since nested arrays forget inner sizes below an empty axis.
    expect(y.shape).toEqual(x.shape.map((d, a) => pyIndices(d, specs[a]).length));
    expect(values(y)).toEqual(flatten(expected));
    expect(y.dtype).toBe(x.dtype);
  });

  test.prop([tensorArb], { numRuns: 50 })("a step of -1 on every axis is flip", (x) => {
    expect(
      values(
        slice(
          x,
          x.shape.map(() => ({ step: -1 })),
        ),
      ),
    ).toEqual(values(flip(x)));
  });

  test.prop([withSpecs], { numRuns: 50 })("never writes its input", ([x, specs]) => {
    const before = values(x);
    slice(x, specs);
    expect(values(x)).toEqual(before);
  });

  it("agrees with NumPy on hand-checked cases", () => {
    const r = arange(10);
    const s = (...specs: Array<SliceSpec | null>): number[] => values(slice(r, specs));
    expect(s({ start: -3 })).toEqual([7, 8, 9]);
    expect(s({ start: 8, stop: 2, step: -2 })).toEqual([8, 6, 4]);
    expect(s({ step: -3 })).toEqual([9, 6, 3, 0]);
    expect(s({ start: -20, stop: 20, step: 4 })).toEqual([0, 4, 8]);
    expect(s({ start: 20, stop: -20, step: -4 })).toEqual([9, 5, 1]);
    expect(s({ start: 5, stop: 5 })).toEqual([]);
    expect(s({ start: 2, stop: 7, step: -1 })).toEqual([]);
    expect(s({ stop: -11, step: -1 })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = slice(m, [null, { step: -2 }]);
    expect(y.shape).toEqual([2, 2]);
    expect(values(y)).toEqual([3, 1, 6, 4]);
    expect(values(slice(m, [{ start: 1 }]))).toEqual([4, 5, 6]);
    expect(slice(m, [{ start: 1 }]).shape).toEqual([1, 3]);
  });

  it("keeps missing trailing axes whole and returns the input for a full slice", () => {
    const x = zeros([2, 3, 4]);
    expect(slice(x, [{ start: 1 }]).shape).toEqual([1, 3, 4]);
    expect(slice(x, [])).toBe(x);
    expect(slice(x, [null, {}, { start: 0, stop: 99, step: 1 }])).toBe(x);
    const s0 = scalar(3);
    expect(slice(s0, [])).toBe(s0);
    expect(slice(zeros([0, 2]), [{ start: -1 }]).shape).toEqual([0, 2]);
  });

  it("shares the buffer for a contiguous run and copies otherwise", () => {
    const x = fromDataOrThrow([...Array(24).keys()], [2, 3, 4], "int32");
    const rows = slice(x, [{ start: 1 }, { start: 1, stop: 3 }]);
    expect(rows.data.buffer).toBe(x.data.buffer);
    expect(values(rows)).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    const one = slice(x, [
      { start: 1, stop: 2 },
      { start: 2, stop: 3 },
      { start: 1, stop: 3 },
    ]);
    expect(one.data.buffer).toBe(x.data.buffer);
    expect(values(one)).toEqual([21, 22]);
    const cols = slice(x, [null, null, { stop: 2 }]);
    expect(cols.data.buffer).not.toBe(x.data.buffer);
    expect(values(cols)).toEqual([0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21]);
  });

  it("keeps int32 and bool dtypes", () => {
    const b = slice(tensor([true, false, true]), [{ step: 2 }]);
    expect(b.dtype).toBe("bool");
    expect(values(b)).toEqual([1, 1]);
    expect(slice(arange(4), [{ start: 1 }]).dtype).toBe("int32");
  });

  it("rejects a zero step, too many specs and non-integer bounds", () => {
    throwsTensor(() => slice(arange(4), [{ step: 0 }]), "ValueError", "slice", "step cannot be zero", "specs[0].step");
    throwsTensor(() => slice(zeros([2, 3]), [null, null, null]), "ShapeError", "slice", "3 slice specs", "[2, 3]");
    throwsTensor(() => slice(scalar(1), [null]), "ShapeError", "slice", "rank-0");
    throwsTensor(() => slice(zeros([2, 3]), [null, { start: 1.5 }]), "ValueError", "specs[1].start");
  });
});
