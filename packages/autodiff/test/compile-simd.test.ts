/**
 * @file The compiler's WebAssembly SIMD loops: for the float32 loops that qualify, the SIMD kernel
 * gives the interpreter's bits and the JavaScript loop's bits (awkward values included), operands
 * staged from outside the runner's memory included; loops that do not qualify stay in JavaScript.
 * Each test checks that the path it means to test was taken (`simdKernels`).
 */
import { describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { bind, evalGraph } from "../src/core.js";
import { awkward, compileBothWays, expectBits, tensorOf, type GraphFn } from "./compileSupport.js";

const R = A.registry;
const prim = (p: Parameters<typeof bind>[0], ins: readonly Value[]): Value => bind(p, ins, undefined)[0]!;

const expectSame = (
  label: string,
  f: GraphFn,
  args: readonly T.Tensor[],
  simdKernels: (n: number) => boolean,
): void => {
  const { simd, js } = compileBothWays(label, f, args);
  expect(simdKernels(simd.simdKernels), `${label}: ${simd.simdKernels} SIMD kernels`).toBe(true);
  expect(js.simdKernels).toBe(0);
};

const unary = ["neg", "abs", "sqrt", "exp", "tanh", "logistic"] as const;
const binary = { add: A.add, sub: A.sub, mul: A.mul, div: A.div, maximum: A.maximum, minimum: A.minimum } as const;
const f32 = (shape: readonly number[]) => tensorOf(shape, "float32");
/** Wide-range values too, so exp/tanh/logistic meet their overflow and underflow branches. */
const wide = fc.oneof(awkward, fc.double({ min: -120, max: 120, noNaN: true }));

describe.runIf(T.getKernelBackend().large === "wasm")("compile: WebAssembly SIMD loops", () => {
  it("every lane-wise unary op, bit for bit with the interpreter and the JS loop", () => {
    for (const name of unary) {
      fc.assert(
        fc.property(tensorOf([8, 32], "float32", wide), (x) =>
          expectSame(
            name,
            (v) => prim(R[name], [v]),
            [x],
            (n) => n === 1,
          ),
        ),
        { numRuns: 8 },
      );
    }
  });

  it("every lane-wise binary op, with full, row, column and scalar broadcasts", () => {
    for (const [name, op] of Object.entries(binary)) {
      fc.assert(
        fc.property(f32([8, 32]), f32([8, 32]), f32([32]), f32([8, 1]), (a, b, row, col) => {
          expectSame(
            `${name} full`,
            (x, y) => op(x, y),
            [a, b],
            (n) => n === 1,
          );
          expectSame(
            `${name} row`,
            (x, y) => op(x, y),
            [a, row],
            (n) => n === 1,
          );
          expectSame(
            `${name} column`,
            (x, y) => op(op(x, y), x),
            [a, col],
            (n) => n === 1,
          );
          expectSame(
            `${name} scalar`,
            (x) => op(x, 0.75),
            [a],
            (n) => n === 1,
          );
        }),
        { numRuns: 6 },
      );
    }
  });

  it("random fused chains over random shapes (ragged ends included) with broadcast operands", () => {
    const shapes = fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 33 }))
      .map(([a, b, c]) => [a, b, c]);
    fc.assert(
      fc.property(
        shapes
          .filter((s) => s[0]! * s[1]! * s[2]! >= 128)
          .chain((s) =>
            fc.tuple(
              fc.constant(s),
              fc.constantFrom([1, 1, s[2]!], [s[0]!, 1, 1], [1, s[1]!, s[2]!], [s[0]!, s[1]!, 1]),
            ),
          ),
        ([s, sb]) =>
          fc.assert(
            fc.property(tensorOf(s, "float32", wide), tensorOf(sb, "float32", wide), (x, b) => {
              const f = (u: Value, v: Value): Value[] => {
                const z = A.add(A.mul(u, v), A.div(A.tanh(u), A.sub(v, 1.5)));
                return [A.maximum(A.sigmoid(z), A.minimum(A.exp(A.neg(A.abs(u))), v)), A.sqrt(A.abs(z))];
              };
              expectSame(`chain ${s} with ${sb}`, f, [x, b], (n) => n >= 1);
            }),
            { numRuns: 3 },
          ),
      ),
      { numRuns: 15 },
    );
  });

  it("windowed reads: a pad with its fill, and the split VJP's concatenation of unslices, ragged segments included", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        (rows, lo, hi) => {
          fc.assert(
            fc.property(tensorOf([32, 4 * rows + 3], "float32", wide), (x) => {
              const padded = (v: Value): Value =>
                A.tanh(
                  A.mul(
                    A.pad(
                      v,
                      [
                        [0, 0],
                        [lo, hi],
                      ],
                      0.25,
                    ),
                    2,
                  ),
                );
              expectSame(`pad ${lo},${hi}`, padded, [x], (n) => n >= 1);
              const sizes = [rows, rows + 2, 2 * rows + 1];
              const splitLoss = (v: Value): Value => {
                const parts = A.split(v, sizes, 1);
                return A.sum(
                  A.add(
                    A.mul(A.sigmoid(parts[0]!), 3),
                    A.sum(A.mul(A.tanh(parts[2]!), parts[2]!), { axis: 1, keepDims: true }),
                  ),
                );
              };
              expectSame(`split VJP ${sizes}`, A.grad(splitLoss), [x], (n) => n >= 1);
            }),
            { numRuns: 2 },
          );
        },
      ),
      { numRuns: 10 },
    );
  });

  it("masks: comparisons, select on bool rows, bool elements (ragged too) and float32 conditions, bool → float32", () => {
    const bools = (shape: readonly number[]) => tensorOf(shape, "bool");
    fc.assert(
      fc.property(
        tensorOf([8, 32], "float32", wide),
        f32([8, 32]),
        bools([8, 1]),
        bools([8, 32]),
        tensorOf([5, 30], "float32", wide),
        bools([5, 30]),
        (x, y, row, full, odd, oddMask) => {
          expectSame(
            "compare + select",
            (u, v) => A.where(A.greater(u, v), A.tanh(u), v),
            [x, y],
            (n) => n === 1,
          );
          expectSame(
            "all comparisons",
            (u, v) => [
              A.where(A.less(u, v), u, 1),
              A.where(A.greaterEqual(u, v), v, u),
              A.where(A.lessEqual(u, 0), u, v),
              A.where(A.equal(u, v), 2, u),
              A.where(A.notEqual(u, u), 3, v),
            ],
            [x, y],
            (n) => n >= 1,
          );
          expectSame(
            "bool row",
            (u, m) => A.where(m, A.exp(u), 0.5),
            [x, row],
            (n) => n === 1,
          );
          expectSame(
            "bool elements",
            (u, v, m) => A.where(m, u, A.sigmoid(v)),
            [x, y, full],
            (n) => n === 1,
          );
          expectSame(
            "bool elements, ragged",
            (u, m) => A.where(m, A.neg(u), u),
            [odd, oddMask],
            (n) => n === 1,
          );
          expectSame(
            "float32 condition (NaN, ±0 included)",
            (c, u) => prim(R.select, [c, u, A.neg(u)]),
            [x, y],
            (n) => n === 1,
          );
          expectSame(
            "bool → float32",
            (u, m) => A.mul(u, A.astype(m, "float32")),
            [x, full],
            (n) => n === 1,
          );
        },
      ),
      { numRuns: 8 },
    );
  });

  it("maximum and minimum pick NaN and order ±0 as the JavaScript expressions do", () => {
    const a = T.fromDataOrThrow(
      Array.from({ length: 128 }, (_, i) => [NaN, 0, -0, 1, -Infinity][i % 5]!),
      [128],
      "float32",
    );
    const b = T.fromDataOrThrow(
      Array.from({ length: 128 }, (_, i) => [-0, NaN, 0, 1, 2][i % 5]!),
      [128],
      "float32",
    );
    for (const name of ["maximum", "minimum"] as const)
      expectSame(
        name,
        (x, y) => prim(R[name], [x, y]),
        [a, b],
        (n) => n === 1,
      );
  });

  it("LSTM-shaped gates: slices of a wider buffer, several outputs, a transposed read left to JS", () => {
    fc.assert(
      fc.property(f32([16, 64]), f32([16, 16]), (pre, c) => {
        const gates = (p: Value, cPrev: Value): Value[] => {
          const [i, fg, g, o] = A.split(p, 4, 1) as [Value, Value, Value, Value];
          const cNext = A.add(A.mul(A.sigmoid(fg), cPrev), A.mul(A.sigmoid(i), A.tanh(g)));
          return [cNext, A.mul(A.sigmoid(o), A.tanh(cNext)), A.transpose(A.exp(cNext))];
        };
        expectSame("gates", gates, [pre, c], (n) => n >= 1);
      }),
      { numRuns: 10 },
    );
  });

  it("the gradient of a recurrent loss through scan: carries staged from inputs, then in the runner's memory", () => {
    const H = 32,
      B = 8,
      T_ = 5;
    const loss = (w: Value, xs: Value, h0: Value): Value => {
      const step = (h: Value, x: Value): [Value, Value] => {
        const hn = A.tanh(A.add(A.matmul(h, w), x));
        return [hn, A.sigmoid(hn)];
      };
      const [h, ys] = A.scan<Value, Value, Value>(step, h0, xs);
      return A.add(A.sum(A.mul(h, h)), A.sum(ys));
    };
    fc.assert(
      fc.property(
        tensorOf([H, H], "float32", fc.double({ min: -0.3, max: 0.3, noNaN: true })),
        f32([T_, B, H]),
        f32([B, H]),
        (w, xs, h0) => {
          expectSame("BPTT", A.valueAndGrad(loss, { argnums: [0, 1, 2] }) as GraphFn, [w, xs, h0], (n) => n >= 2);
        },
      ),
      { numRuns: 5 },
    );
  });

  it("float32 products on the runner's memory: staged and in-place operands, transposes, batches, k across blocks", () => {
    const small = fc.double({ min: -2, max: 2, noNaN: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (m, k, n) => {
          fc.assert(
            fc.property(tensorOf([2, m, k], "float32", small), tensorOf([k, n], "float32", small), (a, b) => {
              const products = (x: Value, w: Value): Value[] => {
                const plain = A.matmul(x, w); // inputs staged, output staged
                const inner = A.matmul(A.tanh(plain), A.transpose(A.tanh(plain), [0, 2, 1])); // both in the arena, transposed rhs
                const back = A.matmul(A.transpose(A.exp(x), [0, 2, 1]), plain); // transposed lhs
                return [A.sum(inner, { axis: 0 }), back];
              };
              const { simd } = compileBothWays("products (arena)", products, [a, b]);
              // The arena's WebAssembly product: `mma`, or `mmq` where the batch shares b (packed
              // once, see compile-packed.test.ts).
              if (m * k * n >= 512) expect(simd.source).toMatch(/\bmm[aq]\(/);
            }),
            { numRuns: 2 },
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  it("loops that do not qualify stay in JavaScript: float64, small, transposed (and ragged ends do qualify)", () => {
    fc.assert(
      fc.property(f32([5, 30]), tensorOf([8, 32], "float64"), f32([4, 8]), f32([32, 8]), (odd, f64, small, tall) => {
        expectSame(
          "ragged end: SIMD",
          (x) => A.tanh(A.mul(x, x)),
          [odd],
          (n) => n === 1,
        );
        expectSame(
          "ragged column broadcast: SIMD",
          (x) => A.sigmoid(A.add(x, A.sum(x, { axis: 1, keepDims: true }))),
          [odd],
          (n) => n >= 1,
        );
        expectSame(
          "float64",
          (x) => A.tanh(A.mul(x, x)),
          [f64],
          (n) => n === 0,
        );
        expectSame(
          "small",
          (x) => A.tanh(A.mul(x, x)),
          [small],
          (n) => n === 0,
        );
        expectSame(
          "transposed",
          (x) => A.exp(A.transpose(x)),
          [tall],
          (n) => n === 0,
        );
      }),
      { numRuns: 4 },
    );
  });

  it('setKernelBackend("js") at compile time keeps every loop in JavaScript', () => {
    const before = T.setKernelBackend("js");
    try {
      const { graph } = A.makeGraph((x: Value) => A.exp(x))(T.zeros([64, 64]));
      expect(A.compileGraph(graph).simdKernels).toBe(0);
    } finally {
      T.setKernelBackend(before);
    }
    const { graph } = A.makeGraph((x: Value) => A.exp(x))(T.zeros([64, 64]));
    expect(A.compileGraph(graph).simdKernels).toBe(1);
  });

  it("an engine that refuses the runner's WebAssembly memory gets the JavaScript loops, same bits", () => {
    const { graph } = A.makeGraph((x: Value) => A.tanh(A.mul(A.matmul(x, x), 0.5)))(T.zeros([32, 32]));
    const x = T.fromDataOrThrow(
      Array.from({ length: 1024 }, (_, i) => Math.sin(i)),
      [32, 32],
      "float32",
    );
    const real = (globalThis as unknown as { WebAssembly: object }).WebAssembly;
    const refusing = class {
      constructor() {
        throw new RangeError("WebAssembly.Memory(): could not allocate memory");
      }
    };
    vi.stubGlobal("WebAssembly", Object.assign(Object.create(real) as object, { Memory: refusing }));
    let run: A.CompiledGraph;
    try {
      run = A.compileGraph(graph);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(run.simdKernels).toBe(0);
    expect(run.source).not.toContain("mma(");
    expectBits("refused memory", run([x]), evalGraph(graph, [x]));
  });
});
