/**
 * @file Long sequences with the LSTM of long-sequences.support.ts (batch 2, 4 inputs, 8 hidden):
 * a scan forward over T = 100,000 steps and BPTT over T = 10,000 steps, eagerly and under jit,
 * with every remat policy. Nothing may overflow the stack, gradients must agree across
 * policies, and the memory each policy keeps must be what it promises: `estimateScanResiduals`
 * gives the promise, a child process (long-sequences.child.ts) measures the live bytes.
 *
 * Figures go to node_modules/.cache/fuzz/long-sequences.json (the README's Reliability section);
 * test/soak/long-sequences.ts extends them to BPTT over T = 100,000.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { lstm, rnn, type LstmCarry, type TorchCellParams } from "@rewind/rnn";
import type { MemoryReport } from "./long-sequences.child.js";
import { BATCH, lstmParams, manyToOneLoss, sequence } from "./long-sequences.support.js";
import { measure, memoryViolations, recordFigures } from "./long-sequences.figures.js";

/** The largest |a − b| over all gradient leaves, relative to each leaf's largest |a|. */
const worstRelativeGap = (
  a: Readonly<Record<string, readonly number[]>>,
  b: Readonly<Record<string, readonly number[]>>,
): number =>
  Math.max(
    ...Object.keys(a).map((k) => {
      const [x, y] = [a[k]!, b[k]!];
      expect(y.length, k).toBe(x.length);
      const scale = Math.max(...x.map(Math.abs));
      return Math.max(...x.map((v, i) => Math.abs(v - y[i]!))) / scale;
    }),
  );

const flat = (g: unknown): Record<string, number[]> => {
  const leaves = g as Record<string, T.Tensor>;
  // −0 becomes 0, as it does in the children's JSON.
  return Object.fromEntries(
    Object.keys(leaves)
      .sort()
      .map((k) => [k, Array.from(leaves[k]!.data, (v) => (Object.is(v, -0) ? 0 : v))]),
  );
};

const POLICIES = [
  ["all", "all"],
  ["carries", "carries"],
  ["every100", { every: 100 }],
] as const satisfies ReadonlyArray<readonly [string, A.ScanOptions["remat"]]>;

/**
 * Float32 gradients of a 10,000-step sum, accumulated in a different order (per segment, or the
 * input projections lifted out of the loop): about √T·eps ≈ 6e-6 of a leaf's scale when rounding
 * errors cancel as they usually do; 2e-5 leaves room and still catches any real difference.
 */
const F32_GAP = 2e-5;
/** The same in float64 (eps 1.1e-16) over 2,000 steps. */
const F64_GAP = 1e-12;

describe("scan forward at T = 100,000", () => {
  it("completes eagerly and compiled, and equals two halves run back to back (bit for bit)", () => {
    const length = 100_000;
    const params = lstmParams();
    const xs = sequence(length);
    const run = (p: TorchCellParams, x: A.Value, c: LstmCarry) =>
      rnn(lstm, p, x, { timeMajor: true, initialCarry: c }).finalCarry;
    const init = lstm.initialCarry(BATCH, params);
    const t0 = performance.now();
    const eager = run(params, xs, init);
    const eagerMs = performance.now() - t0;
    const jitted = A.jit(run);
    const t1 = performance.now();
    const compiled = jitted(params, xs, init);
    const jitMs = performance.now() - t1;
    const half = length / 2;
    const first = jitted(params, T.slice(xs, [{ start: 0, stop: half }]), init);
    const chained = jitted(params, T.slice(xs, [{ start: half, stop: length }]), first);
    // Values of the segmented form (what remat: { every } runs) are the same too.
    const segmented = A.jit(
      (p: TorchCellParams, x: A.Value) => rnn(lstm, p, x, { timeMajor: true, remat: { every: 100 } }).finalCarry,
    )(params, xs);
    for (const other of [compiled, chained, segmented]) {
      expect(Array.from((other.h as T.Tensor).data)).toEqual(Array.from((eager.h as T.Tensor).data));
      expect(Array.from((other.c as T.Tensor).data)).toEqual(Array.from((eager.c as T.Tensor).data));
    }
    expect(Array.from((eager.h as T.Tensor).data).every(Number.isFinite)).toBe(true);
    recordFigures({ forward: { length, eagerMs: Math.round(eagerMs), jitMs: Math.round(jitMs) } });
  });
});

describe("BPTT at T = 10,000", () => {
  const length = 10_000;

  it("compiled, under every policy, through rnn's sequence-to-sequence loss: no stack overflow, gradients agree", () => {
    const params = lstmParams();
    const xs = sequence(length);
    const grads = POLICIES.map(([, remat]) => {
      const loss = (p: TorchCellParams) => {
        const { outputs, finalCarry } = rnn(lstm, p, xs, { timeMajor: true, remat });
        return A.add(A.mean(A.square(outputs)), A.sum(finalCarry.c));
      };
      return flat(A.jit(A.grad(loss))(params));
    });
    for (const g of grads.slice(1)) expect(worstRelativeGap(grads[0]!, g)).toBeLessThanOrEqual(F32_GAP);
    expect(Object.values(grads[0]!).flat().every(Number.isFinite)).toBe(true);
  });

  it("in float64 (T = 2,000) the policies agree to 1e-12 of each leaf: the float32 gaps are rounding", () => {
    const params = lstmParams("float64");
    const xs = sequence(2_000, "float64");
    const grads = POLICIES.map(([, remat]) => flat(A.jit(A.grad(manyToOneLoss(xs, { remat })))(params)));
    for (const g of grads.slice(1)) expect(worstRelativeGap(grads[0]!, g)).toBeLessThanOrEqual(F64_GAP);
  });

  it("memory: each policy keeps what it promises, measured in a child process, and compiled gradients match", async () => {
    const reports = await Promise.all(POLICIES.map(([, policy]) => measure(policy, length)));
    const [all, carries, every] = reports as [MemoryReport, MemoryReport, MemoryReport];
    expect(memoryViolations({ all, carries, every }, length)).toEqual([]);

    // The eager gradients (children) agree across policies, and the compiled ones are the same bits.
    for (const r of [carries, every]) expect(worstRelativeGap(all.grads, r.grads)).toBeLessThanOrEqual(F32_GAP);
    const params = lstmParams();
    const xs = sequence(length);
    for (const [i, [, remat]] of POLICIES.entries()) {
      expect(flat(A.jit(A.grad(manyToOneLoss(xs, { remat })))(params)), JSON.stringify(remat)).toEqual(
        reports[i]!.grads,
      );
    }

    recordFigures({
      bptt: {
        length,
        policies: Object.fromEntries(
          POLICIES.map(([key], i) => {
            const { grads: _, ...figures } = reports[i]!;
            return [key, figures];
          }),
        ),
      },
    });
  }, 300_000);
});
