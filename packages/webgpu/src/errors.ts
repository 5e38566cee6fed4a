/**
 * @file The package's errors: `RewindError`s naming the op, the argument, what arrived and the fix.
 */
import { fail } from "@rewind/tensor";

/**
 * Throws the `RewindError` for a mistake found by the WebGPU back end.
 * @example gpuFail("webgpu", "navigator.gpu", "is absent", "use a browser with WebGPU")
 */
export const gpuFail = (op: string, arg: string, detail: string, fix: string): never =>
  fail({ _tag: "InvalidArgument", op, arg, detail, fix });
