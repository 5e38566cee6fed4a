/**
 * Public surface of @rewind/workers that runs anywhere: the collectives a function run by `pmap`
 * calls (`psum`, `pmean`, `axisIndex`, `axisSize`). Outside a `pmap` call there is one worker, so
 * the same function also runs in a single process unchanged. `pmap` itself is in
 * `@rewind/workers/node`.
 *
 * @module @rewind/workers
 */
export { psum, pmean, axisIndex, axisSize, psumPrimitive } from "./collective.js";
export { WorkerFailure, type WorkerErrorValue } from "./errors.js";
