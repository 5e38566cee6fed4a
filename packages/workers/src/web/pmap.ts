/**
 * @file `pmap` in the browser: one function run on N Web Workers, each over its shard of the
 * batch, with `psum`/`pmean` between them through `SharedArrayBuffer` (the page must be
 * cross-origin isolated: `crossOriginIsolated` true, from the COOP and COEP headers).
 *
 * A bundler must see each worker's module, so the caller makes the workers
 * (`() => new Worker(new URL("./step.worker.ts", import.meta.url), { type: "module" })`) and the
 * worker module offers its functions with `serve`. The rest — shared-memory arguments, collectives
 * in worker order, kept values, bounded waits, errors naming the worker — is the Node `pmap`'s.
 */
import type { Concrete } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { createPmap, serially, type Pmapped, type ShardRunner } from "../driver.js";
import { checkPmapOptions, type PmapOptions } from "../options.js";
import type { KeptResult } from "../placed.js";
import type { ShardResult, ShardTask } from "../shard.js";
import { isAnswer, type WorkerLike } from "./messages.js";

interface Pending {
  readonly resolve: (r: ShardResult) => void;
  readonly reject: (reason: unknown) => void;
}

/** N workers from `spawn`, started on first use; each answers its own tasks in order. */
const webRunner = (spawn: () => WorkerLike, workers: number): ShardRunner => {
  let started: WorkerLike[] | undefined;
  const pending = new Map<number, Pending>();
  const owner = new Map<number, number>(); // task id → worker index
  let nextId = 0;

  const failWorker = (w: number, reason: unknown): void => {
    for (const [id, index] of owner)
      if (index === w) {
        pending.get(id)?.reject(reason);
        pending.delete(id);
        owner.delete(id);
      }
  };
  const start = (): WorkerLike[] =>
    (started ??= Array.from({ length: workers }, (_, w) => {
      const worker = spawn();
      worker.addEventListener("message", (event) => {
        if (!isAnswer(event.data)) return;
        const p = pending.get(event.data.id);
        pending.delete(event.data.id);
        owner.delete(event.data.id);
        if (event.data.rewindPmap === "done") p?.resolve(event.data.result);
        else p?.reject(new Error(event.data.message));
      });
      // An error event: the module failed to load, or an error escaped the worker. Its task fails
      // with that error, and every worker is stopped so that the next call starts fresh ones (a
      // worker whose script did not load would never answer).
      worker.addEventListener("error", (event) => {
        failWorker(w, new Error(`worker terminated by an uncaught error: ${event.message ?? "unknown error"}`));
        stop();
      });
      return worker;
    }));
  const stop = (): void => {
    started?.forEach((w) => w.terminate());
    started = undefined;
    for (const w of owner.values()) failWorker(w, new Error("worker terminated"));
  };
  return {
    run: (task: ShardTask) =>
      new Promise<ShardResult>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        owner.set(id, task.index);
        start()[task.index]!.postMessage({ rewindPmap: "task", id, task }, []);
      }),
    reset: () => Promise.resolve(stop()),
    release: () => Promise.resolve(stop()),
    exclusive: serially(),
    describe: (reason) => {
      const message = reason instanceof Error ? reason.message : String(reason);
      return /terminat/i.test(message) ? `died (${message})` : `threw: ${message}`;
    },
  };
};

/**
 * Runs the function `exportName`, which the workers made by `spawn` offer with `serve`, on
 * `options.workers` Web Workers: each gets its shard of the arguments marked 0 in `inAxes` and all
 * of those marked null, and may call `psum`/`pmean`. Needs a cross-origin isolated page.
 * @example
 * // step.worker.ts: serve({ step }) with step = jit((p, batch) => pmean(grad(loss)(p, batch)))
 * const step = pmap<typeof import("./step.worker.js").step>(
 *   () => new Worker(new URL("./step.worker.ts", import.meta.url), { type: "module" }), "step",
 *   { workers: 2, inAxes: [null, 0] });
 * const grads = await step(params, batch);
 * @typeParam F The served function's type, for typed arguments and results.
 * @typeParam K The result elements listed in `options.keep`.
 */
export const pmap = <F extends (...args: never[]) => unknown, K extends number = never>(
  spawn: () => WorkerLike,
  exportName: string,
  options: PmapOptions & { readonly keep?: readonly K[] },
): Pmapped<F, KeptResult<Concrete<ReturnType<F>>, K>> => {
  if (typeof spawn !== "function")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "spawn",
      detail: `expected a function that makes a worker, got ${typeof spawn}`,
      fix: 'pass () => new Worker(new URL("./step.worker.ts", import.meta.url), { type: "module" })',
    });
  if (typeof SharedArrayBuffer !== "function")
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "spawn",
      detail: "SharedArrayBuffer is not available: the page is not cross-origin isolated",
      fix:
        "serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: " +
        "require-corp, or train on this thread when crossOriginIsolated is false",
    });
  const checked = checkPmapOptions(options);
  return createPmap(webRunner(spawn, checked.workers), { export: exportName }, checked);
};
