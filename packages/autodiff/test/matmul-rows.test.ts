/**
 * @file `matmul` of a batch of matrices and one matrix (a [B, T, H] sequence times a weight) is
 * one product of B·T rows, as in PyTorch and JAX: its values and a's gradient are the batched
 * product's bit for bit (each output row is its own sums), and b's gradient is one product
 * contracting over all B·T rows, not B products summed over the batch. Eager, interpreted and
 * jitted agree bit for bit; float64 finite differences are in the gradient-check table.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const bits = (t: T.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.data as Float32Array).buffer));
const normal = (seed: number, shape: readonly number[]): T.Tensor => T.random.normal(T.random.key(seed), shape);

describe("matmul of a batch of matrices and one matrix", () => {
  const a = normal(1, [3, 4, 37, 20]);
  const b = normal(2, [20, 11]);
  const g = normal(3, [3, 4, 37, 11]);
  const loss = (a: Value, b: Value): Value => A.sum(A.mul(A.matmul(a, b), g));
  const rows = T.reshape(a, [3 * 4 * 37, 20]);

  it("computes the batched product's values", () => {
    const out = A.matmul(a, b) as T.Tensor;
    expect(out.shape).toEqual([3, 4, 37, 11]);
    expect(bits(out)).toEqual(bits(T.matmul(a, T.broadcastTo(b, [3, 4, 20, 11]))));
  });

  it("gives a's gradient per row and b's as one product over all rows, the same bits eager, traced and jitted", () => {
    const [da, db] = A.grad(loss, { argnums: [0, 1] })(a, b);
    expect(bits(da)).toEqual(bits(T.matmul(g, T.broadcastTo(T.transpose(b), [3, 4, 11, 20]))));
    expect(bits(db)).toEqual(bits(T.matmul(T.transpose(rows), T.reshape(g, [3 * 4 * 37, 11]))));
    const [ja, jb] = A.jit(A.grad(loss, { argnums: [0, 1] }))(a, b);
    expect(bits(ja)).toEqual(bits(da));
    expect(bits(jb)).toEqual(bits(db));
  });

  it("keeps NumPy's shapes for a 1-D b and broadcasts a 2-D a over a batched b as before", () => {
    expect((A.matmul(a, normal(4, [20])) as T.Tensor).shape).toEqual([3, 4, 37]);
    const batchedB = normal(5, [3, 20, 11]);
    const viaBatch = A.matmul(normal(6, [37, 20]), batchedB) as T.Tensor;
    expect(bits(viaBatch)).toEqual(bits(T.matmul(T.broadcastTo(normal(6, [37, 20]), [3, 37, 20]), batchedB)));
  });
});
