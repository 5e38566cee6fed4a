/**
 * @file A bound row of the data-parallel section of `pnpm bench:peers`: two bare worker threads,
 * each computing its half of the batch's loss and gradient (`lstmShardGrad`) on data of its own
 * when the main thread posts it a message, and answering when done: no `pmap`, no worker pool, no
 * shared memory, no collective, nothing returned. Whatever a data-parallel step adds, it cannot
 * beat this on the same machine, so the row shows what the second core gives there (on a host
 * whose cores contend, two halves at once take longer than one half alone).
 *
 * This file is also the threads' entry: started as a worker, it builds its half and waits.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { halfBatch, makeLstmData, type LstmData } from "./data.js";
import type { Contestant } from "./harness.js";
import { rewindLstmParts } from "./rewind.js";
import { lstmShardGrad } from "./workersStep.js";

/** What each thread is started with: the batch size of the whole workload and its half. */
interface BareStart {
  readonly batch: number;
  readonly half: 0 | 1;
}

/** Row name of the bare-threads bound. */
export const BARE_ROW = "bound: 2 bare threads, halves, nothing shared";

/**
 * Starts the two threads (each builds its half of `makeLstmData(d.sizes.B)`, so `d` must be the
 * reference workload at that batch) and returns the row; `dispose` stops them.
 * @example const c = await workersBare(makeLstmData(32)); await c.run(); c.dispose?.()
 */
export const workersBare = async (d: LstmData): Promise<Contestant> => {
  const entry = JSON.stringify(import.meta.url);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const threads = ([0, 1] as const).map(
    (half) =>
      new Worker(`import(${tsx}).then((m) => m.register()).then(() => import(${entry}))`, {
        eval: true,
        workerData: { batch: d.sizes.B, half } satisfies BareStart,
      }),
  );
  // The thread's next message, or its error (a thread that died never answers).
  const next = (w: Worker): Promise<void> =>
    new Promise((resolve, reject) => {
      const onMessage = (): void => {
        w.off("error", onError);
        resolve();
      };
      const onError = (e: Error): void => {
        w.off("message", onMessage);
        reject(e);
      };
      w.once("message", onMessage).once("error", onError);
    });
  await Promise.all(threads.map(next)); // each says when its half is built
  return {
    name: BARE_ROW,
    run: async () => {
      const done = threads.map(next);
      for (const w of threads) w.postMessage("step");
      await Promise.all(done);
    },
    dispose: () => void threads.forEach((w) => void w.terminate()),
  };
};

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const { batch, half } = workerData as BareStart;
  const { model, xs, ys } = rewindLstmParts(halfBatch(makeLstmData(batch), half));
  port.on("message", () => {
    lstmShardGrad(model, xs, ys);
    port.postMessage("done");
  });
  port.postMessage("ready");
}
