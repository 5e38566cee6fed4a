/**
 * @file The export's errors: `RewindError`s of the `InvalidArgument` tag, op `toOnnx`.
 */
import { fail } from "@rewind/tensor";

/**
 * Throws the `RewindError` for a mistake found while exporting.
 * @example exportFail("f", "it uses randomSample", "pass the samples as an argument")
 */
export const exportFail = (arg: string, detail: string, fix: string): never =>
  fail({ _tag: "InvalidArgument", op: "toOnnx", arg, detail, fix });
