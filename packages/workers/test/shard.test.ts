/**
 * @file One call's results without threads: `runShard` run in this thread as worker 0 and worker 1
 * of two, then `gather`. A replicated leaf travels only from worker 0 (worker 1 reports its
 * checksum), and a worker whose copy differs in data or shape is named.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { planArguments, writeArguments } from "../src/layout.js";
import { gather } from "../src/gather.js";
import { runShard, type ShardResult, type ShardTask } from "../src/shard.js";
import { bits } from "./helpers.js";

/** Runs `f` as each of two workers over the argument `x` (given whole to both). */
const runBoth = (f: (index: number, x: T.Tensor) => unknown, x: T.Tensor, outAxes: 0 | null = null): ShardResult[] => {
  const plan = planArguments([x], [null], 2);
  const args = new SharedArrayBuffer(plan.bytes);
  writeArguments(plan, [x], args);
  const base = { export: "f", size: 2, plan, args, timeoutMs: 1000, outAxes, keep: [], spare: [] };
  const shared = { control: new SharedArrayBuffer(16), slots: new SharedArrayBuffer(64), slotBytes: 32 };
  return [0, 1].map((index) =>
    runShard((a) => f(index, a as T.Tensor), { ...base, ...shared, index } satisfies ShardTask),
  );
};

describe("a replicated result", () => {
  const x = T.tensor([1, 2, 3, 4]);

  it("is shipped by worker 0 alone; the others send its checksum, and gather returns worker 0's bits", () => {
    const results = runBoth((_, a) => ({ y: T.mul(a, 2), n: 3 }), x);
    expect(results[1]!.packed.byteLength).toBeLessThan(results[0]!.packed.byteLength - 15);
    expect(results[1]!.replicated).toEqual(results[0]!.replicated);
    const out = gather(results, null, []) as { y: T.Tensor; n: number };
    expect(bits(out.y)).toEqual(bits(T.mul(x, 2)));
    expect(out.n).toBe(3);
  });

  it("that differs in one bit, or in shape, on worker 1 names worker 1 and the leaf", () => {
    const nudged = runBoth((w, a) => [a, w === 1 ? T.add(a, T.tensor([0, 0, 0, 2 ** -20])) : a], x);
    expect(() => gather(nudged, null, [])).toThrow(/worker 1 computed another value than worker 0 for result leaf 1/);
    const reshaped = runBoth((w, a) => (w === 1 ? T.reshape(a, [2, 2]) : a), x);
    expect(() => gather(reshaped, null, [])).toThrow(/worker 1 computed another value than worker 0 for result leaf 0/);
  });

  it("is not checksummed where the output is sharded: each worker ships its rows", () => {
    const results = runBoth((w, a) => T.mul(a, w + 1), x, 0);
    expect(results.map((r) => r.replicated)).toEqual([[], []]);
    expect(Array.from((gather(results, 0, []) as T.Tensor).data)).toEqual([1, 2, 3, 4, 2, 4, 6, 8]);
  });
});
