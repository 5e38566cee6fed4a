/**
 * @file The playground's two-worker training, in Node without workers (the end-to-end test runs
 * it on two Web Workers): when it is chosen, that every task's batches split on axis 0, that the
 * data-parallel step on one worker is the one-thread step bit for bit, that the names task's
 * shards weigh by their valid steps, and that a parallel session runs its steps one after another.
 */
import * as E from "fp-ts/lib/Either.js";
import { item, random, slice, type Tensor } from "@rewind/tensor";
import { treeMap } from "@rewind/autodiff";
import { describe, expect, it } from "vitest";
import { createParallelSession, shardable, type ShardPmap } from "../src/parallel/session.js";
import { dataParallelStep, shardStep } from "../src/parallel/step.js";
import { trainingWorkers } from "../src/parallel/workers.js";
import type { RunConfig, TaskName } from "../src/protocol.js";
import { createSession, keysOf, optimizerFor } from "../src/session.js";
import { taskFor } from "../src/tasks/index.js";
import { encodeWeights, readWeights } from "../src/weights.js";
import { data } from "./data.js";

const tasks: readonly TaskName[] = ["names", "moby", "sine"];
const configOf = (task: TaskName): RunConfig => ({ task, cell: "gru", hidden: 8, seed: 2 });

/** Rows `from` to `to` of every leaf of a batch. */
const rows = <B>(batch: B, from: number, to: number): B =>
  treeMap<B>((t) => slice(t as Tensor, [{ start: from, stop: to }]), batch);

describe("two workers", () => {
  it("are chosen only on a cross-origin isolated page with at least two cores, where workers nest", () => {
    class Worker {}
    expect(trainingWorkers({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 2 }, Worker })).toBe(2);
    expect(trainingWorkers({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 16 }, Worker })).toBe(2);
    expect(trainingWorkers({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 1 }, Worker })).toBe(1);
    expect(trainingWorkers({ crossOriginIsolated: true, navigator: {}, Worker })).toBe(1);
    expect(trainingWorkers({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 16 } })).toBe(1);
    expect(trainingWorkers({ crossOriginIsolated: false, navigator: { hardwareConcurrency: 16 }, Worker })).toBe(1);
    expect(trainingWorkers({ navigator: { hardwareConcurrency: 16 }, Worker })).toBe(1);
  });

  it("every task's batch has its rows on axis 0 of every leaf, an even number of them", () => {
    for (const task of tasks) expect(shardable(taskFor(configOf(task), data), 2), task).toBe(true);
    // moby's 16 windows do not split in three: such a task would stay on one thread.
    expect(shardable(taskFor(configOf("moby"), data), 3)).toBe(false);
  });

  for (const task of tasks)
    it(`${task}: the data-parallel step on one worker is the one-thread session's step, bit for bit`, () => {
      const config = configOf(task);
      const t = taskFor(config, data);
      const keys = keysOf(config);
      const session = createSession(config, t);
      const step = shardStep(data);
      let params = t.init(keys.init);
      let optState: unknown = optimizerFor(t).init(params);
      for (let i = 0; i < 2; i++) {
        const [p, s, loss] = step(config, params, optState, t.batch(random.foldIn(keys.data, i)));
        [params, optState] = [p, s];
        expect(item(loss)).toBe(session.step());
      }
      expect(encodeWeights(params, config, 2)).toEqual(session.save());
    });

  it("names: the shards' losses weighted by their valid steps make the whole batch's loss", () => {
    const t = taskFor(configOf("names"), data);
    const params = t.init(random.key(1));
    const batch = t.batch(random.key(4));
    const halves = [rows(batch, 0, 16), rows(batch, 16, 32)];
    const weights = halves.map((h) => item(t.shardWeight!(h) as Tensor));
    const losses = halves.map((h) => item(t.loss(params, h) as Tensor));
    const whole = item(t.loss(params, batch) as Tensor);
    const weighted = (losses[0]! * weights[0]! + losses[1]! * weights[1]!) / (weights[0]! + weights[1]!);
    const rounding = 1e-5 * whole; // float32 sums in another order
    expect(Math.abs(weighted - whole)).toBeLessThan(rounding);
    // The halves differ in valid steps here, so the plain mean of their losses misses by more.
    expect(weights[0]).not.toBe(weights[1]);
    expect(Math.abs((losses[0]! + losses[1]!) / 2 - whole)).toBeGreaterThan(rounding);
  });

  it("a parallel session runs steps called at once one after another, and a load drops a step under way", async () => {
    const config = configOf("sine");
    const t = taskFor(config, data);
    const local = dataParallelStep(t);
    // One in-process "worker" that answers a macrotask later, as a real one would.
    const train = Object.assign(
      (_c: RunConfig, p: unknown, s: unknown, b: unknown) =>
        new Promise((resolve) => setTimeout(() => resolve(local(p, s, b)), 1)),
      { workers: 1, close: () => Promise.resolve() },
    ) as unknown as ShardPmap;
    const parallel = createParallelSession(config, t, train);
    const one = createSession(config, t);
    expect(parallel.workers).toBe(1);
    const losses = await Promise.all([parallel.step(), parallel.step(), parallel.step()]);
    expect(losses).toEqual([one.step(), one.step(), one.step()]);
    expect(parallel.steps()).toBe(3);
    expect(parallel.save()).toEqual(one.save());

    // The initial weights, loaded as of step 7 while a step of the trained ones is under way.
    const read = readWeights(createSession(config, t).save());
    if (E.isLeft(read)) throw new Error(read.left);
    const underWay = parallel.step();
    expect(E.isRight(parallel.load(read.right.tensors, 7))).toBe(true);
    await underWay;
    const expected = createSession(config, t);
    expected.load(read.right.tensors, 7);
    expect(parallel.steps()).toBe(7);
    expect(parallel.save()).toEqual(expected.save());
    // Training goes on from the loaded weights.
    expect(await parallel.step()).toBe(expected.step());
  });
});
