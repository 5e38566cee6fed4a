/**
 * @file Every elementwise lowering (unary, binary, comparisons, select, convert) against the CPU
 * jit on generated shapes and values, and on the special values (±0, ±Inf, NaN).
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { fromDataOrThrow, tensor, type DType } from "@rewind/tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ELEMENTWISE_COVERED } from "./coverage.js";
import { compare, floats, gpuOnce, ints, RUNS, seen, shapeArb } from "./helpers.js";

type Unary = (x: Value) => Value;
/** Each unary op with the domain its CPU result is well-conditioned on. */
const UNARY: ReadonlyArray<readonly [string, Unary, number, number]> = [
  ["neg", A.neg, -4, 4],
  ["abs", A.abs, -4, 4],
  ["exp", A.exp, -8, 8],
  ["expm1", A.expm1, -4, 4],
  ["log", A.log, 0.01, 50],
  ["log1p", A.log1p, -0.9, 8],
  ["sqrt", A.sqrt, 0, 50],
  ["sin", A.sin, -6, 6],
  ["cos", A.cos, -6, 6],
  ["tanh", A.tanh, -12, 12],
  ["sigmoid", A.sigmoid, -20, 20],
  ["softplus", A.softplus, -20, 20],
  ["sign", A.sign, -2, 2],
  ["floor", A.floor, -4, 4],
  ["ceil", A.ceil, -4, 4],
  ["round", A.round, -4, 4],
  ["isNaN", A.isNaN, -4, 4],
  ["isFinite", A.isFinite, -4, 4],
  ["logicalNot", A.logicalNot, -2, 2],
];

type Binary = (a: Value, b: Value) => Value;
const BINARY: ReadonlyArray<readonly [string, Binary]> = [
  ["add", A.add],
  ["sub", A.sub],
  ["mul", A.mul],
  ["div", A.div],
  ["maximum", A.maximum],
  ["minimum", A.minimum],
  ["equal", A.equal],
  ["notEqual", A.notEqual],
  ["less", A.less],
  ["lessEqual", A.lessEqual],
  ["greater", A.greater],
  ["greaterEqual", A.greaterEqual],
  ["logicalAnd", A.logicalAnd],
  ["logicalOr", A.logicalOr],
];

const SPECIAL = fromDataOrThrow([0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 2.5, 1e-30, 88], [12], "float32");

describe("unary lowerings", () => {
  for (const [name, op, min, max] of UNARY)
    it(`${name} matches the CPU on generated shapes`, async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb().chain((s) => floats(s, min, max)),
          async (x) => compare(op, [x]),
        ),
        RUNS,
      );
    });

  it("the unary ops that keep int32 match the CPU exactly on int32", async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb().chain((s) => ints(s)),
        async (x) => compare((v: Value) => [A.neg(v), A.abs(v), A.sign(v), A.floor(v), A.round(v), A.exp(v)], [x]),
      ),
      RUNS,
    );
  });

  for (const [name, op] of UNARY.filter(([n]) => !["tanh", "softplus", "sigmoid", "sin", "cos"].includes(n)))
    it(`${name} on ±0, ±Inf, NaN and halves`, async () => {
      await compare(op, [SPECIAL]);
    });
});

describe("binary lowerings", () => {
  for (const [name, op] of BINARY)
    it(`${name} matches the CPU on float32 and int32, broadcasting a scalar`, async () => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb().chain((s) => fc.tuple(floats(s), floats(s), ints(s), ints(s))),
          async ([a, b, i, j]) => {
            // Ties and equal operands matter for comparisons and max/min.
            await compare((x: Value, y: Value) => [op(x, y), op(x, x), op(x, 2 as unknown as Value)], [a, b]);
            if (name !== "div") await compare((x: Value, y: Value) => op(x, y), [i, j]);
          },
        ),
        RUNS,
      );
    });

  it("div of int32 computes in float32 as on the CPU", async () => {
    await compare(
      (x: Value, y: Value) => A.div(x, y),
      [fromDataOrThrow([7, -7, 1, 0], [4], "int32"), fromDataOrThrow([2, 2, 0, 0], [4], "int32")],
    );
  });

  it("pow matches the CPU for negative bases with whole exponents, and for int32", async () => {
    const a = fromDataOrThrow([-2, -2, 2, 0, 0, -0.5, 3, 1.5], [8], "float32");
    const b = fromDataOrThrow([3, 2, 0.5, 2, -1, 3, -2, 2.5], [8], "float32");
    await compare((x: Value, y: Value) => A.pow(x, y), [a, b]);
    const i = fromDataOrThrow([2, -3, 5, 1, -1, 0, 2, 7], [8], "int32");
    const j = fromDataOrThrow([10, 3, 0, 2, 3, 5, 1, 2], [8], "int32");
    await compare((x: Value, y: Value) => A.pow(x, y), [i, j]);
    await fc.assert(
      fc.asyncProperty(
        shapeArb().chain((s) => fc.tuple(floats(s, 0.1, 4), floats(s, -3, 3))),
        async ([x, y]) => compare((u: Value, v: Value) => A.pow(u, v), [x, y]),
      ),
      RUNS,
    );
  });

  it("binary ops on ±0, ±Inf and NaN", async () => {
    const rev = fromDataOrThrow([...SPECIAL.data].reverse(), [12], "float32");
    for (const [, op] of BINARY) await compare((x: Value, y: Value) => op(x, y), [SPECIAL, rev]);
  });

  it("binary ops with a literal operand keep NaN·0 = NaN and −x·0 = −0 (no folding through a known constant)", async () => {
    for (const [, op] of BINARY)
      for (const c of [0, -0, 1, 2]) {
        await compare((x: Value) => op(x, c as unknown as Value), [SPECIAL]);
        await compare((x: Value) => op(c as unknown as Value, x), [SPECIAL]);
      }
    // The comparison above takes +0 for −0; the sign of a product with zero is checked bit for bit.
    const gpu = await gpuOnce();
    const out = await (await gpu.jit((x: Value) => A.mul(x, 0))(tensor([-3, 3, NaN, -Infinity]))).read();
    expect(Array.from(out.data).map((v) => (Object.is(v, -0) ? "-0" : String(v)))).toEqual(["-0", "0", "NaN", "NaN"]);
  });
});

describe("select and convert", () => {
  it("where matches the CPU", async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb().chain((s) => fc.tuple(ints(s, 0, 1, "bool"), floats(s), floats(s))),
        async ([c, a, b]) => compare((k: Value, x: Value, y: Value) => [A.where(k, x, y), A.where(k, x, 0)], [c, a, b]),
      ),
      RUNS,
    );
  });

  const DTYPES: DType[] = ["float32", "int32", "bool"];
  it("astype between float32, int32 and bool matches the CPU exactly", async () => {
    const x = fromDataOrThrow([0, -0, 2.7, -2.7, 3e9, -3e9, NaN, Infinity, 1e10, 0.5, -1, 2 ** 31], [12], "float32");
    const f = (v: Value) => DTYPES.flatMap((d) => DTYPES.map((e) => A.astype(A.astype(v, d), e)));
    await compare(f, [x], { exact: true });
    await compare(f, [fromDataOrThrow([0, 1, -1, 7, -2147483648, 2147483647], [6], "int32")], { exact: true });
  });
});

afterAll(() => {
  // Every elementwise primitive this file owns went through a comparison above.
  for (const p of ELEMENTWISE_COVERED) expect(seen, p).toContain(p);
});
