/**
 * @file The compiler on scans: bodies compiled once and looped, carries ping-ponged, xs rows read
 * and ys rows written in place. Compiled = interpreted bit for bit for every length (0, 1, many),
 * direction, policy, pytree and int carries, nested scans, and their gradients and JVPs.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectInvariant, floatDTypes, tensorOf } from "./compileSupport.js";

interface Carry {
  readonly h: Value;
  readonly n: Value;
  readonly a: Value;
  readonly b: Value;
  readonly kept: Value;
}

/** A step exercising every kind of carry and y: updated, int, swapped, unchanged; ys = x, a constant, a computed row. */
interface Ys {
  readonly y: Value;
  readonly x: Value;
  readonly w: Value;
  readonly hn: Value;
}

const step =
  (w: Value) =>
  (c: Carry, x: Value): [Carry, Ys] => {
    const h = A.tanh(A.add(A.mul(c.h, w), A.sum(x, { axis: -1, keepDims: true })));
    const next: Carry = { h, n: A.add(c.n, 1), a: c.b, b: c.a, kept: c.kept };
    return [next, { y: A.mul(h, 2), x, w, hn: A.mul(h, A.astype(c.n, h.dtype)) }];
  };

const options: readonly A.ScanOptions[] = [
  {},
  { reverse: true },
  { remat: "carries" },
  { remat: { every: 2 } },
  { unroll: 2 },
  { unroll: true },
  { truncate: 2 },
  { reverse: true, remat: { every: 3 } },
];

describe("compile: scan", () => {
  it("lengths 0, 1 and more, every option, pytree and int carries: values, grads and JVPs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom(...floatDTypes),
        fc.integer({ min: 0, max: options.length - 1 }),
        (len, dtype, o) =>
          fc.assert(
            fc.property(
              tensorOf([len, 2, 3], dtype, fc.double({ min: -2, max: 2, noNaN: true })),
              tensorOf([2, 1], dtype, fc.double({ min: -2, max: 2, noNaN: true })),
              (xs, w) => {
                const init = (v: Value): Carry => ({
                  h: A.mul(v, 0.5),
                  n: T.tensor([[1], [2]], "int32"),
                  a: A.exp(v),
                  b: A.neg(v),
                  kept: A.sin(v),
                });
                const f = (wv: Value, xv: Value) => A.scan(step(wv), init(wv), xv, options[o]);
                expectInvariant(`scan len=${len} ${JSON.stringify(options[o])}`, f, [w, xs]);
                const loss = (wv: Value, xv: Value) => {
                  const [c, ys] = f(wv, xv);
                  return A.add(A.sum(A.mul(c.h, c.a)), A.sum(A.mul(ys.hn, ys.y)));
                };
                expectInvariant("grad", A.grad(loss, { argnums: [0, 1] }), [w, xs]);
                expectInvariant(
                  "jvp",
                  (wv: Value, xv: Value) => A.jvp(loss, [wv, xv], [A.onesLike(wv), A.mul(xv, 0.5)]),
                  [w, xs],
                );
              },
            ),
            { numRuns: 2 },
          ),
      ),
      { numRuns: 30 },
    );
  });

  it("nested scans (a scan in the body), forward and reverse, and their gradient", () => {
    const inner = (c: Value, x: Value): [Value, Value] => [A.tanh(A.add(A.mul(c, 0.9), x)), A.square(c)];
    const outer =
      (w: Value) =>
      (c: Value, xrow: Value): [Value, Value] => {
        const [ci, ys] = A.scan(inner, A.mul(c, w), xrow, { reverse: true });
        return [A.add(ci, c), A.sum(ys, { axis: 0 })];
      };
    for (const dtype of floatDTypes) {
      const xs = T.random.normal(T.random.key(9), [4, 5, 3], dtype);
      const w = T.random.normal(T.random.key(10), [3], dtype);
      const f = (wv: Value, xv: Value) => A.scan(outer(wv), A.zerosLike(wv), xv);
      expectInvariant(`nested ${dtype}`, f, [w, xs]);
      const loss = (wv: Value, xv: Value) => A.sum(A.mul(f(wv, xv)[1], f(wv, xv)[0]));
      expectInvariant(`grad nested ${dtype}`, A.grad(loss, { argnums: [0, 1] }), [w, xs]);
    }
  });

  it("carries updated in place only where that is safe (the old value read later, by a matmul, transposed)", () => {
    const w = T.random.normal(T.random.key(13), [3, 3], "float64");
    const xs = T.random.normal(T.random.key(14), [4, 3, 3], "float64");
    const bodies: ReadonlyArray<(c: Value, x: Value) => [Value, Value]> = [
      (c, x) => [A.add(c, x), A.matmul(c, w)], // old carry read after the update
      (c, x) => [A.add(A.matmul(c, w), x), A.exp(c)], // the producer (a matmul) reads the old carry
      (c, x) => [A.add(c, A.transpose(c)), x], // the update reads the old carry transposed
      (c, x) => [A.add(c, x), A.sum(A.mul(c, x))], // an accumulator with a fused elementwise reader
    ];
    bodies.forEach((body, i) => {
      expectInvariant(`body ${i}`, (x: Value) => A.scan(body, A.mul(w, 0.5), x), [xs]);
      expectInvariant(
        `grad body ${i}`,
        A.grad((x: Value) => A.sum(A.scan(body, A.mul(w, 0.5), x)[1])),
        [xs],
      );
    });
  });

  it("a scan without xs (length only) and a scan whose body ignores its carry", () => {
    const x = T.tensor([0.5, -0.25], "float64");
    expectInvariant("no xs", (v: Value) => A.scan((c: Value) => [A.mul(c, v), c], v, null, { length: 5 }), [x]);
    expectInvariant(
      "carry unchanged",
      (v: Value) => A.scan((c: Value, r: Value) => [c, A.add(c, r)], v, A.stack([v, v, v])),
      [x],
    );
  });

  it("10,000 steps run in constant stack, with their gradient", () => {
    const xs = T.random.normal(T.random.key(12), [10_000, 2], "float32");
    const f = (x: Value) =>
      A.scan((c: Value, r: Value) => [A.tanh(A.add(A.mul(c, 0.99), r)), c], T.zeros([2], "float32"), x);
    const [carry] = expectInvariant("10k steps", f, [xs]) as [T.Tensor, T.Tensor];
    expect(carry.shape).toEqual([2]);
    expectInvariant(
      "10k steps grad",
      A.grad((x: Value) => A.sum(f(x)[0])),
      [xs],
    );
  });
});
