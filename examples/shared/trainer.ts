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
import type { StepSpec } from "./dataParallel.js";

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
  /** Default `"parallelStep"`, the name every example's step.ts uses. */
  readonly exportName?: string;
  /** The same `build` the module passes to `dataParallelStep`, and its configuration (plain data). */
  readonly build: (config: C) => StepSpec<P, S, Batch>;
  readonly config: C;
  /** The initial parameters; the optimizer's state starts from `optimizer.init(params)`. */
  readonly params: Concrete<P>;
}

/** The one-thread steps made so far, per `build` and configuration (its JSON). */
const oneThreadSteps = new WeakMap<object, Map<string, unknown>>();

/**
 * Makes the step of an example's training loop for `--workers N` (see the file comment).
 * @example
 * const t = trainer({ workers, module: new URL("./step.ts", import.meta.url), build, config, params });
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
    // Today's step: loss, gradient, optimizer and update in one jitted program, state donated;
    // one per `build` and configuration, so trainers made one after another trace it once.
    const made = oneThreadSteps.get(options.build) ?? new Map<string, unknown>();
    oneThreadSteps.set(options.build, made);
    const key = JSON.stringify(config);
    const step = (made.get(key) ?? trainStep(loss, optimizer)) as ReturnType<
      typeof trainStep<P, typeof optimizer, Batch>
    >;
    made.set(key, step);
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
  const placed = placedStep<P, S>(options.module, options.exportName ?? "parallelStep", workers);
  return {
    workers,
    step: async (...batch) => {
      const [value] = await placed.step(
        batch.map(() => 0),
        config,
        params,
        optState,
        ...batch,
      );
      return item(value!);
    },
    params: placed.params,
    close: placed.close,
  };
};

/** A step run on workers whose parameters and optimizer state stay with them: see {@link placedStep}. */
export interface PlacedStep<P> {
  /**
   * Calls the step with `(config, params, optState, ...rest)`, the parameters and state being the
   * workers' own after the first call (the ones given then are only read); `restAxes` says how each
   * of `rest` is split (0: on axis 0, null: whole to every worker). Returns the step's outputs after
   * the new parameters and state.
   */
  readonly step: (
    restAxes: readonly (0 | null)[],
    config: unknown,
    params: unknown,
    optState: unknown,
    ...rest: unknown[]
  ) => Promise<Tensor[]>;
  /** The current parameters: a copy made on the first call after a step. */
  readonly params: () => Concrete<P>;
  readonly close: () => Promise<void>;
}

/**
 * A `pmap` of the module's step `(config, params, optState, ...rest) => [params', optState', ...outs]`
 * (outputs replicated), with the new parameters and optimizer state kept by the workers (`keep`)
 * in the memory of the ones before (`donate`): no step ships them. Made at the first call.
 * @example
 * const s = placedStep(new URL("./step.ts", import.meta.url), "privateStep", 2);
 * const [clipped] = await s.step([0, null], config, params0, optState0, batch, noise);
 */
export const placedStep = <P, S>(module: URL, exportName: string, workers: number): PlacedStep<P> => {
  type Step = (config: unknown, params: P, optState: S, ...rest: unknown[]) => readonly unknown[];
  let run: ReturnType<typeof pmap<Step, 0 | 1>> | undefined;
  let held: readonly [Placed<P>, Placed<S>] | undefined;
  let copy: Concrete<P> | undefined;
  return {
    step: async (restAxes, config, params, optState, ...rest) => {
      run ??= pmap<Step, 0 | 1>(module, exportName, {
        workers,
        inAxes: [null, null, null, ...restAxes],
        outAxes: null,
        keep: [0, 1],
        donate: [1, 2],
      });
      if (held === undefined) copy = params as Concrete<P>;
      const args = [config, held?.[0] ?? params, held?.[1] ?? optState, ...rest] as unknown as Parameters<typeof run>;
      const [p, s, ...outs] = (await run(...args)) as unknown as [Placed<P>, Placed<S>, ...Tensor[]];
      held = [p, s];
      copy = undefined;
      return outs;
    },
    params: () => (copy ??= held![0].value()),
    close: async () => run?.close(),
  };
};
