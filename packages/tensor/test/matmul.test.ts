import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { matmul, matmulKernel } from "../src/kernels/matmul.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { size, unravel, ravel, values, throwsTensor } from "./helpers.js";

// ---- naive reference: NumPy's matmul rules spelled out, then a triple loop in float64 ----

const rank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

interface Ref {
  readonly shape: number[];
  readonly dtype: DType;
  readonly value: number[];
  /** Σ |a b| per output: the scale of its rounding error. */
  readonly magnitude: number[];
}

const refMatmul = (a: Tensor, b: Tensor): Ref => {
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const [m, k, n] = [as[as.length - 2]!, as[as.length - 1]!, bs[bs.length - 1]!];
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const r = Math.max(ab.length, bb.length);
  const batch = Array.from({ length: r }, (_, i) => {
    const da = ab[i - (r - ab.length)] ?? 1;
    const db = bb[i - (r - bb.length)] ?? 1;
    return da === 1 ? db : da;
  });
  const pick = (idx: number[], own: number[]): number[] =>
    own.map((d, i) => (d === 1 ? 0 : idx[i + (r - own.length)]!));
  const value: number[] = [];
  const magnitude: number[] = [];
  for (let t = 0; t < size(batch); t++) {
    const idx = unravel(t, batch);
    const aBase = ravel(pick(idx, ab), ab) * m * k;
    const bBase = ravel(pick(idx, bb), bb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let mag = 0;
        for (let p = 0; p < k; p++) {
          const prod = a.data[aBase + i * k + p]! * b.data[bBase + p * n + j]!;
          s += prod;
          mag += Math.abs(prod);
        }
        value.push(s);
        magnitude.push(mag);
      }
    }
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  const dtype = rank[a.dtype] >= rank[b.dtype] ? a.dtype : b.dtype;
  return { shape, dtype, value, magnitude };
};

// ---- arbitraries ----

const dtypeArb = fc.constantFrom<DType>("float64", "float64", "float32", "int32", "bool");
const tensorOf = (shape: readonly number[], dtype: DType) =>
  fc
    .array(
      dtype === "bool"
        ? fc.integer({ min: 0, max: 1 })
        : dtype === "int32"
          ? fc.integer({ min: -50, max: 50 })
          : fc.double({ min: -10, max: 10, noNaN: true }),
      { minLength: size(shape), maxLength: size(shape) },
    )
    .map((d) => fromDataOrThrow(d, shape, dtype));
/** A batch shape, and a version of its suffix with some axes set to 1 (so it broadcasts). */
const batchOf = (batch: readonly number[]) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: batch.length }),
      fc.array(fc.boolean(), { minLength: batch.length, maxLength: batch.length }),
    )
    .map(([drop, ones]) => batch.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
const dim = (max: number) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.integer({ min: 1, max }) });
const operandsArb = (maxDim: number) =>
  fc
    .record({
      m: dim(maxDim),
      k: dim(maxDim),
      n: dim(maxDim),
      batch: fc.array(
        fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) }),
        { maxLength: 3 },
      ),
      // A quarter of the operands are 1-D.
      aVec: fc.integer({ min: 0, max: 3 }).map((v) => v === 0),
      bVec: fc.integer({ min: 0, max: 3 }).map((v) => v === 0),
      aType: dtypeArb,
      bType: dtypeArb,
    })
    .chain(({ m, k, n, batch, aVec, bVec, aType, bType }) =>
      fc
        .tuple(batchOf(batch), batchOf(batch))
        .chain(([ab, bb]) =>
          fc.tuple(tensorOf(aVec ? [k] : [...ab, m, k], aType), tensorOf(bVec ? [k] : [...bb, k, n], bType)),
        ),
    );

const checkAgainstReference = (a: Tensor, b: Tensor): void => {
  const before = [values(a), values(b)];
  const r = matmul(a, b);
  const ref = refMatmul(a, b);
  expect(r.shape).toEqual(ref.shape);
  expect(r.dtype).toBe(ref.dtype);
  const got = values(r);
  expect(got.length).toBe(ref.value.length);
  got.forEach((v, i) => {
    const e = ref.value[i]!;
    if (ref.dtype === "bool") expect(v).toBe(e !== 0 ? 1 : 0);
    else if (ref.dtype === "int32") expect(v).toBe(e | 0);
    else {
      // Relative rounding per step, plus the smallest subnormal per step for underflow.
      const [eps, tiny] = ref.dtype === "float32" ? [2 ** -23, 2 ** -149] : [2 ** -52, 2 ** -1074];
      const k = a.shape[a.shape.length - 1]!;
      expect(Math.abs(v - e)).toBeLessThanOrEqual((k + 2) * (eps * ref.magnitude[i]! + tiny));
    }
  });
  expect([values(a), values(b)]).toEqual(before);
};

describe("matmul against a triple loop", () => {
  test.prop([operandsArb(6)], { numRuns: 100 })(
    "small shapes: 1-D operands, batches, broadcasting, zero sizes, all dtypes",
    ([a, b]) => checkAgainstReference(a, b),
  );

  test.prop(
    [fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }))],
    { numRuns: 20 },
  )("medium shapes exercise the 4×4 register blocks and their remainders", ([m, k, n]) => {
    const a = fromDataOrThrow(
      Array.from({ length: m * k }, (_, i) => Math.sin(i + m)),
      [m, k],
      "float64",
    );
    const b = fromDataOrThrow(
      Array.from({ length: k * n }, (_, i) => Math.cos(i * n)),
      [k, n],
      "float32",
    );
    checkAgainstReference(a, b);
    checkAgainstReference(fromDataOrThrow(values(a), [m, k], "float32"), b);
  });

  it("crosses the k and j cache blocks (k, n > 256)", () => {
    const [m, k, n] = [9, 300, 270];
    for (const dtype of ["float32", "float64", "int32"] as const) {
      const a = fromDataOrThrow(
        Array.from({ length: m * k }, (_, i) => ((i * 37) % 19) - 9),
        [m, k],
        dtype,
      );
      const b = fromDataOrThrow(
        Array.from({ length: k * n }, (_, i) => ((i * 11) % 23) - 11),
        [k, n],
        dtype,
      );
      // Small integers: every partial sum is exact in every dtype, so the comparison is exact.
      expect(values(matmul(a, b))).toEqual(refMatmul(a, b).value);
    }
  });
});

describe("matmul semantics", () => {
  const A = tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    "float64",
  );

  it("promotes 1-D operands to a row or a column and removes that axis", () => {
    const v = tensor([1, 1, 1], "float64");
    expect([matmul(A, v).shape, values(matmul(A, v))]).toEqual([[2], [6, 15]]);
    expect([matmul(tensor([1, 1], "float64"), A).shape, values(matmul(tensor([1, 1], "float64"), A))]).toEqual([
      [3],
      [5, 7, 9],
    ]);
    expect([matmul(v, v).shape, values(matmul(v, v))]).toEqual([[], [3]]);
    const stack = fromDataOrThrow([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2], "float64");
    expect(matmul(tensor([1, 2], "float64"), stack).shape).toEqual([2, 2]);
    expect(values(matmul(stack, tensor([1, 2], "float64")))).toEqual([1, 2, 2, 4]);
  });

  it("broadcasts batch axes", () => {
    const a = fromDataOrThrow([1, 2, 3, 4], [2, 1, 1, 2], "float64");
    const b = fromDataOrThrow([1, 0, 0, 1, 1, 1], [3, 2, 1], "float64");
    const r = matmul(a, b);
    expect(r.shape).toEqual([2, 3, 1, 1]);
    expect(values(r)).toEqual([1, 2, 3, 3, 4, 7]);
  });

  it("handles zero sizes: k = 0 gives zeros, m = 0 gives an empty result", () => {
    expect(values(matmul(fromDataOrThrow([], [2, 0]), fromDataOrThrow([], [0, 3])))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmul(fromDataOrThrow([], [0, 2]), fromDataOrThrow([1, 2], [2, 1])).shape).toEqual([0, 1]);
  });

  it("propagates NaN and Inf (no zero-skipping)", () => {
    expect(values(matmul(tensor([[0, 1]]), tensor([[NaN], [1]])))).toEqual([NaN]);
    expect(values(matmul(tensor([[0, 1]]), tensor([[Infinity], [1]])))).toEqual([NaN]);
    expect(values(matmul(tensor([[2, 1]]), tensor([[Infinity], [1]])))).toEqual([Infinity]);
  });

  it("promotes dtypes; int32 wraps exactly; bool @ bool is bool", () => {
    expect(matmul(tensor([1, 2], "int32"), tensor([1, 2], "float32")).dtype).toBe("float32");
    expect(matmul(tensor([1, 2], "float64"), tensor([1, 2], "int32")).dtype).toBe("float64");
    // (2^31 − 1)^2 needs 62 bits, more than a float64 product keeps: only exact int32 math gives 1.
    const big = fromDataOrThrow([2147483647, 3], [1, 2], "int32");
    expect(values(matmul(big, fromDataOrThrow([2147483647, 5], [2, 1], "int32")))).toEqual([1 + 15]);
    const r = matmul(
      tensor([
        [true, false],
        [false, false],
      ]),
      tensor([[true], [true]]),
    );
    expect([r.dtype, values(r)]).toEqual(["bool", [1, 0]]);
  });

  it("rejects scalars, mismatched inner axes and unbroadcastable batches with clear messages", () => {
    throwsTensor(() => matmul(tensor(2), A), "ShapeError", "matmul", "scalar operands are not allowed", "argument `a`");
    throwsTensor(() => matmul(A, tensor(2)), "ShapeError", "matmul", "argument `b`");
    throwsTensor(
      () => matmul(A, fromDataOrThrow(new Array(20).fill(0), [4, 5])),
      "ShapeError",
      "matmul: inner dimensions differ",
      "axis -1 of a has size 3",
      "axis -2 of b has size 4",
      "must agree",
      "shapes [2, 3], [4, 5]",
    );
    throwsTensor(() => matmul(A, tensor([1, 2])), "ShapeError", "axis 0 of the 1-D b has size 2", "[2, 3], [2]");
    throwsTensor(
      () =>
        matmul(fromDataOrThrow(new Array(12).fill(0), [2, 2, 3]), fromDataOrThrow(new Array(45).fill(0), [3, 3, 5])),
      "ShapeError",
      "batch axes [2] of a and [3] of b do not broadcast",
      "[2, 2, 3], [3, 3, 5]",
    );
  });
});

describe("matmulKernel", () => {
  it("overwrites exactly its block of out, at the given offsets", () => {
    const out = new Float64Array(8).fill(-7);
    const a = Float64Array.of(99, 1, 2, 3, 4); // 2×2 at offset 1
    const b = Float64Array.of(99, 99, 5, 6, 7, 8); // 2×2 at offset 2
    matmulKernel(out, 3, a, 1, b, 2, 2, 2, 2);
    expect(Array.from(out)).toEqual([-7, -7, -7, 19, 22, 43, 50, -7]);
  });

  it("computes int32 in wrapping integer arithmetic and refuses bool buffers", () => {
    const out = new Int32Array(1);
    matmulKernel(out, 0, Int32Array.of(65536, 7), 0, Int32Array.of(65536, 3), 0, 1, 2, 1);
    expect(out[0]).toBe(21); // 2^32 wraps to 0
    throwsTensor(
      () => matmulKernel(new Uint8Array(1), 0, Uint8Array.of(1), 0, Uint8Array.of(1), 0, 1, 1, 1),
      "DTypeError",
      "matmulKernel",
    );
  });
});
