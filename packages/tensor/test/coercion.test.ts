/**
 * @file JavaScript's conversions of a tensor (issue 13, item 9). Before, a tensor was a plain
 * frozen object: `x > 0` compared NaN and was false for every tensor, `Number(x)` was NaN, and
 * `${x}` was "[object Object]". Now a one-element tensor converts to its number, any other
 * tensor refuses with a ShapeError that names `where`, and strings are `toString(x)`.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";

/** The exception `thunk` throws; fails the test when it returns. */
const thrown = (thunk: () => unknown): T.TensorException => {
  try {
    thunk();
  } catch (e) {
    expect(e).toBeInstanceOf(T.TensorException);
    return e as T.TensorException;
  }
  throw new Error("expected a TensorException, but nothing was thrown");
};

// Conversions written the way users write them; `any` stands for plain JavaScript callers
// (TypeScript itself refuses `x > 0` on a tensor).
const js = (x: T.Tensor): any => x;

describe("a one-element tensor converts to its number", () => {
  it("in comparisons, arithmetic, Number() and ==, for every dtype", () => {
    const x = T.scalar(2.5, "float64");
    expect(js(x) > 0 ? "positive" : "not").toBe("positive");
    expect(js(T.scalar(-1)) > 0 ? "positive" : "not").toBe("not");
    expect(Number(x)).toBe(2.5);
    expect(+js(x)).toBe(2.5);
    expect(js(x) + 1).toBe(3.5);
    expect(js(x) * 2).toBe(5);
    expect(js(x) == 2.5).toBe(true);
    expect(Number(T.scalar(7, "int32"))).toBe(7);
    expect(Number(T.scalar(0.1, "float32"))).toBe(Math.fround(0.1));
    expect(Number(T.tensor(true))).toBe(1);
    expect(js(T.tensor(false)) == 0).toBe(true);
    expect(Math.max(js(T.scalar(3)), js(T.scalar(4)))).toBe(4);
  });

  it("whatever its shape, as NumPy's float() and item do: [1] and [1, 1, 1]", () => {
    expect(Number(T.tensor([4]))).toBe(4);
    expect(js(T.tensor([[[-2]]])) < 0).toBe(true);
    expect(Number(T.tensor([[[-2]]]))).toBe(T.item(T.tensor([[[-2]]])));
  });

  it("NaN stays NaN (the comparison is then false, as for the number)", () => {
    expect(Number.isNaN(Number(T.scalar(NaN)))).toBe(true);
  });
});

describe("any other tensor refuses to become a number", () => {
  const cases: ReadonlyArray<readonly [string, (x: any) => unknown]> = [
    ["x > 0", (x) => x > 0],
    ["x < y", (x) => x < T.zeros([2, 3])],
    ["Number(x)", (x) => Number(x)],
    ["+x", (x) => +x],
    ["x + 1", (x) => x + 1],
    ["x == 1", (x) => x == 1],
    ["Math.max(x)", (x) => Math.max(x)],
  ];
  for (const [name, use] of cases) {
    it(`${name} on a [2, 3] tensor names the op, the shape and where`, () => {
      const e = thrown(() => use(T.zeros([2, 3])));
      expect(e.error).toMatchObject({ _tag: "ShapeError", op: "toPrimitive", arg: "x", shapes: [[2, 3]] });
      expect(e.message).toMatch(
        /^toPrimitive: a float32 tensor of shape \[2, 3\] \(6 elements\) was used as a JavaScript number/,
      );
      expect(e.message).toMatch(/only a tensor with exactly one element/);
      expect(e.message).toMatch(/where\(cond, a, b\)/);
    });
  }
  it("an empty tensor too", () => {
    expect(thrown(() => Number(T.zeros([0]))).error).toMatchObject({ _tag: "ShapeError", op: "toPrimitive" });
  });
});

describe("a tensor converts to a string as toString prints it", () => {
  it("in template literals, String() and string concatenation of a scalar", () => {
    const m = T.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      "float64",
    );
    expect(`${m}`).toBe(T.toString(m));
    expect(String(m)).toBe(T.toString(m));
    expect(`loss ${T.scalar(0.5)}`).toBe(`loss ${T.toString(T.scalar(0.5))}`);
    // `+` asks for the default hint: a scalar gives its number, as it does in arithmetic.
    expect("loss " + js(T.scalar(0.5))).toBe("loss 0.5");
  });
  it("a large tensor prints elided, as toString does", () => {
    const big = T.zeros([100, 100]);
    expect(`${big}`).toBe(T.toString(big));
    expect(`${big}`).toContain("...");
  });
});

describe("the record is still a plain tensor to everything else", () => {
  it("own keys, frozen, structural isTensor; a structured clone is still a tensor to every op", () => {
    const x = T.tensor([1, 2, 3]);
    expect(Object.keys(x)).toEqual(["dtype", "shape", "data"]);
    expect(Object.isFrozen(x)).toBe(true);
    expect(JSON.stringify({ dtype: x.dtype, shape: x.shape })).toBe('{"dtype":"float32","shape":[3]}');
    const clone = structuredClone<T.Tensor>(x);
    expect(T.isTensor(clone)).toBe(true);
    expect([...T.add(clone, 1).data]).toEqual([2, 3, 4]);
    expect(T.toArray(clone)).toEqual([1, 2, 3]);
  });
  it("every constructor and kernel output has the conversions", () => {
    const outs = [
      T.zeros([1]),
      T.ones([]),
      T.full([1], 3),
      T.arange(1),
      T.sum(T.tensor([1, 2])),
      T.add(T.scalar(1), T.scalar(2)),
      T.astype(T.scalar(2), "int32"),
      T.reshape(T.tensor([5]), []),
    ];
    expect(outs.map((t) => Number(t))).toEqual([0, 1, 3, 0, 3, 3, 2, 5]);
  });
});
