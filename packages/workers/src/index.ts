/**
 * Public surface of @rewind/workers that runs anywhere: the collectives a function run by `pmap`
 * calls (`psum`, `pmean`, `axisIndex`, `axisSize`), and the `Placed` values that stay with the
 * workers between calls. Outside a `pmap` call there is one worker, so the same function also runs
 * in a single process unchanged. `pmap` itself is in `@rewind/workers/node` (Node's worker
 * threads).
 *
 * @module @rewind/workers
 */
export { psum, pmean, axisIndex, axisSize, psumPrimitive } from "./collective.js";
export { WorkerFailure, type WorkerErrorValue } from "./errors.js";
export { Placed, isPlaced, place, type PlacedLeaf, type KeptResult } from "./placed.js";
export type { Pmapped, PmapArgs } from "./driver.js";
export type { PmapOptions, ShardAxis } from "./options.js";
