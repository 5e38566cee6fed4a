/**
 * @file compile/pairProducts.ts: two float32 products of one op(a) run as one `mm2` call, which
 * packs each k block of a once, with the interpreter's bits (and eager's): an RNN's two weight
 * gradients, a transposed or plain a, k over several blocks, b's transposed or not, widths that
 * are not whole panels, operands and outputs outside the runner's memory, few rows (the kernel's
 * own fallback). Products that cannot pair (the second reads something computed after the first,
 * or the first's own result; float64; other a's) stay apart. Each case reads the generated code.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectThreeWays, productDims } from "./compileSupport.js";

type F = (...xs: Value[]) => Value | readonly Value[];

const key = (i: number): T.Key => T.random.key(i);
const normal = (i: number, shape: readonly number[], dtype: "float32" | "float64" = "float32"): T.Tensor =>
  T.random.normal(key(i), shape, dtype);

/** The `mm2` calls of the code compiled for `f`: `m×k×n1+n2` each. */
const pairs = (f: F, args: readonly T.Tensor[]): string[] => productDims(f, args).filter((d) => d.includes("+"));

/**
 * The gradients of a cell's weights stored as PyTorch stores them, [gates, in]: dW_ih = gᵀ·x and
 * dW_hh = gᵀ·h, both reading the gate gradients g transposed (flipProducts.ts computes them so).
 */
const weightGradients: F = (x, h, w, u) => {
  const loss = (w: Value, u: Value): Value =>
    A.sum(A.tanh(A.add(A.matmul(x, A.transpose(w)), A.matmul(h, A.transpose(u)))));
  return A.grad(loss, { argnums: [0, 1] })(w, u);
};

describe.runIf(T.getKernelBackend().large === "wasm")("compile: products of one operand, paired", () => {
  it("an RNN's two weight gradients read the gate gradients once: k over several blocks, bits three ways", () => {
    for (const [rows, nx, nh, gates] of [
      [600, 12, 40, 64],
      [257, 5, 33, 21],
      [30, 8, 8, 24],
    ] as const) {
      const args = [normal(1, [rows, nx]), normal(2, [rows, nh]), normal(3, [gates, nx]), normal(4, [gates, nh])];
      const f = weightGradients;
      expectThreeWays(`rows ${rows}`, f, args);
      // One pair, in whichever order the VJP made the two products.
      expect(pairs(f, args), `rows ${rows}`).toSatisfy(
        (p: string[]) =>
          p.length === 1 && [`${gates}x${rows}x${nx}+${nh}`, `${gates}x${rows}x${nh}+${nx}`].includes(p[0]!),
      );
    }
  });

  it("a plain a, b's transposed or not, outputs returned and read again, few rows", () => {
    const f: F = (a, b1, b2) => {
      const p = A.matmul(a, b1);
      const q = A.matmul(a, A.transpose(b2));
      return [p, q, A.add(A.sum(p, { axis: 1 }), A.sum(q, { axis: 1 }))];
    };
    for (const [m, k, n1, n2] of [
      [37, 300, 19, 8],
      [21, 9, 16, 3],
      [25, 70, 5, 27],
      [6, 40, 9, 12],
    ] as const) {
      const args = [normal(5, [m, k]), normal(6, [k, n1]), normal(7, [n2, k])];
      expectThreeWays(`${m}x${k}`, f, args);
      expect(pairs(f, args)).toEqual([`${m}x${k}x${n1}+${n2}`]);
    }
  });

  it("leaves apart what cannot pair: a b computed after the first product, the first's own result, float64, other a's", () => {
    const later: F = (a, b1, b2) => {
      const p = A.matmul(a, b1);
      // b2 depends on p: the second product cannot move up to the first.
      return [p, A.matmul(a, A.tanh(A.add(b2, A.sum(p))))];
    };
    const chained: F = (a, b1) => {
      const p = A.matmul(a, b1);
      return [p, A.matmul(a, A.transpose(p))];
    };
    const twoAs: F = (a, b1, b2) => [A.matmul(a, b1), A.matmul(A.mul(a, 2), b2)];
    const [m, k, n] = [30, 30, 30];
    for (const [label, f] of [
      ["later", later],
      ["chained", chained],
      ["two a's", twoAs],
    ] as const) {
      const args = [normal(8, [m, k]), normal(9, [k, n]), normal(10, [k, n])];
      expectThreeWays(label, f, args);
      expect(pairs(f, args), label).toEqual([]);
    }
    const f64: F = (a, b1, b2) => [A.matmul(a, b1), A.matmul(a, b2)];
    const args64 = [normal(11, [m, k], "float64"), normal(12, [k, n], "float64"), normal(13, [k, n], "float64")];
    expectThreeWays("float64", f64, args64);
    expect(pairs(f64, args64)).toEqual([]);
  });
});
