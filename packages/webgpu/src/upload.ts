/**
 * @file Checks on what a device call is given: tensors of the dtypes WebGPU computes in.
 */
import { isTensor, type Tensor } from "@rewind/tensor";
import { gpuFail } from "./errors.js";
import { DETACHED_FIX, describeArg, detachedTensorProblem } from "@rewind/tensor/internal/check";

/**
 * Returns `t`, or throws unless `t` is a float32, int32 or bool tensor; float64 names the fix.
 * @example checkUpload("call", "args[0]", x)
 */
export const checkUpload = (op: string, arg: string, t: unknown): Tensor => {
  const detached = detachedTensorProblem(t);
  if (detached !== undefined) return gpuFail(op, arg, detached, DETACHED_FIX);
  if (!isTensor(t))
    return gpuFail(
      op,
      arg,
      `expected a tensor${op === "upload" ? "" : " or a device array"}, got ${describeArg(t)}`,
      op === "upload" ? "pass a float32, int32 or bool tensor" : "pass tensors (or device arrays of this device)",
    );
  if (t.dtype === "float64")
    gpuFail(
      op,
      arg,
      `the value is float64 [${t.shape.join(", ")}], and WebGPU computes in float32 only`,
      'convert it with astype(x, "float32"), or use the CPU jit (jit(f) without backend)',
    );
  return t;
};
