/**
 * @file The messages between a page (or a worker that runs `pmap`) and the Web Workers serving
 * its functions, and the slices of the worker APIs they use (declared here so that the package
 * compiles without the DOM library, and so that anything shaped like a worker — a Node
 * `worker_threads` adapter in the tests — can stand in).
 */
import type { ShardResult, ShardTask } from "../shard.js";

/**
 * The main side of a worker: what `new Worker(url, { type: "module" })` returns. `transfer` is
 * required: the DOM's `Worker` has `postMessage(message, transfer)` and
 * `postMessage(message, options?)`, and only the first fits a signature whose second argument
 * is an array (an optional one would not accept the DOM's type).
 */
export interface WorkerLike {
  /** Sends a task; the buffers in `transfer` move to the worker. */
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  /** Hears the worker's answers. */
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  /** Hears an error that escaped the worker, or its script failing to load. */
  addEventListener(type: "error", listener: (event: { readonly message?: string }) => void): void;
  /** Stops the worker at once. */
  terminate(): void;
}

/** The worker side: a dedicated worker's global scope (`transfer` required, as in `WorkerLike`). */
export interface WorkerScopeLike {
  /** Sends an answer; the buffers in `transfer` move to the page. */
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  /** Hears the page's tasks. */
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
}

/** A task for one worker, numbered so that its answer is matched to it. */
export interface TaskMessage {
  readonly rewindPmap: "task";
  readonly id: number;
  readonly task: ShardTask;
}

/** A worker's answer: its result, or its error's message. */
export type AnswerMessage =
  | { readonly rewindPmap: "done"; readonly id: number; readonly result: ShardResult }
  | { readonly rewindPmap: "failed"; readonly id: number; readonly message: string };

/** Whether `data` is an answer of a served worker (a worker may post other messages too). */
export const isAnswer = (data: unknown): data is AnswerMessage => {
  const tag = (data as { rewindPmap?: unknown } | null)?.rewindPmap;
  return tag === "done" || tag === "failed";
};

/** Whether `data` is a task for a served worker. */
export const isTask = (data: unknown): data is TaskMessage =>
  (data as { rewindPmap?: unknown } | null)?.rewindPmap === "task";
