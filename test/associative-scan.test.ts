/**
 * @file `associativeScan` (issue 17): the prefixes of an associative operator in O(log n) depth.
 * Checked against plain loops in float64 (sums, non-commutative 2 × 2 matrix products, the
 * linear recurrence h_t = a_t h_{t−1} + b_t as a pytree), gradients against finite differences
 * (orders 1 and 2) and against the same recurrence run by a sequential `scan`, jit bit for bit,
 * vmap (the vmap law), the graph's size (O(log T) equations), and its errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { allClose, checkGrads, laws } from "@rewind/testing";

const f64 = (shape: readonly number[], seed: number, scale = 1): T.Tensor =>
  T.mul(T.random.normal(T.random.key(seed), shape, "float64"), T.scalar(scale, "float64"));
/** Uniform in [lo, hi): recurrence coefficients that keep h bounded. */
const coefficients = (shape: readonly number[], seed: number, lo = 0.3, hi = 0.95): T.Tensor =>
  T.random.uniform(T.random.key(seed), shape, { min: lo, max: hi, dtype: "float64" });

const expectClose = (got: unknown, want: unknown, rtol = 1e-12, atol = 1e-12): void => {
  const r = allClose(got, want, { rtol, atol });
  expect(r.pass, r.message).toBe(true);
};

/** The linear recurrence's combine: (a1, b1) then (a2, b2) is h ↦ a2 (a1 h + b1) + b2. */
const affine = ([a1, b1]: readonly [Value, Value], [a2, b2]: readonly [Value, Value]): [Value, Value] => [
  A.mul(a1, a2),
  A.add(A.mul(a2, b1), b2),
];

/** h_t = a_t h_{t−1} + b_t from h_{−1} = 0, along axis 1 of [B, T, H], in parallel. */
const parallelRecurrence = (a: Value, b: Value): Value => associativeH(a, b, false);
const associativeH = (a: Value, b: Value, reverse: boolean): Value =>
  A.associativeScan(affine, [a, b] as [Value, Value], { axis: 1, reverse })[1];

/** The same recurrence as a sequential scan over time (the unrolled reference). */
const sequentialRecurrence = (a: Value, b: Value): Value => {
  const tm = (v: Value) => A.transpose(v, [1, 0, 2]);
  const h0 = A.mul(A.slice(b, [null, { stop: 1 }]), 0); // zeros [B, 1, H]
  const [, hs] = A.scan(
    (h: Value, [at, bt]: [Value, Value]) => {
      const next = A.add(A.mul(at, h), bt);
      return [next, next] as const;
    },
    A.squeeze(h0, 1),
    [tm(a), tm(b)] as [Value, Value],
  );
  return tm(hs);
};

describe("associativeScan: values against plain loops (float64)", () => {
  it("sums along any axis, forwards and reversed, every length from 0 to 70", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        fc.integer(),
        (n, axis, reverse, seed) => {
          const shape = [2, 3, 2].map((d, a) => (a === axis ? n : d));
          const x = f64(shape, seed);
          const got = A.associativeScan(A.add, x, { axis, reverse }) as T.Tensor;
          // Reference: running sums by index arithmetic (row-major order meets each neighbour first).
          const want = Array.from(x.data);
          const stride = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
          const order = [...want.keys()];
          if (reverse) order.reverse();
          for (const i of order) {
            const t = Math.floor(i / stride) % n;
            const j = reverse ? t + 1 : t - 1;
            if (j >= 0 && j < n) want[i]! += want[i + (j - t) * stride]!;
          }
          expectClose(got, T.fromDataOrThrow(want, shape, "float64"));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("non-commutative 2 × 2 matrix products keep their order (reversed: x_{n−1} ⋯ x_i)", () => {
    for (const n of [1, 2, 5, 8, 13]) {
      const ms = f64([n, 2, 2], n, 0.8);
      const rows = Array.from({ length: n }, (_, i) => T.slice(ms, [{ start: i, stop: i + 1 }]));
      const forwards = rows.map((_, i) => rows.slice(1, i + 1).reduce((p, m) => T.matmul(p, m), rows[0]!));
      const backwards = rows.map((_, i) => rows.slice(i, n - 1).reduceRight((p, m) => T.matmul(p, m), rows[n - 1]!));
      expectClose(A.associativeScan(A.matmul, ms), T.concat(forwards, 0));
      expectClose(A.associativeScan(A.matmul, ms, { reverse: true }), T.concat(backwards, 0));
    }
  });

  it("a pytree of elements: the linear recurrence equals the sequential scan, lengths 1 to 64", () => {
    for (const steps of [1, 2, 3, 7, 32, 64]) {
      const a = coefficients([3, steps, 4], steps);
      const b = f64([3, steps, 4], 100 + steps);
      expectClose(parallelRecurrence(a, b), sequentialRecurrence(a, b), 1e-12, 1e-12);
      // Reversed: h_t = a_t h_{t+1} + b_t, i.e. the forward recurrence on flipped time.
      const flipT = (v: Value) => A.flip(v, 1);
      expectClose(associativeH(a, b, true), flipT(sequentialRecurrence(flipT(a), flipT(b))), 1e-12, 1e-12);
    }
  });

  it("maximum (exactly associative) gives exactly the running maximum", () => {
    const x = f64([5, 37], 7);
    const got = A.associativeScan(A.maximum, x, { axis: -1 }) as T.Tensor;
    const want = Array.from(x.data);
    for (let r = 0; r < 5; r++)
      for (let t = 1; t < 37; t++) want[r * 37 + t] = Math.max(want[r * 37 + t - 1]!, want[r * 37 + t]!);
    expect(Array.from(got.data)).toEqual(want);
  });
});

describe("associativeScan: gradients", () => {
  it("orders 1 and 2 against finite differences (float64)", () => {
    const a = coefficients([2, 9, 3], 1);
    const b = f64([2, 9, 3], 2);
    checkGrads((x: Value, y: Value) => A.sum(A.square(parallelRecurrence(x, y))), [a, b], { order: 2 });
    checkGrads((x: Value) => A.associativeScan(A.mul, x, { reverse: true }), [coefficients([11, 2], 3)], { order: 2 });
  });

  it("equal the sequential scan's gradients (the unrolled reference) to 1e-12", () => {
    const a = coefficients([4, 50, 8], 4);
    const b = f64([4, 50, 8], 5);
    const w = f64([4, 50, 8], 6);
    const loss = (h: (a: Value, b: Value) => Value) => (x: Value, y: Value) => A.sum(A.mul(w, A.tanh(h(x, y))));
    const [gp, gs] = [parallelRecurrence, sequentialRecurrence].map((h) => A.grad(loss(h), { argnums: [0, 1] })(a, b));
    expectClose(gp, gs, 1e-11, 1e-12);
  });
});

describe("associativeScan: transforms and graph", () => {
  it("jit gives the eager bits, float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const a = T.astype(coefficients([2, 33, 5], 8), dtype);
      const b = T.astype(f64([2, 33, 5], 9), dtype);
      const eager = parallelRecurrence(a, b) as T.Tensor;
      const jitted = A.jit(parallelRecurrence)(a, b);
      expect(Array.from(jitted.data)).toEqual(Array.from(eager.data));
    }
  });

  it("the vmap law: vmap over a leading batch equals the scan of each example", () => {
    const xs = f64([3, 2, 17], 10);
    laws.vmap(
      { f: (x: Value) => A.associativeScan(A.add, x, { axis: 1, reverse: true }), args: [xs], name: "cumsum" },
      {},
    );
  });

  it("the traced graph grows with log T, not T", () => {
    const eqns = (steps: number) =>
      A.makeGraph(parallelRecurrence)(coefficients([1, steps, 2], 1), f64([1, steps, 2], 2)).graph.eqns.size;
    const [small, large] = [eqns(32), eqns(1024)];
    // 32 → 1024 is 5 → 10 halvings: about twice the equations, where T steps would be 32 times.
    expect(large).toBeLessThan(2.2 * small);
    expect(large).toBeGreaterThan(small);
  });
});

describe("associativeScan: errors", () => {
  const x = T.zeros([4, 3], "float64");
  it("names the op, the argument and what to change", () => {
    expect(() => A.associativeScan(A.add as never, [x, T.zeros([5, 3], "float64")])).toThrow(
      /associativeScan.*elems\[1\].*same length along axis 0/s,
    );
    expect(() => A.associativeScan(A.add, T.scalar(1, "float64"))).toThrow(/associativeScan.*scalar.*no axis/s);
    expect(() => A.associativeScan((a: Value, b: Value) => A.sum(A.add(a, b), { axis: 0 }), x)).toThrow(
      /associativeScan.*fn.*whole slices of 2 elements along axis 0/s,
    );
    expect(() => A.associativeScan(((a: Value) => [a, a]) as never, x)).toThrow(
      /associativeScan.*fn returned the structure/s,
    );
    expect(() => A.associativeScan(A.add, x, { axis: 2 })).toThrow(/associativeScan.*axis/s);
    expect(() => A.associativeScan(A.add, x, { revers: true } as never)).toThrow(/associativeScan.*revers.*reverse/s);
    expect(() => A.associativeScan(A.add, x, { reverse: 1 } as never)).toThrow(/associativeScan.*options\.reverse/s);
    expect(() => A.associativeScan("add" as never, x)).toThrow(/associativeScan.*fn/s);
  });
});
