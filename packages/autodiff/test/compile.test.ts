/**
 * @file The compiler, op by op: for every primitive of the registry, compiled results equal the
 * interpreter's bit for bit (float32, float64, and int32/bool where the op takes them), over
 * random shapes and awkward values, through fused chains, broadcasts and views.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { bind } from "../src/core.js";
import { arbShape, awkward, broadcastableTo, expectInvariant, floatDTypes, tensorOf } from "./compileSupport.js";

const R = A.registry;
const prim = (p: Parameters<typeof bind>[0], ins: readonly Value[], params?: unknown): Value =>
  bind(p, ins, params)[0]!;
const runs = { numRuns: 25 };

const unary = [
  "neg",
  "abs",
  "sign",
  "exp",
  "expm1",
  "log",
  "log1p",
  "sqrt",
  "sin",
  "cos",
  "tanh",
  "logistic",
  "softplus",
  "floor",
  "ceil",
  "round",
  "isNaN",
  "isFinite",
  "logicalNot",
] as const;
const binary = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "equal",
  "notEqual",
  "less",
  "lessEqual",
  "greater",
  "greaterEqual",
  "logicalAnd",
  "logicalOr",
] as const;
const dtypes = ["float32", "float64", "int32", "bool"] as const;

describe("compile: elementwise primitives, every dtype", () => {
  for (const name of unary) {
    it(`${name}`, () => {
      fc.assert(
        fc.property(arbShape(), fc.constantFrom(...dtypes), (shape, dtype) =>
          fc.assert(
            fc.property(
              tensorOf(shape, dtype),
              (x) => void expectInvariant(`${name} ${dtype}`, (v: Value) => prim(R[name], [v]), [x]),
            ),
            { numRuns: 3 },
          ),
        ),
        { numRuns: 12 },
      );
    });
  }
  for (const name of binary) {
    it(`${name}, then fused with a second op`, () => {
      fc.assert(
        fc.property(arbShape(), fc.constantFrom(...dtypes), (shape, dtype) =>
          fc.assert(
            fc.property(tensorOf(shape, dtype), tensorOf(shape, dtype), (a, b) => {
              expectInvariant(`${name} ${dtype}`, (x: Value, y: Value) => prim(R[name], [x, y]), [a, b]);
              expectInvariant(
                `${name} chain ${dtype}`,
                (x: Value, y: Value) => prim(R[name], [prim(R[name], [x, y]), x]),
                [a, b],
              );
            }),
            { numRuns: 3 },
          ),
        ),
        { numRuns: 12 },
      );
    });
  }

  it("select, with every operand dtype and a non-bool condition", () => {
    fc.assert(
      fc.property(arbShape(), fc.constantFrom(...dtypes), fc.constantFrom(...dtypes), (shape, dc, dv) =>
        fc.assert(
          fc.property(
            tensorOf(shape, dc),
            tensorOf(shape, dv),
            tensorOf(shape, dv),
            (c, a, b) =>
              void expectInvariant(`select ${dc} ${dv}`, (x: Value, y: Value, z: Value) => prim(R.select, [x, y, z]), [
                c,
                a,
                b,
              ]),
          ),
          { numRuns: 3 },
        ),
      ),
      runs,
    );
  });

  it("convert between every pair of dtypes (NaN and ±Infinity to int32, nonzero to bool)", () => {
    fc.assert(
      fc.property(arbShape(), fc.constantFrom(...dtypes), fc.constantFrom(...dtypes), (shape, from, to) =>
        fc.assert(
          fc.property(
            tensorOf(shape, from),
            (x) =>
              void expectInvariant(`convert ${from}→${to}`, (v: Value) => A.astype(A.exp(A.astype(v, "float64")), to), [
                x,
              ]),
          ),
          { numRuns: 3 },
        ),
      ),
      runs,
    );
  });

  it("long fused chains with broadcast operands (scalar, trailing, leading, general)", () => {
    fc.assert(
      fc.property(
        arbShape(4, 4, 1).chain((s) =>
          fc.tuple(fc.constant(s), broadcastableTo(s), broadcastableTo(s), fc.constantFrom(...floatDTypes)),
        ),
        ([s, sa, sb, dtype]) =>
          fc.assert(
            fc.property(tensorOf(s, dtype), tensorOf(sa, dtype), tensorOf(sb, dtype), (x, a, b) => {
              const f = (u: Value, v: Value, w: Value) =>
                A.where(A.greater(u, v), A.tanh(A.mul(A.add(u, v), w)), A.sigmoid(A.sub(A.exp(A.neg(w)), A.div(u, 3))));
              expectInvariant(`chain ${s} ${sa} ${sb}`, f, [x, a, b]);
              expectInvariant(`bias ${s}`, (u: Value, v: Value) => A.mul(A.add(u, v), A.add(v, 1)), [x, a]);
            }),
            { numRuns: 3 },
          ),
      ),
      runs,
    );
  });
});

describe("compile: views read in place", () => {
  const viewed = (op: (x: Value) => Value) => (x: Value, y: Value) => A.add(A.mul(op(x), 2), A.exp(op(y)));

  it("transpose, flip, strided slices (negative steps too), reshape of views, broadcast of views", () => {
    fc.assert(
      fc.property(arbShape(3, 4, 2), fc.constantFrom(...floatDTypes), fc.integer({ min: 0, max: 100 }), (s, dtype, r) =>
        fc.assert(
          fc.property(tensorOf(s, dtype), tensorOf(s, dtype), (x, y) => {
            const rank = s.length;
            const perm = [...s.keys()].reverse();
            const specs = s.map((d, i) =>
              (r >> i) & 1 ? { step: -1 - (r % 2) } : { start: Math.min(d - 1, r % 2), step: 1 + (r % 2) },
            );
            expectInvariant(
              "transpose",
              viewed((v) => A.transpose(v, perm)),
              [x, y],
            );
            expectInvariant(
              "flip",
              viewed((v) => A.flip(v, r % rank)),
              [x, y],
            );
            expectInvariant(
              "slice",
              viewed((v) => A.slice(v, specs)),
              [x, y],
            );
            expectInvariant(
              "reshape of transpose",
              viewed((v) => A.reshape(A.transpose(v, perm), [-1])),
              [x, y],
            );
            expectInvariant(
              "broadcast of slice",
              viewed((v) =>
                A.broadcastTo(
                  A.slice(
                    v,
                    specs.map(() => ({ stop: 1 })),
                  ),
                  [2, ...s],
                ),
              ),
              [x, y],
            );
            expectInvariant("sum of transpose", (v: Value) => A.sum(A.transpose(v, perm), { axis: [0] }), [x]);
          }),
          { numRuns: 2 },
        ),
      ),
      runs,
    );
  });

  it("unslice and pad as guarded reads, summed like the split VJP", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(...floatDTypes),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (rows, cols, dtype, value) =>
          fc.assert(
            fc.property(tensorOf([rows, 4 * cols], dtype), (x) => {
              const split = (v: Value) =>
                A.sum(A.mul(A.stack(A.split(v, 4, 1).map((p, i) => A.mul(A.tanh(p), i + 1))), 1));
              expectInvariant("vjp of split", (v: Value) => A.grad(split)(v), [x]);
              expectInvariant(
                "pad",
                (v: Value) =>
                  A.mul(
                    A.pad(
                      v,
                      [
                        [1, 0],
                        [2, 3],
                      ],
                      value,
                    ),
                    3,
                  ),
                [x],
              );
              expectInvariant(
                "strided unslice",
                (v: Value) =>
                  A.add(
                    A.unslice(v, [rows * 2 + 1, 4 * cols], {
                      start: [rows * 2, 0],
                      step: [-2, 1],
                      size: [rows, 4 * cols],
                    }),
                    1,
                  ),
                [x],
              );
              expectInvariant(
                "pad then reshape",
                (v: Value) =>
                  A.reshape(
                    A.pad(
                      v,
                      [
                        [0, 1],
                        [1, 1],
                      ],
                      value,
                    ),
                    [-1],
                  ),
                [x],
              );
            }),
            { numRuns: 2 },
          ),
      ),
      runs,
    );
  });
});

describe("compile: reductions, matmul, indexing, joins", () => {
  it("sum, max, min, prod, argmax, argmin over any axes, with NaN, and int32 wrap-around", () => {
    fc.assert(
      fc.property(arbShape(3, 4, 1), fc.constantFrom(...dtypes), fc.integer({ min: 0, max: 7 }), (s, dtype, mask) =>
        fc.assert(
          fc.property(tensorOf(s, dtype), (x) => {
            const axes = s.map((_, i) => i).filter((i) => (mask >> i) & 1);
            for (const op of ["sum", "reduceMax", "reduceMin", "prod"] as const) {
              expectInvariant(`${op} ${axes} ${dtype}`, (v: Value) => prim(R[op], [v], { axes }), [x]);
            }
            for (const op of ["argmax", "argmin"] as const) {
              expectInvariant(`${op} ${dtype}`, (v: Value) => prim(R[op], [v], { axis: mask % s.length }), [x]);
            }
            if (dtype === "int32") expectInvariant("int32 sum wraps", (v: Value) => A.sum(A.mul(v, 2 ** 29)), [x]);
          }),
          { numRuns: 2 },
        ),
      ),
      runs,
    );
  });

  it("matmul: shapes (m < 4, k = 0 or 1, batches), transposed operands folded, every dtype", () => {
    const dims = fc.integer({ min: 0, max: 9 });
    fc.assert(
      fc.property(
        dims,
        dims,
        dims,
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom("float32", "float64", "int32") as fc.Arbitrary<T.DType>,
        fc.integer({ min: 0, max: 3 }),
        (m, k, n, batch, dtype, t) =>
          fc.assert(
            fc.property(
              tensorOf(t & 2 ? [batch + 1, k, m] : [batch + 1, m, k], dtype),
              tensorOf(t & 1 ? [batch + 1, n, k] : [batch + 1, k, n], dtype),
              (a, b) => {
                const f = (x: Value, y: Value) =>
                  A.matmul(t & 2 ? A.transpose(x, [0, 2, 1]) : x, t & 1 ? A.transpose(y, [0, 2, 1]) : y);
                expectInvariant(`matmul ${m}x${k}x${n} t=${t} ${dtype}`, f, [a, b]);
              },
            ),
            { numRuns: 2 },
          ),
      ),
      runs,
    );
    const big = [
      T.random.normal(T.random.key(1), [37, 70], "float64"),
      T.random.normal(T.random.key(2), [50, 70], "float64"),
    ];
    expectInvariant("transB, large float64", (x: Value, y: Value) => A.matmul(x, A.transpose(y)), big);
    expectInvariant(
      "outer product fused into an add",
      (x: Value, y: Value) => A.add(A.matmul(A.reshape(x, [-1, 1]), A.reshape(y, [1, -1])), 1),
      big,
    );
  });

  it("take, gather, addAt, addAlongAxis (negative and repeated indices; out of range throws the same error)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("float32", "float64", "int32") as fc.Arbitrary<T.DType>,
        (r, c, dtype) =>
          fc.assert(
            fc.property(
              tensorOf([r, c], dtype),
              fc.array(fc.integer({ min: -c, max: c - 1 }), { minLength: 1, maxLength: 5 }),
              (x, ids) => {
                const idx = T.tensor(ids, "int32");
                expectInvariant("take", (v: Value) => A.take(v, idx, 1), [x]);
                expectInvariant("addAt", (v: Value) => A.addAt(v, idx, A.take(v, idx, 1), 1), [x]);
                const grid = T.tensor(
                  Array.from({ length: r }, (_, i) => ids.map((j, q) => ((i + q) % 2 ? j : -1 - ((j + c) % c)))),
                  "int32",
                );
                expectInvariant("gather", (v: Value) => A.gather(v, grid, 1), [x]);
                expectInvariant("addAlongAxis", (v: Value) => A.addAlongAxis(v, grid, A.gather(v, grid, 1), 1), [x]);
                expectInvariant("take out of range", (v: Value) => A.take(v, T.tensor([c], "int32"), 1), [x]);
              },
            ),
            { numRuns: 3 },
          ),
      ),
      runs,
    );
  });

  it("concat of views and stored values", () => {
    fc.assert(
      fc.property(arbShape(3, 3, 1), fc.constantFrom(...floatDTypes), (s, dtype) =>
        fc.assert(
          fc.property(
            tensorOf(s, dtype),
            (x) =>
              void expectInvariant("concat", (v: Value) => A.concat([A.exp(v), A.flip(v, 0), v], s.length - 1), [x]),
          ),
          { numRuns: 3 },
        ),
      ),
      runs,
    );
  });
});

describe("compile: everything else runs too", () => {
  it("stopGradient, checkpoint and customVjp bodies are inlined", () => {
    const x = T.random.normal(T.random.key(5), [3, 4], "float32");
    const clip = A.customVjp(
      (v: Value) => A.tanh(v),
      (v: Value) => [A.tanh(v), v] as const,
      (_r: Value, g: Value) => [A.mul(g, 0.5)],
    );
    const f = (v: Value) => A.sum(A.mul(A.remat((u: Value) => A.sin(A.exp(u)))(v), A.add(A.stopGradient(v), clip(v))));
    expectInvariant("value", f, [x]);
    expectInvariant("grad", A.grad(f), [x]);
  });

  it("a primitive the compiler does not know runs through its impl", () => {
    const twice = A.definePrimitive<"alert(1)", void>({
      name: "alert(1)",
      abstractEval: ([x]) => [x!],
      impl: ([x]) => [T.mul(x!, 2)],
      vjp: ([g], _ctx, k) => [k.mul(g!, 2)],
    });
    const f = (v: Value) => A.sum(A.exp(bind(twice, [A.tanh(v)], undefined)[0]!));
    const x = T.tensor([0.5, -1, 2], "float64");
    expectInvariant("custom primitive", f, [x]);
    expectInvariant("its gradient", A.grad(f), [x]);
    expect(A.compileGraph(A.makeGraph(f)(x).graph).source).not.toContain("alert");
  });

  it("dtype combinations the kernels promote differently fall back and agree (bool arithmetic, integer division and powers)", () => {
    const b = T.tensor([true, false, true]);
    const i = T.tensor([3, -2, 5], "int32");
    expectInvariant("bool add", (u: Value) => prim(R.add, [u, u]), [b]);
    expectInvariant("int div", (u: Value) => prim(R.div, [u, u]), [i]);
    expectInvariant("int pow", (u: Value) => prim(R.pow, [u, A.abs(u)]), [i]);
    expectInvariant("negative int pow throws", (u: Value) => prim(R.pow, [u, u]), [i]);
  });

  it("constants are folded with the primitives' own kernels", () => {
    const c = T.tensor(
      [
        [1.5, -2],
        [0.25, 3],
      ],
      "float32",
    );
    expectInvariant("folded", (v: Value) => A.add(v, A.sum(A.exp(A.mul(c, 1 / 3)), { axis: 0 })), [
      T.tensor([1, 2], "float32"),
    ]);
  });

  it("awkward values through a fused softmax", () => {
    fc.assert(
      fc.property(
        tensorOf([3, 5], "float32", awkward),
        (x) => void expectInvariant("softmax", (v: Value) => A.softmax(v, -1), [x]),
      ),
      runs,
    );
  });
});
