/**
 * pmap's sharding and gathering over random layouts: for 1–3 workers, shards of 1–3 rows, rows of
 * 0–2 trailing axes, a tree of float32, int32 and bool leaves split along axis 0 beside a
 * replicated argument, jitted or not, with any of its results kept by the workers, the call equals
 * the same function run shard by shard in this process: sharded results joined in worker order,
 * each worker's own index seen by its shard, and `psum` totals summed in worker order, bit for bit;
 * and a loop that passes its kept sharded tree back, donated, equals the same loop run shard by
 * shard here, each donated handle spent.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { pmap, type Placed } from "../src/node.js";
import type * as F from "./fixtures/functions.js";
import { closesAfterAll, FUNCTIONS, treeBits } from "./helpers.js";

const open = closesAfterAll();

const arbLayout = fc.record({
  workers: fc.integer({ min: 1, max: 3 }),
  rows: fc.integer({ min: 1, max: 3 }),
  trailing: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  jitted: fc.boolean(),
  keep: fc.subarray([0, 1, 2]),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

type Layout = typeof arbLayout extends fc.Arbitrary<infer L> ? L : never;

/** Rows `from` … `to` − 1 (along axis 0) of any tensor. */
const rowsOf = (t: Tensor, from: number, to: number): Tensor => {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return T.fromDataOrThrow(t.data.slice(from * per, to * per), [to - from, ...t.shape.slice(1)], t.dtype);
};

/** The inputs of a layout: the sharded tree (B rows) and the replicated vector. */
const inputs = (l: Layout) => {
  const batch = l.workers * l.rows;
  const shape = [batch, ...l.trailing];
  const size = shape.reduce((a, b) => a * b, 1);
  const [k1, k2, k3, k4] = T.random.split(T.random.key(l.seed), 4) as unknown as T.Key[];
  // Large ids, so that int32 sums wrap.
  const ids = T.astype(T.floor(T.random.uniform(k2!, shape, { min: -(2 ** 30), max: 2 ** 30 })), "int32");
  const on = T.greater(T.random.normal(k3!, shape), 0);
  const y = T.random.normal(k4!, l.trailing.length === 0 ? [] : [l.trailing.at(-1)!]);
  expect(ids.dtype).toBe("int32");
  return { tree: { a: T.random.normal(k1!, shape), ids, on }, y, size };
};

/** What the call must return: each shard computed here with its worker's index, joined or summed in worker order. */
const reference = (l: Layout, tree: { a: Tensor; ids: Tensor; on: Tensor }, y: Tensor) => {
  const shards = Array.from({ length: l.workers }, (_, i) => {
    const part = (t: Tensor): Tensor => rowsOf(t, i * l.rows, (i + 1) * l.rows);
    const a = part(tree.a);
    return {
      scaled: T.add(T.mul(a, y), 1),
      ids: T.add(part(tree.ids), T.scalar(i, "int32")),
      on: T.logicalNot(part(tree.on)),
      totalA: T.sum(a),
      totalIds: T.sum(part(tree.ids)),
    };
  });
  const join = (pick: (s: (typeof shards)[number]) => Tensor): Tensor => T.concat(shards.map(pick), 0);
  const inOrder = (pick: (s: (typeof shards)[number]) => Tensor): Tensor =>
    shards.map(pick).reduce((acc, t) => T.add(acc, t));
  return [
    { scaled: join((s) => s.scaled), ids: join((s) => s.ids), on: join((s) => s.on) },
    inOrder((s) => s.totalA),
    inOrder((s) => s.totalIds),
  ] as const;
};

type Call = (...args: unknown[]) => Promise<unknown>;
const pmaps = new Map<string, Call>();
/** The pmap of a configuration, made once (each starts or shares a pool of workers) and closed after all. */
const made = (key: readonly unknown[], make: () => { close: () => Promise<void> }): Call => {
  const k = JSON.stringify(key);
  let p = pmaps.get(k);
  if (p === undefined) {
    p = open(make()) as unknown as Call;
    pmaps.set(k, p);
  }
  return p;
};

describe("pmap on random layouts", () => {
  const pmapFor = (l: Layout): Call =>
    made(["mixed", l.workers, l.jitted, l.keep], () =>
      pmap<typeof F.mixed, number>(FUNCTIONS, l.jitted ? "mixedJit" : "mixed", {
        workers: l.workers,
        inAxes: [0, null],
        outAxes: [0, null, null],
        keep: l.keep,
      }),
    );

  it("equals the shards computed in this process, joined and summed in worker order, bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayout, async (l) => {
        const { tree, y } = inputs(l);
        const got = (await pmapFor(l)(tree, y)) as unknown[];
        // A kept result comes back as a handle; its value is what would have come back.
        const values = got.map((r, i) => (l.keep.includes(i) ? (r as Placed<unknown>).value() : r));
        const want = reference(l, tree, y);
        expect(treeBits(values)).toEqual(treeBits(want));
        // Not vacuous: the shards' joined results have every row of the batch.
        expect((values[0] as { scaled: Tensor }).scaled.shape).toEqual(tree.a.shape);
      }),
      { numRuns: 40 },
    );
  });
});

describe("pmap carrying kept, donated values on random layouts", () => {
  it("a loop passing its kept sharded tree back, donated, equals the loop run shard by shard here", async () => {
    await fc.assert(
      fc.asyncProperty(arbLayout, async (l) => {
        const step = made(["carried", l.workers, l.jitted], () =>
          pmap<typeof F.carried, number>(FUNCTIONS, l.jitted ? "carriedJit" : "carried", {
            workers: l.workers,
            inAxes: [0, null],
            outAxes: [0, null],
            keep: [0],
            donate: [0],
          }),
        );
        const { tree, y } = inputs(l);
        // Here: each shard carried on its own, its index added to its ids, totals summed in worker order.
        let shards = Array.from({ length: l.workers }, (_, i) => {
          const part = (t: Tensor): Tensor => rowsOf(t, i * l.rows, (i + 1) * l.rows);
          return { a: part(tree.a), ids: part(tree.ids), on: part(tree.on) };
        });
        let arg: unknown = tree;
        let previous: Placed<unknown> | undefined;
        for (let call = 0; call < 3; call++) {
          const [placed, total] = (await step(arg, y)) as [Placed<unknown>, Tensor];
          const wantTotal = shards.map((s) => T.sum(s.a)).reduce((acc, t) => T.add(acc, t));
          shards = shards.map((s, i) => ({
            a: T.tanh(T.add(T.mul(s.a, y), 0.5)),
            ids: T.add(s.ids, T.scalar(i, "int32")),
            on: T.logicalNot(s.on),
          }));
          expect(treeBits(total)).toEqual(treeBits(wantTotal));
          // The handle given up the call before is spent.
          if (previous !== undefined) expect(() => previous!.value()).toThrow(/donated/);
          previous = placed;
          arg = placed;
        }
        const join = (pick: (s: (typeof shards)[number]) => Tensor): Tensor => T.concat(shards.map(pick), 0);
        expect(treeBits(previous!.value())).toEqual(
          treeBits({ a: join((s) => s.a), ids: join((s) => s.ids), on: join((s) => s.on) }),
        );
      }),
      { numRuns: 30 },
    );
  });
});
