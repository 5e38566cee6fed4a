/**
 * @file The data-parallel rows of `pnpm bench:peers` (issue 19): the LSTM step on one thread, the
 * same step run by `pmap` on 2 worker threads, each over half of the batch, the gradients
 * averaged by `pmean` in shared memory, and the step on one thread whose large products are split
 * across 2 kernel threads (`useKernelThreads`).
 */
import type { Tensor } from "@rewind/tensor";
import { jit } from "@rewind/autodiff";
import { place, pmap, useKernelThreads } from "@rewind/workers/node";
import type * as W from "./workersStep.js";
import { lstmMeanGrad, lstmMeanGradOf } from "./workersStep.js";
import { rewindLstmParts, type LstmModel, type StepContestant } from "./rewind.js";
import { l2, type LstmData } from "./data.js";

const norms = (g: LstmModel): number[] =>
  [g.cell.weight_ih, g.cell.weight_hh, g.cell.bias_ih, g.cell.bias_hh, g.w, g.b].map((v) =>
    l2((v as { data: ArrayLike<number> }).data),
  );

/** Row names of the data-parallel section. */
export const WORKER_ROWS = {
  one: "Rewind jit, 1 thread",
  two: "Rewind pmap, 2 workers",
  kernels: "Rewind jit, 2 kernel threads",
} as const;

/**
 * The one-thread row: the worker module's function called in this thread (pmean is the identity).
 * @example workersOneThread(makeLstmData(128)).run()
 */
export const workersOneThread = (d: LstmData): StepContestant => {
  const { model, xs, ys } = rewindLstmParts(d);
  return {
    name: WORKER_ROWS.one,
    run: () => void lstmMeanGrad(model, xs, ys),
    check: () => {
      const [loss, g] = lstmMeanGrad(model, xs, ys);
      return { loss: (loss as Tensor).data[0]!, gradNorms: norms(g) };
    },
  };
};

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
 * The kernel-threads row: the step jitted anew with 2 kernel threads (its large products split by
 * rows); `dispose` stops them. Compile the one-thread row for this batch first: runners compiled
 * while kernel threads are on use them.
 * @example const c = await workersKernelThreads(makeLstmData(128)); c.run(); c.dispose?.()
 */
export const workersKernelThreads = async (d: LstmData): Promise<StepContestant> => {
  const threads = await useKernelThreads(2);
  const { model, xs, ys } = rewindLstmParts(d);
  const step = jit(lstmMeanGradOf);
  return {
    name: WORKER_ROWS.kernels,
    run: () => void step(model, xs, ys),
    check: () => {
      const [loss, g] = step(model, xs, ys);
      return { loss: (loss as Tensor).data[0]!, gradNorms: norms(g) };
    },
    dispose: () => void threads.close(),
  };
};
