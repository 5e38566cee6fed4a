/**
 * @file A session trained on a WebGPU device: @rewind/optim's `trainStep` with `backend: gpu` is
 * the whole step on the device (loss, gradient, clipping, Adam, the update). The thread that holds
 * the session draws each batch, as every session does, so a device run sees the CPU run's batches.
 * The parameters and optimizer state a step returns stay on the device and go back into the next
 * step; only the loss is read back per step, and the parameters only to preview or save them.
 */
import * as E from "fp-ts/lib/Either.js";
import { item, random, type Tensor } from "@rewind/tensor";
import type { DeviceArray } from "@rewind/autodiff";
import { trainStep } from "@rewind/optim";
import { disposeTree, readTree, type WebGpu } from "@rewind/webgpu";
import type { RunConfig } from "../protocol.js";
import { graphsOf, keysOf, optimizerFor, type Session } from "../session.js";
import type { Task } from "../tasks/types.js";
import { encodeWeights, paramsFromTensors } from "../weights.js";

/**
 * A session for `task` under `config` trained on the device of `gpu`. Its steps, previews and
 * saves are promises and run one after another, in the order they were called (a read waits for
 * the step before it, and a step for the read before it), so no read meets freed buffers.
 * @example const s = createDeviceSession(config, task, await webgpu({ register: false })); await s.step()
 */
export const createDeviceSession = <P, B>(
  config: RunConfig,
  task: Task<P, B>,
  gpu: WebGpu,
): Session<Promise<number>> => {
  const keys = keysOf(config);
  const optimizer = optimizerFor(task);
  // Seen through the task's opaque parameter type: device arrays or tensors in, device arrays out.
  const step = trainStep(task.loss, optimizer, { backend: gpu }) as unknown as (
    params: unknown,
    optState: unknown,
    batch: B,
  ) => Promise<{ readonly params: unknown; readonly optState: unknown; readonly loss: DeviceArray }>;
  // The parameters' shapes, for the traced graphs (which depend on shapes only, not on values).
  const shapes = task.init(keys.init);
  // Tensors at first and after a load (uploaded by the first step); device arrays after a step.
  let params: unknown = shapes;
  let optState: unknown = optimizer.init(shapes);
  let copy: P | undefined; // the device's parameters read back, until the next step
  let steps = 0;
  let epoch = 0; // bumped by load and close: a step called before it is dropped
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `f` after everything called before it; a failure is the caller's, the queue goes on. */
  const queued = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f);
    queue = next.catch(() => undefined);
    return next;
  };

  const runStep = async (called: number): Promise<number> => {
    const batch = task.batch(random.foldIn(keys.data, steps));
    const out = await step(params, optState, batch);
    let kept = false;
    try {
      const loss = item(await out.loss.read());
      if (called === epoch) {
        // The step's inputs are no longer needed (an input returned unchanged comes back as a copy).
        disposeTree([params, optState]);
        ({ params, optState } = out);
        copy = undefined;
        steps += 1;
        kept = true;
      }
      return loss;
    } finally {
      out.loss.dispose();
      if (!kept) disposeTree([out.params, out.optState]);
    }
  };

  const current = (): Promise<P> => queued(async () => (copy ??= (await readTree(params)) as P));

  return {
    config,
    summary: task.summary,
    lossLabel: task.lossLabel,
    workers: 1,
    device: "webgpu",
    step: () => {
      const called = epoch;
      return queued(() => runStep(called));
    },
    steps: () => steps,
    preview: async () => {
      const p = await current();
      return task.preview(p, random.foldIn(keys.preview, steps));
    },
    graphs: () => graphsOf(task, shapes),
    save: async () => encodeWeights(await current(), config, steps),
    load: (tensors: ReadonlyMap<string, Tensor>, step: number) => {
      const loaded = paramsFromTensors(task.init(keys.init), tensors);
      if (E.isLeft(loaded)) return loaded;
      const old = [params, optState];
      void queue.then(() => disposeTree(old));
      params = loaded.right;
      optState = optimizer.init(loaded.right);
      copy = loaded.right;
      steps = step;
      epoch += 1;
      return E.right(undefined);
    },
    close: () => {
      epoch += 1;
      const old = [params, optState];
      void queue.then(() => disposeTree(old));
    },
  };
};
