/**
 * @file A training session: one task, its parameters and optimizer state, and the step count.
 * A step draws its batch from the data key folded with the step number, runs the jitted
 * value-and-gradient (traced and compiled once: every batch has the same shapes) and applies
 * clipped Adam eagerly. Everything random comes from keys split from `random.key(seed)`, so a
 * run is a pure function of its configuration.
 */
import * as E from "fp-ts/lib/Either.js";
import { item, random, type Key, type Tensor } from "@rewind/tensor";
import { grad, jit, makeGraph, printGraph, treeLeavesWithPaths, valueAndGrad } from "@rewind/autodiff";
import { adam, applyUpdates, chain, clipByGlobalNorm } from "@rewind/optim";
import { describeGraph } from "./graph/describe.js";
import type { ModelGraphs, Preview, RunConfig } from "./protocol.js";
import type { Task } from "./tasks/types.js";
import { encodeWeights, paramsFromTensors } from "./weights.js";

/** A running model, whatever its task (the parameter and batch types stay inside). */
export interface Session {
  readonly config: RunConfig;
  readonly summary: string;
  readonly lossLabel: string;
  /** One optimizer step; returns the batch's loss. */
  readonly step: () => number;
  /** Steps done. */
  readonly steps: () => number;
  readonly preview: () => Preview;
  /** The loss and its gradient traced on the task's tiny batch, as views and as text. */
  readonly graphs: () => ModelGraphs;
  /** The current parameters as safetensors bytes. */
  readonly save: () => Uint8Array;
  /** Replaces the parameters (fresh optimizer state) after checking them; `Left` says what does not fit. */
  readonly load: (tensors: ReadonlyMap<string, Tensor>, step: number) => E.Either<string, void>;
}

/**
 * A session for `task` under `config`: parameters drawn from the seed's key, no steps done.
 * @example const s = createSession(config, sineTask(config)); s.step(); s.steps() // 1
 */
export const createSession = <P, B>(config: RunConfig, task: Task<P, B>): Session => {
  const [kInit, kData, kPreview] = random.split(random.key(config.seed), 3) as [Key, Key, Key];
  const optimizer = chain(clipByGlobalNorm(task.clip), adam({ learningRate: task.learningRate }));
  const lossAndGrad = jit(valueAndGrad(task.loss) as (p: P, b: B) => [Tensor, P]);
  let params = task.init(kInit);
  let optState = optimizer.init(params);
  let steps = 0;

  return {
    config,
    summary: task.summary,
    lossLabel: task.lossLabel,
    step: () => {
      const [loss, grads] = lossAndGrad(params, task.batch(random.foldIn(kData, steps)));
      const [updates, next] = optimizer.update(grads, optState, params);
      params = applyUpdates(params, updates);
      optState = next;
      steps += 1;
      return item(loss);
    },
    steps: () => steps,
    preview: () => task.preview(params, random.foldIn(kPreview, steps)),
    graphs: () => {
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
    },
    save: () => encodeWeights(params, config, steps),
    load: (tensors, step) => {
      const loaded = paramsFromTensors(task.init(kInit), tensors);
      if (E.isLeft(loaded)) return loaded;
      params = loaded.right;
      optState = optimizer.init(params);
      steps = step;
      return E.right(undefined);
    },
  };
};
