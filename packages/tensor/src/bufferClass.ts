/**
 * @file The typed-array class of each dtype, for the checks that a buffer matches its dtype (the
 * tensor record's, a compiled runner's output arrays, donation's recycled buffers). Not part of
 * the public API: other packages reach it through `@rewind/tensor/internal/check`.
 */

/**
 * The typed-array class of each dtype.
 * @example data instanceof BUFFER_CLASS["float32"] // data is a Float32Array
 */
export const BUFFER_CLASS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;
