/// <reference types="node" />
/**
 * @file `pmap`: one function run on N Node worker threads (through piscina), each over its shard
 * of the batch, with `psum`/`pmean` between them.
 *
 * A worker cannot receive a closure, so the function reaches the workers as a module export: the
 * module's URL and the export's name. Arguments are written once into shared memory; each worker
 * reads the leaves marked replicated whole and its own rows of the leaves marked sharded. Results
 * come back moved, not copied; outputs marked replicated are checked to be bit-identical across
 * workers (a forgotten `pmean` is caught here), outputs marked sharded are concatenated in worker
 * order. Calls on one `pmap` run one at a time, in the order they were made.
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { Piscina } from "piscina";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { treeDefKey, type Concrete } from "@rewind/autodiff";
import { abortControl, CONTROL_WORDS, resetControl } from "../barrier.js";
import { WorkerFailure } from "../errors.js";
import { planArguments, writeArguments } from "../layout.js";
import type { WorkerTask } from "./protocol.js";
import { rebuild, unpackResult, type UnpackedResult } from "./results.js";
import { checkPmapOptions, type CheckedOptions, type PmapOptions } from "./options.js";
import { leafAxes, mergeLeaf } from "./merge.js";

/**
 * A function run by `pmap`: call it like the function (it returns a promise), `close` it when done.
 * @typeParam F The type of the module's exported function (`typeof import("./step.js").step`).
 */
export interface Pmapped<F extends (...args: never[]) => unknown> {
  (...args: Parameters<F>): Promise<Concrete<ReturnType<F>>>;
  /** The number of workers. */
  readonly workers: number;
  /** Stops the workers (waits for a running call first). Calls after `close` are refused. */
  readonly close: () => Promise<void>;
}

/**
 * The URL of tsx's ESM registration API, from the public exports map of the tsx package that the
 * running project installed (resolved from the working directory).
 */
const tsxApi = (): string => {
  const require = createRequire(join(process.cwd(), "package.json"));
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports?: Record<string, { import?: { default?: string } }>;
  };
  const entry = manifest.exports?.["./esm/api"]?.import?.default;
  if (entry === undefined) throw new Error("tsx's package.json exports no ./esm/api import");
  return pathToFileURL(join(dirname(manifestPath), entry)).href;
};

/**
 * What each worker starts with: `boot.mjs` (beside src/ and dist/), told in its workerData which
 * entry to import and, when the entry or the user's module is TypeScript, tsx's registration API
 * (worker threads of Node 20 do not inherit a TypeScript loader, not even `--import tsx`).
 */
const workerStart = (userModule: string): { filename: string; workerData: { entry: string; tsxApi?: string } } => {
  const filename = new URL("../../boot.mjs", import.meta.url).href;
  const entry = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url).href;
  if (![userModule, entry].some((u) => /\.[mc]?tsx?$/.test(new URL(u).pathname)))
    return { filename, workerData: { entry } };
  try {
    return { filename, workerData: { entry, tsxApi: tsxApi() } };
  } catch (cause) {
    return T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "module",
      detail:
        "the function's module is TypeScript and tsx, which its workers need to load it, " +
        `was not found (${String(cause)})`,
      fix: "install tsx in the project (npm i -D tsx), or point pmap at compiled JavaScript",
    });
  }
};

/** What a failed `pool.run` says about the worker: its error, or how it ended. */
const describeFailure = (reason: unknown): string => {
  // An error of another realm may arrive as a plain object (its class lost on the way).
  const own = (reason as { message?: unknown } | null)?.message;
  const message = typeof own === "string" ? own : inspect(reason, { depth: 2, breakLength: Infinity });
  return /exit|terminat/i.test(message) ? `died (${message})` : `threw: ${message}`;
};

/**
 * Runs the function `exportName` of `module` on `options.workers` worker threads: each gets its
 * shard of the arguments marked 0 in `inAxes` (their axis 0 split into equal parts, in worker
 * order) and all of those marked null, and may call `psum`/`pmean`. Returns an async function with
 * the same arguments. Unlike JAX's `pmap`, axis 0 is split rather than mapped: each worker sees a
 * batch of B / N rows, as `shard_map` does.
 * @example
 * // step.ts: export const step = jit((p, batch) => pmean(grad(loss)(p, batch)))
 * const step = pmap<typeof import("./step.js").step>(new URL("./step.ts", import.meta.url), "step",
 *   { workers: 2, inAxes: [null, 0] });
 * const grads = await step(params, batch);
 * await step.close();
 * @typeParam F The type of the module's exported function, for typed arguments and results.
 */
export const pmap = <F extends (...args: never[]) => unknown>(
  module: URL | string,
  exportName: string,
  options: PmapOptions,
): Pmapped<F> => {
  const { workers, inAxes, outAxes, slotBytes, timeoutMs } = checkPmapOptions(module, exportName, options);
  const moduleUrl = module.toString();
  if (moduleUrl.startsWith("file:") && !existsSync(fileURLToPath(moduleUrl)))
    T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "module",
      detail: `no file at ${moduleUrl}`,
      fix: 'name the module by a URL relative to the caller: new URL("./step.ts", import.meta.url)',
    });
  const start = workerStart(moduleUrl);
  let pool: Piscina | undefined;
  const poolOf = (): Piscina => (pool ??= new Piscina({ ...start, minThreads: workers, maxThreads: workers }));
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const slots = new SharedArrayBuffer(slotBytes * workers);
  let args = new SharedArrayBuffer(0);
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const runOnce = async (callArgs: readonly unknown[]): Promise<unknown> => {
    if (callArgs.length !== inAxes.length)
      T.fail({
        _tag: "ValueError",
        op: "pmap",
        arg: "args",
        detail: `got ${callArgs.length} arguments but inAxes describes ${inAxes.length}`,
        fix: "give inAxes one entry per argument (0: split axis 0 among the workers, null: every worker gets it all)",
      });
    const plan = planArguments(callArgs, inAxes, workers);
    if (args.byteLength < plan.bytes) args = new SharedArrayBuffer(Math.max(plan.bytes, 2 * args.byteLength));
    writeArguments(plan, callArgs, args);
    const words = new Int32Array(control);
    resetControl(words);
    const p = poolOf();
    const base = {
      module: moduleUrl,
      export: exportName,
      size: workers,
      plan,
      args,
      control,
      slots,
      slotBytes,
      timeoutMs,
    };
    let firstFailure: { worker: number; reason: unknown } | undefined;
    const finished = new Array<boolean>(workers).fill(false);
    const runs = Array.from({ length: workers }, (_, index) =>
      p
        .run({ ...base, index } satisfies WorkerTask)
        .catch((reason: unknown) => {
          // The first failure wakes the others out of their collectives.
          firstFailure ??= { worker: index, reason };
          abortControl(words, index);
          throw reason;
        })
        .finally(() => {
          finished[index] = true;
        }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs + 5_000);
    });
    const settled = await Promise.race([Promise.allSettled(runs), timedOut]);
    clearTimeout(timer);
    if (settled === "timeout") {
      // Named before the pool is stopped (stopping settles every run).
      const running = finished.flatMap((done, w) => (done ? [] : [w]));
      abortControl(words, -1);
      const stuck = pool;
      pool = undefined;
      await stuck?.destroy();
      throw new WorkerFailure(
        "pmap",
        running[0] ?? 0,
        `did not finish within ${timeoutMs + 5_000} ms (still running: ` +
          `${running.map((w) => `worker ${w}`).join(", ")}); the workers were stopped`,
        "raise pmap's timeoutMs for slow calls, or look for a worker stuck in a loop",
      );
    }
    if (firstFailure !== undefined) {
      const { worker, reason } = firstFailure;
      throw new WorkerFailure("pmap", worker, describeFailure(reason), "", reason);
    }
    const results = (settled as PromiseFulfilledResult<ArrayBuffer>[]).map((r) => unpackResult(r.value));
    return merge(results, outAxes);
  };

  const call = (...callArgs: unknown[]): Promise<unknown> => {
    if (closed)
      return Promise.reject(
        new WorkerFailure("pmap", 0, "is stopped: this pmap was closed", "make a new pmap to run more calls"),
      );
    const next = queue.then(() => runOnce(callArgs));
    queue = next.catch(() => undefined);
    return next;
  };
  const close = async (): Promise<void> => {
    closed = true;
    await queue;
    await pool?.destroy();
    pool = undefined;
  };
  return Object.assign(call, { workers, close }) as unknown as Pmapped<F>;
};

/** The workers' results merged into one: replicated outputs checked equal, sharded ones joined. */
const merge = (results: readonly UnpackedResult[], outAxes: CheckedOptions["outAxes"]): unknown => {
  const first = results[0]!;
  const key = treeDefKey(first.def);
  results.forEach((r, w) => {
    if (treeDefKey(r.def) !== key)
      throw new WorkerFailure(
        "pmap",
        w,
        "returned a result of another structure than worker 0's",
        "return the same pytree structure from every worker",
      );
  });
  const axes = leafAxes(first.def, outAxes ?? null);
  const leaves: Tensor[] = first.leaves.map((_, j) =>
    mergeLeaf(
      results.map((r) => r.leaves[j]!),
      j,
      axes[j]!,
    ),
  );
  return rebuild(first, leaves);
};
