/**
 * @file Typed views of shared and transferred memory, laid out 8-byte aligned.
 */
import type { DType } from "@rewind/tensor";

/** Bytes per element of each dtype. */
export const BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4, bool: 1 };
/** `n` rounded up to a multiple of 8, so every leaf's view is aligned. */
export const align8 = (n: number): number => Math.ceil(n / 8) * 8;

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A typed view of `length` elements of `dtype` at byte `offset` of `buffer`. */
export const viewOf = (dtype: DType, buffer: ArrayBufferLike, offset: number, length: number): Typed =>
  dtype === "float32"
    ? new Float32Array(buffer, offset, length)
    : dtype === "float64"
      ? new Float64Array(buffer, offset, length)
      : dtype === "int32"
        ? new Int32Array(buffer, offset, length)
        : new Uint8Array(buffer, offset, length);
