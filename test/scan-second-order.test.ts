/**
 * @file Second derivatives through `scan` whose step has a kink (relu, abs, a leaky maximum, a
 * where): the derivative of such an op's derivative is a structural zero, so when the reverse
 * scan is differentiated again some of its cotangents are literal zeros. Those used to stop the
 * split of the joint step with an internal error ("a pullback output is known"); a Hessian-vector
 * product through a relu RNN failed. Checked in float64 against the same function written as an
 * unrolled loop, against central differences of the first derivatives (away from the kinks), and
 * compiled against interpreted, bit for bit.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { checkGrads } from "@rewind/testing";
import { hessianVectorProduct } from "../packages/autodiff/test/randomPrograms.js";

const KINKS: ReadonlyArray<readonly [string, (z: Value) => Value]> = [
  ["relu", (z) => A.relu(z)],
  ["abs", (z) => A.abs(z)],
  ["leaky maximum", (z) => A.maximum(z, A.mul(z, 0.1))],
  ["where", (z) => A.where(A.greater(z, 0), z, A.mul(z, -0.5))],
];

/** One step: the pre-activation c·w + x_t through the kink; the output is the new carry squared. */
const step =
  (kink: (z: Value) => Value, w: Value) =>
  (c: Value, x: Value): [Value, Value] => {
    const next = kink(A.add(A.mul(c, w), x));
    return [next, A.mul(next, next)];
  };

/** sum(final carry) + sum(outputs) by `scan` (with the options given) or by a loop over the rows. */
const loss =
  (kink: (z: Value) => Value, how: "scan" | "loop", options: A.ScanOptions = {}) =>
  (w: Value, init: Value, xs: Value): Value => {
    if (how === "scan") {
      const [last, ys] = A.scan(step(kink, w), init, xs, options);
      return A.add(A.sum(last), A.sum(ys));
    }
    const rows = Array.from({ length: xs.shape[0]! }, (_, t) => A.reshape(A.take(xs, [t], 0), xs.shape.slice(1)));
    let c = init;
    let total: Value = A.sum(A.mul(init, 0));
    for (const x of options.reverse === true ? rows.reverse() : rows) {
      const [next, y] = step(kink, w)(c, x);
      total = A.add(total, A.sum(y));
      c = next;
    }
    return A.add(A.sum(c), total);
  };

/**
 * Arguments whose pre-activations stay at least 0.07 away from every kink: |x_t| ∈ [0.5, 1] with
 * either sign, |w| ≤ 0.3 and |init| ≤ 1, and each carry at most ~1.43 in magnitude, so
 * |c·w| < 0.43 never flips the sign x_t gives. A carry of 3 values, or a scalar one: a rank-0
 * zero cotangent is a literal in the traced pullback, which is what the split met (the
 * vector's zeros are broadcasts, computed in the reverse body).
 */
const args = (carry: "vector" | "scalar"): [T.Tensor, T.Tensor, T.Tensor] => {
  const xs = [0.9, -0.6, 0.5, -1, 0.7, 0.55, -0.8, 0.95, -0.5, 0.65, -0.75, 0.85];
  return carry === "vector"
    ? [
        T.tensor([0.3, -0.2, 0.25], "float64"),
        T.tensor([0.8, -1, 0.4], "float64"),
        T.fromDataOrThrow(xs, [4, 3], "float64"),
      ]
    : [T.scalar(-0.3, "float64"), T.scalar(0.8, "float64"), T.fromDataOrThrow(xs.slice(0, 5), [5], "float64")];
};

/** The Hessian-vector product of `f` at `a` in the direction `v`, for all three arguments. */
const hvp = (f: (...xs: Value[]) => Value, a: readonly Value[], v: readonly T.Tensor[]): T.Tensor[] =>
  hessianVectorProduct(f, v)(...a) as T.Tensor[];

const direction = (at: readonly T.Tensor[]): T.Tensor[] =>
  at.map((t, i) => T.random.normal(T.random.key(10 + i), t.shape, "float64"));

const close = (got: readonly T.Tensor[], want: readonly T.Tensor[], what: string): void =>
  got.forEach((g, i) =>
    Array.from(g.data).forEach((x, k) =>
      expect(Math.abs(x - want[i]!.data[k]!), `${what}: argument ${i}[${k}]`).toBeLessThanOrEqual(
        1e-12 * Math.max(1, Math.abs(want[i]!.data[k]!)),
      ),
    ),
  );

describe("scan: second derivatives through a step with a kink", () => {
  for (const [name, kink] of KINKS) {
    for (const carry of ["scalar", "vector"] as const) {
      for (const options of [{}, { reverse: true }, { remat: "carries" as const }]) {
        const label = `${name}, ${carry} carry, ${JSON.stringify(options)}`;

        it(`${label}: the Hessian-vector product equals the unrolled loop's`, () => {
          const at = args(carry);
          const got = hvp(loss(kink, "scan", options), at, direction(at));
          const want = hvp(loss(kink, "loop", options), at, direction(at));
          // Not all zero: the outputs squared make the second derivative non-trivial.
          expect(want.some((t) => Array.from(t.data).some((x) => x !== 0))).toBe(true);
          close(got, want, label);
        });
      }

      it(`${name}, ${carry} carry: second derivatives match central differences (reverse and forward mode)`, () => {
        checkGrads(loss(kink, "scan"), args(carry), { order: 2, eps: 1e-6 });
      });

      it(`${name}, ${carry} carry: the Hessian-vector product compiled equals it interpreted, bit for bit`, () => {
        const at = args(carry);
        const f = (...xs: Value[]): Value[] => hvp(loss(kink, "scan"), xs, direction(at));
        const run = (compile: boolean): T.Tensor[] =>
          A.jit(f as (...a: unknown[]) => unknown, { compile })(...at) as T.Tensor[];
        const [compiled, interpreted] = [run(true), run(false)];
        compiled.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(interpreted[i]!.data)));
      });
    }
  }
});
