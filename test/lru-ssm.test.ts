/**
 * @file `lru` (Orvieto et al. 2023) and `selectiveSsm` (Gu & Dao 2023, S6): the step against
 * plain-JavaScript float64 references written from the papers' equations (test/ssmReference.ts);
 * `rnn` in either mode against the per-sample reference loop; the parallel form against the step
 * form (outputs, final carry, gradients; lengths, reverse, layouts, float32 and float64, eager and
 * jit); gradients against finite differences; and the refusals of bad parameters and inputs.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { lru, lruCell, rnn, selectiveSsm, type AnyCell, type RnnOptions } from "@rewind/rnn";
import { allClose, checkGrads } from "@rewind/testing";
import { lruRefStep, refSequence, ssmRefStep, type RefCellStep } from "./ssmReference.js";

type Params = Record<string, T.Tensor>;

/** A cell under test, with its reference step and how its carry maps to one sample's flat state. */
interface Subject {
  readonly name: string;
  readonly cell: AnyCell;
  readonly ref: RefCellStep;
  readonly stateOf: (carry: unknown, b: number) => number[];
}

const row = (x: unknown, b: number): number[] => {
  const t = x as T.Tensor;
  const w = t.shape[1]!;
  return Array.from(t.data.subarray(b * w, (b + 1) * w) as ArrayLike<number>);
};

const SUBJECTS: readonly Subject[] = [
  {
    name: "lru",
    cell: lru as AnyCell,
    ref: lruRefStep,
    stateOf: (c, b) => [...row((c as { re: T.Tensor }).re, b), ...row((c as { im: T.Tensor }).im, b)],
  },
  { name: "selectiveSsm", cell: selectiveSsm as AnyCell, ref: ssmRefStep, stateOf: (c, b) => row(c, b) },
];

const [IN, HID] = [3, 4];
const sizes = { inputSize: IN, hiddenSize: HID };

const expectClose = (got: unknown, want: unknown, tol: number): void => {
  const r = allClose(got, want, { rtol: tol, atol: tol });
  expect(r.pass, r.message).toBe(true);
};

const noiseLike = <U>(tree: U, seed: number, scale: number): U => {
  let i = 0;
  return A.treeMap<U>((l) => T.mul(T.random.normal(T.random.key(seed + i++), l.shape, l.dtype), scale), tree);
};

/** Parameters from init, each moved by N(0, 0.3²) so no field is tied to another (γ to ν, …). */
const paramsFor = (s: Subject, seed: number, dtype: "float32" | "float64"): Params => {
  const p = s.cell.init(T.random.key(seed), sizes, { dtype }) as Params;
  return A.treeMap<Params>((l, d) => A.add(l, d), p, noiseLike(p, seed + 100, 0.3));
};

interface Case {
  readonly params: Params;
  readonly xs: T.Tensor;
  readonly h0: unknown;
  readonly opts: RnnOptions<unknown>;
  readonly lengths: number[] | undefined;
}

const arbCase = (s: Subject, dtype: "float32" | "float64", maxTime = 12): fc.Arbitrary<Case> =>
  fc
    .record({
      batch: fc.integer({ min: 1, max: 3 }),
      time: fc.integer({ min: 0, max: maxTime }),
      seed: fc.nat({ max: 1e6 }),
      withH0: fc.boolean(),
      reverse: fc.boolean(),
      timeMajor: fc.boolean(),
      cuts: fc.option(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), { nil: undefined }),
    })
    .map((r) => {
      const params = paramsFor(s, r.seed, dtype);
      const shape = r.timeMajor ? [r.time, r.batch, IN] : [r.batch, r.time, IN];
      const lengths = r.cuts?.slice(0, r.batch).map((c) => c % (r.time + 1));
      return {
        params,
        xs: T.random.normal(T.random.key(r.seed + 1), shape, dtype),
        h0: r.withH0 ? noiseLike(s.cell.initialCarry(r.batch, params), r.seed + 2, 0.5) : undefined,
        lengths,
        opts: { reverse: r.reverse, timeMajor: r.timeMajor, ...(lengths === undefined ? {} : { lengths }) },
      };
    });

const run = (s: Subject, c: Case, mode: "parallel" | "sequential") =>
  rnn(s.cell, c.params, c.xs, { ...c.opts, mode, ...(c.h0 === undefined ? {} : { initialCarry: c.h0 }) });

describe("the step follows the paper's equations (float64 reference loops)", () => {
  for (const s of SUBJECTS) {
    it(`${s.name}: one step from a random carry`, () => {
      fc.assert(
        fc.property(fc.nat({ max: 1e6 }), fc.integer({ min: 0, max: 3 }), (seed, batch) => {
          const p = paramsFor(s, seed, "float64");
          const carry = noiseLike(s.cell.initialCarry(batch, p), seed + 3, 0.5);
          const x = T.random.normal(T.random.key(seed + 4), [batch, IN], "float64");
          const [next, y] = s.cell.step(p)(carry, x);
          for (let b = 0; b < batch; b++) {
            const want = s.ref(p, s.stateOf(carry, b), row(x, b));
            expectClose(
              T.fromDataOrThrow(row(y, b), [IN], "float64"),
              T.fromDataOrThrow(want.y, [IN], "float64"),
              1e-12,
            );
            const got = s.stateOf(next, b);
            expectClose(
              T.fromDataOrThrow(got, [got.length], "float64"),
              T.fromDataOrThrow(want.state, [got.length], "float64"),
              1e-12,
            );
          }
        }),
        { numRuns: 25 },
      );
    });

    for (const mode of ["sequential", "parallel"] as const) {
      it(`${s.name}: rnn mode ${mode} equals the per-sample reference (lengths, reverse, layouts)`, () => {
        fc.assert(
          fc.property(arbCase(s, "float64"), (c) => {
            const r = run(s, c, mode);
            const timeMajor = c.opts.timeMajor ?? false;
            const [time, batch] = timeMajor ? c.xs.shape : [c.xs.shape[1]!, c.xs.shape[0]!];
            const init = c.h0 ?? s.cell.initialCarry(batch!, c.params);
            const out = r.outputs as T.Tensor;
            for (let b = 0; b < batch!; b++) {
              const xs = Array.from({ length: time! }, (_, t) => {
                const at = (timeMajor ? t * batch! + b : b * time! + t) * IN;
                return Array.from(c.xs.data.subarray(at, at + IN) as ArrayLike<number>);
              });
              const want = refSequence(
                s.ref,
                c.params,
                s.stateOf(init, b),
                xs,
                IN,
                c.lengths?.[b] ?? time!,
                c.opts.reverse ?? false,
              );
              want.outputs.forEach((y, t) => {
                const at = (timeMajor ? t * batch! + b : b * time! + t) * IN;
                const got = Array.from(out.data.subarray(at, at + IN) as ArrayLike<number>);
                y.forEach((v, i) =>
                  expect(Math.abs(got[i]! - v), `y[${b}, ${t}, ${i}]`).toBeLessThan(1e-10 + 1e-10 * Math.abs(v)),
                );
              });
              const fin = s.stateOf(r.finalCarry, b);
              want.final.forEach((v, i) =>
                expect(Math.abs(fin[i]! - v), `final[${b}, ${i}]`).toBeLessThan(1e-10 + 1e-10 * Math.abs(v)),
              );
            }
          }),
          { numRuns: 20 },
        );
      });
    }
  }
});

describe("the parallel form equals the step form", () => {
  for (const s of SUBJECTS) {
    it(`${s.name}: outputs and final carry, float64`, () => {
      fc.assert(
        fc.property(arbCase(s, "float64", 40), (c) => {
          const [par, seq] = [run(s, c, "parallel"), run(s, c, "sequential")];
          expectClose(par.outputs, seq.outputs, 1e-11);
          expectClose(par.finalCarry, seq.finalCarry, 1e-11);
        }),
        { numRuns: 30 },
      );
    });

    it(`${s.name}: gradients w.r.t. params, inputs and initial carry, float64, eager and jit`, () => {
      fc.assert(
        fc.property(arbCase(s, "float64"), (c) => {
          const batch = c.opts.timeMajor ? c.xs.shape[1]! : c.xs.shape[0]!;
          const h0 = c.h0 ?? noiseLike(s.cell.initialCarry(batch, c.params), 5, 0.5);
          const w = T.random.normal(T.random.key(9), [...c.xs.shape.slice(0, 2), IN], "float64");
          const loss = (mode: "parallel" | "sequential") => (p: Params, x: Value, h: unknown) => {
            const r = rnn(s.cell, p, x, { ...c.opts, mode, initialCarry: h });
            // Random weights on every carry leaf: a rotation-invariant term (Σ re² + im²) would
            // miss a wrong phase of lru's final carry.
            const carryTerm = A.treeLeaves(r.finalCarry).map((l, i) =>
              A.sum(A.mul(T.random.normal(T.random.key(20 + i), l.shape, "float64"), A.tanh(l))),
            );
            return carryTerm.reduce((acc, t) => A.add(acc, t), A.sum(A.mul(w, A.tanh(r.outputs))));
          };
          const grads = (m: "parallel" | "sequential") => A.grad(loss(m), { argnums: [0, 1, 2] });
          const gp = grads("parallel")(c.params, c.xs, h0);
          expectClose(gp, grads("sequential")(c.params, c.xs, h0), 1e-10);
          const jitted = A.jit(grads("parallel"))(c.params, c.xs, h0);
          expectClose(jitted, gp, 0);
        }),
        { numRuns: 12 },
      );
    });

    it(`${s.name}: float32 close to the step form, and jit gives the eager bits`, () => {
      fc.assert(
        fc.property(arbCase(s, "float32"), (c) => {
          const [par, seq] = [run(s, c, "parallel"), run(s, c, "sequential")];
          expectClose(par.outputs, seq.outputs, 1e-4);
          expectClose(par.finalCarry, seq.finalCarry, 1e-4);
          const jitted = A.jit((p: Params, x: Value) =>
            rnn(s.cell, p, x, { ...c.opts, mode: "parallel", ...(c.h0 === undefined ? {} : { initialCarry: c.h0 }) }),
          )(c.params, c.xs);
          expect(Array.from(jitted.outputs.data)).toEqual(Array.from((par.outputs as T.Tensor).data));
          for (const [a, b] of A.treeLeaves(jitted.finalCarry).map((l, i) => [l, A.treeLeaves(par.finalCarry)[i]!]))
            expect(Array.from((a as T.Tensor).data)).toEqual(Array.from((b as T.Tensor).data));
        }),
        { numRuns: 10 },
      );
    });
  }
});

describe("init follows the papers", () => {
  const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const numbers = (v: Value): number[] => Array.from((v as T.Tensor).data as ArrayLike<number>);
  const rms = (t: Value): number => Math.sqrt(mean(numbers(t).map((v) => v * v)));
  const ring = (p: ReturnType<typeof lru.init>) => {
    const nu = numbers(p.nu_log);
    const mod = nu.map((v) => Math.exp(-Math.exp(v)));
    const phase = numbers(p.theta_log).map((v) => Math.exp(v));
    return { mod, phase, gammaLog: numbers(p.gamma_log) };
  };
  it("lru: |λ|² uniform on [0, 1], phases uniform on [0, 2π], γ = √(1 − |λ|²), B and C scaled", () => {
    const [h, n] = [8, 4000];
    const p = lru.init(T.random.key(3), { inputSize: h, hiddenSize: n }, { dtype: "float64" });
    const { mod, phase, gammaLog } = ring(p);
    expect(mean(mod.map((m) => m * m))).toBeCloseTo(0.5, 1); // E|λ|² = ½ for |λ|² ~ U(0, 1)
    expect(mean(mod)).toBeCloseTo(2 / 3, 1); // E|λ| = ⅔: uniform by area, not by radius (½)
    expect(Math.min(...phase)).toBeGreaterThan(0);
    expect(Math.max(...phase)).toBeLessThan(2 * Math.PI);
    expect(mean(phase)).toBeCloseTo(Math.PI, 1);
    gammaLog.forEach((g, j) => expect(g).toBeCloseTo(0.5 * Math.log(1 - mod[j]! ** 2), 9));
    expect(rms(p.B_re) * Math.sqrt(2 * h)).toBeCloseTo(1, 1);
    expect(rms(p.B_im) * Math.sqrt(2 * h)).toBeCloseTo(1, 1);
    expect(rms(p.C_re) * Math.sqrt(n)).toBeCloseTo(1, 1);
    expect(rms(p.D)).toBeCloseTo(1, 0);
  });
  it("lruCell: Λ on the ring and phase range asked for", () => {
    const cell = lruCell({ rMin: 0.9, rMax: 0.999, maxPhase: Math.PI / 10 });
    const { mod, phase } = ring(cell.init(T.random.key(4), { inputSize: 2, hiddenSize: 500 }, { dtype: "float64" }));
    expect(Math.min(...mod)).toBeGreaterThanOrEqual(0.9 - 1e-12);
    expect(Math.max(...mod)).toBeLessThanOrEqual(0.999 + 1e-12);
    expect(Math.max(...phase)).toBeLessThanOrEqual(Math.PI / 10 + 1e-12);
    expect(cell.name).toBe("lru");
    expect(() => lruCell({ rMin: 0.5, rMax: 0.4 })).toThrow(/lruCell.*ring\.rMin.*0 ≤ rMin ≤ rMax ≤ 1/s);
    expect(() => lruCell({ rMax: 1.5 })).toThrow(/lruCell.*ring\.rMax/s);
    expect(() => lruCell({ maxPhase: 0 })).toThrow(/lruCell.*ring\.maxPhase/s);
    expect(() => lruCell({ rmax: 0.9 } as never)).toThrow(/lruCell.*rmax.*rMax/s);
  });
  it("selectiveSsm: A_log = log(1 … N) per row, D = 1, softplus(b_Δ) in [0.001, 0.1]", () => {
    const p = selectiveSsm.init(T.random.key(5), { inputSize: 50, hiddenSize: 3 }, { dtype: "float64" });
    expect(numbers(p.A_log).slice(0, 6)).toEqual([0, Math.log(2), Math.log(3), 0, Math.log(2), Math.log(3)]);
    expect(numbers(p.D).every((v) => v === 1)).toBe(true);
    const dt = numbers(p.bias_dt).map((b) => Math.log1p(Math.exp(b)));
    expect(Math.min(...dt)).toBeGreaterThanOrEqual(0.001 - 1e-12);
    expect(Math.max(...dt)).toBeLessThanOrEqual(0.1 + 1e-12);
  });
});

describe("lru's parallel form keeps float32 accuracy over long sequences", () => {
  it("T = 2048: float32 parallel and step forms both within 1e-5 of float64 on the same parameters", () => {
    // The rotated coordinates turn by φ·k: a float32 angle (or φ) would be off by ~φ·k·2⁻²⁴, an
    // error growing with k (it reached 4e-4 at T = 1024), while the step form's stays ~2e-6.
    const p32 = lru.init(T.random.key(1), { inputSize: 8, hiddenSize: 16 });
    const p64 = A.treeMap<typeof p32>((l) => A.astype(l, "float64"), p32);
    const xs32 = T.random.normal(T.random.key(2), [2, 2048, 8], "float32");
    const want = rnn(lru, p64, T.astype(xs32, "float64"), { mode: "sequential" }).outputs as T.Tensor;
    for (const mode of ["parallel", "sequential"] as const) {
      const got = rnn(lru, p32, xs32, { mode }).outputs as T.Tensor;
      let worst = 0;
      got.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want.data[i]!))));
      expect(worst, `${mode}: max |float32 − float64|`).toBeLessThan(1e-5);
    }
  });
});

describe("gradients against finite differences (float64)", () => {
  for (const s of SUBJECTS) {
    for (const mode of ["sequential", "parallel"] as const) {
      it(`${s.name}: rnn mode ${mode} with lengths, first and second order`, () => {
        const p = paramsFor(s, 11, "float64");
        const xs = T.random.normal(T.random.key(12), [2, 5, IN], "float64");
        const h0 = noiseLike(s.cell.initialCarry(2, p), 13, 0.5);
        const loss = (q: Params, x: Value, h: unknown): Value => {
          const r = rnn(s.cell, q, x, { mode, initialCarry: h, lengths: [5, 3] });
          const leaves = A.treeLeaves(r.finalCarry);
          return leaves.reduce((acc, l, i) => A.add(acc, A.sum(A.mul(l, i + 1.5))), A.sum(A.square(r.outputs)));
        };
        checkGrads(loss, [p, xs, h0], { order: 1 });
        checkGrads(loss, [p, xs, h0], { order: 2, modes: ["rev"] });
      });
    }
  }
});

describe("refusals name the op, the argument and what to do", () => {
  const k = T.random.key(0);
  const xs = T.zeros([2, 3, IN], "float64");
  const x = T.zeros([2, IN], "float64");
  for (const s of SUBJECTS) {
    const p = s.cell.init(k, sizes, { dtype: "float64" }) as Params;
    const carry = s.cell.initialCarry(2, p);
    const first = Object.keys(p)[0]!;
    it(`${s.name}: init with bad sizes or a scheme it does not have`, () => {
      expect(() => s.cell.init(k, { inputSize: IN, hiddenSize: 0 })).toThrow(
        new RegExp(`${s.name}\\.init.*sizes\\.hiddenSize`, "s"),
      );
      expect(() => s.cell.init(k, sizes, { scheme: "glorot" })).toThrow(
        new RegExp(`${s.name}\\.init.*options\\.scheme.*leave scheme out`, "s"),
      );
      expect(() => s.cell.init(k, sizes, { dtype: "int32" as never })).toThrow(new RegExp(`${s.name}\\.init`));
    });
    it(`${s.name}: parameters it did not make`, () => {
      expect(() => s.cell.step({ ...p, [first]: undefined })).toThrow(
        new RegExp(`${s.name}\\.step.*params.*${first}`, "s"),
      );
      const shaped = { ...p, D: T.zeros([IN + 1], "float64") };
      expect(() => s.cell.step(shaped)).toThrow(new RegExp(`${s.name}\\.step.*params.*D.*init`, "s"));
      expect(() => s.cell.sequence!({ ...p, [first]: T.astype(p[first]!, "float32") })).toThrow(
        new RegExp(`${s.name}\\.sequence.*float32.*float64`, "s"),
      );
      expect(() => s.cell.initialCarry(2, null)).toThrow(new RegExp(`${s.name}\\.initialCarry.*params`, "s"));
      expect(() => s.cell.initialCarry(-1, p)).toThrow(new RegExp(`${s.name}\\.initialCarry.*batch`, "s"));
    });
    it(`${s.name}: a step with the wrong input or carry`, () => {
      const step = s.cell.step(p);
      expect(() => step(carry, T.zeros([2, IN + 2], "float64"))).toThrow(
        new RegExp(`${s.name}\\.step.*x_t must be \\[batch, ${IN}\\] \\(the parameters' input size\\)`, "s"),
      );
      expect(() => step(carry, T.zeros([2, IN], "float32"))).toThrow(new RegExp(`${s.name}\\.step.*x.*float32`, "s"));
      expect(() => step(s.cell.initialCarry(3, p), x)).toThrow(new RegExp(`${s.name}\\.step.*carry`, "s"));
    });
    it(`${s.name}: a sequence with the wrong input, carry or lengths`, () => {
      const seq = s.cell.sequence!(p);
      expect(() => seq(carry, T.zeros([2, IN], "float64"))).toThrow(
        new RegExp(`${s.name}\\.sequence.*xs must be \\[batch, time, ${IN}\\]`, "s"),
      );
      expect(() => seq(carry, T.zeros([2, 3, IN], "float32"))).toThrow(
        new RegExp(`${s.name}\\.sequence.*xs is float32`, "s"),
      );
      expect(() => seq(s.cell.initialCarry(3, p), xs)).toThrow(
        new RegExp(`${s.name}\\.sequence.*carry.*initialCarry`, "s"),
      );
      expect(() => seq(carry, xs, T.fromDataOrThrow([4, 1], [2], "int32"))).toThrow(
        new RegExp(`${s.name}\\.sequence.*lengths.*outside \\[0, 3\\]`, "s"),
      );
    });
  }
  it("lru: a carry that is not { re, im }", () => {
    const p = lru.init(k, sizes, { dtype: "float64" });
    const h = T.zeros([2, HID], "float64");
    expect(() => lru.step(p)({ re: h } as never, x)).toThrow(/lru\.step.*carry.*\{ re, im \}/s);
    expect(() => lru.sequence!(p)(h as never, xs)).toThrow(/lru\.sequence.*carry.*\{ re, im \}/s);
  });
});
