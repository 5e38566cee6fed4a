/**
 * @file Compiled scans on random bodies: a float32 carry updated through a product with a constant
 * weight, an elementwise op and a mask from the step's own ids (int32, compared with the carry's
 * count), an int32 counter carry, outputs per step or none, forwards or in reverse, lengths from 1,
 * unrolled or not — and the gradient of a loss through it. Jitted with SIMD kernels and with the
 * JavaScript ones, both give the interpreter's bits, and they equal eager's.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectBits, expectInvariant } from "./compileSupport.js";

type Act = "tanh" | "sigmoid" | "relu" | "exp";

const activate = (x: Value, act: Act): Value =>
  act === "relu" ? A.maximum(x, 0) : act === "exp" ? A.exp(A.mul(x, 0.1)) : A[act](x);

/** The scan: carry [h (B × H float32), count (int32 scalar)], xs [x (T × B × H), ids (T × B)]. */
const run =
  (act: Act, reverse: boolean, ys: boolean, unroll: number) =>
  (h0: Value, w: Value, xs: Value, ids: Value): Value[] => {
    const [[h, count], out] = A.scan(
      ([h, n]: readonly [Value, Value], [x, id]: readonly [Value, Value]) => {
        // Rows whose id equals the number of steps taken so far keep their state (a per-sample mask).
        const keep = A.expandDims(A.equal(id, n), 1);
        const next = activate(A.add(A.matmul(h, w), x), act);
        const h2 = A.where(keep, h, next);
        return [[h2, A.add(n, 1)], ys ? A.mul(h2, 2) : null] as const;
      },
      [h0, T.scalar(0, "int32")] as const,
      [xs, ids] as const,
      { reverse, unroll },
    ) as unknown as readonly [readonly [Value, Value], Value | null];
    return out === null ? [h, count] : [h, count, out];
  };

/** jit = interpreter with SIMD kernels and with the JavaScript ones (`expectInvariant`), and = eager, bit for bit. */
const expectAllWays = (label: string, f: (...xs: Value[]) => Value[], args: readonly T.Tensor[]): void => {
  const got = expectInvariant(`${label} (SIMD)`, f, args);
  const before = T.setKernelBackend("js");
  try {
    expectInvariant(`${label} (JS)`, f, args);
  } finally {
    T.setKernelBackend(before);
  }
  expectBits(`${label} (eager)`, got, f(...args));
};

describe("compile: scans on random bodies", () => {
  it("values and gradients give the interpreter's bits through SIMD and JavaScript kernels, and eager's", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Act>("tanh", "sigmoid", "relu", "exp"),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1, 2, 3),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom([2, 8], [5, 16], [33, 4]),
        fc.integer(),
        (act, reverse, ys, unroll, length, [B, H], seed) => {
          const [k1, k2, k3, k4] = T.random.split(T.random.key(seed >>> 0), 4) as unknown as T.Key[];
          const h0 = T.random.normal(k1!, [B, H]);
          const w = T.mul(T.random.normal(k2!, [H, H]), 0.4);
          const xs = T.random.normal(k3!, [length, B, H]);
          const ids = T.astype(T.floor(T.mul(T.random.uniform(k4!, [length, B]), 4)), "int32");
          const f = run(act, reverse, ys, Math.min(unroll, length));
          const label = `${act} reverse ${reverse} ys ${ys} unroll ${unroll} T ${length} B ${B} H ${H}`;
          expectAllWays(label, f, [h0, w, xs, ids]);
          // The gradient with respect to the initial state and the weight, every input an argument.
          const grads = (h: Value, wv: Value, x: Value, k: Value): Value[] =>
            A.grad(
              (hh: Value, ww: Value) => {
                const outs = f(hh, ww, x, k);
                return A.sum(A.mul(outs[0]!, outs[0]!));
              },
              { argnums: [0, 1] },
            )(h, wv);
          expectAllWays(`${label} gradient`, grads, [h0, w, xs, ids]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
