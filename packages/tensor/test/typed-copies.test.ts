/**
 * The block-copy paths of `fromData` (a typed array of the dtype's own class) and `concat` (inputs
 * of the result's dtype) give exactly what the element loops give: the same values, every bit of
 * every float (−0, infinities, subnormals), and bool data still normalised to 0/1.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { concat } from "../src/kernels/join.js";
import { fromDataOrThrow } from "../src/Tensor.js";

const bits = (a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
  Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe("typed-array copies", () => {
  test.prop([fc.float32Array({ maxLength: 40, noDefaultInfinity: false, noNaN: true })])(
    "fromData of a Float32Array keeps every bit, and equals the plain-array path",
    (xs) => {
      const fast = fromDataOrThrow(xs, [xs.length], "float32");
      const slow = fromDataOrThrow(Array.from(xs), [xs.length], "float32");
      expect(bits(fast.data)).toEqual(bits(xs));
      expect(bits(fast.data)).toEqual(bits(slow.data));
      // A copy: the source may change afterwards.
      if (xs.length > 0) expect(fast.data).not.toBe(xs);
    },
  );

  it("fromData copies Float64Array and Int32Array whole, and still normalises bool bytes", () => {
    const f64 = new Float64Array([-0, 5e-324, Infinity, -1.5]);
    expect(bits(fromDataOrThrow(f64, [4], "float64").data)).toEqual(bits(f64));
    const i32 = new Int32Array([-(2 ** 31), 7, 2 ** 31 - 1]);
    expect(Array.from(fromDataOrThrow(i32, [3], "int32").data)).toEqual([-(2 ** 31), 7, 2 ** 31 - 1]);
    expect(Array.from(fromDataOrThrow(new Uint8Array([0, 2, 255, 1]), [4], "bool").data)).toEqual([0, 1, 1, 1]);
    // Another class converts element by element, as before.
    expect(Array.from(fromDataOrThrow(new Float64Array([1.7, -2.2]), [2], "int32").data)).toEqual([1, -2]);
  });

  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 })])(
    "concat along an inner axis with equal dtypes matches an index-by-index construction",
    (outer, mid, inner) => {
      const a = fromDataOrThrow(
        Array.from({ length: outer * mid * inner }, (_, i) => i - 0.5),
        [outer, mid, inner],
        "float32",
      );
      const b = fromDataOrThrow(
        Array.from({ length: outer * 2 * inner }, (_, i) => -i),
        [outer, 2, inner],
        "float32",
      );
      const c = concat([a, b], 1);
      const expected: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < mid * inner; k++) expected.push(a.data[o * mid * inner + k]!);
        for (let k = 0; k < 2 * inner; k++) expected.push(b.data[o * 2 * inner + k]!);
      }
      expect(c.shape).toEqual([outer, mid + 2, inner]);
      expect(Array.from(c.data)).toEqual(expected);
    },
  );

  it("concat of mixed dtypes still promotes element by element", () => {
    const c = concat([fromDataOrThrow([1, 2], [2], "int32"), fromDataOrThrow([0.5], [1], "float32")], 0);
    expect(c.dtype).toBe("float32");
    expect(Array.from(c.data)).toEqual([1, 2, 0.5]);
  });
});
