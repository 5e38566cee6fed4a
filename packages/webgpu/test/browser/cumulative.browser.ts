/**
 * @file The cumulative primitives and the linear recurrence on the device against the CPU jit: on
 * generated shapes, axes and directions (float32 within the tolerance, n terms per value; int32
 * and bool exactly), through their gradients (made of linearScan and flips), and on ±0, ±Inf and
 * NaN (a NaN sticks in max and min, spreads in sums).
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { fromDataOrThrow } from "@rewind/tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { CUMULATIVE_COVERED } from "./coverage.js";
import { compare, floats, ints, RUNS, seen, shapeArb } from "./helpers.js";

/** A shape of rank 1–3, a valid axis of it, and a direction. */
const withAxis = shapeArb(3)
  .filter((s) => s.length > 0)
  .chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length - 1), fc.boolean()));

const SPECIAL = fromDataOrThrow([1, 0, -0, Infinity, 2, -Infinity, NaN, 3, -1, 0.5, Infinity, 4], [12], "float32");

describe("cumulative lowerings", () => {
  it("cumsum, cumprod, cummax, cummin and logcumsumexp match the CPU on float32", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, axis, reverse]) =>
          fc.tuple(floats(s, -2, 2), fc.constant({ axis, reverse }), fc.constant(s)),
        ),
        async ([x, opts, s]) => {
          const f = (v: Value) => [
            A.cumsum(v, opts),
            A.cumprod(v, opts),
            A.cummax(v, opts),
            A.cummin(v, opts),
            A.logcumsumexp(v, opts),
          ];
          await compare(f, [x], { terms: s[opts.axis]!, scale: 2 });
        },
      ),
      RUNS,
    );
  });

  it("linearScan matches the CPU, and so do the gradients made of it", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, axis, reverse]) =>
          fc.tuple(floats(s, -0.9, 0.9), floats(s, -2, 2), fc.constant({ axis, reverse }), fc.constant(s)),
        ),
        async ([a, b, opts, s]) => {
          const n = s[opts.axis]!;
          await compare((u: Value, v: Value) => A.linearScan(u, v, opts), [a, b], { terms: n, scale: 2 });
          // Weighted, so every position's cotangent differs.
          const w = A.add(A.cumsum(A.onesLike(b), opts), 0.5);
          const loss = (v: Value) =>
            A.add(A.sum(A.mul(A.cumprod(v, opts), w)), A.add(A.sum(A.cummax(v, opts)), A.sum(A.logcumsumexp(v, opts))));
          await compare(A.grad(loss), [b], { terms: 4 * n * n, scale: 8 });
        },
      ),
      RUNS,
    );
  });

  it("int32 and bool accumulate exactly (int32 wraps; bool counts as int32)", async () => {
    const big = fromDataOrThrow([2147483647, 1, -5, 2147483647], [4], "int32");
    await compare((v: Value) => [A.cumsum(v), A.cumprod(v)], [big], { exact: true });
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, axis, reverse]) => fc.tuple(ints(s), fc.constant({ axis, reverse }))),
        async ([x, opts]) => {
          const f = (v: Value) => [
            A.cumsum(v, opts),
            A.cumprod(v, opts),
            A.cummax(v, opts),
            A.cummin(v, opts),
            A.cumsum(A.greater(v, 0), opts),
          ];
          await compare(f, [x], { exact: true });
        },
      ),
      RUNS,
    );
  });

  it("±0, ±Inf and NaN: NaN sticks in cummax and cummin, spreads through sums, products and logcumsumexp", async () => {
    for (const reverse of [false, true]) {
      const opts = { reverse };
      await compare((v: Value) => [A.cummax(v, opts), A.cummin(v, opts)], [SPECIAL], { exact: true });
      await compare((v: Value) => [A.cumsum(v, opts), A.cumprod(v, opts), A.logcumsumexp(v, opts)], [SPECIAL], {
        terms: 12,
        scale: 4,
      });
    }
  });
});

afterAll(() => {
  for (const p of CUMULATIVE_COVERED) expect(seen, p).toContain(p);
});
