/**
 * @file The host lane: where a value of a device program lives. A training step carries
 * bookkeeping besides its arrays — an optimizer's int32 update count, a schedule's learning rate
 * and Adam's bias corrections computed from it in float64 (as @rewind/optim computes them, to
 * keep the bits of the CPU), clipping thresholds. WebGPU has no float64, and sending a scalar to
 * the GPU and reading it back costs a round trip per step. So scalars that depend only on other
 * host values (and constants) are computed on the CPU by their primitives' own impls, in the
 * middle of recording the step's kernels, and are uploaded only when a kernel reads them (a
 * `writeBuffer` of a few bytes, ordered before the submission that uses it). Nothing from the
 * device is ever read back for them.
 *
 * float64 is allowed only there: a float64 scalar may be computed from device scalars (read
 * back), but a float64 array computed from device data, or one bigger than `HOST_MAX` elements,
 * is refused, naming the primitive, as before.
 */
import type { DType, Shape } from "@rewind/tensor";
import { sizeOf } from "./wgsl/common.js";

/**
 * The most elements a host-lane value may have: room for a schedule's table of boundaries, never
 * a model's arrays (those belong on the device).
 */
export const HOST_MAX = 256;

/**
 * Whether a tensor passed to a device call starts on the host: a rank-0 value (an update count, a
 * learning rate), or a small float64 table captured by the function. Everything else is uploaded.
 * @example hostLeaf({ shape: [], dtype: "int32" }) // true
 */
export const hostLeaf = (t: { readonly shape: Shape; readonly dtype: DType }): boolean =>
  t.shape.length === 0 || (t.dtype === "float64" && sizeOf(t.shape) <= HOST_MAX);

/** What the placement needs of an operand or result. */
export interface Placed {
  /** Its dimensions. */
  readonly shape: Shape;
  /** Its element type. */
  readonly dtype: DType;
  /** True for a host value or a literal (results: unused). */
  readonly onHost?: boolean;
}

/**
 * Whether an equation runs on the host. Either every operand is a host value or a literal, and its
 * results are scalars (or small arrays of a float64 computation: a schedule's table); or it
 * computes in float64 on scalars only, and then scalar operands still on the device are read back
 * for it (a synchronisation, as when a skipped step's count depends on the gradients being
 * finite). Arrays made of constants alone (a zero initial carry, a mask) stay on the device: they
 * are made there by a kernel instead of uploaded every call.
 * @example onHostLane([{ shape: [], dtype: "int32", onHost: true }], [{ shape: [], dtype: "float64" }]) // true
 */
export const onHostLane = (operands: readonly Placed[], results: readonly Placed[]): boolean => {
  const float64 = [...operands, ...results].some((x) => x.dtype === "float64");
  const small = (r: Placed): boolean => r.shape.length === 0 || (float64 && sizeOf(r.shape) <= HOST_MAX);
  if (operands.every((x) => x.onHost === true) && results.every(small)) return true;
  return (
    float64 &&
    operands.every((x) => x.onHost === true || x.shape.length === 0) &&
    results.every((r) => r.shape.length === 0)
  );
};
