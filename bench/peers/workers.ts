/**
 * @file The data-parallel rows of `pnpm bench:peers` (issue 19): the LSTM step on one thread, the
 * same step run by `pmap` on 2 worker threads, each over half of the batch, the gradients
 * averaged by `pmean` in shared memory, and the step on one thread whose large products are split
 * across 2 kernel threads (`useKernelThreads`).
 */
import { jit, treeMap, type Value } from "@rewind/autodiff";
import { place, pmap, useKernelThreads } from "@rewind/workers/node";
import type * as W from "./workersStep.js";
import { lstmMeanGrad, lstmMeanGradOf } from "./workersStep.js";
import * as T from "@rewind/tensor";
import { rewindLstmParts, type LstmModel, type StepContestant } from "./rewind.js";
import type { Contestant, Plan, Timing } from "./harness.js";
import { halfBatch, l2, type LstmData, type StepCheck } from "./data.js";

const norms = (g: LstmModel): number[] =>
  [g.cell.weight_ih, g.cell.weight_hh, g.cell.bias_ih, g.cell.bias_hh, g.w, g.b].map((v) =>
    l2((v as { data: ArrayLike<number> }).data),
  );

/** What workersSection.ts (the child process timing these rows) prints after `WORKERS `. */
export interface WorkersSectionResult {
  readonly checks: ReadonlyArray<readonly [string, StepCheck]>;
  readonly timings: readonly Timing[];
  readonly log: readonly string[];
}

/**
 * How the section is timed. Each sample is settled by one untimed call: a training loop calls its
 * step back to back, and a pmap call right after another row's call runs slower (B 32: median 12.3
 * against 11.4 ms back to back, 80 calls each, alternated; B 128: the same 40.1 ms).
 */
export const WORKERS_PLAN: Plan = { rounds: 11, minRuns: 3, budgetMs: 5000, sampleMs: 0, warmMs: 300, settle: 1 };

/** Row names of the data-parallel section. */
export const WORKER_ROWS = {
  one: "Rewind jit, 1 thread",
  two: "Rewind pmap, 2 workers",
  kernels: "Rewind jit, 2 kernel threads",
  unsynced: "bound: pmap, 2 workers, no collective",
  half: "bound: jit, 1 thread, half the batch",
} as const;

/** A row computing `step` on `d` in this thread (outside pmap, pmean is the identity). */
const inThisThread = (name: string, step: typeof lstmMeanGrad, d: LstmData): StepContestant => {
  const { model, xs, ys } = rewindLstmParts(d);
  return {
    name,
    run: () => void step(model, xs, ys),
    check: () => {
      const [loss, g] = step(model, xs, ys);
      return { loss: (loss as T.Tensor).data[0]!, gradNorms: norms(g) };
    },
  };
};

/**
 * The one-thread row: the worker module's function called in this thread (pmean is the identity).
 * @example workersOneThread(makeLstmData(128)).run()
 */
export const workersOneThread = (d: LstmData): StepContestant => inThisThread(WORKER_ROWS.one, lstmMeanGrad, d);

/**
 * The 2-worker row; `dispose` stops the workers.
 * @example const c = workersPmap(makeLstmData(128)); await c.run(); c.dispose?.()
 */
export const workersPmap = (d: LstmData, workers = 2): StepContestant => {
  const { model, xs, ys } = rewindLstmParts(d);
  const step = pmap<typeof W.lstmMeanGrad>(new URL("./workersStep.ts", import.meta.url), "lstmMeanGrad", {
    workers,
    inAxes: [null, 0, 0],
  });
  // The weights stay with the workers, as in a training loop with keep/donate (where each step's
  // new weights are written once into recycled shared memory): only the batch travels per call.
  const weights = place(model, workers);
  return {
    name: workers === 2 ? WORKER_ROWS.two : `Rewind pmap, ${workers} workers`,
    run: async () => void (await step(weights, xs, ys)),
    check: async () => {
      const [loss, g] = await step(weights, xs, ys);
      return { loss: loss.data[0]!, gradNorms: norms(g) };
    },
    dispose: () => void step.close(),
  };
};

/**
 * The kernel-threads row: the step jitted anew with 2 kernel threads as `useKernelThreads(2)` sets
 * them up (`minMacs: "auto"`: while other processes leave both cores free, every product of at
 * least 250 k multiply-adds splits by rows, the per-step products of the scan too); `dispose`
 * stops them. Compile the one-thread row for this batch first: runners compiled while kernel
 * threads are on use them.
 * @example const c = await workersKernelThreads(makeLstmData(128)); c.run(); c.dispose?.()
 */
export const workersKernelThreads = async (d: LstmData): Promise<StepContestant> => {
  const threads = await useKernelThreads(2);
  return { ...inThisThread(WORKER_ROWS.kernels, jit(lstmMeanGradOf), d), dispose: () => void threads.close() };
};

/**
 * The first bound row: 2 workers each computing their half's loss and gradient with no collective
 * (`lstmShardGrad`); the check averages the two halves, as pmean does. `dispose` stops the workers.
 * @example const c = workersUnsynced(makeLstmData(128)); await c.run(); c.dispose?.()
 */
export const workersUnsynced = (d: LstmData): StepContestant => {
  const { model, xs, ys } = rewindLstmParts(d);
  const step = pmap<typeof W.lstmShardGrad>(new URL("./workersStep.ts", import.meta.url), "lstmShardGrad", {
    workers: 2,
    inAxes: [null, 0, 0],
    outAxes: 0,
  });
  const weights = place(model, 2);
  const meanOverWorkers = (x: T.Tensor): T.Tensor => T.div(T.sum(x, { axis: 0 }), 2);
  return {
    name: WORKER_ROWS.unsynced,
    run: async () => void (await step(weights, xs, ys)),
    check: async () => {
      const [loss, g] = await step(weights, xs, ys);
      const mean = treeMap<LstmModel>((x: Value) => meanOverWorkers(x as T.Tensor), g);
      return { loss: meanOverWorkers(loss).data[0]!, gradNorms: norms(mean) };
    },
    dispose: () => void step.close(),
  };
};

/**
 * The second bound row: one thread computing half the batch (what each worker computes), timed
 * only (its loss is another batch's). No data-parallel step of this batch beats the slower of two
 * of these running at once.
 * @example workersHalfBatch(makeLstmData(128)).run()
 */
export const workersHalfBatch = (d: LstmData): Contestant => {
  const { model, xs, ys } = rewindLstmParts(halfBatch(d, 0));
  return { name: WORKER_ROWS.half, run: () => void lstmMeanGrad(model, xs, ys) };
};
