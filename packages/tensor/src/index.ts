/**
 * @file Public surface of @rewind/tensor: immutable n-d arrays and the numeric kernels under Rewind.
 */
export type * from "./Buffer.js";
export * from "./DType.js";
export * from "./errors.js";
export * from "./Shape.js";
export * from "./Tensor.js";
export * from "./creation.js";
