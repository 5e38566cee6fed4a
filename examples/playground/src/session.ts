/**
 * @file A training session: one task, its parameters and optimizer state, and the step count.
 * A step draws its batch from the data key folded with the step number and runs one jitted
 * training step: loss, gradient, clipping, Adam and the parameter update in one compiled program
 * (traced once: every batch has the same shapes, and the optimizer state is all tensors). Everything random comes from keys split from `random.key(seed)`, so a
 * run is a pure function of its configuration.
 */
import * as E from "fp-ts/lib/Either.js";
import { item, random, type Key, type Tensor } from "@rewind/tensor";
import { grad, makeGraph, printGraph, treeLeavesWithPaths } from "@rewind/autodiff";
import { adam, chain, clipByGlobalNorm, trainStep } from "@rewind/optim";
import { describeGraph } from "./graph/describe.js";
import type { DeviceName, ModelGraphs, Preview, RunConfig } from "./protocol.js";
import type { Task } from "./tasks/types.js";
import { encodeWeights, paramsFromTensors } from "./weights.js";

/**
 * What reading a session's parameters returns: `T` when its steps are synchronous; when they are
 * promises, `T` or its promise (the parameters may be on a device, which reads back asynchronously).
 */
export type Read<Loss, T> = Loss extends PromiseLike<unknown> ? T | Promise<T> : T;

/**
 * A running model, whatever its task (the parameter and batch types stay inside).
 * @typeParam Loss What a step returns: the batch's loss, or its promise when workers or a device train.
 */
export interface Session<Loss = number> {
  readonly config: RunConfig;
  readonly summary: string;
  readonly lossLabel: string;
  /** How many workers train the model (1: the thread that holds the session). */
  readonly workers: number;
  /** Where the steps run. */
  readonly device: DeviceName;
  /** One optimizer step; returns the batch's loss. */
  readonly step: () => Loss;
  /** Steps done. */
  readonly steps: () => number;
  readonly preview: () => Read<Loss, Preview>;
  /** The loss and its gradient traced on the task's tiny batch, as views and as text. */
  readonly graphs: () => ModelGraphs;
  /** The current parameters as safetensors bytes. */
  readonly save: () => Read<Loss, Uint8Array>;
  /** Frees what the session holds outside the JavaScript heap (a device's buffers), when it has any. */
  readonly close?: () => void;
  /** Replaces the parameters (fresh optimizer state) after checking them; `Left` says what does not fit. */
  readonly load: (tensors: ReadonlyMap<string, Tensor>, step: number) => E.Either<string, void>;
}

/** The keys of a run: parameters, batches and previews, each split from the seed's key. */
export const keysOf = (config: RunConfig): { readonly init: Key; readonly data: Key; readonly preview: Key } => {
  const [init, data, preview] = random.split(random.key(config.seed), 3) as [Key, Key, Key];
  return { init, data, preview };
};

/**
 * The task's optimizer: global-norm clipping, then Adam (the same in every session and worker).
 * @example optimizerFor(task).init(params)
 */
export const optimizerFor = <P, B>(task: Task<P, B>) =>
  chain(clipByGlobalNorm(task.clip), adam({ learningRate: task.learningRate }));

/**
 * The loss and its gradient of `task` traced at `params` on the task's tiny batch.
 * @example graphsOf(task, params).tracedOn // "one wave of 4 steps"
 */
export const graphsOf = <P, B>(task: Task<P, B>, params: P): ModelGraphs => {
  const args = [params, task.graphBatch] as const;
  const forward = makeGraph(task.loss)(...args);
  const gradient = makeGraph(grad(task.loss))(...args);
  const gradNames = treeLeavesWithPaths(params).map(([path]) => `∂loss/∂p${path}`);
  return {
    forward: describeGraph(forward, ["p", "batch"], args, ["loss"]),
    gradient: describeGraph(gradient, ["p", "batch"], args, gradNames),
    forwardText: printGraph(forward),
    gradientText: printGraph(gradient),
    tracedOn: task.tracedOn,
  };
};

/**
 * A session for `task` under `config`, trained on this thread: parameters drawn from the seed's
 * key, no steps done.
 * @example const s = createSession(config, sineTask(config)); s.step(); s.steps() // 1
 */
export const createSession = <P, B>(config: RunConfig, task: Task<P, B>): Session => {
  const keys = keysOf(config);
  const optimizer = optimizerFor(task);
  // The old parameters and optimizer state are donated to each step: only the returned ones are kept.
  const step = trainStep(task.loss, optimizer);
  let params = task.init(keys.init);
  let optState = optimizer.init(params);
  let steps = 0;

  return {
    config,
    summary: task.summary,
    lossLabel: task.lossLabel,
    workers: 1,
    device: "cpu",
    step: () => {
      const result = step(params, optState, task.batch(random.foldIn(keys.data, steps)));
      ({ params, optState } = result);
      steps += 1;
      return item(result.loss);
    },
    steps: () => steps,
    preview: () => task.preview(params, random.foldIn(keys.preview, steps)),
    graphs: () => graphsOf(task, params),
    save: () => encodeWeights(params, config, steps),
    load: (tensors, step) => {
      const loaded = paramsFromTensors(task.init(keys.init), tensors);
      if (E.isLeft(loaded)) return loaded;
      params = loaded.right;
      optState = optimizer.init(params);
      steps = step;
      return E.right(undefined);
    },
  };
};
