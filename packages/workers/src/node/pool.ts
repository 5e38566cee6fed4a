/// <reference types="node" />
/**
 * @file The worker threads of `pmap` in Node: one piscina pool per worker count and start-up
 * (boot module and loader), shared by every `pmap` that asks for it, as JAX's functions share
 * their devices. Sharing spares each `pmap` the start of its own threads (each loads the
 * packages, and TypeScript through tsx, anew); the calls of all of them run one at a time, since a
 * call's tasks wait for each other at the collectives and must not queue behind another call's.
 * A pool lives while some `pmap` uses it and a moment longer (its idle threads never keep the
 * process alive), so that `pmap`s made one after another reuse it.
 */
import { inspect } from "node:util";
import { Piscina } from "piscina";
import { serially, type ShardRunner } from "../driver.js";
import type { ShardResult, ShardTask } from "../shard.js";

/** What each worker thread starts with (see pmap.ts's `workerStart`). */
export interface WorkerStart {
  readonly filename: string;
  readonly workerData: { readonly entry: string; readonly tsxApi?: string };
}

interface Shared {
  pool: Piscina | undefined;
  users: number;
  readonly exclusive: ShardRunner["exclusive"];
  idle: ReturnType<typeof setTimeout> | undefined;
}

const pools = new Map<string, Shared>();

/** How long a pool no `pmap` uses stays, for the next `pmap` to reuse. */
const LINGER_MS = 2_000;

/** What a failed `pool.run` says about the worker: its error, or how it ended. */
const describe = (reason: unknown): string => {
  // An error of another realm may arrive as a plain object (its class lost on the way).
  const own = (reason as { message?: unknown } | null)?.message;
  const message = typeof own === "string" ? own : inspect(reason, { depth: 2, breakLength: Infinity });
  return /exit|terminat/i.test(message) ? `died (${message})` : `threw: ${message}`;
};

/**
 * A runner over the shared pool of `workers` threads started with `start` (one more user of it).
 * @example const runner = sharedRunner(workerStart(url), 2)
 */
export const sharedRunner = (start: WorkerStart, workers: number): ShardRunner => {
  const key = JSON.stringify([start, workers]);
  let shared = pools.get(key);
  if (shared === undefined) {
    shared = { pool: undefined, users: 0, exclusive: serially(), idle: undefined };
    pools.set(key, shared);
  }
  const mine = shared;
  clearTimeout(mine.idle);
  mine.users++;
  let released = false;
  const poolOf = (): Piscina => (mine.pool ??= new Piscina({ ...start, minThreads: workers, maxThreads: workers }));
  return {
    run: async (task: ShardTask): Promise<ShardResult> => {
      const r = (await poolOf().run(task)) as ShardResult | ArrayBuffer;
      // A result without kept leaves comes moved as its bare buffer (see worker.ts).
      return r instanceof ArrayBuffer ? { packed: r, kept: [] } : r;
    },
    reset: async () => {
      const stuck = mine.pool;
      mine.pool = undefined;
      await stuck?.destroy();
    },
    release: () => {
      if (released) return Promise.resolve();
      released = true;
      if (--mine.users > 0) return Promise.resolve();
      mine.idle = setTimeout(() => {
        if (mine.users > 0) return;
        pools.delete(key);
        void mine.pool?.destroy();
      }, LINGER_MS);
      mine.idle.unref();
      return Promise.resolve();
    },
    exclusive: mine.exclusive,
    describe,
  };
};
