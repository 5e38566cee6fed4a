import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { expF32, sigmoidF32, tanhF32 } from "../src/kernels/f32math.js";
import {
  abs,
  ceil,
  cos,
  exp,
  expm1,
  floor,
  isFinite,
  isNaN,
  log,
  log1p,
  logicalNot,
  neg,
  reciprocal,
  relu,
  round,
  rsqrt,
  sigmoid,
  sign,
  sin,
  softplus,
  sqrt,
  square,
  tanh,
} from "../src/kernels/unary.js";
import { fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";
import { values } from "./helpers.js";

type Op = (x: Tensor) => Tensor;

/** Equal as numbers, with NaN equal to NaN (so +0 and -0 count as equal; tests on the sign of zero use Object.is). */
const same = (a: number, b: number): boolean => (Number.isNaN(a) && Number.isNaN(b)) || a === b;
const f64 = (xs: number[]): Tensor => fromDataOrThrow(xs, [xs.length], "float64");
const relClose = (actual: number, expected: number, tol: number): boolean =>
  Math.abs(actual - expected) <= tol * Math.abs(expected);

// Independent reference for round-half-even: look at the fractional part above floor(x).
const roundHalfEven = (x: number): number => {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
};

/** Each op with an independent per-element reference in double precision. */
const references: ReadonlyArray<readonly [string, Op, (v: number) => number]> = [
  ["neg", neg, (v) => 0 - v],
  ["abs", abs, (v) => (v < 0 ? -v : v)],
  ["sign", sign, (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0)],
  ["exp", exp, Math.exp],
  ["expm1", expm1, Math.expm1],
  ["log", log, Math.log],
  ["log1p", log1p, Math.log1p],
  ["sqrt", sqrt, Math.sqrt],
  ["rsqrt", rsqrt, (v) => 1 / Math.sqrt(v)],
  ["square", square, (v) => v * v],
  ["reciprocal", reciprocal, (v) => 1 / v],
  ["sin", sin, Math.sin],
  ["cos", cos, Math.cos],
  ["tanh", tanh, Math.tanh],
  ["relu", relu, (v) => (Number.isNaN(v) ? NaN : v > 0 ? v : 0)],
  ["floor", floor, Math.floor],
  ["ceil", ceil, Math.ceil],
  ["round", round, roundHalfEven],
  ["isNaN", isNaN, (v) => (Number.isNaN(v) ? 1 : 0)],
  ["isFinite", isFinite, (v) => (Number.isFinite(v) ? 1 : 0)],
  ["logicalNot", logicalNot, (v) => (v === 0 ? 1 : 0)],
];
const allOps: ReadonlyArray<readonly [string, Op]> = [
  ...references.map(([n, op]) => [n, op] as const),
  ["sigmoid", sigmoid],
  ["softplus", softplus],
];

describe("unary kernels: values", () => {
  it("neg, abs, sign on floats, including NaN, ±Infinity and signed zeros", () => {
    const x = f64([-2.5, 0, -0, 3, NaN, -Infinity]);
    expect(values(neg(x))).toEqual([2.5, -0, 0, -3, NaN, Infinity]);
    expect(values(abs(x))).toEqual([2.5, 0, 0, 3, NaN, Infinity]);
    expect(values(sign(x))).toEqual([-1, 0, 0, 1, NaN, -1]);
    expect(Object.is(sign(x).data[2], 0)).toBe(true); // sign(-0) is +0, as in NumPy
  });

  it("int32 neg/abs/square wrap modulo 2^32 like NumPy", () => {
    const x = fromDataOrThrow([-2147483648, 46341, 65536, -7], [4], "int32");
    expect(values(neg(x))).toEqual([-2147483648, -46341, -65536, 7]);
    expect(values(abs(x))).toEqual([-2147483648, 46341, 65536, 7]);
    expect(values(square(x))).toEqual([0, -2147479015, 0, 49]);
  });

  it("exp, log and friends on hand-checked points", () => {
    expect(values(exp(f64([0, 1, -Infinity, Infinity])))).toEqual([1, Math.E, 0, Infinity]);
    expect(values(log(f64([1, 0, -1, Infinity])))).toEqual([0, -Infinity, NaN, Infinity]);
    expect(expm1(f64([1e-10])).data[0]).toBeCloseTo(1.00000000005e-10, 24);
    expect(log1p(f64([1e-10])).data[0]).toBeCloseTo(9.9999999995e-11, 24);
    expect(values(sqrt(f64([4, 0, -1])))).toEqual([2, 0, NaN]);
    expect(values(rsqrt(f64([4, 0.25, 0])))).toEqual([0.5, 2, Infinity]);
    expect(values(reciprocal(f64([2, 0, -0])))).toEqual([0.5, Infinity, -Infinity]);
    expect(values(sin(f64([0, Math.PI / 2])))).toEqual([0, 1]);
    expect(values(cos(f64([0, Math.PI])))).toEqual([1, -1]);
    expect(values(tanh(f64([0, 1e4, -1e4, NaN])))).toEqual([0, 1, -1, NaN]);
  });

  it("relu keeps NaN, maps -0 to +0, and keeps int32", () => {
    const r = relu(f64([-2, -0, 0, 3, NaN, -Infinity]));
    expect(values(r)).toEqual([0, 0, 0, 3, NaN, 0]);
    expect(Object.is(r.data[1], 0)).toBe(true);
    const ri = relu(fromDataOrThrow([-3, 4], [2], "int32"));
    expect([ri.dtype, ...values(ri)]).toEqual(["int32", 0, 4]);
  });

  it("round is round-half-to-even, with NumPy's signed zero for -0.5", () => {
    const r = round(f64([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.4, -2.6, 1e300, NaN, -Infinity]));
    expect(values(r)).toEqual([0, 2, 2, -0, -2, -2, 0, 2, -3, 1e300, NaN, -Infinity]);
    expect(Object.is(r.data[3], -0)).toBe(true);
    expect(values(round(tensor([3.5, 4.5])))).toEqual([4, 4]);
  });

  it("floor and ceil on floats", () => {
    expect(values(floor(f64([1.5, -1.5, 2, NaN])))).toEqual([1, -2, 2, NaN]);
    expect(values(ceil(f64([1.5, -1.5, 2, -Infinity])))).toEqual([2, -1, 2, -Infinity]);
  });

  it("isNaN, isFinite and logicalNot give bool tensors (NaN counts as nonzero)", () => {
    const x = f64([0, 1, NaN, Infinity, -Infinity, -0]);
    for (const [op, expected] of [
      [isNaN, [0, 0, 1, 0, 0, 0]],
      [isFinite, [1, 1, 0, 0, 0, 1]],
      [logicalNot, [1, 0, 0, 0, 0, 1]],
    ] as const) {
      const r = op(x);
      expect(r.dtype).toBe("bool");
      expect(r.data).toBeInstanceOf(Uint8Array);
      expect(values(r)).toEqual(expected);
    }
    const i = fromDataOrThrow([0, -5], [2], "int32");
    expect(values(isNaN(i))).toEqual([0, 0]);
    expect(values(isFinite(i))).toEqual([1, 1]);
    expect(values(logicalNot(tensor([true, false])))).toEqual([0, 1]);
  });
});

describe("unary kernels: sigmoid and softplus are stable", () => {
  it.each(["float32", "float64"] as const)(
    "sigmoid at ±1e4, ±1e300 and ±Infinity in %s is finite and right",
    (dtype) => {
      const r = sigmoid(fromDataOrThrow([-1e4, 1e4, -Infinity, Infinity, 0, NaN], [6], dtype));
      expect(values(r)).toEqual([0, 1, 0, 1, 0.5, NaN]);
      const r32 = sigmoid(fromDataOrThrow([-1e4, 1e4, 0, -100], [4], dtype));
      expect(values(r32).every((v) => !Number.isNaN(v) && v >= 0 && v <= 1)).toBe(true);
      expect(r32.data[3]).toBeGreaterThan(0); // e^-100 ≈ 3.7e-44 is a float32 subnormal, not 0
    },
  );

  it("sigmoid keeps full relative accuracy in the left tail (float64)", () => {
    const xs = [-50, -100, -700, -740];
    const r = sigmoid(f64(xs));
    xs.forEach((x, i) => {
      const e = Math.exp(x); // sigmoid(x) = e^x / (1 + e^x) and 1 + e^x rounds to 1 here
      expect(relClose(r.data[i]!, e, 1e-15)).toBe(true);
    });
    expect(relClose(sigmoid(f64([-1])).data[0]!, 1 / (1 + Math.E), 1e-15)).toBe(true);
  });

  test.prop([fc.double({ min: -30, max: 30, noNaN: true })], { numRuns: 100 })(
    "sigmoid matches 0.5 + 0.5·tanh(x/2) in the middle range",
    (x) => {
      expect(Math.abs(sigmoid(f64([x])).data[0]! - (0.5 + 0.5 * Math.tanh(x / 2)))).toBeLessThan(1e-15);
    },
  );

  it.each(["float32", "float64"] as const)("softplus at ±1e4 and ±Infinity in %s is finite and exact", (dtype) => {
    const r = softplus(fromDataOrThrow([-1e4, 1e4, -Infinity, Infinity, 0], [5], dtype));
    expect(values(r)).toEqual([0, 1e4, 0, Infinity, dtype === "float32" ? Math.fround(Math.LN2) : Math.LN2]);
    expect(values(softplus(f64([NaN])))).toEqual([NaN]);
  });

  test.prop([fc.double({ min: -700, max: 700, noNaN: true })], { numRuns: 100 })(
    "softplus matches log(1 + e^x), by a series in the left tail and x in the right",
    (x) => {
      const got = softplus(f64([x])).data[0]!;
      // log(1 + y) = y - y²/2 + y³/3 - ... converges fast for y = e^x ≤ e^-5, where the plain
      // formula would lose digits to 1 + y rounding.
      const y = Math.exp(x);
      const series = [1, 2, 3, 4, 5, 6, 7, 8].reduce((s, k) => s + ((k % 2 === 1 ? 1 : -1) * y ** k) / k, 0);
      const expected = x < -5 ? series : x > 40 ? x : Math.log(1 + y);
      expect(relClose(got, expected, 1e-13)).toBe(true);
    },
  );
});

describe("unary kernels: dtypes and shapes", () => {
  const transcendental = [
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "softplus",
  ];
  const signLike = ["neg", "abs", "sign", "square", "relu"];
  const roundingOps = ["floor", "ceil", "round"];
  const expectedDType = (name: string, dtype: DType): DType => {
    if (["isNaN", "isFinite", "logicalNot"].includes(name)) return "bool";
    if (transcendental.includes(name)) return dtype === "float64" ? "float64" : "float32";
    if (signLike.includes(name) || roundingOps.includes(name)) return dtype === "bool" ? "int32" : dtype;
    throw new Error(`no dtype rule for ${name}`);
  };
  const inputs: Record<DType, Tensor> = {
    float32: fromDataOrThrow([-1.5, 0, 2.5, NaN], [2, 2], "float32"),
    float64: fromDataOrThrow([-1.5, 0, 2.5, NaN], [2, 2], "float64"),
    int32: fromDataOrThrow([-3, 0, 2, 7], [2, 2], "int32"),
    bool: fromDataOrThrow([1, 0, 1, 1], [2, 2], "bool"),
  };

  it.each(allOps.flatMap(([name, op]) => (Object.keys(inputs) as DType[]).map((dt) => [name, dt, op] as const)))(
    "%s on %s has the documented dtype and keeps the shape",
    (name, dt, op) => {
      const r = op(inputs[dt]);
      expect(r.dtype).toBe(expectedDType(name, dt));
      expect(r.shape).toEqual([2, 2]);
      expect(Object.isFrozen(r)).toBe(true);
    },
  );

  it("int32 and bool inputs compute as numbers: exp of int32 is float32, square of bool is int32", () => {
    expect(values(exp(fromDataOrThrow([0, 1], [2], "int32")))).toEqual([1, Math.fround(Math.E)]);
    expect(values(square(tensor([true, false])))).toEqual([1, 0]);
    expect(values(neg(tensor([true, false])))).toEqual([-1, 0]);
  });

  it("floor, ceil and round are the identity on int32 (the same immutable tensor) and cast bool to int32", () => {
    const i = inputs.int32;
    for (const op of [floor, ceil, round]) {
      expect(op(i)).toBe(i);
      const b = op(inputs.bool);
      expect([b.dtype, ...values(b)]).toEqual(["int32", 1, 0, 1, 1]);
    }
  });

  it("float32 results are computed in double and rounded once on store", () => {
    const x = fromDataOrThrow([0.1, 3], [2], "float32");
    const r = exp(x);
    expect(r.data).toBeInstanceOf(Float32Array);
    expect(values(r)).toEqual([Math.fround(Math.exp(Math.fround(0.1))), Math.fround(Math.exp(3))]);
  });

  it.each(allOps)("%s keeps scalar, empty and zero-size shapes", (_, op) => {
    for (const shape of [[], [0], [2, 0, 3], [1, 1]]) {
      const x = fromDataOrThrow(shape.includes(0) ? [] : [0.75], shape, "float64");
      const r = op(x);
      expect(r.shape).toEqual(shape);
      expect(r.data.length).toBe(x.data.length);
    }
  });

  test.prop([fc.array(fc.double(), { maxLength: 40 })], { numRuns: 100 })(
    "float64: every op matches its independent reference elementwise (NaN and ±Infinity included)",
    (xs) => {
      const x = f64(xs);
      for (const [name, op, ref] of references) {
        const got = values(op(x));
        xs.forEach((v, i) => {
          const want = ref(v);
          if (!same(got[i]!, want)) expect.fail(`${name}(${v}) gave ${got[i]}, expected ${want}`);
        });
      }
    },
  );

  test.prop([fc.array(fc.float(), { maxLength: 40 })], { numRuns: 100 })(
    "float32: every op equals the double-precision reference rounded to float32 (exp, tanh, sigmoid: the float32 polynomials)",
    (xs) => {
      const x = fromDataOrThrow(xs, [xs.length], "float32");
      // exp, tanh and sigmoid evaluate float32 polynomials (their accuracy is tested in f32math.test.ts).
      const polynomial: Readonly<Record<string, (v: number) => number>> = {
        exp: expF32,
        tanh: tanhF32,
        sigmoid: sigmoidF32,
      };
      for (const [name, op, ref] of references) {
        const got = values(op(x));
        xs.forEach((v, i) => {
          const want = Math.fround((polynomial[name] ?? ref)(v));
          if (!same(got[i]!, want)) expect.fail(`${name}(${v}) gave ${got[i]}, expected ${want}`);
        });
      }
    },
  );

  test.prop([fc.array(fc.integer({ min: -2147483648, max: 2147483647 }), { maxLength: 40 })], { numRuns: 100 })(
    "int32: neg, abs and square wrap exactly like 32-bit two's complement",
    (xs) => {
      const x = fromDataOrThrow(xs, [xs.length], "int32");
      const wrap = (v: bigint): number => Number(BigInt.asIntN(32, v));
      expect(values(neg(x))).toEqual(xs.map((v) => wrap(-BigInt(v))));
      expect(values(abs(x))).toEqual(xs.map((v) => wrap(BigInt(v < 0 ? -v : v))));
      expect(values(square(x))).toEqual(xs.map((v) => wrap(BigInt(v) * BigInt(v))));
    },
  );
});

describe("unary kernels: purity", () => {
  it.each(allOps)("%s never writes its input and returns a fresh buffer", (_, op) => {
    for (const dt of ["float32", "float64", "int32", "bool"] as const) {
      const x = fromDataOrThrow([-2.5, 0, 1, 3.5, NaN, -0], [3, 2], dt);
      const before = values(x);
      const r = op(x);
      expect(values(x)).toEqual(before);
      if (r !== x) expect(r.data.buffer).not.toBe(x.data.buffer);
    }
  });
});
