/**
 * @file The main thread's side of a `pmap` call, the same over Node's worker threads and the
 * browser's Web Workers (each supplies a `ShardRunner`): lay the arguments out in shared memory,
 * start one task per worker, end the call on the first failure or after the timeout (never a
 * hang), and gather the workers' results.
 */
import * as T from "@rewind/tensor";
import type { Concrete } from "@rewind/autodiff";
import { abortControl, CONTROL_WORDS, resetControl } from "./barrier.js";
import { WorkerFailure } from "./errors.js";
import { gather } from "./gather.js";
import { planArguments, writeArguments } from "./layout.js";
import type { CheckedOptions } from "./options.js";
import { isPlaced, type Placed } from "./placed.js";
import type { ShardResult, ShardTask } from "./shard.js";

/**
 * What the call queues chain on: a call's settling, never its value (a promise that resolved to the
 * result would keep it, and its buffers, alive until the next call, and after the last one for good).
 */
const ignore = (): void => undefined;

/** Runs the workers' tasks: Node's piscina pool or the browser's Web Workers. */
export interface ShardRunner {
  /** Runs worker `task.index`'s task; rejects when the worker throws or dies. */
  readonly run: (task: ShardTask) => Promise<ShardResult>;
  /** Stops the workers (after a call that did not finish); the next call starts new ones. */
  readonly reset: () => Promise<void>;
  /** Stops the workers for good, or lets go of them when other pmaps share them. */
  readonly release: () => Promise<void>;
  /** Calls on the same workers run one at a time: their tasks would otherwise wait for each other. */
  readonly exclusive: <R>(f: () => Promise<R>) => Promise<R>;
  /** How a failure reads ("threw: …" or "died (…)"). */
  readonly describe: (reason: unknown) => string;
}

/**
 * A queue that runs the functions given to it one at a time, in the order given (a failure does
 * not stop the ones after it): the runners' `exclusive`.
 * @example const exclusive = serially(); await exclusive(() => call())
 */
export const serially = (): (<R>(f: () => Promise<R>) => Promise<R>) => {
  let tail: Promise<unknown> = Promise.resolve();
  return (f) => {
    const next = tail.then(f);
    tail = next.then(ignore, ignore);
    return next;
  };
};

/** The collectives' shared memory: one slot per worker; an allocation the engine refuses is the option's fault. */
const allocateSlots = (slotBytes: number, workers: number): SharedArrayBuffer => {
  try {
    return new SharedArrayBuffer(slotBytes * workers);
  } catch (cause) {
    return T.fail({
      _tag: "ValueError",
      op: "pmap",
      arg: "options.collectiveBytes",
      detail:
        `${slotBytes} bytes per worker × ${workers} workers could not be allocated as shared memory ` +
        `(${cause instanceof Error ? cause.message : String(cause)})`,
      fix: "pass the bytes of the largest value one psum reduces (default 16 MiB)",
    });
  }
};

/** A placed value (in a kept position of a result) or the concrete value elsewhere. */
export type PmapArgs<P extends readonly unknown[]> = { [K in keyof P]: P[K] | Placed<P[K]> };

/**
 * A function run by `pmap`: call it like the function (it returns a promise), `close` it when done.
 * @typeParam F The function's type (its parameters type the call).
 * @typeParam R What a call resolves to: the function's result, with kept elements as `Placed`.
 */
export interface Pmapped<F extends (...args: never[]) => unknown, R = Concrete<ReturnType<F>>> {
  (...args: PmapArgs<Parameters<F>>): Promise<R>;
  /** The number of workers. */
  readonly workers: number;
  /**
   * Lets go of the workers (after a running call): they stop once no `pmap` uses them (Node's
   * threads, shared per worker count, linger 2 s for the next `pmap` without keeping the process
   * alive; a browser `pmap`'s own Web Workers are terminated). Calls after `close` are refused.
   */
  readonly close: () => Promise<void>;
}

/**
 * A `pmap` over `runner` for the function `target` with checked options.
 * @example createPmap(runner, { module: url, export: "step" }, checkPmapOptions(url, "step", options))
 */
export const createPmap = <F extends (...args: never[]) => unknown, R>(
  runner: ShardRunner,
  target: { readonly module?: string; readonly export: string },
  options: CheckedOptions,
): Pmapped<F, R> => {
  const { workers, inAxes, outAxes, slotBytes, timeoutMs, keep, donate } = options;
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const slots = allocateSlots(slotBytes, workers);
  let args = new SharedArrayBuffer(0);
  // Buffers of donated placed values, per worker, for the next kept results.
  const spare: SharedArrayBuffer[][] = Array.from({ length: workers }, () => []);
  let calls = 0;
  let closed = false;
  let last: Promise<unknown> = Promise.resolve();

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
    const base = { ...target, size: workers, plan, args, control, slots, slotBytes, timeoutMs, outAxes, keep };
    const call = ++calls;
    let firstFailure: { worker: number; reason: unknown } | undefined;
    const finished = new Array<boolean>(workers).fill(false);
    const runs = Array.from({ length: workers }, (_, index) =>
      runner
        .run({ ...base, index, spare: spare[index]!.splice(0) })
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
    // A worker's own waits end after timeoutMs; the call waits a little longer so that their
    // errors, which say more, arrive first.
    const bound = timeoutMs + Math.min(timeoutMs, 5_000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), bound);
    });
    const settled = await Promise.race([Promise.allSettled(runs), timedOut]);
    clearTimeout(timer);
    if (settled === "timeout") {
      // Named before the workers are stopped (stopping settles every run).
      const running = finished.flatMap((done, w) => (done ? [] : [w]));
      abortControl(words, -1);
      await runner.reset();
      throw new WorkerFailure(
        "pmap",
        running[0] ?? 0,
        `did not finish within ${bound} ms (still running: ` +
          `${running.map((w) => `worker ${w}`).join(", ")}); the workers were stopped`,
        "raise pmap's timeoutMs for slow calls, or look for a worker stuck in a loop",
      );
    }
    if (firstFailure !== undefined) {
      const { worker, reason } = firstFailure;
      throw new WorkerFailure("pmap", worker, runner.describe(reason), "", reason);
    }
    const results = (settled as PromiseFulfilledResult<ShardResult>[]).map((r) => r.value);
    const merged = gather(results, outAxes, keep);
    recycle(callArgs, call);
    return merged;
  };

  /** Gives the buffers of donated placed arguments to the workers for their next kept results. */
  const recycle = (callArgs: readonly unknown[], call: number): void => {
    const seen = new Set<unknown>();
    for (const i of donate) {
      const a = callArgs[i];
      // A handle passed in two donated places is given up once.
      if (!isPlaced(a) || seen.has(a)) continue;
      seen.add(a);
      for (const leaf of a.donate(`call ${call} of this pmap (donate: [${donate.join(", ")}])`))
        leaf.buffers.forEach((b, k) => spare[leaf.sharded ? k : 0]!.push(b));
    }
  };

  const call = (...callArgs: unknown[]): Promise<unknown> => {
    if (closed)
      return Promise.reject(
        new WorkerFailure("pmap", 0, "is stopped: this pmap was closed", "make a new pmap to run more calls"),
      );
    // The runner runs calls in the order they are made; `last` lets close wait for them.
    const next = runner.exclusive(() => runOnce(callArgs));
    last = next.then(ignore, ignore);
    return next;
  };
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await last;
    await runner.release();
  };
  return Object.assign(call, { workers, close }) as unknown as Pmapped<F, R>;
};
