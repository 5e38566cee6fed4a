/**
 * @file The worker side of `pmap` in the browser: a Web Worker module calls `serve` with the
 * functions it offers, and runs its part of each call the page sends.
 */
import * as T from "@rewind/tensor";
import { runShard } from "../shard.js";
import { isTask, type WorkerScopeLike } from "./messages.js";

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Serves `functions` to the `pmap` of the page (or worker) that started this Web Worker: call it
 * once at the top of the worker module. A bundler sees the worker by its
 * `new Worker(new URL("./step.worker.ts", import.meta.url), { type: "module" })`.
 * @example serve({ step }) // in step.worker.ts
 * @param functions The functions by name; `pmap`'s `exportName` picks one.
 * @param scope The worker's global scope (default `globalThis`).
 */
export const serve = (
  functions: Readonly<Record<string, (...args: never[]) => unknown>>,
  scope: WorkerScopeLike = globalThis as unknown as WorkerScopeLike,
): void => {
  if (typeof functions !== "object" || functions === null)
    T.fail({
      _tag: "ValueError",
      op: "serve",
      arg: "functions",
      detail: `expected an object of functions by name, got ${functions === null ? "null" : typeof functions}`,
      fix: "pass e.g. { step }",
    });
  scope.addEventListener("message", (event) => {
    if (!isTask(event.data)) return;
    const { id, task } = event.data;
    try {
      const f = Object.hasOwn(functions, task.export) ? functions[task.export] : undefined;
      if (typeof f !== "function")
        T.fail({
          _tag: "ValueError",
          op: "pmap",
          arg: "exportName",
          detail:
            `this worker serves no function ${JSON.stringify(task.export)} ` +
            `(it serves ${
              Object.keys(functions)
                .map((k) => JSON.stringify(k))
                .join(", ") || "none"
            })`,
          fix: `serve it: serve({ ${task.export} }) in the worker module`,
        });
      const result = runShard(f as (...args: unknown[]) => unknown, task);
      scope.postMessage({ rewindPmap: "done", id, result }, [result.packed]);
    } catch (e) {
      scope.postMessage({ rewindPmap: "failed", id, message: messageOf(e) }, []);
    }
  });
};
