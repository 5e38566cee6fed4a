/// <reference types="node" />
/**
 * Node-only entry point of @rewind/rnn (`@rewind/rnn/node`): file I/O lives here so the
 * core stays browser-safe. Reads and writes PyTorch-named recurrent weights as safetensors
 * files, the format `safetensors.torch.save_file` / `load_file` use, so weights move between
 * PyTorch and Rewind in both directions.
 *
 * Both functions report every failure (unreadable file, corrupt bytes, names or shapes that do
 * not fit the spec, a write that fails) as a `Left`; neither throws.
 *
 * @module @rewind/rnn/node
 */
import * as E from "fp-ts/lib/Either.js";
import { formatError, safetensors, TensorException, type TensorError } from "@rewind/tensor";
import { readFileBytes, writeFileAtomic } from "@rewind/tensor/node";
import {
  fromTorchStateDict,
  toTorchStateDict,
  type TorchRnnParams,
  type TorchRnnSpec,
  type TorchStateDictOptions,
} from "./torch.js";
import type { TorchCellParams, TorchCellWeights } from "./cells/common.js";
import { resolveSpec } from "./torchSpec.js";
import { stateDictOptionsProblem } from "./torchStateDict.js";

/**
 * Loads `torchRnn(spec)` parameters from a safetensors file holding a PyTorch state dict
 * (e.g. written by `safetensors.torch.save_file(model.rnn.state_dict(), path)`).
 * @returns `Left` for a missing or unreadable file, bytes that are not a valid safetensors file,
 * or tensors whose names, shapes or dtypes do not fit `spec` (the message lists them all).
 * @example
 * const params = loadTorchSafetensors("lstm.safetensors", { mode: "lstm", inputSize: 64, hiddenSize: 128 });
 * if (E.isLeft(params)) console.error(formatError(params.left));
 */
export const loadTorchSafetensors = <B extends boolean = true>(
  path: string,
  spec: TorchRnnSpec & { readonly bias?: B },
  options: TorchStateDictOptions = {},
): E.Either<TensorError, TorchRnnParams<B>> => {
  // Arguments first, so a misspelt option is reported before the file is read.
  const spec0 = resolveSpec("loadTorchSafetensors", spec);
  if (E.isLeft(spec0)) return spec0;
  const badOptions = stateDictOptionsProblem("loadTorchSafetensors", options);
  if (badOptions !== undefined) return E.left(badOptions);
  const read = readFileBytes("loadTorchSafetensors", path);
  if (E.isLeft(read)) return read;
  const file = safetensors.decode(read.right);
  if (E.isLeft(file)) {
    return E.left({
      _tag: "DecodeError",
      op: "loadTorchSafetensors",
      detail: `${JSON.stringify(path)} is not a valid safetensors file: ${formatError(file.left)}`,
      fix: "",
    });
  }
  return fromTorchStateDict(file.right.tensors, spec, options);
};

/**
 * Saves parameters under PyTorch's names as a safetensors file (`{ format: "pt" }` metadata plus
 * `metadata`), atomically: the bytes go to a temporary file in the same directory, are flushed
 * to disk, and the temporary file is renamed over `path`, so a crash never leaves a torn file.
 * In PyTorch: `module.load_state_dict(safetensors.torch.load_file(path))`.
 * @returns `Left` when params do not fit `spec` or the file cannot be written.
 * @example saveTorchSafetensors("lstm.safetensors", params, spec, { epoch: "12" })
 */
export const saveTorchSafetensors = (
  path: string,
  params: readonly (TorchCellParams | TorchCellWeights)[],
  spec: TorchRnnSpec,
  metadata: Readonly<Record<string, string>> = {},
  options: Pick<TorchStateDictOptions, "prefix"> = {},
): E.Either<TensorError, void> => {
  const spec0 = resolveSpec("saveTorchSafetensors", spec);
  if (E.isLeft(spec0)) return spec0;
  const badOptions = stateDictOptionsProblem("saveTorchSafetensors", options, ["prefix"]);
  if (badOptions !== undefined) return E.left(badOptions);
  let bytes: Uint8Array;
  try {
    bytes = safetensors.encode(toTorchStateDict(params, spec, options), { format: "pt", ...metadata });
  } catch (e) {
    if (e instanceof TensorException) return E.left(e.error);
    throw e;
  }
  return writeFileAtomic("saveTorchSafetensors", path, bytes);
};
