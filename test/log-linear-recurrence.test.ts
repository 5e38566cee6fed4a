/**
 * @file `logLinearRecurrence` (issue 17; Heinsen 2023): log h for h_t = a_t ⊙ h_{t−1} + b_t with
 * positive coefficients. The reference is `linearRecurrence` (one sequential pass, no logs or
 * exps) on exp of the same inputs: values, gradients, lengths (frozen state, −∞ outputs), reverse,
 * timeMajor, float32 and float64, eager and jit. Then what the log form is for (T = 4096 where the
 * product form underflows and the plain values under/overflow float32), finite gradients at the
 * −∞ padding, finite differences, and errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { linearRecurrence, logLinearRecurrence, type LinearRecurrenceOptions } from "@rewind/rnn";
import { allClose, checkGrads, laws } from "@rewind/testing";
import { arbRecurrence, type RecurrenceCase } from "./fuzz/rnnSpecs/parallel.js";

const expectClose = (got: unknown, want: unknown, rtol: number, atol = 0): void => {
  const r = allClose(got, want, { rtol, atol });
  expect(r.pass, r.message).toBe(true);
};
const data = (v: Value): number[] => Array.from((v as T.Tensor).data);
const optionsOf = (c: Pick<RecurrenceCase, "lengths" | "reverse" | "timeMajor">): LinearRecurrenceOptions => ({
  reverse: c.reverse,
  timeMajor: c.timeMajor,
  ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
});
const cast = (t: T.Tensor | undefined, dtype: T.DType): T.Tensor | undefined =>
  t === undefined ? undefined : T.astype(t, dtype);

/** exp of log h by the log form, and h by the plain form on exp of the same logs. */
const both = (c: RecurrenceCase, dtype: T.DType) => {
  const [la, lb, lh0] = [cast(c.a, dtype)!, cast(c.b, dtype)!, cast(c.h0, dtype)];
  const log = logLinearRecurrence(la, lb, lh0, optionsOf(c));
  const plain = linearRecurrence(A.exp(la), A.exp(lb), lh0 && A.exp(lh0), optionsOf(c));
  return { log, plain };
};

// The random recurrences of the fuzz suite, read as logs: log a in [−1.2, 1.2] (a in [0.3, 3.3],
// decaying and growing, sometimes one per feature), log b and log h0 standard normal.
describe("logLinearRecurrence is the log of linearRecurrence for positive inputs", () => {
  for (const [dtype, rtol] of [
    ["float64", 1e-10],
    ["float32", 2e-4],
  ] as const) {
    it(`${dtype}: outputs and final carry, with lengths, reverse, timeMajor and h0 in every combination`, () => {
      fc.assert(
        fc.property(arbRecurrence(40, 1), (c) => {
          const { log, plain } = both(c, dtype);
          expect(log.outputs.dtype).toBe(dtype);
          expectClose(A.exp(log.outputs), plain.outputs, rtol);
          expectClose(A.exp(log.finalCarry), plain.finalCarry, rtol);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("outputs past each sample's length are −∞ (log 0: linearRecurrence's zeros); the state is frozen", () => {
    const la = T.random.normal(T.random.key(1), [3, 6, 2], "float64");
    const lb = T.random.normal(T.random.key(2), [3, 6, 2], "float64");
    const lh0 = T.random.normal(T.random.key(3), [3, 2], "float64");
    for (const reverse of [false, true]) {
      const r = logLinearRecurrence(la, lb, lh0, { lengths: [6, 2, 0], reverse });
      const out = data(r.outputs);
      for (const [s, len] of [6, 2, 0].entries())
        for (let t = 0; t < 6; t++)
          for (let j = 0; j < 2; j++) {
            const v = out[(s * 6 + t) * 2 + j]!;
            if (t < len) expect(Number.isFinite(v), `sample ${s} step ${t}`).toBe(true);
            else expect(v, `sample ${s} step ${t}`).toBe(-Infinity);
          }
      // A sample of length 0 keeps log h0; without h0 its state is log 0 = −∞.
      expect(data(r.finalCarry).slice(4)).toEqual(data(lh0).slice(4));
      expect(data(logLinearRecurrence(la, lb, undefined, { lengths: [6, 2, 0], reverse }).finalCarry).slice(4)).toEqual(
        [-Infinity, -Infinity],
      );
    }
  });
});

describe("logLinearRecurrence: gradients", () => {
  const shape = [2, 12, 3];
  const lengths = [12, 7];
  const w = T.random.normal(T.random.key(5), shape, "float64");
  const args = (dtype: T.DType) => [
    T.random.normal(T.random.key(2), shape, dtype),
    T.random.normal(T.random.key(3), shape, dtype),
    T.random.normal(T.random.key(4), [2, 3], dtype),
  ];
  // The same loss of h either way: through exp of the log form, or the plain form on exp(inputs).
  const loss = (useLog: boolean, reverse: boolean) => (la: Value, lb: Value, lh0: Value) => {
    const r = useLog
      ? logLinearRecurrence(la, lb, lh0, { lengths, reverse })
      : linearRecurrence(A.exp(la), A.exp(lb), A.exp(lh0), { lengths, reverse });
    const [hs, hT] = useLog ? [A.exp(r.outputs), A.exp(r.finalCarry)] : [r.outputs, r.finalCarry];
    return A.add(A.sum(A.mul(A.astype(w, la.dtype), A.tanh(hs))), A.sum(A.sqrt(hT)));
  };

  for (const [dtype, rtol] of [
    ["float64", 1e-10],
    ["float32", 2e-3],
  ] as const)
    for (const jitted of [false, true])
      it(`${dtype}, ${jitted ? "jit" : "eager"}: equal the plain form's w.r.t. log a, log b, log h0 (lengths, reverse)`, () => {
        for (const reverse of [false, true]) {
          const [gl, gp] = [true, false].map((useLog) => {
            const g = A.grad(loss(useLog, reverse), { argnums: [0, 1, 2] });
            return (jitted ? A.jit(g) : g)(...(args(dtype) as [T.Tensor, T.Tensor, T.Tensor]));
          });
          expectClose(gl, gp, rtol, rtol);
        }
      });

  it("orders 1 and 2 against finite differences (float64, lengths and h0)", () => {
    for (const reverse of [false, true])
      checkGrads(
        (la: Value, lb: Value, lh0: Value) => {
          const r = logLinearRecurrence(la, lb, lh0, { lengths, reverse });
          return A.add(A.sum(A.mul(w, A.exp(r.outputs))), A.sum(A.square(r.finalCarry)));
        },
        args("float64"),
        { order: 2 },
      );
  });

  // Padded steps are log a = 0, log b = −∞; so are b = 0 and h0 = 0 given as −∞ by the caller.
  for (const dtype of ["float64", "float32"] as const)
    for (const jitted of [false, true])
      it(`${dtype}, ${jitted ? "jit" : "eager"}: the gradient at −∞ entries and padded steps is 0, never NaN`, () => {
        const [la, lb] = args(dtype) as [T.Tensor, T.Tensor];
        const lbWithZeros = T.where(T.less(lb, T.scalar(-0.5, dtype)), T.scalar(-Infinity, dtype), lb);
        const lh0 = T.fromDataOrThrow([0.5, -Infinity, 0, -Infinity, -Infinity, 1], [2, 3], dtype);
        const f = (x: Value, y: Value, z: Value) => {
          const r = logLinearRecurrence(x, y, z, { lengths: [9, 0] });
          return A.add(A.sum(A.exp(r.outputs)), A.sum(A.exp(r.finalCarry)));
        };
        const g = A.grad(f, { argnums: [0, 1, 2] });
        const grads = (jitted ? A.jit(g) : g)(la, lbWithZeros, lh0) as T.Tensor[];
        for (const gi of grads) expect(data(gi).every(Number.isFinite)).toBe(true);
        const [ga, gb, gh0] = grads.map(data) as [number[], number[], number[]];
        // Sample 1 has length 0, sample 0 length 9: nothing past them reaches the loss.
        for (let i = 0; i < 72; i++) {
          const [s, t] = [Math.floor(i / 36), Math.floor(i / 3) % 12];
          if (s === 1 || t >= 9) expect([ga[i], gb[i]], `entry ${i}`).toEqual([0, 0]);
          if (lbWithZeros.data[i] === -Infinity) expect(gb[i], `entry ${i}`).toBe(0);
        }
        expect([gh0[1], gh0[3], gh0[4]]).toEqual([0, 0, 0]);
        // Length 0: the final carry is log h0 itself, and d exp(x)/dx at 1 is e (to the dtype's rounding).
        expect(Math.abs(gh0[5]! - Math.E)).toBeLessThan(dtype === "float32" ? 1e-6 : 1e-15);
      });
});

describe("logLinearRecurrence stays finite where the plain forms do not (T = 4096, float32)", () => {
  const time = 4096;
  const ones = (v: number) => T.full([1, time, 1], v, "float32");
  /** log h_t for constant a, b and h0 = 0: b (1 − a^{t+1}) / (1 − a), in float64 JS. */
  const closedForm = (a: number, logB: number, t: number): number =>
    a < 1
      ? logB + Math.log1p(-(a ** (t + 1))) - Math.log1p(-a)
      : logB + (t + 1) * Math.log(a) + Math.log1p(-(a ** -(t + 1))) - Math.log(a - 1);
  /** Rounding bound: the log form cancels a*_t against a term of the same size, a few ulps of |a*_t|. */
  const expectNearClosedForm = (got: Value, a: number, logB: number): void => {
    const out = data(got);
    const eps32 = 2 ** -23;
    out.forEach((v, t) => {
      const want = closedForm(a, logB, t);
      const bound = 8 * eps32 * ((t + 1) * Math.abs(Math.log(a)) + Math.abs(want) + 1);
      if (!(Math.abs(v - want) <= bound)) expect.fail(`step ${t}: log h ${v}, closed form ${want} (bound ${bound})`);
    });
  };

  it("a = 0.5: the product form Π a_s underflows to 0 (then 0 · ∞ = NaN); the log form matches the sequential pass", () => {
    const [a, b] = [ones(0.5), ones(1)];
    // Heinsen's product form h_t = A_t Σ_{s≤t} b_s / A_s with A_t = Π_{s≤t} a_s, in plain float32.
    const prod = A.cumprod(a, { axis: 1 });
    const productForm = data(A.mul(prod, A.cumsum(A.div(b, prod), { axis: 1 })));
    expect(data(prod)[time - 1]).toBe(0);
    expect(productForm.some(Number.isNaN)).toBe(true);
    const log = logLinearRecurrence(A.log(a), A.log(b));
    expectNearClosedForm(log.outputs, 0.5, 0);
    expectClose(A.exp(log.outputs), linearRecurrence(a, b).outputs, 1e-3);
  });

  it("b = e^−200 (below float32's smallest subnormal): the plain values are 0, the log form gives log h", () => {
    const logB = ones(-200);
    expect(data(linearRecurrence(ones(0.5), A.exp(logB)).outputs).every((v) => v === 0)).toBe(true);
    expectNearClosedForm(logLinearRecurrence(A.log(ones(0.5)), logB).outputs, 0.5, -200);
  });

  it("a = 1.5: the plain values overflow to +∞ after ~220 steps, the log form reaches log h ≈ 1660", () => {
    const plain = data(linearRecurrence(ones(1.5), ones(1)).outputs);
    expect(plain[time - 1]).toBe(Infinity);
    const log = logLinearRecurrence(A.log(ones(1.5)), ones(0)).outputs;
    expectNearClosedForm(log, 1.5, 0);
    expect(data(log)[time - 1]).toBeGreaterThan(1660);
  });
});

describe("logLinearRecurrence: transforms", () => {
  const la = T.random.normal(T.random.key(6), [3, 20, 4], "float32");
  const lb = T.random.normal(T.random.key(7), [3, 20, 4], "float32");
  const lh0 = T.random.normal(T.random.key(8), [3, 4], "float32");

  it("eager = jit compiled = jit interpreted, bit for bit: values and gradients, traced lengths (0 included), reverse", () => {
    const lengths = T.fromDataOrThrow([20, 3, 0], [3], "int32");
    const bits = (tree: unknown): number[][] => A.treeFlatten(tree)[0].map((l) => Array.from((l as T.Tensor).data));
    for (const reverse of [false, true]) {
      const f = (x: Value, y: Value, z: Value, len: Value) => logLinearRecurrence(x, y, z, { lengths: len, reverse });
      const g = A.grad(
        (x: Value, y: Value, z: Value, len: Value) => {
          const r = f(x, y, z, len);
          return A.add(A.sum(A.exp(r.outputs)), A.sum(A.exp(r.finalCarry)));
        },
        { argnums: [0, 1, 2] },
      );
      for (const h of [f, g] as Array<(...a: Value[]) => unknown>) {
        const want = bits(h(la, lb, lh0, lengths));
        expect(bits(A.jit(h)(la, lb, lh0, lengths))).toEqual(want);
        expect(bits(A.jit(h, { compile: false })(la, lb, lh0, lengths))).toEqual(want);
      }
    }
  });

  it("eager = jit at SIMD sizes, bit for bit, with −∞ entries (b = 0, h0 = 0): values and gradients", () => {
    // B 4, T 33, H 40: loops of hundreds of elements run as WebAssembly SIMD under jit, through
    // the log-sum-exp of −∞ operands.
    const k = T.random.split(T.random.key(19), 3) as unknown as T.Key[];
    const ninf = T.scalar(-Infinity, "float32");
    const x = T.random.normal(k[0]!, [4, 33, 40], "float32");
    const yRaw = T.random.normal(k[1]!, [4, 33, 40], "float32");
    const y = T.where(T.less(yRaw, T.scalar(-0.8, "float32")), ninf, yRaw);
    const zRaw = T.random.normal(k[2]!, [4, 40], "float32");
    const z = T.where(T.less(zRaw, T.scalar(-0.5, "float32")), ninf, zRaw);
    const bits = (tree: unknown): number[][] => A.treeFlatten(tree)[0].map((l) => Array.from((l as T.Tensor).data));
    for (const reverse of [false, true]) {
      const f = A.valueAndGrad(
        (a: Value, b: Value, h: Value) => {
          const r = logLinearRecurrence(a, b, h, { lengths: [33, 0, 20, 1], reverse });
          return A.add(A.sum(A.exp(r.outputs)), A.sum(A.exp(r.finalCarry)));
        },
        { argnums: [0, 1, 2] },
      );
      const got = bits(A.jit(f)(x, y, z));
      expect(got).toEqual(bits(f(x, y, z)));
      // Not vacuous: no NaN (which would compare equal), the value and every gradient finite.
      expect(got.every((leaf) => leaf.every(Number.isFinite))).toBe(true);
      expect(A.compileGraph(A.makeGraph(f)(x, y, z).graph).simdKernels).toBeGreaterThan(0);
    }
  });

  it("the vmap law over an extra leading axis", () => {
    const stacked = (t: T.Tensor) => T.stack([t, T.neg(t)]);
    laws.vmap(
      {
        f: (x: Value, y: Value) => logLinearRecurrence(x, y).outputs,
        args: [stacked(la), stacked(lb)],
        name: "logLinearRecurrence",
      },
      {},
    );
  });
});

describe("logLinearRecurrence: errors name the op, the argument and what to change", () => {
  const lb = T.zeros([2, 5, 3], "float64");
  it("refuses bad shapes, dtypes, lengths and options", () => {
    expect(() => logLinearRecurrence(T.zeros([4], "float64"), lb)).toThrow(
      /logLinearRecurrence.*logA.*does not broadcast to logB's shape \[2, 5, 3\]/s,
    );
    expect(() => logLinearRecurrence(lb, T.zeros([5], "float64"))).toThrow(/logLinearRecurrence.*logB.*rank-1/s);
    expect(() => logLinearRecurrence(T.zeros([2, 5, 3], "float32"), lb)).toThrow(
      /logLinearRecurrence.*logA float32 and logB float64/s,
    );
    expect(() => logLinearRecurrence(T.zeros([2, 5, 3], "int32"), T.zeros([2, 5, 3], "int32"))).toThrow(
      /logLinearRecurrence.*float dtype/s,
    );
    expect(() => logLinearRecurrence(lb, lb, T.zeros([2, 5], "float64"))).toThrow(
      /logLinearRecurrence.*logH0.*float64\[2, 3\]/s,
    );
    expect(() => logLinearRecurrence(lb, lb, undefined, { lengths: [6, 1] })).toThrow(
      /logLinearRecurrence.*lengths\[0\] = 6/s,
    );
    expect(() => logLinearRecurrence(lb, lb, undefined, { lengths: [1, 2, 3] })).toThrow(
      /logLinearRecurrence.*3 entries for a batch of 2/s,
    );
    expect(() => logLinearRecurrence(lb, lb, undefined, { revers: true } as never)).toThrow(
      /logLinearRecurrence.*revers.*reverse/s,
    );
    expect(() => logLinearRecurrence([1, 2] as never, lb)).toThrow(/logLinearRecurrence.*logA/s);
  });
});
