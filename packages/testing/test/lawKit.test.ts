/**
 * One law toolkit, one set of tolerances: the scan laws, the function laws and the RNN laws all
 * compare with `LAW_TOLERANCES`. Before, the scan and function laws defaulted to rtol 1e-9 and
 * atol 1e-10 and the RNN laws to 1e-10 and 1e-12, so an error of 5e-10 relative passed the first
 * and failed the second.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { lstm, rnn } from "@rewind/rnn";
import {
  arbScanProblem,
  cellCase,
  cellLawChecks,
  LAW_TOLERANCES,
  laws,
  scanCase,
  type RnnImpl,
  type ScanImpl,
} from "../src/index.js";

/** Scales every float leaf by 1 + 5e-10: above rtol 1e-10, below the scan laws' old rtol 1e-9. */
const nudge = <U>(tree: U): U =>
  A.treeMap((x) => (T.isFloating(x.dtype) ? A.mul(x, A.astype(T.scalar(1 + 5e-10, "float64"), x.dtype)) : x), tree);

const nudgedScan: ScanImpl = (f, init, xs, o) => {
  const [c, ys] = A.scan(f, init, xs, o);
  return [c, nudge(ys)];
};
const nudgedRnn: RnnImpl = (cell, p, xs, o) => {
  const r = rnn(cell, p, xs, o);
  return { outputs: nudge(r.outputs), finalCarry: r.finalCarry };
};

const problem = fc.sample(arbScanProblem({ families: ["lstm"], minLength: 3 }), { numRuns: 1, seed: 4 })[0]!;

describe("one set of law tolerances", () => {
  it("is rtol 1e-10, atol 1e-12, frozen", () => {
    expect(LAW_TOLERANCES).toEqual({ rtol: 1e-10, atol: 1e-12 });
    expect(Object.isFrozen(LAW_TOLERANCES)).toBe(true);
  });

  it("a 5e-10 relative error fails the scan laws as it fails the RNN laws (it passed the scan laws before)", () => {
    expect(() => laws.bptt(problem, { scan: nudgedScan })).toThrow(/^BPTT law violated for ScanProblem[^]*outputs/);
    expect(() => laws.unroll(problem, { scan: nudgedScan })).not.toThrow(); // both sides nudged alike
    const c = cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, seed: 1, batch: 2, time: 4 });
    expect(() => cellLawChecks.bptt(c, { rnn: nudgedRnn })).toThrow(/^BPTT law violated for lstm[^]*outputs/);
  });

  it("a function law catches the same error in a jit", () => {
    const nudgedJit = <Args extends unknown[], R>(f: (...args: Args) => R) => {
      const jf = A.jit(f);
      return (...args: Args): R => nudge(jf(...args));
    };
    expect(() => laws.jit(scanCase(problem), { jit: nudgedJit })).toThrow(/^jit law violated/);
  });

  it("the defaults give way to the caller's tolerances, in every law family", () => {
    const loose = { rtol: 1e-8 };
    expect(() => laws.bptt(problem, { scan: nudgedScan, ...loose })).not.toThrow();
    const c = cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, seed: 1, batch: 2, time: 4 });
    expect(() => cellLawChecks.bptt(c, { rnn: nudgedRnn, ...loose })).not.toThrow();
  });
});
