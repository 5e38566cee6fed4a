/**
 * @file Random elementwise programs over float32, int32 and bool values, with scalar literals of
 * each kind beside them, compiled both ways (WebAssembly SIMD loops where they qualify, and the
 * JavaScript loops): both give the interpreter's bits. The SIMD loops keep int32 and bool lanes
 * apart from float32 ones (ids compared as integers, bools as masks); a literal that reached a
 * kernel in the wrong form (an int32 3 compared as the float bits of 3.0) gave wrong values
 * silently, and programs mixing the kinds are where that hides.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { awkward, compileBothWays, expectBits, tensorOf } from "./compileSupport.js";

type Kind = "float32" | "int32" | "bool";

/** One instruction: an op over earlier values (by index among those of the kinds it takes) or literals. */
type Step =
  | {
      readonly op: "floatBinary";
      readonly f: "add" | "sub" | "mul" | "div" | "maximum" | "minimum";
      readonly a: number;
      readonly b: number | { readonly literal: number };
    }
  | {
      readonly op: "intBinary";
      readonly f: "add" | "sub" | "mul" | "maximum";
      readonly a: number;
      readonly b: number | { readonly literal: number };
    }
  | {
      readonly op: "compare";
      readonly f: "equal" | "notEqual" | "less" | "greater";
      readonly kind: "float32" | "int32";
      readonly a: number;
      readonly b: number | { readonly literal: number };
    }
  | { readonly op: "unary"; readonly f: "exp" | "tanh" | "sigmoid" | "neg" | "abs"; readonly a: number }
  | { readonly op: "where"; readonly c: number; readonly a: number; readonly b: number | { readonly literal: number } }
  | { readonly op: "toFloat"; readonly kind: "int32" | "bool"; readonly a: number }
  | {
      readonly op: "logical";
      readonly f: "logicalAnd" | "logicalOr";
      readonly a: number;
      readonly b: number | { readonly literal: boolean };
    };

const index = fc.nat({ max: 1000 });
const intLiteral = fc.constantFrom(0, 1, 3, -7, 2 ** 24 + 1, 2 ** 31 - 1);
const floatLiteral = fc.constantFrom(0.5, -1.5, 3, 0, 1e30);
const orLiteral = <L>(literal: fc.Arbitrary<L>) =>
  fc.oneof(
    index,
    literal.map((l) => ({ literal: l })),
  );

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant("floatBinary" as const),
    f: fc.constantFrom("add", "sub", "mul", "div", "maximum", "minimum" as const),
    a: index,
    b: orLiteral(floatLiteral),
  }),
  fc.record({
    op: fc.constant("intBinary" as const),
    f: fc.constantFrom("add", "sub", "mul", "maximum" as const),
    a: index,
    b: orLiteral(intLiteral),
  }),
  fc.record({
    op: fc.constant("compare" as const),
    f: fc.constantFrom("equal", "notEqual", "less", "greater" as const),
    kind: fc.constantFrom("float32", "int32" as const),
    a: index,
    b: orLiteral(intLiteral),
  }),
  fc.record({
    op: fc.constant("unary" as const),
    f: fc.constantFrom("exp", "tanh", "sigmoid", "neg", "abs" as const),
    a: index,
  }),
  fc.record({ op: fc.constant("where" as const), c: index, a: index, b: orLiteral(floatLiteral) }),
  fc.record({ op: fc.constant("toFloat" as const), kind: fc.constantFrom("int32", "bool" as const), a: index }),
  fc.record({
    op: fc.constant("logical" as const),
    f: fc.constantFrom("logicalAnd", "logicalOr" as const),
    a: index,
    b: orLiteral(fc.boolean()),
  }),
);

/** The program's values by kind as it runs (every kind has one from the start: the inputs). */
type Pools = Record<Kind, Value[]>;

const pick = (pools: Pools, kind: Kind, i: number): Value => pools[kind][i % pools[kind].length]!;
const operand = (pools: Pools, kind: Kind, b: number | { readonly literal: number | boolean }): Value | number => {
  if (typeof b === "number") return pick(pools, kind, b);
  return typeof b.literal === "boolean" ? (b.literal ? 1 : 0) : b.literal;
};

/** Runs `steps` over the inputs; returns every value made, each as float32 (outputs are stored as such). */
const program =
  (steps: readonly Step[]) =>
  (x: Value, k: Value, m: Value, row: Value): Value[] => {
    const pools: Pools = { float32: [x, row], int32: [k], bool: [m] };
    for (const s of steps) {
      switch (s.op) {
        case "floatBinary":
          pools.float32.push(A[s.f](pick(pools, "float32", s.a), operand(pools, "float32", s.b)));
          break;
        case "intBinary":
          pools.int32.push(A[s.f](pick(pools, "int32", s.a), operand(pools, "int32", s.b)));
          break;
        case "compare":
          pools.bool.push(A[s.f](pick(pools, s.kind, s.a), operand(pools, s.kind, s.b)));
          break;
        case "unary":
          pools.float32.push(A[s.f](pick(pools, "float32", s.a)));
          break;
        case "where":
          pools.float32.push(
            A.where(pick(pools, "bool", s.c), pick(pools, "float32", s.a), operand(pools, "float32", s.b)),
          );
          break;
        case "toFloat":
          pools.float32.push(A.astype(pick(pools, s.kind, s.a), "float32"));
          break;
        case "logical":
          pools.bool.push(A[s.f](pick(pools, "bool", s.a), operand(pools, "bool", s.b)));
          break;
      }
    }
    return [
      ...pools.float32.slice(2),
      ...pools.int32.slice(1).map((v) => A.astype(v, "float32")),
      ...pools.bool.slice(1).map((v) => A.astype(v, "float32")),
    ];
  };

/** ids near the int literals, so that equality and order against them are often true. */
const ids = (shape: readonly number[]) =>
  fc
    .array(fc.constantFrom(0, 1, 3, -7, 2 ** 24, 2 ** 24 + 1, 2 ** 31 - 1, 5), {
      minLength: T.sizeOf(shape),
      maxLength: T.sizeOf(shape),
    })
    .map((d) => T.fromDataOrThrow(d, shape, "int32"));

describe("compile: random programs mixing float32, int32 and bool values and literals", () => {
  it("give the interpreter's bits through SIMD loops and JavaScript loops", () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 8 }),
        fc.constantFrom([8, 24], [16, 9], [5, 33], [64, 4]),
        (steps, shape) =>
          fc.assert(
            fc.property(
              tensorOf(shape, "float32", fc.oneof(awkward, fc.double({ min: -40, max: 40, noNaN: true }))),
              ids(shape),
              tensorOf(shape, "bool"),
              tensorOf([shape[0], 1], "float32"),
              (x, k, m, row) => {
                const f = program(steps);
                const label = JSON.stringify(steps);
                compileBothWays(label, f, [x, k, m, row]);
                // Eager (the primitives' own kernels) agrees with the jitted program too.
                expectBits(`${label} (eager)`, A.jit(f, { warnRetraces: false })(x, k, m, row), f(x, k, m, row));
              },
            ),
            { numRuns: 3 },
          ),
      ),
      { numRuns: 400 },
    );
  });
});
