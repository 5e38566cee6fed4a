/// <reference types="node" />
/**
 * Node entry of @rewind/workers: `pmap` over `worker_threads` (through piscina), kernel threads
 * for the large products of jit-compiled runners (`useKernelThreads`), plus everything of the main
 * entry.
 *
 * @module @rewind/workers/node
 */
export * from "./index.js";
export { pmap } from "./node/pmap.js";
export { useKernelThreads, type KernelThreads, type KernelThreadsOptions } from "./node/kernelThreads.js";
