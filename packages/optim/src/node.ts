/// <reference types="node" />
/**
 * Node-only entry point of @rewind/optim (`@rewind/optim/node`): checkpoint files. The
 * encoding is `encodeCheckpoint` / `restoreCheckpoint` from the browser-safe core; this file only
 * adds the disk, with an atomic write so that a crash (or Ctrl-C) mid-save never leaves a torn
 * checkpoint: the previous file stays until the new one is complete on disk.
 *
 * Both functions report every failure as a `Left`; neither throws.
 *
 * @module @rewind/optim/node
 */
import * as E from "fp-ts/lib/Either.js";
import { TensorException, type TensorError } from "@rewind/tensor";
import { readFileBytes, writeFileAtomic } from "@rewind/tensor/node";
import { encodeCheckpoint, restoreCheckpoint, type Checkpoint, type CheckpointTemplate } from "./checkpoint.js";

/**
 * Writes a checkpoint to `path` atomically: the bytes go to a temporary file in the same
 * directory, are flushed to disk, and the temporary file is renamed over `path`.
 * @returns `Left` when the state cannot be encoded (see `encodeCheckpoint`) or the file cannot be written.
 * @example
 * const saved = saveCheckpoint("out/ckpt.safetensors", { params, optState, step, key, config });
 * if (E.isLeft(saved)) console.error(formatError(saved.left));
 */
export const saveCheckpoint = (path: string, state: Checkpoint): E.Either<TensorError, void> => {
  let bytes: Uint8Array;
  try {
    bytes = encodeCheckpoint(state);
  } catch (e) {
    if (e instanceof TensorException) return E.left(e.error);
    throw e;
  }
  return writeFileAtomic("saveCheckpoint", path, bytes);
};

/**
 * Reads a checkpoint file (see `restoreCheckpoint` for the template and what is checked).
 * @returns `Left` for a missing or unreadable file, or any problem `restoreCheckpoint` reports.
 * @example
 * const ckpt = loadCheckpoint("out/ckpt.safetensors", { params, optState: opt.init(params) });
 * if (E.isRight(ckpt)) ({ params, optState, step, key } = ckpt.right);
 */
export function loadCheckpoint<P, S>(
  path: string,
  template: CheckpointTemplate<P, S>,
): E.Either<TensorError, Checkpoint<P, S>>;
export function loadCheckpoint(path: string): E.Either<TensorError, Checkpoint>;
export function loadCheckpoint(
  path: string,
  template?: CheckpointTemplate<unknown, unknown>,
): E.Either<TensorError, Checkpoint> {
  const read = readFileBytes("loadCheckpoint", path);
  if (E.isLeft(read)) return read;
  const bytes = read.right;
  const restored = template === undefined ? restoreCheckpoint(bytes) : restoreCheckpoint(bytes, template);
  return E.mapLeft((err: TensorError): TensorError =>
    err._tag === "DecodeError" ? { ...err, detail: `${JSON.stringify(path)}: ${err.detail}` } : err,
  )(restored);
}
