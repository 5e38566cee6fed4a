import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import {
  add,
  arange,
  astype,
  eye,
  fromArray,
  fromBuffer,
  fromArrayOrThrow,
  fromData,
  fromDataOrThrow,
  full,
  isTensor,
  item,
  linspace,
  ones,
  onesLike,
  promoteTypes,
  scalar,
  tensor,
  TensorException,
  toArray,
  validateTensor,
  zeros,
  zerosLike,
  broadcastShapes,
  normalizeAxes,
  normalizeAxis,
  stridesOf,
  type NestedArray,
} from "../src/index.js";

describe("constructors", () => {
  it("fromArray infers shape and dtype", () => {
    const t = fromArrayOrThrow([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float32");
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(fromArrayOrThrow([true, false]).dtype).toBe("bool");
    expect(fromArrayOrThrow(5, "int32").shape).toEqual([]);
    expect(fromArrayOrThrow([]).shape).toEqual([0]);
    expect(fromArrayOrThrow([[], []]).shape).toEqual([2, 0]);
  });

  it("rejects ragged input with a Left naming the path", () => {
    const r = fromArray([[1, 2], [3]]);
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) {
      expect(r.left._tag).toBe("ValueError");
      expect(r.left.op).toBe("fromArray");
      expect(JSON.stringify(r.left)).toContain("value[1]");
    }
    expect(() => fromArrayOrThrow([[1], [[2]]])).toThrow(/ragged/);
    expect(() => fromArrayOrThrow([1, "a"] as unknown as NestedArray)).toThrow(TensorException);
  });

  it("fromData validates the element count and copies", () => {
    expect(E.isLeft(fromData([1, 2, 3], [2, 2]))).toBe(true);
    expect(() => fromDataOrThrow([1, 2, 3], [2, 2])).toThrow(
      /fromData: shape \[2, 2\] holds 4 elements but data has 3/,
    );
    expect(() => fromDataOrThrow([1], [-1])).toThrow(/non-negative integers/);
    expect(() => fromDataOrThrow([1], [1], "float16" as never)).toThrow(/unknown dtype "float16"/);
    const r = fromData(new Float32Array([1, 2]), [2], "float64");
    expect(E.isRight(r) && r.right.data instanceof Float64Array).toBe(true);
  });

  it("tensors are frozen records", () => {
    const t = tensor([1, 2]);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(isTensor(t)).toBe(true);
    expect(isTensor({ dtype: "float32", shape: [1] })).toBe(false);
    expect(E.isRight(validateTensor(t))).toBe(true);
    expect(E.isLeft(validateTensor({ dtype: "float32", shape: [3], data: new Float32Array(2) }))).toBe(true);
  });

  it("zeros, ones, full, *Like, scalar, eye", () => {
    expect(Array.from(zeros([2, 2], "int32").data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ones([3]).data)).toEqual([1, 1, 1]);
    expect(Array.from(full([2], 7.5, "float64").data)).toEqual([7.5, 7.5]);
    expect(zerosLike(ones([2, 3], "float64")).dtype).toBe("float64");
    expect(Array.from(onesLike(zeros([2])).data)).toEqual([1, 1]);
    expect(scalar(3).shape).toEqual([]);
    expect(zeros([0, 3]).data.length).toBe(0);
    expect(toArray(eye(2, 3, 1))).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(toArray(eye(3, 2, -1))).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
  });

  it("arange and linspace follow NumPy", () => {
    expect(Array.from(arange(5).data)).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe("int32");
    expect(Array.from(arange(1, 2, 0.25).data)).toEqual([1, 1.25, 1.5, 1.75]);
    expect(Array.from(arange(5, 0, -2).data)).toEqual([5, 3, 1]);
    expect(arange(3, 1).shape).toEqual([0]);
    expect(() => arange(0, 1, 0)).toThrow(/step/);
    expect(Array.from(linspace(0, 1, 5).data)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Array.from(linspace(2, 3, 1, "float64").data)).toEqual([2]);
    expect(linspace(0, 1, 0).shape).toEqual([0]);
  });
});

describe("conversions", () => {
  test.prop([
    fc.array(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 3, maxLength: 3 }), { maxLength: 5 }),
  ])("toArray inverts fromArray", (rows) => {
    expect(toArray(fromArrayOrThrow(rows, "int32"))).toEqual(rows.length === 0 ? [] : rows);
  });

  it("item needs exactly one element", () => {
    expect(item(scalar(3))).toBe(3);
    expect(item(ones([1, 1]))).toBe(1);
    expect(() => item(ones([2]))).toThrow(/item needs exactly one element, the tensor has 2/);
  });

  it("astype truncates toward zero, NaN is true as bool (NumPy)", () => {
    expect(Array.from(astype(tensor([1.7, -1.7, 0.2]), "int32").data)).toEqual([1, -1, 0]);
    expect(toArray(astype(tensor([0, 2, NaN]), "bool"))).toEqual([false, true, true]);
    const t = tensor([1]);
    expect(astype(t, "float32")).toBe(t);
  });
});

describe("shapes", () => {
  it("broadcastShapes follows NumPy and names the op on failure", () => {
    expect(broadcastShapes("add", [2, 1, 3], [4, 3])).toEqual([2, 4, 3]);
    expect(broadcastShapes("add", [], [0, 2])).toEqual([0, 2]);
    expect(broadcastShapes("add", [1], [0])).toEqual([0]);
    expect(() => broadcastShapes("add", [2, 3], [4])).toThrow(
      /^add: shapes cannot be broadcast together.*\[2, 3\], \[4\]/,
    );
  });

  it("axes normalise, reject out-of-range and duplicates", () => {
    expect(normalizeAxis("sum", "axis", -1, 3)).toBe(2);
    expect(() => normalizeAxis("sum", "axis", 3, 3)).toThrow(
      /sum: axis 3 is out of range for a rank-3 tensor.*\[-3, 2\]/,
    );
    expect(() => normalizeAxis("sum", "axis", 0, 0)).toThrow(/a scalar has no axes/);
    expect(normalizeAxes("sum", "axis", [-1, 0], 3)).toEqual([0, 2]);
    expect(() => normalizeAxes("sum", "axis", [0, -3], 3)).toThrow(/same axis twice/);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
  });

  it("promotion follows the documented lattice", () => {
    expect(promoteTypes("int32", "float32")).toBe("float32");
    expect(promoteTypes("float64", "float32")).toBe("float64");
    expect(promoteTypes("bool", "int32")).toBe("int32");
  });
});

describe("records whose data is not a genuine typed array of their dtype", () => {
  // Before: `instanceof` let these through, and the first `length` threw a raw TypeError (or, for
  // an Int32Array dressed as a Float32Array, the int bits were read as floats).
  const forged = Object.create(Float32Array.prototype) as Float32Array;
  const dressed = Object.setPrototypeOf(Int32Array.of(1065353216), Float32Array.prototype) as Float32Array;
  const viewAsBytes = Object.setPrototypeOf(new DataView(new ArrayBuffer(4)), Uint8Array.prototype) as Uint8Array;
  const records = [
    ["an object inheriting from Float32Array.prototype", { dtype: "float32", shape: [0], data: forged }],
    ["an Int32Array given Float32Array's prototype", { dtype: "float32", shape: [1], data: dressed }],
    ["a DataView given Uint8Array's prototype", { dtype: "bool", shape: [4], data: viewAsBytes }],
  ] as const;

  it.each(records)("%s is not a tensor: isTensor and validateTensor say so without throwing", (_label, record) => {
    expect(isTensor(record)).toBe(false);
    const r = validateTensor(record);
    expect(E.isLeft(r) && r.left._tag).toBe("ValueError");
  });

  it.each(records)("%s given to an op is the library's error, not a TypeError", (_label, record) => {
    expect(() => add(record as never, 1)).toThrow(TensorException);
    expect(() => fromBuffer(record.dtype, record.shape, record.data)).toThrow(/whose data is not a/);
  });

  it("genuine typed arrays from subclasses (Node's Buffer) still pass", () => {
    expect(isTensor({ dtype: "bool", shape: [2], data: Buffer.from([0, 1]) })).toBe(true);
  });
});
