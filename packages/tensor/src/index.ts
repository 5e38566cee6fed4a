/**
 * Public surface of @rewind/tensor: immutable n-d arrays and the numeric kernels under Rewind.
 *
 * Random numbers live under the `random` namespace (`random.key(0)`, `random.split(k)`, as in
 * JAX) and the safetensors codec under `safetensors`, so their names never clash with tensor ops.
 *
 * @module @rewind/tensor
 */
export type * from "./Buffer.js";
export * from "./DType.js";
// Errors: one class and one union for every package. `GraphException` and `formatGraphError`
// are defined beside them but exported by @rewind/autodiff, whose errors they are.
export {
  MAX_MESSAGE_LENGTH,
  capMessage,
  RewindError,
  TensorException,
  formatError,
  formatTensorError,
  formatShape,
  fail,
  type TensorError,
  type RewindErrorLike,
} from "./errors.js";
export type * from "./errorTypes.js";
export * from "./Shape.js";
export * from "./Tensor.js";
export * from "./creation.js";
export {
  neg,
  abs,
  sign,
  exp,
  expm1,
  log,
  log1p,
  sqrt,
  rsqrt,
  square,
  reciprocal,
  sin,
  cos,
  tanh,
  sigmoid,
  softplus,
  relu,
  floor,
  ceil,
  round,
  isNaN,
  isFinite,
  logicalNot,
} from "./kernels/unary.js";
export { add, sub, mul, div, pow, maximum, minimum, type Operand } from "./kernels/binary.js";
export {
  equal,
  notEqual,
  less,
  lessEqual,
  greater,
  greaterEqual,
  logicalAnd,
  logicalOr,
  where,
} from "./kernels/compare.js";
export {
  sum,
  mean,
  prod,
  max,
  min,
  argmax,
  argmin,
  sumTo,
  type ReduceOptions,
  type ArgReduceOptions,
} from "./kernels/reduce.js";
export { logSumExp, softmax, logSoftmax } from "./kernels/softmax.js";
export {
  cumsum,
  cumprod,
  cummax,
  cummin,
  logcumsumexp,
  type CumulativeOptions,
  type CumulativeOp,
} from "./kernels/cumulative.js";
export { linearScan } from "./kernels/linearScan.js";
export { reshape, transpose, permute, expandDims, squeeze, broadcastTo, flip } from "./kernels/movement.js";
export { slice, type SliceSpec } from "./kernels/slice.js";
export { concat, stack, split, pad } from "./kernels/join.js";
export { take, gather, addAt, addAlongAxis, oneHot, type Indices } from "./kernels/indexing.js";
export { matmul, matmulKernel, type MatmulKernelArgs } from "./kernels/matmul.js";
export {
  viewOffsetsChecked as viewOffsets,
  gatherViewChecked as gatherView,
  broadcastStridesChecked as broadcastStrides,
} from "./kernels/strided.js";
export * as random from "./Random.js";
export type { Key } from "./Random.js";
export * as safetensors from "./safetensors.js";
export { toString, type FormatOptions } from "./format.js";
export { matmulInto, type MatmulIntoArgs, type MatmulIntoOptions } from "./kernels/matmul.js";
export type { MatmulArgs } from "./kernels/matmulArgs.js";
export { setKernelBackend, getKernelBackend, type KernelBackend } from "./kernels/backend.js";
