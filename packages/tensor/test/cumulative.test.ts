import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { cummax, cummin, cumprod, cumsum, logcumsumexp, type CumulativeOptions } from "../src/kernels/cumulative.js";
import { linearScan } from "../src/kernels/linearScan.js";
import { setKernelBackend } from "../src/kernels/backend.js";
import { cumsumPlanesWasm } from "../src/wasm/cumsumWasm.js";
import { flip } from "../src/kernels/movement.js";
import { sum } from "../src/kernels/reduce.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { ravel, size, throwsTensor, unravel, values } from "./helpers.js";

type Op = (x: Tensor, o?: CumulativeOptions) => Tensor;

/**
 * The naive reference: each output folds its own prefix (or suffix) afresh, in float64, walking
 * the axis by multi-index arithmetic; `step` is the fold, `init` its start.
 */
const naive = (x: Tensor, axis: number, reverse: boolean, init: number, step: (a: number, v: number) => number) =>
  Array.from({ length: size(x.shape) }, (_, i) => {
    const idx = unravel(i, x.shape);
    const n = x.shape[axis]!;
    let acc = init;
    const at = (k: number) =>
      x.data[
        ravel(
          idx.map((v, d) => (d === axis ? k : v)),
          x.shape,
        )
      ]!;
    if (reverse) for (let k = n - 1; k >= idx[axis]!; k--) acc = step(acc, at(k));
    else for (let k = 0; k <= idx[axis]!; k++) acc = step(acc, at(k));
    return acc;
  });

const arbCase = (dtype: DType, lo = -4, hi = 4) =>
  fc
    .array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 })
    .chain((shape) =>
      fc.tuple(
        fc.array(dtype === "int32" ? fc.integer({ min: lo, max: hi }) : fc.double({ min: lo, max: hi, noNaN: true }), {
          minLength: size(shape),
          maxLength: size(shape),
        }),
        fc.constant(shape),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
        fc.boolean(),
      ),
    )
    .map(([data, shape, axis, reverse]) => ({ x: fromDataOrThrow(data, shape, dtype), axis, reverse }));

/** The first NaN of a prefix wins, else the better value (the first of equals). */
const extremeStep = (sign: number) => (b: number, v: number) =>
  b !== b ? b : v !== v || sign * (v - b) > 0 || b === sign * -Infinity ? v : b;

describe("cumulative kernels against a naive loop", () => {
  const positive = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
  test.prop([arbCase("float64")])("float64: cumsum, cumprod, cummax, cummin, logcumsumexp", ({ x, axis, reverse }) => {
    const a = positive(axis, x.shape.length);
    const o = { axis, reverse };
    expect(values(cumsum(x, o))).toEqual(naive(x, a, reverse, 0, (s, v) => s + v));
    expect(values(cumprod(x, o))).toEqual(naive(x, a, reverse, 1, (p, v) => p * v));
    expect(values(cummax(x, o))).toEqual(naive(x, a, reverse, -Infinity, extremeStep(1)));
    expect(values(cummin(x, o))).toEqual(naive(x, a, reverse, Infinity, extremeStep(-1)));
    // log Σ exp of each prefix, shifted by that prefix's own max (a different formula than the kernel's).
    const maxes = naive(x, a, reverse, -Infinity, Math.max);
    const got = values(logcumsumexp(x, o));
    got.forEach((g, i) => {
      const idx = unravel(i, x.shape);
      const n = x.shape[a]!;
      const ks = reverse
        ? Array.from({ length: n - idx[a]! }, (_, q) => idx[a]! + q)
        : Array.from({ length: idx[a]! + 1 }, (_, q) => q);
      const m = maxes[i]!;
      const at = (k: number) =>
        x.data[
          ravel(
            idx.map((v, d) => (d === a ? k : v)),
            x.shape,
          )
        ]!;
      const want = m + Math.log(ks.reduce((s, k) => s + Math.exp(at(k) - m), 0));
      expect(Math.abs(g - want)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(want)));
    });
  });

  test.prop([arbCase("int32", -3, 3)])(
    "int32: sums and products wrap, extremes keep the dtype",
    ({ x, axis, reverse }) => {
      const a = axis < 0 ? axis + x.shape.length : axis;
      const o = { axis, reverse };
      const big = fromDataOrThrow(
        values(x).map((v) => v * 2 ** 29),
        x.shape,
        "int32",
      );
      expect(cumsum(big, o).dtype).toBe("int32");
      expect(values(cumsum(big, o))).toEqual(naive(big, a, reverse, 0, (s, v) => (s + v) | 0));
      expect(values(cumprod(x, o))).toEqual(naive(x, a, reverse, 1, (p, v) => Math.imul(p, v)));
      expect(values(cummax(x, o))).toEqual(naive(x, a, reverse, -Infinity, extremeStep(1)));
      expect(cummin(x, o).dtype).toBe("int32");
      expect(logcumsumexp(x, o).dtype).toBe("float32");
    },
  );

  test.prop([arbCase("float32")])(
    "float32: every output is the float64 running value rounded once",
    ({ x, axis, reverse }) => {
      const a = axis < 0 ? axis + x.shape.length : axis;
      expect(values(cumsum(x, { axis, reverse }))).toEqual(naive(x, a, reverse, 0, (s, v) => s + v).map(Math.fround));
      expect(values(cumprod(x, { axis, reverse }))).toEqual(naive(x, a, reverse, 1, (p, v) => p * v).map(Math.fround));
    },
  );

  test.prop([arbCase("float32")])("the last entry of cumsum is sum over the axis, bit for bit", ({ x, axis }) => {
    const a = axis < 0 ? axis + x.shape.length : axis;
    const n = x.shape[a]!;
    if (n === 0) return;
    const last = values(cumsum(x, { axis })).filter((_, i) => unravel(i, x.shape)[a] === n - 1);
    expect(last).toEqual(values(sum(x, { axis })));
  });

  test.prop([arbCase("float64")])("reverse is flip ∘ op ∘ flip", ({ x, axis }) => {
    for (const op of [cumsum, cumprod, cummax, cummin, logcumsumexp] as Op[]) {
      expect(values(op(x, { axis, reverse: true }))).toEqual(values(flip(op(flip(x, axis), { axis }), axis)));
    }
  });
});

describe("linearScan against the recurrence run per output", () => {
  test.prop([arbCase("float64"), fc.integer({ min: 0, max: 1000 })])(
    "float64 and float32, every axis, both directions",
    ({ x, axis, reverse }, seed) => {
      const a = fromDataOrThrow(
        values(x).map((v, i) => (((i * 7 + seed) % 5) - 2) * 0.5 + v * 0.1),
        x.shape,
        "float64",
      );
      const ax = axis < 0 ? axis + x.shape.length : axis;
      for (const dtype of ["float64", "float32"] as const) {
        const [a2, b2] = [a, x].map((t) => fromDataOrThrow(values(t), t.shape, dtype)) as [Tensor, Tensor];
        const want = Array.from({ length: size(x.shape) }, (_, i) => {
          const idx = unravel(i, x.shape);
          const at = (k: number) =>
            ravel(
              idx.map((v, d) => (d === ax ? k : v)),
              x.shape,
            );
          const n = x.shape[ax]!;
          let h = 0;
          if (reverse) for (let k = n - 1; k >= idx[ax]!; k--) h = a2.data[at(k)]! * h + b2.data[at(k)]!;
          else for (let k = 0; k <= idx[ax]!; k++) h = a2.data[at(k)]! * h + b2.data[at(k)]!;
          return dtype === "float32" ? Math.fround(h) : h;
        });
        expect(values(linearScan(a2, b2, { axis, reverse }))).toEqual(want);
      }
    },
  );

  it("refuses operands of two shapes or of int dtypes", () => {
    throwsTensor(() => linearScan(tensor([1, 2]), tensor([1, 2, 3])), "ShapeError", "linearScan", "b");
    throwsTensor(() => linearScan(tensor([1], "int32"), tensor([1], "int32")), "DTypeError", "float");
  });
});

describe("float32 cumsum in WebAssembly SIMD", () => {
  const withBackend = <R>(b: "js" | "wasm", f: () => R): R => {
    const before = setKernelBackend(b);
    try {
      return f();
    } finally {
      setKernelBackend(before);
    }
  };
  // inner 4 with 5000 rows crosses the 4096-row chunks; 12 gives chunks of 1365 rows; 8192 is the
  // widest in one block; 8196 and 12300 run in blocks of 4096 columns (the last one narrower).
  const shapes = [
    [2, 5000, 4],
    [3, 1500, 12],
    [1, 3, 8192],
    [7, 2, 16],
    [2, 9, 8196],
    [1, 5, 12300],
  ];
  for (const shape of shapes) {
    it(`has the JavaScript loop's bits at [${shape.join(", ")}], both directions, with NaN, ±Inf and −0`, () => {
      const n = size(shape);
      const edge = [NaN, Infinity, -Infinity, -0, 1e30, -1e30, 3.5e38];
      const data = Array.from({ length: n }, (_, i) => (i % 997 === 5 ? edge[i % edge.length]! : Math.sin(i) * 100));
      const x = fromDataOrThrow(data, shape, "float32");
      const raw = new Float32Array(n);
      expect(cumsumPlanesWasm(x.data as Float32Array, raw, shape[0]! * shape[1]!, 1, shape[2]!, false)).toBe(true);
      for (const reverse of [false, true]) {
        const wasm = withBackend("wasm", () => cumsum(x, { axis: 1, reverse }));
        const js = withBackend("js", () => cumsum(x, { axis: 1, reverse }));
        const i = js.data.findIndex((v, k) => !Object.is(v, wasm.data[k]));
        expect(i, `first difference at ${i}: ${js.data[i]} vs ${wasm.data[i]}`).toBe(-1);
      }
    });
  }
});

describe("cumulative kernels: dtypes and edge values", () => {
  it("bool sums and multiplies as int32; max and min keep bool", () => {
    const b = fromDataOrThrow([1, 0, 1, 1], [4], "bool");
    expect(cumsum(b).dtype).toBe("int32");
    expect(values(cumsum(b))).toEqual([1, 1, 2, 3]);
    expect(values(cumprod(b))).toEqual([1, 0, 0, 0]);
    expect(cummax(b).dtype).toBe("bool");
    expect(values(cummin(b))).toEqual([1, 0, 0, 0]);
  });

  it("NaN sticks in cummax and cummin, as in max and min", () => {
    expect(values(cummax(tensor([1, NaN, 5], "float64")))).toEqual([1, NaN, NaN]);
    expect(values(cummin(tensor([1, NaN, -5], "float64"), { reverse: true }))).toEqual([NaN, NaN, -5]);
  });

  it("logcumsumexp is exact for ±1000, −Inf prefixes and +Inf entries", () => {
    const x = tensor([-Infinity, -Infinity, 0, 1000, -1000, 999], "float64");
    const got = values(logcumsumexp(x));
    expect(got.slice(0, 5)).toEqual([-Infinity, -Infinity, 0, 1000, 1000]);
    expect(got[5]).toBeCloseTo(1000 + Math.log1p(Math.exp(-1)), 12);
    expect(values(logcumsumexp(tensor([Infinity, Infinity, 1], "float64")))).toEqual([Infinity, Infinity, Infinity]);
    expect(values(logcumsumexp(tensor([1, NaN, 1], "float64")))).toEqual([1, NaN, NaN]);
  });

  it("size-0 axes give empty results", () => {
    expect(cumsum(fromDataOrThrow([], [2, 0], "float32")).shape).toEqual([2, 0]);
    expect(values(cummax(fromDataOrThrow([], [0, 3], "float64"), { axis: 0 }))).toEqual([]);
  });

  it("does not write its input", () => {
    const x = tensor([3, 1, 2], "float32");
    for (const op of [cumsum, cumprod, cummax, cummin, logcumsumexp] as Op[]) op(x, { reverse: true });
    expect(values(x)).toEqual([3, 1, 2]);
  });
});

describe("cumulative kernels: errors name the op, the argument and the fix", () => {
  const x = tensor([[1, 2]], "float32");
  it("rejects an axis out of range", () => throwsTensor(() => cumsum(x, { axis: 2 }), "AxisError", "cumsum", "axis 2"));
  it("rejects a non-integer axis", () =>
    throwsTensor(() => cumprod(x, { axis: [0] as never }), "ValueError", "cumprod", "options.axis", "one integer"));
  it("rejects a non-boolean reverse", () =>
    throwsTensor(() => cummax(x, { reverse: "yes" as never }), "ValueError", "cummax", "options.reverse", "boolean"));
  it("rejects a scalar", () =>
    throwsTensor(() => logcumsumexp(tensor(1)), "ValueError", "logcumsumexp", "scalar", "reshape it to [1]"));
  it("rejects a misspelt option", () =>
    throwsTensor(() => cummin(x, { revers: true } as never), "ValueError", "reverse"));
});
