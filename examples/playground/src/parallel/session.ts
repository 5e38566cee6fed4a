/**
 * @file A session trained by shard workers (`pmap` of @rewind/workers/browser): the thread that
 * holds it draws each batch, the workers each take their rows of it (axis 0) and run the
 * data-parallel step (parallel/step.ts), and the new parameters and optimizer state stay with the
 * workers (`keep`), their previous values' memory holding the next ones (`donate`). This thread
 * copies the parameters only to preview, save or trace them.
 */
import * as E from "fp-ts/lib/Either.js";
import { item, random, type Tensor } from "@rewind/tensor";
import { treeLeaves } from "@rewind/autodiff";
import { isPlaced, pmap, type Placed, type WorkerLike } from "@rewind/workers/browser";
import type { RunConfig } from "../protocol.js";
import { graphsOf, keysOf, optimizerFor, type Session } from "../session.js";
import type { Task } from "../tasks/types.js";
import { encodeWeights, paramsFromTensors } from "../weights.js";
import type { ShardStep } from "./step.js";

/**
 * The shard workers' step: config and state for every worker, the batch split on axis 0;
 * parameters and optimizer state kept by the workers and donated to the next step.
 */
export type ShardPmap = ReturnType<typeof shardPmap>;

/**
 * A `pmap` of the served `step` over `workers` workers made by `spawn` (one for the life of the
 * training worker: every session sends its configuration with each step).
 * @example shardPmap(() => new Worker(new URL("../shard.worker.ts", import.meta.url), { type: "module" }), 2)
 */
export const shardPmap = (spawn: () => WorkerLike, workers: number) =>
  pmap<ShardStep, 0 | 1>(spawn, "step", {
    workers,
    inAxes: [null, null, null, 0],
    outAxes: [null, null, null],
    keep: [0, 1],
    donate: [1, 2],
  });

/**
 * Whether every batch of `task` splits into `workers` equal shards on axis 0: every leaf has the
 * same number of rows, a multiple of `workers` (checked on one drawn batch: all have one shape).
 * @example shardable(sineTask(config), 2) // true: 32 waves
 */
export const shardable = <P, B>(task: Task<P, B>, workers: number): boolean => {
  const leaves = treeLeaves(task.batch(random.key(0))) as Tensor[];
  const rows = leaves[0]?.shape[0];
  return rows !== undefined && rows >= workers && rows % workers === 0 && leaves.every((l) => l.shape[0] === rows);
};

/**
 * A session for `task` under `config` trained by the workers of `train`; its steps are promises
 * and run one after another, whoever calls them.
 * @example const s = createParallelSession(config, task, shardPmap(spawn, 2)); await s.step()
 */
export const createParallelSession = <P, B>(
  config: RunConfig,
  task: Task<P, B>,
  train: ShardPmap,
): Session<Promise<number>> => {
  const keys = keysOf(config);
  const optimizer = optimizerFor(task);
  // Tensors here at first and after a load; handles to the workers' copies after a step.
  let params: P | Placed<unknown> = task.init(keys.init);
  let optState: unknown = optimizer.init(params);
  let copy: P | undefined; // the workers' parameters copied here, until the next step
  let steps = 0;
  let epoch = 0; // bumped by load: a step called before it is dropped
  let queue: Promise<unknown> = Promise.resolve();

  const current = (): P => (isPlaced(params) ? (copy ??= params.value() as P) : params);

  /** One step, kept only when no load came since it was called (`called`: the epoch then). */
  const runStep = async (called: number): Promise<number> => {
    const batch = task.batch(random.foldIn(keys.data, steps));
    const [p, s, loss] = await train(config, params, optState, batch);
    if (called === epoch) {
      params = p;
      optState = s;
      copy = undefined;
      steps += 1;
    }
    return item(loss);
  };

  return {
    config,
    summary: task.summary,
    lossLabel: task.lossLabel,
    workers: train.workers,
    device: "cpu",
    step: () => {
      const called = epoch;
      const next = queue.then(() => runStep(called));
      queue = next.catch(() => undefined);
      return next;
    },
    steps: () => steps,
    preview: () => task.preview(current(), random.foldIn(keys.preview, steps)),
    graphs: () => graphsOf(task, current()),
    save: () => encodeWeights(current(), config, steps),
    load: (tensors: ReadonlyMap<string, Tensor>, step: number) => {
      const loaded = paramsFromTensors(task.init(keys.init), tensors);
      if (E.isLeft(loaded)) return loaded;
      params = loaded.right;
      optState = optimizer.init(loaded.right);
      copy = undefined;
      steps = step;
      epoch += 1;
      return E.right(undefined);
    },
  };
};
