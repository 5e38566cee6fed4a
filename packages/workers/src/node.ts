/// <reference types="node" />
/**
 * Node entry of @rewind/workers: `pmap` over `worker_threads` (through piscina), plus everything
 * of the main entry.
 *
 * @module @rewind/workers/node
 */
export * from "./index.js";
export { pmap } from "./node/pmap.js";
