/**
 * @file compile/pairProducts.ts on random programs: two (or three) products of one op(a), the
 * second's b read as given, computed before the first product, computed after it, or computed from
 * it. Compiled results equal the interpreter's and eager's bit for bit in every case, and the
 * products pair exactly when the later one reads nothing computed at or after the earlier one.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectThreeWays, productDims } from "./compileSupport.js";

type Dep = "given" | "before" | "after" | "fromFirst";

/** The number of `mm2` calls in the code compiled for `f`. */
const pairCount = (f: (...xs: Value[]) => Value[], args: readonly T.Tensor[]): number =>
  productDims(f, args).filter((d) => d.includes("+")).length;

const program =
  (transA: boolean, dep: Dep, third: boolean) =>
  (a: Value, b1: Value, b2: Value): Value[] => {
    const opA = transA ? A.transpose(a) : a;
    const early = dep === "before" ? A.tanh(b2) : b2;
    const p1 = A.matmul(opA, b1);
    const second = dep === "after" ? A.tanh(b2) : dep === "fromFirst" ? A.add(b2, A.sum(A.mul(p1, 0.01))) : early;
    const p2 = A.matmul(opA, second);
    const outs = [p1, p2, A.sum(p2, { axis: 0 })];
    return third ? [...outs, A.matmul(opA, A.mul(b1, 0.5))] : outs;
  };

describe.runIf(T.getKernelBackend().large === "wasm")("compile: paired products on random programs", () => {
  it("keep the interpreter's bits, and pair only what may move", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom<Dep>("given", "before", "after", "fromFirst"),
        fc.boolean(),
        fc.constantFrom(3, 21, 30),
        fc.constantFrom(5, 260),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer(),
        (transA, dep, third, m, k, n1, n2, seed) => {
          const [k1, k2, k3] = T.random.split(T.random.key(seed >>> 0), 3) as unknown as T.Key[];
          const a = T.random.normal(k1!, transA ? [k, m] : [m, k]);
          const args = [a, T.random.normal(k2!, [k, n1]), T.random.normal(k3!, [k, n2])];
          const f = program(transA, dep, third);
          expectThreeWays(`${dep} ${transA} ${third} ${m}x${k}x${n1}+${n2}`, f, args);
          // Products of fewer than 512 multiply-adds run in JavaScript and never pair.
          const big = m * k * Math.min(n1, n2) >= 512 && m * k * n1 >= 512;
          const movable = dep === "given" || dep === "before";
          // A third product of the same a reads a value computed after the first two: it stays apart.
          const want = big && movable ? 1 : 0;
          expect(pairCount(f, args), `${dep} ${third} ${m}x${k}x${n1}+${n2}`).toBe(want);
        },
      ),
      { numRuns: 120 },
    );
  });
});
