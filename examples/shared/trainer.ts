/**
 * @file The training loop's step for the examples that take `--workers N`: one worker runs
 * today's jitted `trainStep` on this thread (same code, same numbers); N > 1 run the step module's
 * `dataParallelStep` (shared/dataParallel.ts) through `pmap` of @rewind/workers, each worker on
 * B / N rows of the batch, gradients combined in worker order.
 *
 * With workers, the parameters and the optimizer state stay with them between steps (`keep`) and
 * each step reuses the memory of the ones before (`donate`): the main thread copies the parameters
 * only when it reads them (`params()`, e.g. to evaluate). The run is bit-reproducible for a given
 * N and agrees with one worker within float rounding: the batch's mean is the mean of the shards'
 * means, summed in another order.
 */
import { item, type Tensor } from "@rewind/tensor";
import type { Concrete } from "@rewind/autodiff";
import { trainStep } from "@rewind/optim";
import { pmap, type Placed } from "@rewind/workers/node";
import type { StepSpec, WorkerStep } from "./dataParallel.js";

/** A model being trained: one step at a time, its current parameters on demand. */
export interface Trainer<P, Batch extends unknown[]> {
  /** The number of workers (1: this thread, today's code path). */
  readonly workers: number;
  /** One optimizer step on the batch (all of its arguments are split on axis 0); the batch's mean loss. */
  readonly step: (...batch: Batch) => Promise<number>;
  /**
   * The current parameters, valid until the next step (one worker: the step donates them; with
   * workers: a copy made on the first call after a step).
   */
  readonly params: () => Concrete<P>;
  /** Lets go of the workers (nothing to do with one). */
  readonly close: () => Promise<void>;
}

/** What {@link trainer} needs. */
export interface TrainerOptions<C, P, S, Batch extends unknown[]> {
  readonly workers: number;
  /** The step module (imported by every worker) and the name of its `dataParallelStep(build)` export. */
  readonly module: URL;
  readonly exportName: string;
  /** The same `build` the module passes to `dataParallelStep`, and its configuration (plain data). */
  readonly build: (config: C) => StepSpec<P, S, Batch>;
  readonly config: C;
  /** The initial parameters; the optimizer's state starts from `optimizer.init(params)`. */
  readonly params: Concrete<P>;
}

/**
 * Makes the step of an example's training loop for `--workers N` (see the file comment).
 * @example
 * const t = trainer({ workers, module: new URL("./step.ts", import.meta.url), exportName: "parallelStep",
 *   build, config, params });
 * for (const b of batches) console.log(await t.step(b.xs, b.ys));
 * await t.close();
 */
export const trainer = <C, P, S, Batch extends unknown[]>(
  options: TrainerOptions<C, P, S, Batch>,
): Trainer<P, Batch> => {
  const { workers, config } = options;
  const { loss, optimizer } = options.build(config);
  let params = options.params;
  let optState = optimizer.init(params) as Concrete<S>;
  if (workers === 1) {
    // Today's step: loss, gradient, optimizer and update in one jitted program, state donated.
    const step = trainStep(loss, optimizer);
    return {
      workers,
      step: (...batch) => {
        const r = step(params as P, optState as S, ...batch) as unknown as {
          params: Concrete<P>;
          optState: Concrete<S>;
          loss: Tensor;
        };
        ({ params, optState } = r);
        return Promise.resolve(item(r.loss));
      },
      params: () => params,
      close: () => Promise.resolve(),
    };
  }
  type Step = WorkerStep<C, P, S, Batch>;
  let run: ReturnType<typeof pmap<Step, 0 | 1>> | undefined;
  let held: readonly [Placed<P>, Placed<S>] | undefined;
  let copy: Concrete<P> | undefined = params;
  return {
    workers,
    step: async (...batch) => {
      // Made at the first step, when the number of batch arguments is known: each is split on axis 0.
      run ??= pmap<Step, 0 | 1>(options.module, options.exportName, {
        workers,
        inAxes: [null, null, null, ...batch.map(() => 0 as const)],
        outAxes: [null, null, null],
        keep: [0, 1],
        donate: [1, 2],
      });
      const args = [config, held?.[0] ?? params, held?.[1] ?? optState, ...batch] as unknown as Parameters<typeof run>;
      const [p, s, value] = (await run(...args)) as unknown as [Placed<P>, Placed<S>, Tensor];
      held = [p, s];
      copy = undefined;
      return item(value);
    },
    params: () => (copy ??= held![0].value()),
    close: async () => run?.close(),
  };
};
