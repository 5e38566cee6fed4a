/**
 * @file compile/tableProducts.ts: a float32 product of rows gathered from a table (an embedding
 * followed by a linear map, an RNN's lifted input projection) is computed as the table's product,
 * gathered, with the interpreter's bits (and eager's); an id out of range fails with the same
 * error as eager. Products it must leave alone (float64, no more rows than the table, a gather
 * nothing else reads) keep their shape. Each case reads which products the generated code calls.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectThreeWays, productDims } from "./compileSupport.js";

type F = (...xs: Value[]) => Value | readonly Value[];

const [V, D, N, B, TT] = [7, 6, 9, 4, 5];
const key = (i: number): T.Key => T.random.key(i);
const table = (dtype: "float32" | "float64" = "float32"): T.Tensor => T.random.normal(key(1), [V, D], dtype);
const weight = (dtype: "float32" | "float64" = "float32"): T.Tensor => T.random.normal(key(2), [N, D], dtype);
const ids = (shape: readonly number[]): T.Tensor =>
  T.fromDataOrThrow(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (i * 5 + 3) % V),
    shape,
    "int32",
  );

/** A linear map of a batch-major [B, T] sequence's embeddings, read time-major, and the gradient of tanh of it. */
const sequenceStep: F = (e, w, x) => {
  const loss = (e: Value, w: Value): Value => {
    const rows = A.reshape(A.transpose(A.take(e, x, 0), [1, 0, 2]), [-1, D]);
    return A.sum(A.tanh(A.matmul(rows, A.transpose(w))));
  };
  return A.valueAndGrad(loss, { argnums: [0, 1] })(e, w) as unknown as readonly Value[];
};

/** `f` fails eagerly in take (a bad id), and jitted with the very same message. */
const expectSameError = (f: F, args: readonly T.Tensor[]): void => {
  let eager = "";
  try {
    f(...args);
  } catch (e) {
    eager = (e as Error).message;
  }
  expect(eager).toMatch(/take/);
  expect(() => A.jit(f)(...args)).toThrow(eager);
};

describe("compile: a product of rows gathered from a table", () => {
  it("float32: a training step's time-major projection of embeddings multiplies the table once", () => {
    const args = [table(), weight(), ids([B, TT])];
    expectThreeWays("sequence", sequenceStep, args);
    // Forward: the table's 7 × 6 × 9 product (not 20 × 6 × 9); backward: the input gradient and W's.
    expect(productDims(sequenceStep, args)).toEqual(["7x6x9", "20x9x6", "9x20x6"]);
  });

  it("float32: rows taken in order, the gathered rows also returned", () => {
    const f: F = (e, w, x) => {
      const rows = A.take(e, x, 0);
      return [A.matmul(rows, w), rows];
    };
    const args = [table(), T.random.normal(key(3), [D, N]), ids([12])];
    expectThreeWays("in order", f, args);
    expect(productDims(f, args)).toEqual(["7x6x9"]);
  });

  it("float32 and float64: rows of 32 and more are gathered as block copies, with the same bits", () => {
    for (const dtype of ["float32", "float64"] as const)
      for (const width of [31, 32, 80]) {
        const wide = T.random.normal(key(4), [V, width], dtype);
        const f: F = (e, x) => A.mul(A.take(e, x, 0), 2);
        expectThreeWays(`${dtype} rows of ${width}`, f, [wide, ids([3, 4])]);
      }
  });

  it("an id out of range fails as eager does, where the product is rewritten", () => {
    const bad = T.fromDataOrThrow([0, 1, V, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4], [B, TT], "int32");
    const args = [table(), weight(), bad];
    expect(productDims(sequenceStep, args)[0]).toBe("7x6x9");
    expectSameError(sequenceStep, args);
    // Two products of the same gathered rows and nothing else: one is rewritten, the other keeps
    // the gather (and its error) alive.
    const two: F = (e, w1, w2, x) => {
      const rows = A.take(e, x, 0);
      return [A.matmul(rows, w1), A.matmul(rows, w2)];
    };
    const flat = T.reshape(bad, [B * TT]);
    const twoArgs = [table(), T.random.normal(key(5), [D, N]), T.random.normal(key(6), [D, 3]), flat];
    expect(productDims(two, [table(), twoArgs[1]!, twoArgs[2]!, ids([B * TT])])).toEqual(["7x6x9", "20x6x3"]);
    expectSameError(two, twoArgs);
  });

  it("leaves float64, few ids, rows that are not the table's, and a gather read by the product alone", () => {
    const args64 = [table("float64"), weight("float64"), ids([B, TT])];
    expectThreeWays("float64", sequenceStep, args64);
    expect(productDims(sequenceStep, args64)[0]).toBe("20x6x9");
    const few = [table(), weight(), ids([1, TT])];
    expectThreeWays("few ids", sequenceStep, few);
    expect(productDims(sequenceStep, few)[0]).toBe("5x6x9");
    // Rows that are not the table's: halves of them (a reshape), or a window of their columns.
    const halves: F = (e, w, x) => {
      const rows = A.take(e, x, 0);
      return [A.matmul(A.reshape(rows, [-1, D / 2]), A.slice(w, [{ stop: D / 2 }])), rows];
    };
    const window: F = (e, w, x) => {
      const rows = A.take(e, x, 0);
      return [A.matmul(A.slice(rows, [null, { start: 2, stop: 5 }]), A.slice(w, [{ stop: 3 }])), rows];
    };
    const w69 = T.random.normal(key(3), [D, N]);
    for (const [label, f, dims] of [
      ["halves", halves, "24x3x9"],
      ["window", window, "12x3x9"],
    ] as const) {
      expectThreeWays(label, f, [table(), w69, ids([12])]);
      expect(productDims(f, [table(), w69, ids([12])]), label).toEqual([dims]);
    }
    const forwardOnly: F = (e, w, x) => A.matmul(A.take(e, x, 0), w);
    const args = [table(), T.random.normal(key(3), [D, N]), ids([12])];
    expectThreeWays("forward only", forwardOnly, args);
    expect(productDims(forwardOnly, args)).toEqual(["12x6x9"]);
  });
});
