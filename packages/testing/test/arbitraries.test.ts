import { describe, expect, it } from "vitest";
import "../src/vitest.js";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  arbBroadcastShapes,
  arbKey,
  arbPyTree,
  arbRaggedBatch,
  arbScanProblem,
  arbShape,
  arbTensor,
  scanFamilies,
  type ScanProblem,
} from "../src/index.js";

const seed = 20261128;
const sample = <A>(arb: fc.Arbitrary<A>, numRuns = 100): A[] => fc.sample(arb, { numRuns, seed });

describe("arbShape", () => {
  it("respects rank and axis bounds", () => {
    for (const s of sample(arbShape({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 5 }))) {
      expect(s.length).toBeGreaterThanOrEqual(1);
      expect(s.length).toBeLessThanOrEqual(3);
      for (const d of s) expect(d >= 2 && d <= 5).toBe(true);
    }
  });
});

describe("arbBroadcastShapes", () => {
  it("draws shapes that broadcast, with size-1 axes and rank differences", () => {
    const drawn = sample(arbBroadcastShapes(3, { minRank: 1, maxRank: 3 }), 200);
    for (const shapes of drawn) {
      expect(shapes).toHaveLength(3);
      expect(() => T.broadcastShapes("test", ...shapes)).not.toThrow();
    }
    expect(drawn.some((ss) => new Set(ss.map((s) => s.length)).size > 1)).toBe(true);
    expect(drawn.some((ss) => ss.some((s) => s.includes(1)))).toBe(true);
  });
});

describe("arbTensor", () => {
  it("draws float64 data in [min, max] with a fixed shape", () => {
    for (const t of sample(arbTensor({ shape: [2, 3], min: -0.5, max: 0.25 }))) {
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe("float64");
      for (const x of t.data) expect(x >= -0.5 && x <= 0.25).toBe(true);
    }
  });
  it("rounds float32 bounds inwards (0.1 is not a float32)", () => {
    for (const t of sample(arbTensor({ shape: [4], dtype: "float32", min: 0.1, max: 0.3 }))) {
      expect(t.data).toBeInstanceOf(Float32Array);
      for (const x of t.data) expect(x >= 0.1 && x <= 0.3).toBe(true);
    }
  });
  it("draws int32 and bool tensors", () => {
    for (const t of sample(arbTensor({ shape: [5], dtype: "int32", min: -3, max: 3 }))) {
      expect(t.dtype).toBe("int32");
      for (const x of t.data) expect(Number.isInteger(x) && x >= -3 && x <= 3).toBe(true);
    }
    for (const t of sample(arbTensor({ shape: [3], dtype: "bool" }), 20)) expect(t.dtype).toBe("bool");
  });
  it("with `uniform`, spreads values evenly (fc.double favours tiny ones) and still shrinks to 0", () => {
    const values = (uniform: boolean) =>
      sample(arbTensor({ shape: [20], uniform, min: -1, max: 1 })).flatMap((t) => Array.from(t.data));
    const tiny = (xs: number[]) => xs.filter((x) => Math.abs(x) < 1e-3).length / xs.length;
    expect(tiny(values(true))).toBeLessThan(0.01);
    expect(tiny(values(false))).toBeGreaterThan(0.5);
    for (const x of values(true)) expect(x >= -1 && x <= 1).toBe(true);
    const run = fc.check(
      fc.property(arbTensor({ shape: [3], uniform: true }), (t) => t.data[1]! < 0.5),
      { seed },
    );
    expect(Array.from(run.counterexample![0].data)).toEqual([0, 0.5, 0]);
  });
  it("draws the shape first, so failures shrink to the smallest failing shape", () => {
    const run = fc.check(
      fc.property(arbTensor(), (t) => T.sizeOf(t.shape) < 4),
      { seed },
    );
    expect(run.failed).toBe(true);
    const [t] = run.counterexample!;
    expect(T.sizeOf(t.shape)).toBe(4);
    expect(t.data.every((x) => x === 0)).toBe(true);
  });
});

describe("arbPyTree", () => {
  it("draws nested arrays and objects of tensors", () => {
    const trees = sample(arbPyTree(arbTensor({ shape: [2] })), 100);
    for (const tree of trees) {
      const leaves = A.treeLeaves(tree);
      expect(leaves.length).toBeGreaterThan(0);
      for (const l of leaves) expect(T.isTensor(l) && T.shapesEqual(l.shape, [2])).toBe(true);
    }
    expect(trees.some((t) => Array.isArray(t))).toBe(true);
    expect(trees.some((t) => !Array.isArray(t) && !T.isTensor(t))).toBe(true);
  });
});

describe("arbKey", () => {
  it("draws PRNG keys", () => {
    for (const k of sample(arbKey(), 20)) expect(T.random.isKey(k)).toBe(true);
  });
});

describe("arbRaggedBatch", () => {
  it("draws [B, T, F] float64 data and int32 lengths in [0, T]", () => {
    const batches = sample(arbRaggedBatch({ maxBatch: 3, maxTime: 5, features: 2 }), 100);
    for (const { data, lengths } of batches) {
      const [b, t, f] = data.shape as [number, number, number];
      expect(data.dtype).toBe("float64");
      expect(b >= 1 && b <= 3 && t >= 1 && t <= 5 && f === 2).toBe(true);
      expect(lengths.dtype).toBe("int32");
      expect(lengths.shape).toEqual([b]);
      for (const n of lengths.data) expect(n >= 0 && n <= t).toBe(true);
    }
    expect(batches.some(({ lengths }) => lengths.data.includes(0))).toBe(true);
  });
});

describe("arbScanProblem", () => {
  const problems = sample(arbScanProblem(), 120);
  it("covers every family, both directions and lengths 0 to 8", () => {
    expect(new Set(problems.map((p) => p.family))).toEqual(new Set(scanFamilies));
    expect(new Set(problems.map((p) => p.reverse))).toEqual(new Set([false, true]));
    const lengths = problems.map((p) => p.length);
    expect(Math.min(...lengths)).toBe(0);
    expect(Math.max(...lengths)).toBe(8);
  });
  it("gives xs with `length` steps, ys stacked over them, and a scalar float64 loss", () => {
    for (const p of problems) {
      if (p.family === "lengthOnly") expect(p.xs).toBeNull();
      for (const x of A.treeLeaves(p.xs)) expect(x.shape[0]).toBe(p.length);
      const [carry, ys] = p.run(p.params, p.init, p.xs);
      expect(A.treeDefKey(A.treeStructure(carry))).toBe(A.treeDefKey(A.treeStructure(p.init)));
      for (const y of A.treeLeaves(ys)) expect(y.shape[0]).toBe(p.length);
      const loss = p.loss(p.params, p.init, p.xs);
      expect(loss.shape).toEqual([]);
      expect(loss.dtype).toBe("float64");
      expect(Number.isFinite((loss as T.Tensor).data[0])).toBe(true);
    }
  });
  it("closes f over params, and step takes them explicitly", () => {
    const p = problems.find((q) => q.length > 0)!;
    const viaF = A.scan(p.f, p.init, p.xs, { length: p.length, reverse: p.reverse });
    expect(viaF).toBeAllClose(p.run(p.params, p.init, p.xs), { rtol: 0, atol: 0 });
  });
  it("honours its options and prints a short description", () => {
    const ps: ScanProblem[] = sample(
      arbScanProblem({ minLength: 3, maxLength: 4, families: ["lstm"], reverse: true }),
      20,
    );
    for (const p of ps) expect(p.family === "lstm" && p.reverse && p.length >= 3 && p.length <= 4).toBe(true);
    expect(fc.stringify(ps[0])).toMatch(
      /^ScanProblem\(lstm, length \d, reverse; init\.c: float64\[\d,\d\], init\.h: .*xs: float64/,
    );
  });
});
