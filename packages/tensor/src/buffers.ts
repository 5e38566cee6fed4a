/**
 * @file `@rewind/tensor/internal/buffers`: `fromBuffer`, which wraps a typed array as a tensor
 * without copying it, for the one caller that receives whole buffers it alone owns — the main
 * thread of @rewind/workers' `pmap`, reading the results a worker transferred to it. Not part of
 * the public API (a caller that wrote the array afterwards would break a tensor's immutability):
 * an architecture test keeps its importers to that file.
 */
export { fromBuffer } from "./Tensor.js";
