/**
 * @file The generic fallback: a primitive defined outside Rewind without a batching rule (or with
 * `batch: batchByLoop`) is batched by looping over the examples, and obeys the vmap law; a
 * malformed `batch` field is refused by definePrimitive; an empty batch works.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import { bind } from "../src/core.js";
import { batchByLoop, definePrimitive } from "../src/Primitive.js";
import { expectSameBits, floats, Rng } from "./vmapLaw.js";
import type { Value } from "../src/index.js";

/** A user primitive: the cumulative sum along the last axis (a kernel of its own, no batch rule). */
const cumsumImpl = (x: T.Tensor): T.Tensor => {
  const n = x.shape[x.shape.length - 1]!;
  const out = Array.from(x.data);
  for (let i = 0; i < out.length; i++) if (i % n !== 0) out[i]! += out[i - 1]!;
  return T.fromDataOrThrow(out, x.shape, x.dtype);
};
const base = {
  abstractEval: (ins: readonly A.Aval[]) => [ins[0]!],
  impl: (ins: readonly T.Tensor[]) => [cumsumImpl(ins[0]!)],
  vjp: A.noGradient,
};
const cumsumNoRule = definePrimitive<"myCumsum", void>({ name: "myCumsum", ...base });
const cumsumLoop = definePrimitive<"myCumsumLoop", void>({ name: "myCumsumLoop", ...base, batch: batchByLoop });

describe("vmap: the loop fallback", () => {
  for (const [name, prim] of [
    ["no batch rule", cumsumNoRule],
    ["batch: batchByLoop", cumsumLoop],
  ] as const) {
    it(`batches a user primitive with ${name} by looping, eager and jitted`, () => {
      const f = (x: Value) => A.mul(bind(prim, [x], undefined)[0]!, 2);
      const xs = floats(new Rng(4), [3, 2, 4], "float64");
      const want = A.stack([0, 1, 2].map((i) => f(A.reshape(A.take(xs, [i], 0), [2, 4]))));
      expectSameBits(A.vmap(f)(xs), want, "eager");
      expectSameBits(A.jit(A.vmap(f))(xs), want, "jit");
      expectSameBits(A.vmap(f, { inAxes: 2, outAxes: 0 })(A.transpose(xs, [1, 2, 0])), want, "axis 2");
      // the loop records one equation per example
      const count = A.makeGraph(A.vmap(f))(xs).graph.eqns.filter((e) => e.prim.name === prim.name).size;
      expect(count).toBe(3);
      expect(A.vmap(f)(T.zeros([0, 2, 4], "float64")).shape).toEqual([0, 2, 4]);
    });
  }

  it("definePrimitive refuses a batch field that is neither a rule nor batchByLoop", () => {
    expect(() => definePrimitive({ name: "bad", ...base, batch: "loop" } as never)).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/^definePrimitive: batch must be a function or "batchByLoop"/) as unknown,
      }),
    );
  });
});

describe("vmap: an empty batch", () => {
  it("maps over zero examples with the rules", () => {
    const w = floats(new Rng(2), [3, 2], "float64");
    const f = (x: Value, i: Value) => A.take(A.matmul(A.tanh(x), w), i, 0);
    const out = A.vmap(f)(T.zeros([0, 4, 3], "float64"), T.zeros([0, 2], "int32"));
    expect(out.shape).toEqual([0, 2, 2]);
  });
});
