/**
 * @file compile/flipProducts.ts: a float32 product read only through its transpose is computed as
 * the product of the transposed operands, with the interpreter's bits (and eager's); float64
 * products, and products also read directly, keep their own layout. Each case checks which
 * product the generated code calls (its m, k, n), so the path under test is the one taken.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectThreeWays, floatDTypes, productDims } from "./compileSupport.js";

type F = (...xs: Value[]) => Value | readonly Value[];

/** Normal values with a few awkward ones planted (NaN, ±Infinity, −0, huge, tiny). */
const data = (seed: number, shape: readonly number[], dtype: "float32" | "float64"): T.Tensor => {
  const t = T.random.normal(T.random.key(seed), shape, dtype);
  const d = Array.from(t.data as Float32Array | Float64Array);
  const plant = [NaN, Infinity, -0, 3e38, 1e-40, -Infinity];
  plant.forEach((v, i) => {
    const at = (i * 7919 + seed) % d.length;
    if (d.length > 12) d[at] = v;
  });
  return T.fromDataOrThrow(d, shape, dtype);
};

// Odd sizes on purpose: ragged micro-tiles and k blocks, both below and above the size where the
// float32 product leaves JavaScript for WebAssembly (tensor/src/wasm/policy.ts).
const SIZES = [
  [5, 7, 3],
  [1, 9, 6],
  [33, 17, 9],
  [130, 67, 29],
] as const;

describe("compile: a product read only through its transpose", () => {
  for (const dtype of floatDTypes) {
    it(`${dtype}: transpose(xᵀ·g) read by elementwise ops and a sum, on odd sizes`, () => {
      for (const [m, k, n] of SIZES) {
        const x = data(m + k, [k, m], dtype);
        const g = data(n + 3 * k, [k, n], dtype);
        const w = data(5, [n, m], dtype);
        // The shape of a weight's gradient through x·Wᵀ, then what clipping and an optimizer do with it.
        const f: F = (x, g, w) => {
          const grad = A.transpose(A.matmul(A.transpose(x), g));
          return [A.sub(w, A.mul(grad, 0.5)), A.sum(A.mul(grad, grad))];
        };
        expectThreeWays(`${dtype} ${m}x${k}x${n}`, f, [x, g, w]);
        const dims = productDims(f, [x, g, w]);
        // float32 computes gᵀ·x (n × k × m); float64's kernel groups by rows, so it keeps xᵀ·g.
        expect(dims, `${dtype} ${m}x${k}x${n}`).toEqual([dtype === "float32" ? `${n}x${k}x${m}` : `${m}x${k}x${n}`]);
      }
    });
  }

  for (const dtype of floatDTypes) {
    it(`${dtype}: a batched product summed over its batch axes, read through the transpose, on odd sizes`, () => {
      for (const [m, k, n] of SIZES) {
        const h = data(m * k, [5, k, m], dtype);
        const g = data(n + k, [5, k, n], dtype);
        // A linear layer's weight gradient over [batch, time, features]: Σ_b h_bᵀ·g_b, transposed.
        const f: F = (h, g) => A.mul(A.transpose(A.sum(A.matmul(A.transpose(h, [0, 2, 1]), g), { axis: 0 })), 2);
        expectThreeWays(`${dtype} 5x${m}x${k}x${n}`, f, [h, g]);
        const flipped = dtype === "float32" ? `${n}x${k}x${m}` : `${m}x${k}x${n}`;
        expect(productDims(f, [h, g]), `${dtype} ${m}x${k}x${n}`).toEqual([flipped]);
      }
    });
  }

  it("float32: the weight gradient of x·Wᵀ equals eager's, interpreted and compiled, and is computed transposed", () => {
    const x = data(1, [37, 13], "float32");
    const wt = data(2, [11, 13], "float32");
    const f: F = (x, w) => A.grad((w: Value) => A.sum(A.tanh(A.matmul(x, A.transpose(w)))))(w);
    expectThreeWays("grad of x·Wᵀ", f, [x, wt]);
    // Forward 37×13×11, then the gradient wrt W as gᵀ·x (11 × 37 × 13): the output, in W's own
    // layout, is the product's buffer (xᵀ·g, 13 × 37 × 11, would need a transposing copy).
    expect(productDims(f, [x, wt])).toEqual(["37x13x11", "11x37x13"]);
  });

  it("float32: the flipped product reads the forward's batch-major copy instead of copying its transpose", () => {
    const h = data(7, [6, 5, 7], "float32");
    const w = data(8, [9, 7], "float32");
    // A linear layer over a time-major sequence read batch-major, torch layout: both the forward
    // product and the weight's gradient need the sequence copied; the flipped gradient product
    // reads the forward's copy as it is.
    const f: F = (h, w) => A.grad((w: Value) => A.sum(A.tanh(A.matmul(A.transpose(h, [1, 0, 2]), A.transpose(w)))))(w);
    expectThreeWays("shared copy", f, [h, w]);
    const source = A.compileGraph(A.makeGraph(f)(h, w).graph).source;
    const body = source.slice(source.indexOf("return function run"));
    expect(productDims(f, [h, w])).toEqual(["6x7x9", "9x6x7"]);
    // The copy, tanh's derivative, the sum over the batch: no second (transposing) copy.
    expect(body.match(/\bF\d+\(/g)?.length).toBe(3);
  });

  it("float32: inside a scan's body, a product read through its transpose flips too, with the same bits", () => {
    const xs = data(11, [4, 9, 5], "float32");
    const g = data(12, [9, 7], "float32");
    const c0 = data(13, [7, 5], "float32");
    // Per step, a weight-gradient-shaped transpose(xᵀ·g) added to the carry; ys read it too.
    const f: F = (xs, g, c0) =>
      A.scan(
        (c: Value, x: Value): [Value, Value] => {
          const t = A.transpose(A.matmul(A.transpose(x), g));
          return [A.add(A.mul(c, 0.5), t), A.tanh(t)];
        },
        c0,
        xs,
      );
    expectThreeWays("scan body", f, [xs, g, c0]);
    expect(productDims(f, [xs, g, c0])).toEqual(["7x9x5"]);
  });

  it("float32: a flipped product whose operand is the transpose of another flipped product", () => {
    // The gradient of sum(x · (xᵀ·x)ᵀ): reverse mode makes a product p read only as pᵀ, and a second
    // product of pᵀ read only through its own transpose. Both flip; the second's operand then lives
    // in the first's new buffer (compiling read the old, never written, one: an internal error).
    for (const [m, k, n] of [
      [2, 2, 2],
      [3, 5, 7],
      [9, 11, 13],
    ] as const) {
      const square = data(m, [m, m], "float32");
      const loss = (x: Value): Value => A.sum(A.matmul(x, A.transpose(A.matmul(A.transpose(x), x))));
      expectThreeWays(`grad, ${m}×${m}`, A.grad(loss), [square]);
      const [x, g] = [data(k, [k, m], "float32"), data(n, [k, n], "float32")];
      // p = xᵀ·g (m×k×n) is read only as pᵀ; (pᵀ·xᵀ) (n×m×k) only as its transpose.
      const chained: F = (x, g) => A.transpose(A.matmul(A.transpose(A.matmul(A.transpose(x), g)), A.transpose(x)));
      expectThreeWays(`chained, ${m}×${k}×${n}`, chained, [x, g]);
      // Flipped: gᵀ·x, then x·p.
      expect(productDims(chained, [x, g])).toEqual([`${n}x${k}x${m}`, `${k}x${m}x${n}`]);
    }
  });

  it("float32: a product also read directly, or from a constant operand, keeps bits", () => {
    const a = data(3, [21, 10], "float32");
    const b = data(4, [10, 8], "float32");
    const both: F = (a, b) => {
      const p = A.matmul(a, b);
      return [A.exp(A.transpose(p)), A.neg(p)];
    };
    expectThreeWays("read both ways", both, [a, b]);
    expect(productDims(both, [a, b])).toEqual(["21x10x8"]);
    const c = data(6, [21, 10], "float32");
    const constant: F = (b) => A.mul(A.transpose(A.matmul(c, b)), 3);
    expectThreeWays("constant operand", constant, [b]);
    expect(productDims(constant, [b])).toEqual(["8x10x21"]);
  });
});
