/**
 * @file `linear` over a sequence, `[B, T, in]`, is one product of all B·T rows (as PyTorch's
 * linear): its values are those of the batched product bit for bit (each output row is its own
 * sums), and its weight's gradient is one product contracting over all B·T rows, not B products
 * summed over the batch. Eager and jitted agree bit for bit.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { grad, jit, matmul, mul, sum, transpose, type Value } from "@rewind/autodiff";
import { linear, type LinearParams } from "../src/index.js";

const bits = (t: T.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.data as Float32Array).buffer));

describe("linear over a sequence", () => {
  const layer = linear(11);
  const q = layer.init(T.random.key(1), 20) as LinearParams;
  const x = T.random.normal(T.random.key(2), [3, 37, 20]);
  const g = T.random.normal(T.random.key(3), [3, 37, 11]);
  const rows = T.reshape(x, [3 * 37, 20]);

  it("gives the batched product's values, plus the bias", () => {
    const y = layer.apply(q)(x) as T.Tensor;
    expect(y.shape).toEqual([3, 37, 11]);
    const batched = T.add(
      T.matmul(x, T.broadcastTo(T.transpose(q.weight as T.Tensor), [3, 20, 11])),
      q.bias as T.Tensor,
    );
    expect(bits(y)).toEqual(bits(batched));
  });

  it("takes its weight's gradient as one product over all rows, the same bits eager and jitted", () => {
    const loss = (p: LinearParams): Value => sum(mul(layer.apply(p)(x), g));
    const eager = grad(loss)(q);
    const want = T.transpose(T.matmul(T.transpose(rows), T.reshape(g, [3 * 37, 11])));
    expect(bits(eager.weight as T.Tensor)).toEqual(bits(want));
    const jitted = jit(grad(loss))(q);
    expect(bits(jitted.weight as T.Tensor)).toEqual(bits(eager.weight as T.Tensor));
    expect(bits(jitted.bias as T.Tensor)).toEqual(bits(eager.bias as T.Tensor));
    // The batched product's gradient (B products, summed) rounds differently: the test tells them apart.
    const summed = sum(matmul(transpose(T.reshape(g, [3, 37, 11]), [0, 2, 1]), x), { axis: 0 }) as T.Tensor;
    expect(bits(summed)).not.toEqual(bits(eager.weight as T.Tensor));
  });
});
