/**
 * @file The parallel law of `cellLaws` (issue 17): for every cell with a `sequence` form, mode
 * "parallel" equals mode "sequential" — outputs, final carry and gradients, float64 and float32,
 * eager and jitted (jit bit for bit) — with lengths, either direction and layout. It runs on the
 * built-in cells that have the form (the report says so), on a user's `defineCell` cell with a
 * hand-written `sequence`, and fails, naming the law and the differing path, for a subtly wrong
 * one; cells with only `step` are skipped, never reported as passing.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { defineCell, linearRecurrence, lstm, minGru, uniformInit, type Cell, type CellSpec } from "@rewind/rnn";
import {
  cellCase,
  cellLawChecks,
  cellLawProperties,
  cellLaws,
  cellLawsReport,
  parallelLawForCell,
  type JitImpl,
} from "@rewind/testing";
import { BUILTIN_CELLS } from "./builtinCells.js";

const sizes = { inputSize: 2, hiddenSize: 3 };

describe("the parallel law on the built-in cells", () => {
  it.each(BUILTIN_CELLS.filter(([, cell]) => cell.sequence !== undefined))(
    "%s: runs in every configuration and holds",
    (_, cell) => {
      const report = cellLawsReport(cell, { sizes, seed: 2, laws: ["parallel"] });
      expect(report).toEqual({ ran: ["parallel"], skipped: [] });
    },
  );
  it("minGru and minLstm are among the cells it runs on", () => {
    const withSequence = BUILTIN_CELLS.filter(([, cell]) => cell.sequence !== undefined).map(([name]) => name);
    expect(withSequence).toEqual(expect.arrayContaining(["minGru", "minLstm"]));
  });
  it("a cell with only step: skipped with the reason by default, refused when asked for by name", () => {
    const configs = [{ timeMajor: false, reverse: true, lengths: true, key: false }];
    const all = cellLawsReport(lstm, { sizes, configs });
    expect(all.ran).toEqual(["bptt", "reverse", "invariance", "padding", "bidirectionalPadding", "stacking", "vmap"]);
    expect(all.skipped).toEqual([{ law: "parallel", reason: "lstm has no sequence form (only step)" }]);
    expect(() => cellLaws(lstm, { sizes, laws: ["parallel"] })).toThrow(
      /cellLaws: argument `o\.laws` asks for the parallel law, which does not apply: lstm has no sequence form/,
    );
    expect(() => cellLawChecks.parallel(cellCase(lstm, { sizes }))).toThrow(
      /cellLawChecks\.parallel: .*lstm has no sequence form/,
    );
  });
  it("the property form: holds for minGru, fails with the reason for a cell with only step", () => {
    fc.assert(cellLawProperties(minGru, { sizes, maxBatch: 2, maxTime: 4 }).parallel, { numRuns: 3 });
    const run = fc.check(cellLawProperties(lstm, { sizes, maxBatch: 2, maxTime: 2 }).parallel, { numRuns: 1 });
    expect(run.failed).toBe(true);
    expect(String((run.errorInstance as Error).message)).toMatch(/lstm has no sequence form/);
  });
  it("the jit comparison is bit for bit: a jit off by one part in 10¹² is a violation", () => {
    const nudged: JitImpl =
      <Args extends unknown[], R>(f: (...args: Args) => R) =>
      (...args: Args): R => {
        const r = f(...args) as { loss: A.Value };
        return { ...r, loss: A.mul(r.loss, 1 + 1e-12) } as R;
      };
    const c = cellCase(minGru, { sizes, lengths: [4, 0, 2] });
    expect(() => cellLawChecks.parallel(c, { jit: nudged })).toThrow(
      /^parallel law violated for minGru .*jit of mode "parallel" vs eager, float64, bit for bit.*loss/s,
    );
  });
});

// ---- A user's cell with both forms ----

interface LeakyParams {
  readonly w: A.Value; // [in, H]
  readonly b: A.Value; // [H]
  readonly logit: A.Value; // [H]: the per-unit decay a = σ(logit)
}

/** h' = a ⊙ h + (1 − a) ⊙ tanh(x W + b): a leaky integrator whose state is a linear recurrence. */
const leakySpec = (
  sequence: CellSpec<LeakyParams, A.Value>["sequence"],
  name = "leaky",
): CellSpec<LeakyParams, A.Value> => ({
  name,
  init: (key, { inputSize, hiddenSize }, { dtype = "float32" }) => {
    const [k1, k2, k3] = T.random.split(key, 3) as [T.Key, T.Key, T.Key];
    return {
      w: uniformInit(k1, [inputSize, hiddenSize], hiddenSize, dtype),
      b: uniformInit(k2, [hiddenSize], hiddenSize, dtype),
      logit: T.random.normal(k3, [hiddenSize], dtype),
    };
  },
  initialCarry: (batch, p) => T.zeros([batch, p.b.shape[0]!], p.b.dtype),
  step: (p, h, x) => {
    const a = A.sigmoid(p.logit);
    const next = A.add(A.mul(a, h), A.mul(A.sub(1, a), A.tanh(A.add(A.matmul(x, p.w), p.b))));
    return [next, next];
  },
  outputSize: (p) => p.b.shape[0]!,
  inputSize: (p) => p.w.shape[0]!,
  ...(sequence === undefined ? {} : { sequence }),
});

/** The user's parallel form: the drive for every step at once, then `linearRecurrence`. */
const leakySequence =
  (wrong: "none" | "ignoresLengths" | "frozenDecay") =>
  (p: LeakyParams, h: A.Value, xs: A.Value, lengths?: A.Value): readonly [A.Value, A.Value] => {
    const logit = wrong === "frozenDecay" ? A.stopGradient(p.logit) : p.logit;
    const a = A.sigmoid(logit);
    const drive = A.mul(A.sub(1, a), A.tanh(A.add(A.matmul(xs, p.w), p.b)));
    const keep = wrong === "ignoresLengths" || lengths === undefined ? {} : { lengths };
    const r = linearRecurrence(a, drive, h, keep);
    return [r.finalCarry, r.outputs];
  };

const leaky: Cell<LeakyParams, A.Value> = defineCell(leakySpec(leakySequence("none")));

describe("the parallel law on a user's defineCell cell", () => {
  it("a correct hand-written sequence: every law holds, parallel included", () => {
    const report = cellLawsReport(leaky, { sizes, seed: 4 });
    expect(report.ran).toContain("parallel");
    expect(report.skipped).toEqual([]);
  });
  it("a sequence that ignores lengths: the law names itself and the final carry", () => {
    const wrong = defineCell(leakySpec(leakySequence("ignoresLengths"), "leakyNoLengths"));
    expect(() => parallelLawForCell(wrong, { sizes, seed: 4 })).toThrow(
      /^parallel law violated for leakyNoLengths \(.*lengths \[.*mode "parallel" vs mode "sequential", float64.*finalCarry/s,
    );
  });
  it("a sequence whose decay gets no gradient (values right): the law names the gradient's path", () => {
    const wrong = defineCell(leakySpec(leakySequence("frozenDecay"), "leakyFrozen"));
    expect(() => parallelLawForCell(wrong, { sizes, seed: 4 })).toThrow(
      /^parallel law violated for leakyFrozen .*mode "parallel" vs mode "sequential", float64: grad.*logit/s,
    );
  });
});
