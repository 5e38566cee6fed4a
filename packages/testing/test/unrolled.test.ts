import { describe, expect, it } from "vitest";
import "../src/vitest.js";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { arbScanProblem, scanUnrolled } from "../src/index.js";

const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");

/** A running sum that also emits its carry before the step: ys[t] = Σ_{s<t} xs[s]. */
const cumsum = (c: A.Value, x: A.Value) => [A.add(c, x), c] as const;

describe("scanUnrolled", () => {
  it("matches a hand-written loop, forward", () => {
    const [c, ys] = scanUnrolled(cumsum, t(0), t([1, 2, 3]));
    expect(c).toBeAllClose(6, { rtol: 0, atol: 0 });
    expect(ys).toBeAllClose([0, 1, 3], { rtol: 0, atol: 0 });
  });
  it("matches a hand-written loop, reverse (ys stay aligned with xs)", () => {
    const [c, ys] = scanUnrolled(cumsum, t(0), t([1, 2, 3]), { reverse: true });
    expect(c).toBeAllClose(6, { rtol: 0, atol: 0 });
    expect(ys).toBeAllClose([5, 3, 0], { rtol: 0, atol: 0 });
  });
  it("threads pytree carries and stacks pytree ys", () => {
    type C = { readonly h: A.Value; readonly n: A.Value };
    const f = (c: C, x: readonly [A.Value, A.Value]) =>
      [
        { h: A.mul(c.h, x[0]), n: A.add(c.n, 1) },
        { a: x[1], h: c.h },
      ] as const;
    const [c, ys] = scanUnrolled(f, { h: t([1, 1]), n: T.scalar(0, "int32") }, [
      t([
        [2, 3],
        [4, 5],
      ]),
      t([7, 8]),
    ]);
    expect(c).toBeAllClose({ h: t([8, 15]), n: T.scalar(2, "int32") }, { rtol: 0, atol: 0 });
    expect(ys).toBeAllClose(
      {
        a: t([7, 8]),
        h: t([
          [1, 1],
          [2, 3],
        ]),
      },
      { rtol: 0, atol: 0 },
    );
  });
  it("runs a length-only scan with xs = null", () => {
    const [c, ys] = scanUnrolled((c: A.Value) => [A.mul(c, 2), c] as const, t(1), null, { length: 4 });
    expect(c).toBeAllClose(16, { rtol: 0, atol: 0 });
    expect(ys).toBeAllClose([1, 2, 4, 8], { rtol: 0, atol: 0 });
  });
  it("returns init and empty ys of the right shapes for zero steps, without running f's values", () => {
    const f = (c: A.Value, x: A.Value) =>
      [A.add(c, A.sum(x)), { y: A.expandDims(x, 0), n: T.scalar(1, "int32") }] as const;
    const [c, ys] = scanUnrolled(f, t(5), T.zeros([0, 3], "float64"));
    expect(c).toBeAllClose(5, { rtol: 0, atol: 0 });
    expect(ys.y.shape).toEqual([0, 1, 3]);
    expect(ys.n.shape).toEqual([0]);
    expect(ys.n.dtype).toBe("int32");
  });
  it("is differentiable like any loop of ops (including at length 0)", () => {
    const loss = (w: A.Value, xs: A.Value) =>
      A.sum(scanUnrolled((c: A.Value, x: A.Value) => [A.tanh(A.add(A.mul(c, w), x)), c] as const, t(0.5), xs)[0]);
    const g = A.grad(loss)(t(0.7), t([0.1, -0.2]));
    const h1 = Math.tanh(0.5 * 0.7 + 0.1);
    // d/dw tanh(w·tanh(0.5w + 0.1) − 0.2) by the chain rule
    const expected = (1 - Math.tanh(0.7 * h1 - 0.2) ** 2) * (h1 + 0.7 * (1 - h1 ** 2) * 0.5);
    expect(g).toBeAllClose(expected, { rtol: 1e-12 });
    expect(A.grad(loss)(t(0.7), T.zeros([0], "float64"))).toBeAllClose(0, { rtol: 0, atol: 0 });
  });
  it("rejects xs leaves of different lengths, and a length that contradicts xs", () => {
    expect(() => scanUnrolled(cumsum, t(0), [t([1, 2]), t([1, 2, 3])] as never)).toThrow(/leading axis/);
    expect(() => scanUnrolled(cumsum, t(0), t([1, 2]), { length: 3 })).toThrow(/length 3 but xs has 2 steps/);
  });
  it("agrees with scan on random problems (values)", () => {
    for (const p of fc.sample(arbScanProblem(), { numRuns: 40, seed: 7 })) {
      const viaScan = p.run(p.params, p.init, p.xs);
      expect(p.run(p.params, p.init, p.xs, scanUnrolled)).toBeAllClose(viaScan, { rtol: 1e-12, atol: 1e-14 });
    }
  });
});
