import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { DType } from "../src/DType.js";
import { TensorException } from "../src/errors.js";
import { add, div, maximum, minimum, mul, pow, sub, type Operand } from "../src/kernels/binary.js";
import {
  equal,
  greater,
  greaterEqual,
  less,
  lessEqual,
  logicalAnd,
  logicalOr,
  notEqual,
  where,
} from "../src/kernels/compare.js";
import { astype, fromDataOrThrow, tensor, type Tensor } from "../src/Tensor.js";

type Binary = (a: Operand, b: Operand) => Tensor;
type Raw = { readonly shape: readonly number[]; readonly data: readonly number[] };

// ---- naive reference: broadcasting by hand over nested arrays, no strides or offset tables ----

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** NumPy's rule, written out: right-align, and each axis is the non-1 size (or 1). */
const refShape = (...shapes: ReadonlyArray<readonly number[]>): number[] => {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, j) => {
    const sizes = shapes.map((s) => s[s.length - rank + j] ?? 1);
    return sizes.find((d) => d !== 1) ?? 1;
  });
};

type Nested = number | Nested[];
const nest = (data: readonly number[], shape: readonly number[]): Nested => {
  if (shape.length === 0) return data[0]!;
  const [d, ...rest] = shape as [number, ...number[]];
  const chunk = sizeOf(rest);
  return Array.from({ length: d }, (_, i) => nest(data.slice(i * chunk, (i + 1) * chunk), rest));
};

/** The element of `raw` that output index `idx` reads: size-1 axes always read index 0. */
const at = (nested: Nested, shape: readonly number[], idx: readonly number[]): number => {
  let v = nested;
  shape.forEach((d, j) => {
    v = (v as Nested[])[d === 1 ? 0 : idx[idx.length - shape.length + j]!]!;
  });
  return v as number;
};

const indices = (shape: readonly number[]): number[][] =>
  shape.reduce<number[][]>((acc, d) => acc.flatMap((p) => Array.from({ length: d }, (_, i) => [...p, i])), [[]]);

const refMap = (f: (...xs: number[]) => number, ...operands: Raw[]): Raw => {
  const shape = refShape(...operands.map((o) => o.shape));
  const nested = operands.map((o) => nest(o.data, o.shape));
  return { shape, data: indices(shape).map((idx) => f(...operands.map((o, k) => at(nested[k]!, o.shape, idx)))) };
};

const raw = (t: Tensor): Raw => ({ shape: [...t.shape], data: Array.from(t.data) });
const make = (r: Raw, dtype: DType): Tensor => fromDataOrThrow([...r.data], r.shape, dtype);
const same = (a: number, b: number): boolean => (Number.isNaN(a) && Number.isNaN(b)) || a === b;
const expectSame = (got: Raw, want: Raw, label: string): void => {
  expect(got.shape, label).toEqual(want.shape);
  want.data.forEach((w, i) => {
    if (!same(got.data[i]!, w)) expect.fail(`${label}: element ${i} is ${got.data[i]}, expected ${w}`);
  });
};

const wrap32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const nanOr = (x: number, y: number, v: number): number => (Number.isNaN(x) || Number.isNaN(y) ? NaN : v);
/** C's pow, which NumPy follows: 1 wins over NaN for base 1 and exponent 0, and (-1)^±Inf is 1. */
const cPow = (x: number, y: number): number =>
  x === 1 || y === 0 ? 1 : x === -1 && Math.abs(y) === Infinity ? 1 : Math.pow(x, y);

const floatRefs: ReadonlyArray<readonly [string, Binary, (x: number, y: number) => number]> = [
  ["add", add, (x, y) => x + y],
  ["sub", sub, (x, y) => x - y],
  ["mul", mul, (x, y) => x * y],
  ["div", div, (x, y) => x / y],
  ["pow", pow, cPow],
  ["maximum", maximum, (x, y) => nanOr(x, y, x > y ? x : y)],
  ["minimum", minimum, (x, y) => nanOr(x, y, x < y ? x : y)],
];
const intRefs: ReadonlyArray<readonly [string, Binary, (x: bigint, y: bigint) => bigint]> = [
  ["add", add, (x, y) => x + y],
  ["sub", sub, (x, y) => x - y],
  ["mul", mul, (x, y) => x * y],
  ["maximum", maximum, (x, y) => (x > y ? x : y)],
  ["minimum", minimum, (x, y) => (x < y ? x : y)],
];
const predicates: ReadonlyArray<readonly [string, Binary, (x: number, y: number) => boolean]> = [
  ["equal", equal, (x, y) => x === y],
  ["notEqual", notEqual, (x, y) => x !== y],
  ["less", less, (x, y) => x < y],
  ["lessEqual", lessEqual, (x, y) => x <= y],
  ["greater", greater, (x, y) => x > y],
  ["greaterEqual", greaterEqual, (x, y) => x >= y],
  ["logicalAnd", logicalAnd, (x, y) => x !== 0 && y !== 0],
  ["logicalOr", logicalOr, (x, y) => x !== 0 || y !== 0],
];
const allBinary: ReadonlyArray<readonly [string, Binary]> = [
  ...floatRefs.map(([n, op]) => [n, op] as const),
  ...predicates.map(([n, op]) => [n, op] as const),
];

// ---- arbitraries: shapes that broadcast, including rank differences, 1s and zero-size axes ----

const dim = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.constant(0) },
);
/** A shape that broadcasts to `out`: drop some leading axes, set some axes to 1. */
const under = (out: readonly number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(
      fc.integer({ min: 0, max: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    )
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
const filled = (shape: readonly number[], value: fc.Arbitrary<number>): fc.Arbitrary<Raw> =>
  fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) => ({ shape, data }));
const operands = (count: number, value: fc.Arbitrary<number>): fc.Arbitrary<Raw[]> =>
  fc
    .array(dim, { maxLength: 4 })
    .chain((out) => fc.array(under(out), { minLength: count, maxLength: count }))
    .chain((shapes) => fc.tuple(...shapes.map((s) => filled(s, value))));

const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const smallInt = fc.integer({ min: -4, max: 4 });

describe("binary kernels: broadcasting against a naive reference", () => {
  test.prop([operands(2, fc.double())], { numRuns: 100 })("float64 arithmetic", ([a, b]) => {
    for (const [name, op, f] of floatRefs)
      expectSame(raw(op(make(a!, "float64"), make(b!, "float64"))), refMap(f, a!, b!), name);
  });

  test.prop([operands(2, fc.float())], { numRuns: 100 })(
    "float32 arithmetic rounds the double result once",
    ([a, b]) => {
      for (const [name, op, f] of floatRefs) {
        const got = op(make(a!, "float32"), make(b!, "float32"));
        expect(got.dtype).toBe("float32");
        expectSame(
          raw(got),
          refMap((x, y) => Math.fround(f(x, y)), a!, b!),
          name,
        );
      }
    },
  );

  test.prop([operands(2, int32)], { numRuns: 100 })("int32 arithmetic wraps modulo 2^32", ([a, b]) => {
    for (const [name, op, f] of intRefs) {
      const got = op(make(a!, "int32"), make(b!, "int32"));
      expect(got.dtype).toBe("int32");
      expectSame(
        raw(got),
        refMap((x, y) => wrap32(f(BigInt(x), BigInt(y))), a!, b!),
        name,
      );
    }
  });

  test.prop([operands(2, smallInt)], { numRuns: 100 })(
    "int32 pow is exact with wrapping, and true division gives float32",
    ([a, b]) => {
      const e = { ...b!, data: b!.data.map(Math.abs) };
      expectSame(
        raw(pow(make(a!, "int32"), make(e, "int32"))),
        refMap((x, y) => wrap32(BigInt(x) ** BigInt(y)), a!, e),
        "pow",
      );
      const q = div(make(a!, "int32"), make(b!, "int32"));
      expect(q.dtype).toBe("float32");
      expectSame(
        raw(q),
        refMap((x, y) => Math.fround(x / y), a!, b!),
        "div",
      );
    },
  );

  test.prop([operands(1, int32), fc.integer({ min: 0, max: 40 })], { numRuns: 100 })(
    "int32 pow of any base wraps exactly like 32-bit two's complement",
    ([a], e) => {
      const got = pow(make(a!, "int32"), e);
      expectSame(
        raw(got),
        refMap((x) => wrap32(BigInt(x) ** BigInt(e)), a!),
        "pow",
      );
    },
  );

  test.prop([operands(2, fc.oneof(fc.constantFrom(0, -0, 1, NaN, Infinity), fc.double()))], { numRuns: 100 })(
    "comparisons and logic give bool tensors",
    ([a, b]) => {
      for (const [name, op, f] of predicates) {
        const got = op(make(a!, "float64"), make(b!, "float64"));
        expect(got.dtype).toBe("bool");
        expectSame(
          raw(got),
          refMap((x, y) => (f(x, y) ? 1 : 0), a!, b!),
          name,
        );
      }
    },
  );

  test.prop([operands(3, fc.oneof(fc.constantFrom(0, NaN), fc.double()))], { numRuns: 100 })(
    "where broadcasts all three operands (NaN in cond counts as true)",
    ([c, a, b]) => {
      const got = where(make(c!, "float64"), make(a!, "float64"), make(b!, "float64"));
      expectSame(
        raw(got),
        refMap((k, x, y) => (k !== 0 ? x : y), c!, a!, b!),
        "where",
      );
    },
  );

  test.prop([operands(1, fc.float()), fc.double(), fc.boolean()], { numRuns: 100 })(
    "a plain number takes the tensor's dtype (rounded to float32 first), on either side",
    ([a], s, left) => {
      for (const [name, op, f] of floatRefs) {
        const t = make(a!, "float32");
        const got = left ? op(s, t) : op(t, s);
        expect(got.dtype).toBe("float32");
        const r = Math.fround(s);
        expectSame(
          raw(got),
          refMap((x) => Math.fround(left ? f(r, x) : f(x, r)), a!),
          name,
        );
      }
    },
  );
});

describe("binary kernels: dtypes", () => {
  const dts: DType[] = ["bool", "int32", "float32", "float64"];
  // Written out by hand rather than computed with promoteTypes.
  const addTable: Record<DType, Record<DType, DType>> = {
    bool: { bool: "int32", int32: "int32", float32: "float32", float64: "float64" },
    int32: { bool: "int32", int32: "int32", float32: "float32", float64: "float64" },
    float32: { bool: "float32", int32: "float32", float32: "float32", float64: "float64" },
    float64: { bool: "float64", int32: "float64", float32: "float64", float64: "float64" },
  };
  const store = (dtype: DType, v: number): number =>
    dtype === "float32" ? Math.fround(v) : dtype === "int32" ? v | 0 : v;

  it.each(dts.flatMap((x) => dts.map((y) => [x, y] as const)))("%s ⊕ %s promotes as documented", (x, y) => {
    const a = fromDataOrThrow([1, 0, 1], [3], x);
    const b = fromDataOrThrow([1, 1, 0], [3, 1], y);
    const out = addTable[x][y];
    for (const [name, op, f] of floatRefs.filter(([n]) => n !== "div" && n !== "pow")) {
      const got = op(a, b);
      expect([name, got.dtype]).toEqual([name, out]);
      expectSame(
        raw(got),
        refMap((p, q) => store(out, f(p, q)), raw(a), raw(b)),
        name,
      );
    }
    expect(div(a, b).dtype).toBe(out === "int32" ? "float32" : out);
    expect(pow(a, b).dtype).toBe(out);
    expect(equal(a, b).dtype).toBe("bool");
    expect(where(a, a, b).dtype).toBe(x === "bool" && y === "bool" ? "bool" : out);
  });

  it("bool ⊕ bool arithmetic computes in int32", () => {
    const t = tensor([true, true, false]);
    expect([add(t, t).dtype, ...Array.from(add(t, t).data)]).toEqual(["int32", 2, 2, 0]);
    expect(Array.from(sub(tensor([false]), tensor([true])).data)).toEqual([-1]);
    expect(add(t, 1).dtype).toBe("int32");
    const left = sub(1, t);
    expect([left.dtype, ...Array.from(left.data)]).toEqual(["int32", 0, 0, 1]);
  });

  it("div is true division: int32 / int32 gives float32, and x/0 follows IEEE", () => {
    const q = div(fromDataOrThrow([-7, 1, 0, 7], [4], "int32"), fromDataOrThrow([2, 0, 0, 3], [4], "int32"));
    expect(q.dtype).toBe("float32");
    expect(Array.from(q.data)).toEqual([-3.5, Infinity, NaN, Math.fround(7 / 3)]);
    expect(Array.from(div(tensor([1, 2], "int32"), 0.5).data)).toEqual([2, 4]);
  });

  it("plain numbers are weak: float32 stays float32, even past its range", () => {
    const x = tensor([1, 2]);
    expect(Array.from(add(x, 0.1).data)).toEqual([
      Math.fround(1 + Math.fround(0.1)),
      Math.fround(2 + Math.fround(0.1)),
    ]);
    expect(Array.from(mul(x, 1e40).data)).toEqual([Infinity, Infinity]);
    expect(Array.from(mul(tensor([1], "float64"), 1e40).data)).toEqual([1e40]);
    expect(Array.from(sub(10, fromDataOrThrow([3], [1], "int32")).data)).toEqual([7]);
  });

  it("an int32 computation rejects a number it cannot hold, naming the op and the argument", () => {
    const x = fromDataOrThrow([1, 2], [2], "int32");
    expect(() => add(x, 1.5)).toThrow(/add: the number 1\.5 cannot take the int32 dtype.*argument `b`.*astype/);
    expect(() => mul(2 ** 31, x)).toThrow(/mul: the number 2147483648 .*argument `a`/);
    expect(() => maximum(tensor([true]), NaN)).toThrow(/maximum: the number NaN cannot take the int32 dtype/);
    expect(Array.from(add(x, -(2 ** 31)).data)).toEqual([-2147483647, -2147483646]);
  });
});

describe("binary kernels: hand-checked values and edge cases", () => {
  it("broadcasts a column against a row, and across rank differences", () => {
    const r = add(tensor([[1], [2]]), tensor([10, 20, 30]));
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([11, 21, 31, 12, 22, 32]);
    expect(
      add(
        tensor([[[1, 2, 3]], [[4, 5, 6]]]),
        tensor([
          [0, 0, 0],
          [1, 1, 1],
          [2, 2, 2],
          [3, 3, 3],
        ]),
      ).shape,
    ).toEqual([2, 4, 3]);
    const t = sub(
      fromDataOrThrow([1, 2, 3, 4, 5, 6], [2, 3, 1], "float64"),
      fromDataOrThrow([1, 2, 3], [3, 1], "float64"),
    );
    expect([...t.shape, ...Array.from(t.data)]).toEqual([2, 3, 1, 0, 0, 0, 3, 3, 3]);
  });

  it("handles scalars, size-1 tensors and zero-size axes", () => {
    expect(add(tensor(2), tensor(3)).shape).toEqual([]);
    expect(Array.from(add(tensor(2), tensor(3)).data)).toEqual([5]);
    expect(add(tensor([[1]]), tensor([1, 2, 3])).shape).toEqual([1, 3]);
    expect(add(fromDataOrThrow([], [0], "float32"), tensor([1])).shape).toEqual([0]);
    expect(add(fromDataOrThrow([], [2, 0], "float32"), fromDataOrThrow([1, 2], [2, 1], "float32")).shape).toEqual([
      2, 0,
    ]);
    expect(mul(fromDataOrThrow([], [0, 3], "float32"), 2).data.length).toBe(0);
    expect(where(tensor([true]), fromDataOrThrow([], [0], "float32"), 1).shape).toEqual([0]);
  });

  it("pow follows NumPy on int32 (wrapping, 0^0 = 1) and C on floats", () => {
    const p = pow(fromDataOrThrow([2, 3, 0, -2, 2], [5], "int32"), fromDataOrThrow([31, 40, 0, 3, 0], [5], "int32"));
    expect([p.dtype, ...Array.from(p.data)]).toEqual(["int32", -2147483648, 689956897, 1, -8, 1]);
    const f = pow(tensor([1, -1, NaN, 0, -8, 4], "float64"), tensor([NaN, Infinity, 0, -1, 1 / 3, 0.5], "float64"));
    expect(Array.from(f.data)).toEqual([1, 1, 1, Infinity, NaN, 2]);
  });

  it("pow rejects negative integer exponents like NumPy, but not on an empty result", () => {
    const x = fromDataOrThrow([2, 3], [2], "int32");
    expect(() => pow(x, fromDataOrThrow([1, -1], [2], "int32"))).toThrow(
      /pow: integers to negative integer powers are not allowed.*argument `b`/,
    );
    expect(() => pow(x, -2)).toThrow(TensorException);
    expect(() => pow(fromDataOrThrow([], [0], "int32"), -1)).not.toThrow();
    expect(Array.from(pow(astype(x, "float32"), -1).data)).toEqual([0.5, Math.fround(1 / 3)]);
  });

  it("maximum and minimum propagate NaN from either side", () => {
    const a = tensor([1, NaN, 5, -Infinity], "float64");
    const b = tensor([NaN, 2, 3, 0], "float64");
    expect(Array.from(maximum(a, b).data)).toEqual([NaN, NaN, 5, 0]);
    expect(Array.from(minimum(a, b).data)).toEqual([NaN, NaN, 3, -Infinity]);
  });

  it("comparisons handle NaN, weak numbers and exact mixed-dtype answers", () => {
    const x = tensor([1, 2, NaN], "float64");
    expect(Array.from(equal(x, x).data)).toEqual([1, 1, 0]);
    expect(Array.from(notEqual(x, x).data)).toEqual([0, 0, 1]);
    expect(Array.from(less(fromDataOrThrow([2, 3], [2], "int32"), 2.5).data)).toEqual([1, 0]);
    expect(Array.from(greaterEqual(2.5, fromDataOrThrow([2, 3], [2], "int32")).data)).toEqual([1, 0]);
    expect(Array.from(equal(tensor([0.1]), 0.1).data)).toEqual([1]); // 0.1 rounds to float32 first
    expect(Array.from(equal(tensor([Math.fround(0.1)], "float64"), 0.1).data)).toEqual([0]);
    expect(Array.from(equal(tensor([true, false]), 2).data)).toEqual([0, 0]);
    expect(Array.from(equal(tensor([true, false]), 1).data)).toEqual([1, 0]);
  });

  it("logicalAnd and logicalOr treat every nonzero, NaN included, as true", () => {
    const x = tensor([0, NaN, -2, 0], "float64");
    expect(Array.from(logicalAnd(x, tensor([1, 1, 1, 0])).data)).toEqual([0, 1, 1, 0]);
    expect(Array.from(logicalOr(x, 0).data)).toEqual([0, 1, 1, 0]);
    expect(logicalOr(x, 0).dtype).toBe("bool");
  });

  it("where takes any cond dtype and promotes a and b", () => {
    const w = where(
      fromDataOrThrow([0, 5, -1], [3], "int32"),
      fromDataOrThrow([1, 2, 3], [3], "int32"),
      tensor([9.5], "float64"),
    );
    expect([w.dtype, ...Array.from(w.data)]).toEqual(["float64", 9.5, 2, 3]);
    const n = where(tensor([[true], [false]]), 1, 0);
    expect([n.dtype, ...n.shape, ...Array.from(n.data)]).toEqual(["float32", 2, 1, 1, 0]);
    const b = where(tensor([true, false]), tensor([false, false]), tensor([true, true]));
    expect([b.dtype, ...Array.from(b.data)]).toEqual(["bool", 0, 1]);
    expect(where(tensor([true]), tensor([true]), 3).dtype).toBe("int32");
    const left = where(tensor([true, false]), 3, tensor([true, true]));
    expect([left.dtype, ...Array.from(left.data)]).toEqual(["int32", 3, 1]);
    expect(() => where(tensor([true]), fromDataOrThrow([1], [1], "int32"), 0.5)).toThrow(
      /where: the number 0\.5 .*argument `b`/,
    );
  });
});

/** Calls `f` and returns the `TensorException` it throws (failing if it throws nothing else). */
const caught = (f: () => unknown): TensorException => {
  try {
    f();
  } catch (e) {
    if (e instanceof TensorException) return e;
    throw e;
  }
  return expect.fail("expected a TensorException");
};

describe("binary kernels: errors", () => {
  it.each(allBinary)("%s names itself and both shapes when they do not broadcast", (name, op) => {
    const e = caught(() =>
      op(fromDataOrThrow([1, 2, 3, 4, 5, 6], [2, 3], "float32"), fromDataOrThrow([1, 2, 3, 4], [4], "float32")),
    );
    expect(e.error._tag).toBe("ShapeError");
    expect(e.message.startsWith(`${name}: `)).toBe(true);
    expect(e.message).toContain("[2, 3]");
    expect(e.message).toContain("[4]");
  });

  it.each(allBinary)("%s rejects two plain numbers with a ValueError naming it", (name, op) => {
    const e = caught(() => op(1, 2));
    expect(e.error._tag).toBe("ValueError");
    expect(e.message).toMatch(new RegExp(`^${name}: both operands are plain numbers`));
  });

  it("where names itself and all three shapes", () => {
    const e = caught(() => where(fromDataOrThrow([1, 0], [2], "bool"), fromDataOrThrow([1, 2, 3], [3], "float32"), 0));
    expect(e.message.startsWith("where: ")).toBe(true);
    expect(e.message).toContain("[2], [3], []");
  });
});

describe("binary kernels: purity", () => {
  const inputs = (dt: DType): [Tensor, Tensor, Tensor] => [
    fromDataOrThrow([1, -2, 0, 3, NaN, 2], [2, 3], dt),
    fromDataOrThrow([2, 0, 1], [3], dt),
    fromDataOrThrow([0.5, -1], [2, 1], dt),
  ];
  it.each(allBinary)("%s never writes its inputs, on every broadcast path", (_, op) => {
    for (const dt of ["float32", "float64", "int32", "bool"] as const) {
      const [a, b, c] = inputs(dt);
      const before = [a, b, c].map((t) => Array.from(t.data));
      for (const [x, y] of [
        [a, a],
        [a, b],
        [b, c],
        [a, 2],
        [2, c],
      ] as const) {
        try {
          const r = op(x, y);
          expect(r.data.buffer).not.toBe(a.data.buffer);
        } catch (e) {
          // int32 pow rejects the negative exponents here; it must not have written anything first.
          if (!(e instanceof TensorException)) throw e;
        }
      }
      expect([a, b, c].map((t) => Array.from(t.data))).toEqual(before);
    }
  });

  it("where never writes its inputs", () => {
    const [a, b, c] = inputs("float64");
    const before = [a, b, c].map((t) => Array.from(t.data));
    where(c, a, b);
    where(a, a, a);
    expect([a, b, c].map((t) => Array.from(t.data))).toEqual(before);
  });
});
