/**
 * Values kept by the workers (`keep`) and given back (`donate`): a training loop whose parameters
 * and optimizer state stay with the workers computes the same bits as one that ships them every
 * step; donated memory is reused and a donated handle is refused; sharded values stay per worker;
 * a kept replicated value that differs between workers is caught; misuse is named.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { isPlaced, place, Placed, WorkerFailure } from "../src/index.js";
import { pmap } from "../src/node.js";
import * as F from "./fixtures/functions.js";
import { bits, closesAfterAll, data, FUNCTIONS, treeBits } from "./helpers.js";

type State = ReturnType<typeof F.initState>;
const allReused = (p: Placed<unknown>): boolean => p.leavesFor("test", "p").every((l) => l.reused);

const open = closesAfterAll();
/** The training step with parameters and optimizer state kept with 2 workers. */
const keptTrainStep = (donate: number[]) =>
  pmap<typeof F.trainStep, 0 | 1>(FUNCTIONS, "trainStep", {
    workers: 2,
    inAxes: [null, null, 0, 0],
    outAxes: [null, null, null],
    keep: [0, 1],
    donate,
  });
/** Running totals kept sharded with 2 workers. */
const keptTotals = (donate: number[]) =>
  pmap<typeof F.accumulate, 0>(FUNCTIONS, "accumulate", {
    workers: 2,
    inAxes: [0, 0],
    outAxes: [0, null],
    keep: [0],
    donate,
  });

describe("kept parameters and optimizer state", () => {
  it("six Adam steps with keep and donate equal the steps that ship everything, bit for bit", async () => {
    const plain = open(pmap<typeof F.trainStep>(FUNCTIONS, "trainStep", { workers: 2, inAxes: [null, null, 0, 0] }));
    const kept = open(keptTrainStep([0, 1]));
    const { w, xs, ys } = data(8, 5);
    let params: F.Params = { w };
    let state: State = F.initState(params);
    // The first call takes tensors; its kept results come back as handles for the next ones.
    let [p, s, keptLoss] = await kept(params, state, xs, ys);
    const reused: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const [next, nextState, loss] = await plain(params, state, xs, ys);
      expect(isPlaced(p) && isPlaced(s)).toBe(true);
      expect(treeBits(p.value())).toEqual(treeBits(next));
      expect(treeBits(s.value())).toEqual(treeBits(nextState));
      expect(bits(keptLoss)).toEqual(bits(loss));
      reused.push(allReused(p) && allReused(s));
      [params, state] = [next, nextState];
      if (i < 5) [p, s, keptLoss] = await kept(p, s, xs, ys);
    }
    // The first call donates tensors (nothing to recycle); from the second on, each step's results
    // land in the memory of the values donated the call before: no new memory per step.
    expect(reused).toEqual([false, false, true, true, true, true]);
  });

  it("a donated handle is refused afterwards, naming the call; a kept but not donated one stays usable", async () => {
    const step = open(keptTrainStep([0]));
    const { w, xs, ys } = data(4, 6);
    const [p1, s1] = await step({ w }, F.initState({ w }), xs, ys);
    const before = treeBits(s1.value());
    const [p2] = await step(p1, s1, xs, ys);
    expect(() => p1.value()).toThrow(
      /Placed\.value: is a placed value that was donated to call 2 of this pmap.*\(argument `this`\)/,
    );
    await expect(step(p1, s1, xs, ys)).rejects.toThrow(
      /pmap: is a placed value that was donated.*\(argument `args\[0\]`\)/,
    );
    // s1 was not donated: still readable, still the same bits, and usable again.
    expect(treeBits(s1.value())).toEqual(before);
    await expect(step(p2, s1, xs, ys)).resolves.toHaveLength(3);
  });
});

describe("kept sharded values", () => {
  it("stay with their worker: running totals over three calls equal the sums of each worker's rows", async () => {
    const acc = open(keptTotals([0]));
    const xs = T.fromDataOrThrow([1, 2, 3, 4], [4, 1]);
    let total: Tensor | Placed<Tensor> = T.zeros([4, 1]);
    let grand = 0;
    for (let i = 0; i < 3; i++) {
      const [next, sumAll]: [Placed<Tensor>, Tensor] = await acc(total, xs);
      total = next;
      grand = T.item(sumAll);
    }
    expect(Array.from((total as Placed<Tensor>).value().data)).toEqual([3, 6, 9, 12]);
    expect(grand).toBe(30);
  });

  it("the same handle in two donated places is given up once: the call succeeds, the handle is spent", async () => {
    const acc = open(keptTotals([0, 1]));
    const [h] = await acc(T.zeros([4, 1]), T.fromDataOrThrow([1, 2, 3, 4], [4, 1]));
    const [doubled] = await acc(h, h);
    expect(Array.from(doubled.value().data)).toEqual([2, 4, 6, 8]);
    expect(() => h.value()).toThrow(/donated to call 2 of this pmap/);
  });

  it("a placed value is refused in a position of the other axis, or by a pmap of another worker count", async () => {
    const acc = open(keptTotals([]));
    const [total] = await acc(T.zeros([4, 1]), T.ones([4, 1]));
    const replicatedFirst = open(
      pmap<typeof F.accumulate>(FUNCTIONS, "accumulate", { workers: 2, inAxes: [null, 0], outAxes: [0, null] }),
    );
    await expect(replicatedFirst(total, T.ones([4, 1]))).rejects.toThrow(
      /is a placed value whose leaves are sharded \(0\), but inAxes marks the argument null \(argument `args\[0\]`\)/,
    );
    const one = open(
      pmap<typeof F.accumulate>(FUNCTIONS, "accumulate", { workers: 1, inAxes: [0, 0], outAxes: [0, null] }),
    );
    await expect(one(total, T.ones([4, 1]))).rejects.toThrow(/held by 2 workers, but this pmap has 1/);
  });
});

describe("place", () => {
  it("puts values with the workers without a call: placed weights and rows give the shipped result's bits", async () => {
    const meanGrad = open(pmap<typeof F.meanGrad>(FUNCTIONS, "meanGrad", { workers: 2, inAxes: [null, 0, 0] }));
    const { w, xs, ys } = data(6, 8);
    const shipped = await meanGrad(w, xs, ys);
    const placedW = place(w, 2);
    const placedXs = place(xs, 2, 0);
    expect(bits(await meanGrad(placedW, placedXs, ys))).toEqual(bits(shipped));
    // Read again by a second call: a placed value is not consumed unless donated.
    expect(bits(await meanGrad(placedW, xs, ys))).toEqual(bits(shipped));
    expect(bits(placedXs.value())).toEqual(bits(xs));
  });

  it("refuses rows that do not split, and a bad worker count", () => {
    expect(() => place(T.ones([3, 2]), 2, 0)).toThrow(
      /place: has 3 rows, which do not split into 2 equal shards \(argument `tree leaf 0`\)/,
    );
    expect(() => place({ a: T.ones([2]) }, 0)).toThrow(/place: expected a positive integer, got 0/);
  });
});

describe("checks on kept values", () => {
  it("a kept replicated value that differs between workers is an error that points at pmean", async () => {
    const f = open(
      pmap<typeof F.shardGradInArray, 0>(FUNCTIONS, "shardGradInArray", {
        workers: 2,
        inAxes: [null, 0, 0],
        outAxes: [null],
        keep: [0],
      }),
    );
    const { w, xs, ys } = data(4, 7);
    const error = await f(w, xs, ys).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerFailure);
    expect((error as Error).message).toMatch(/worker 1 computed another value than worker 0 for result leaf 0.*pmean/);
  });

  it("keep and donate must name existing elements and arguments", () => {
    expect(() => pmap(FUNCTIONS, "accumulate", { workers: 2, inAxes: [0, 0], outAxes: [0, null], keep: [2] })).toThrow(
      /expected distinct result element indices below 2, got \[2\] \(argument `options\.keep`\)/,
    );
    expect(() => pmap(FUNCTIONS, "accumulate", { workers: 2, inAxes: [0, 0], donate: [0, 0] })).toThrow(
      /expected distinct argument indices below 2, got \[0,0\] \(argument `options\.donate`\)/,
    );
  });
});
