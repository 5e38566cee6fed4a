/**
 * @file The graph ops: every function works on tensors (computing now) and on tracers (recording).
 */
export * from "./cumulative.js";
export * from "./elementwise.js";
export * from "./indexing.js";
export { astype, broadcastTo, type ValueLike } from "./lift.js";
export * from "./linalg.js";
export * from "./reduce.js";
export * from "./shape.js";
export * from "./special.js";
