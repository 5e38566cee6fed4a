/**
 * @file How many workers train: two shard workers when the page can share memory with them
 * (cross-origin isolated: `SharedArrayBuffer` exists), the machine has a second core and a worker
 * may start workers of its own (nested workers: Safari before 15.5 has none); one thread otherwise.
 */

/** What decides it, read from the training worker's global scope. */
export interface Capabilities {
  readonly crossOriginIsolated?: boolean;
  readonly navigator?: { readonly hardwareConcurrency?: number };
  readonly Worker?: unknown;
}

/**
 * The number of workers to train on in a scope: 2 when it is cross-origin isolated, reports at
 * least two cores and can start a worker, else 1.
 * @example trainingWorkers(globalThis) // 2 on a cross-origin isolated page of a 2-core machine
 */
export const trainingWorkers = (scope: Capabilities): 1 | 2 =>
  scope.crossOriginIsolated === true &&
  (scope.navigator?.hardwareConcurrency ?? 1) >= 2 &&
  typeof scope.Worker === "function"
    ? 2
    : 1;
