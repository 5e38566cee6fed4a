/**
 * pmap's laws across worker counts: with 3 workers (where the order of a float sum matters) the
 * data-parallel gradient equals the single-process sum of the shard gradients in worker order, bit
 * for bit; 1, 2 and 3 workers agree with the full batch within float32 tolerance; a whole
 * data-parallel Adam step equals the same step in one process; gradients through psum follow
 * JAX's rule; and the same functions run outside pmap as one worker.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { grad } from "@rewind/autodiff";
import { pmap, type Pmapped } from "../src/node.js";
import * as F from "./fixtures/functions.js";
import { bits, closesAfterAll, data, FUNCTIONS, orderedMeanGrad, rows, treeBits } from "./helpers.js";

const open = closesAfterAll();

describe("pmap across worker counts", () => {
  const byCount = new Map<number, Pmapped<typeof F.meanGrad>>();
  const meanGradOn = (workers: number) => {
    let p = byCount.get(workers);
    if (p === undefined) {
      p = open(pmap<typeof F.meanGrad>(FUNCTIONS, "meanGrad", { workers, inAxes: [null, 0, 0] }));
      byCount.set(workers, p);
    }
    return p;
  };

  it("3 workers: equals the in-order single-process sum bit for bit (and a reordered sum would not)", async () => {
    let reorderedDiffers = false;
    for (const seed of [11, 12, 13, 14]) {
      const { w, xs, ys } = data(12, seed);
      const g = await meanGradOn(3)(w, xs, ys);
      expect(bits(g)).toEqual(bits(orderedMeanGrad(w, xs, ys, 3)));
      // The law has teeth: summing the same shards in another order changes some bits.
      const s = [0, 1, 2].map((i) => grad(F.loss)(w, rows(xs, 4 * i, 4 * i + 4), rows(ys, 4 * i, 4 * i + 4)));
      const reordered = T.div(T.add(s[0]!, T.add(s[1]!, s[2]!)), 3);
      if (bits(reordered).join() !== bits(g).join()) reorderedDiffers = true;
    }
    expect(reorderedDiffers).toBe(true);
  });

  it("1, 2 and 3 workers agree with the full-batch gradient within float32 tolerance", async () => {
    const { w, xs, ys } = data(12, 21);
    const full = grad(F.loss)(w, xs, ys);
    const scale = 1 + T.item(T.max(T.abs(full)));
    for (const workers of [1, 2, 3]) {
      const g = await meanGradOn(workers)(w, xs, ys);
      expect(T.item(T.max(T.abs(T.sub(g, full))))).toBeLessThan(2e-6 * scale);
    }
  });

  it("outside pmap the same function is one worker: pmean is the identity", () => {
    const { w, xs, ys } = data(6, 22);
    expect(bits(F.meanGradEager(w, xs, ys) as Tensor)).toEqual(bits(grad(F.loss)(w, xs, ys)));
  });
});

describe("a data-parallel training step", () => {
  it("five Adam steps on 2 workers equal the single-process steps on in-order averaged gradients", async () => {
    const step = open(pmap<typeof F.trainStep>(FUNCTIONS, "trainStep", { workers: 2, inAxes: [null, null, 0, 0] }));
    const { w, xs, ys } = data(8, 31);
    let params: F.Params = { w };
    let state = F.initState(params);
    let reference: F.Params = { w };
    let referenceState = F.initState(reference);
    for (let i = 0; i < 5; i++) {
      const [next, nextState, loss] = await step(params, state, xs, ys);
      const averaged = { w: orderedMeanGrad(reference.w as Tensor, xs, ys, 2) };
      [reference, referenceState] = F.applyStep(reference, referenceState, averaged);
      expect(treeBits(next)).toEqual(treeBits(reference));
      expect(treeBits(nextState)).toEqual(treeBits(referenceState));
      expect(T.item(loss)).toBeGreaterThan(0);
      [params, state] = [next, nextState];
    }
  });
});

describe("gradients through psum", () => {
  it("are the sum of every worker's cotangent (2 workers: 2 everywhere)", async () => {
    const g = open(
      pmap<typeof F.gradThroughPsum>(FUNCTIONS, "gradThroughPsum", { workers: 2, inAxes: [0], outAxes: 0 }),
    );
    const out = await g(T.ones([6]));
    expect(Array.from(out.data)).toEqual([2, 2, 2, 2, 2, 2]);
    // One worker (outside pmap): the cotangent of its own loss.
    expect(Array.from((F.gradThroughPsum(T.ones([3])) as Tensor).data)).toEqual([1, 1, 1]);
  });
});

describe("one psum over a tree", () => {
  it("sums every leaf apart in worker order, whatever their dtypes and sizes (int32 wrapping)", async () => {
    const f = open(pmap<typeof F.psumTree>(FUNCTIONS, "psumTree", { workers: 2, inAxes: [0] }));
    // Leaves of 3, 5 and 7 elements put float64 and int32 data at offsets that need aligning.
    const a = T.fromDataOrThrow([0.1, 0.2, 0.3, 1e8, 3, 7], [2, 3], "float32");
    const b = T.fromDataOrThrow([0.1, 1e-17, 3, 4, 5, 0.2, 1, 1, 1, 1], [2, 5], "float64");
    const c = T.fromDataOrThrow([2 ** 31 - 1, 5, 6, 7, 8, 9, 10, 1, 1, 1, 1, 1, 1, 1], [2, 7], "int32");
    const d = [T.fromDataOrThrow([1.5, -2.5], [2, 1], "float32")];
    const out = await f({ a, b, c, d });
    const inOrder = (t: Tensor) => {
      const half = t.shape[1]!;
      return Array.from({ length: half }, (_, i) =>
        t.dtype === "int32" ? (t.data[i]! + t.data[half + i]!) | 0 : t.data[i]! + t.data[half + i]!,
      );
    };
    expect(Array.from(out.a.data)).toEqual(Array.from(Float32Array.from(inOrder(a))));
    expect(Array.from(out.b.data)).toEqual(inOrder(b));
    expect(Array.from(out.c.data)).toEqual(inOrder(c));
    expect(out.c.data[0]).toBe(-(2 ** 31)); // wrapped, as an int32 add does
    expect(Array.from(out.d[0]!.data)).toEqual([-1]);
    expect([out.a.dtype, out.b.dtype, out.c.dtype]).toEqual(["float32", "float64", "int32"]);
  });

  it("differentiates leaf by leaf: each cotangent summed over the workers, zeros for an unused sum", async () => {
    const f = open(
      pmap<typeof F.gradThroughPsumPair>(FUNCTIONS, "gradThroughPsumPair", { workers: 2, inAxes: [0, 0], outAxes: 0 }),
    );
    const [[gx, gy], [fx, fy]] = await f(T.ones([4]), T.ones([2]));
    expect(Array.from(gx.data)).toEqual([2, 2, 2, 2]);
    expect(Array.from(gy.data)).toEqual([6, 6]);
    expect(Array.from(fx.data)).toEqual([2, 2, 2, 2]);
    expect(Array.from(fy.data)).toEqual([0, 0]);
  });

  it("refuses operands that differ between workers, naming both, instead of summing bytes at the wrong lengths", async () => {
    const more = open(
      pmap<typeof F.moreLeavesOnWorker1>(FUNCTIONS, "moreLeavesOnWorker1", { workers: 2, inAxes: [0] }),
    );
    await expect(more(T.ones([8]))).rejects.toThrow(
      /psum.*worker [01] sums [12] operands? of (16|32) bytes.*but worker [01] passed [12] operands? of (16|32) bytes.*same tree of dtypes and shapes/s,
    );
    const other = open(
      pmap<typeof F.otherShapeOnWorker1>(FUNCTIONS, "otherShapeOnWorker1", { workers: 2, inAxes: [0] }),
    );
    await expect(other(T.ones([8]))).rejects.toThrow(/psum.*passed operands of other shapes or dtypes/s);
    // The same function with the same shapes on both workers still sums.
    const same = open(
      pmap<typeof F.otherShapeOnWorker1>(FUNCTIONS, "otherShapeOnWorker1", { workers: 1, inAxes: [0] }),
    );
    expect(Array.from((await same(T.ones([4]))).data)).toEqual([1, 1, 1, 1]);
  });

  it("refuses a tree larger than a slot, counting all its leaves", async () => {
    const f = open(pmap<typeof F.psumTree>(FUNCTIONS, "psumTree", { workers: 2, inAxes: [0], collectiveBytes: 64 }));
    const leaf = (n: number) => T.zeros([2, n]);
    // Each leaf fits alone (32 bytes per worker); together they do not.
    await expect(f({ a: leaf(8), b: leaf(8), c: leaf(1), d: [] })).rejects.toThrow(
      /psum.*operands \(3 leaves\) have 72 bytes, more than the 64 bytes of a collective slot/,
    );
  });
});
