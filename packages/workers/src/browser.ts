/**
 * Browser entry of @rewind/workers: `pmap` over Web Workers and `serve` for the worker modules,
 * plus everything of the main entry. Needs a cross-origin isolated page (`SharedArrayBuffer`).
 *
 * @module @rewind/workers/browser
 */
export * from "./index.js";
export { pmap } from "./web/pmap.js";
export { serve } from "./web/serve.js";
export type { WorkerLike, WorkerScopeLike } from "./web/messages.js";
