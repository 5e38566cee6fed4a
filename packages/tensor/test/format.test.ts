import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { TensorException } from "../src/errors.js";
import { toString } from "../src/format.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";

const t = (values: readonly number[], shape: readonly number[], dtype: DType): Tensor =>
  fromDataOrThrow(values, shape, dtype);
const range = (n: number, f: (i: number) => number = (i) => i): number[] => Array.from({ length: n }, (_, i) => f(i));

// Expected strings were checked by hand against NumPy 2.4's repr (with "array(" renamed).
describe("toString: hand-checked NumPy-style output", () => {
  it.each<[string, Tensor, string]>([
    ["a float scalar", t([1.5], [], "float32"), "tensor(1.5, dtype=float32)"],
    ["an int scalar", t([3], [], "int32"), "tensor(3, dtype=int32)"],
    ["a bool scalar", t([1], [], "bool"), "tensor(true, dtype=bool)"],
    ["a NaN scalar", t([NaN], [], "float64"), "tensor(nan, dtype=float64)"],
    ["negative zero", t([-0], [], "float64"), "tensor(-0., dtype=float64)"],
    ["a vector with aligned points", t([1, 2.5, -3], [3], "float32"), "tensor([ 1. ,  2.5, -3. ], dtype=float32)"],
    [
      "a matrix",
      tensor([
        [1, 2],
        [3, 4],
      ]),
      "tensor([[1., 2.],\n        [3., 4.]], dtype=float32)",
    ],
    [
      "a 3-D tensor, blocks separated by a blank line",
      t(range(12), [2, 2, 3], "int32"),
      "tensor([[[ 0,  1,  2],\n         [ 3,  4,  5]],\n\n        [[ 6,  7,  8],\n         [ 9, 10, 11]]], dtype=int32)",
    ],
    ["an empty vector", t([], [0], "float32"), "tensor([], dtype=float32)"],
    ["an empty matrix, with its shape", t([], [2, 0], "float32"), "tensor([], shape=[2, 0], dtype=float32)"],
    ["an empty bool tensor", t([], [0, 3, 1], "bool"), "tensor([], shape=[0, 3, 1], dtype=bool)"],
    ["bools as true/false", tensor([true, false, true]), "tensor([ true, false,  true], dtype=bool)"],
    ["int32, right-aligned", t([-5, 100, 7], [3], "int32"), "tensor([ -5, 100,   7], dtype=int32)"],
    [
      "nan, inf, -inf",
      t([NaN, Infinity, -Infinity, 1], [4], "float32"),
      "tensor([ nan,  inf, -inf,   1.], dtype=float32)",
    ],
    ["nan widens the column", t([1, NaN], [2], "float64"), "tensor([ 1., nan], dtype=float64)"],
    [
      "small values in scientific notation",
      t([1e-5, 1.5], [2], "float64"),
      "tensor([1.0e-05, 1.5e+00], dtype=float64)",
    ],
    [
      "large float32 in scientific notation",
      t([1e10, -3.25], [2], "float32"),
      "tensor([ 1.00e+10, -3.25e+00], dtype=float32)",
    ],
    [
      "scientific digits extended from the exact value",
      t([1e-6, 1.23e-6, 1 / 3e5], [3], "float32"),
      "tensor([1.0000e-06, 1.2300e-06, 3.3333e-06], dtype=float32)",
    ],
    ["float32 shortest digits", t([0.1, 0.2, 0.3], [3], "float32"), "tensor([0.1, 0.2, 0.3], dtype=float32)"],
    [
      "float32 below 1e6 stays positional",
      t(
        range(6, (i) => i * 1e5),
        [2, 3],
        "float32",
      ),
      "tensor([[     0., 100000., 200000.],\n        [300000., 400000., 500000.]], dtype=float32)",
    ],
    [
      "long rows wrap at 75 columns",
      t(
        range(30, (i) => i / 7),
        [30],
        "float32",
      ),
      "tensor([0.    , 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.    ,\n" +
        "        1.1429, 1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.    , 2.1429,\n" +
        "        2.2857, 2.4286, 2.5714, 2.7143, 2.8571, 3.    , 3.1429, 3.2857,\n" +
        "        3.4286, 3.5714, 3.7143, 3.8571, 4.    , 4.1429], dtype=float32)",
    ],
  ])("%s", (_, x, expected) => {
    expect(toString(x)).toBe(expected);
  });

  it("elides the middle of every axis of large tensors", () => {
    expect(toString(t(range(2000), [2, 1000], "int32"))).toBe(
      "tensor([[   0,    1,    2, ...,  997,  998,  999],\n        [1000, 1001, 1002, ..., 1997, 1998, 1999]], dtype=int32)",
    );
    expect(toString(t(range(10000), [100, 100], "int32"))).toBe(
      [
        "tensor([[   0,    1,    2, ...,   97,   98,   99],",
        "        [ 100,  101,  102, ...,  197,  198,  199],",
        "        [ 200,  201,  202, ...,  297,  298,  299],",
        "        ...,",
        "        [9700, 9701, 9702, ..., 9797, 9798, 9799],",
        "        [9800, 9801, 9802, ..., 9897, 9898, 9899],",
        "        [9900, 9901, 9902, ..., 9997, 9998, 9999]], dtype=int32)",
      ].join("\n"),
    );
  });

  it("puts the dtype on its own line when the last line is full", () => {
    expect(
      toString(
        t(
          range(1001, (i) => i / 7),
          [1001],
          "float32",
        ),
      ),
    ).toBe("tensor([  0.    ,   0.1429,   0.2857, ..., 142.5714, 142.7143, 142.8571],\n       dtype=float32)");
  });

  it("honours threshold and edgeItems", () => {
    expect(
      toString(
        t(
          range(24, (i) => i / 4),
          [2, 3, 4],
          "float64",
        ),
        { threshold: 10, edgeItems: 1 },
      ),
    ).toBe(
      "tensor([[[0.  , ..., 0.75],\n         ...,\n         [2.  , ..., 2.75]],\n\n        [[3.  , ..., 3.75],\n         ...,\n         [5.  , ..., 5.75]]], dtype=float64)",
    );
    expect(toString(t(range(10), [10], "int32"), { threshold: 5, edgeItems: 0 })).toBe("tensor([...], dtype=int32)");
    expect(toString(t(range(10), [10], "int32"), { threshold: 10 })).toBe(
      "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=int32)",
    );
  });

  it("honours precision, rounding exact ties to even as NumPy does", () => {
    expect(toString(t([3.14159265, 2.71828], [2], "float64"), { precision: 2 })).toBe(
      "tensor([3.14, 2.72], dtype=float64)",
    );
    expect(toString(t([0.125, 0.375, 2.5], [3], "float64"), { precision: 2 })).toBe(
      "tensor([0.12, 0.38, 2.5 ], dtype=float64)",
    );
    expect(toString(t([1 / 3], [1], "float32"), { precision: 8 })).toBe("tensor([0.33333334], dtype=float32)");
    expect(toString(t([1 / 3], [1], "float64"))).toBe("tensor([0.3333], dtype=float64)");
    // float32 0.35 is 0.3499999940..., so it rounds down even though its shortest form ends in 5.
    expect(toString(t([0.35], [], "float32"), { precision: 1 })).toBe("tensor(0.3, dtype=float32)");
  });

  it("rejects invalid options", () => {
    expect(() => toString(tensor([1]), { precision: -1 })).toThrow(TensorException);
    expect(() => toString(tensor([1]), { precision: 1.5 })).toThrow(/invalid precision 1.5/);
    expect(() => toString(tensor([1]), { edgeItems: -2 })).toThrow(/invalid edgeItems/);
    expect(() => toString(tensor([1]), { threshold: NaN })).toThrow(/invalid threshold/);
  });
});

describe("toString: properties", () => {
  const tensorArb = fc
    .tuple(
      fc.constantFrom<DType>("float32", "float64", "int32", "bool"),
      fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
    )
    .chain(([dtype, shape]) => {
      const n = shape.reduce((a, d) => a * d, 1);
      const el =
        dtype === "int32"
          ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
          : dtype === "bool"
            ? fc.integer({ min: 0, max: 1 })
            : fc.double();
      return fc.array(el, { minLength: n, maxLength: n }).map((values) => t(values, shape, dtype));
    });

  test.prop([tensorArb, fc.integer({ min: 0, max: 12 })], { numRuns: 100 })(
    "names the dtype, aligns every element of a row to one width, and never throws",
    (x, precision) => {
      const s = toString(x, { precision });
      expect(s.startsWith("tensor(")).toBe(true);
      expect(s.endsWith(`dtype=${x.dtype})`)).toBe(true);
      if (x.shape.length === 1 && x.data.length > 0) {
        const body = s.slice("tensor([".length, s.lastIndexOf("]"));
        const widths = new Set(body.split(/,\n {8}|, /).map((w) => w.length));
        expect(widths.size).toBe(1);
        expect(body.split(",").length).toBe(x.data.length);
      }
    },
  );

  test.prop(
    [fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 3 })],
    { numRuns: 50 },
  )("elided output shows edgeItems per edge and stays small", (shape, edgeItems) => {
    const n = shape.reduce((a, d) => a * d, 1);
    const s = toString(t(range(n), shape, "int32"), { threshold: 10, edgeItems });
    if (n > 10) expect(s.includes("...") === shape.some((d) => d > 2 * edgeItems)).toBe(true);
    const shown = (s.match(/-?\d+(?=[,\]])/g) ?? []).length;
    expect(shown).toBe(shape.reduce((a, d) => a * (n > 10 && d > 2 * edgeItems ? 2 * edgeItems : d), 1));
  });
});
