/// <reference types="node" />
/**
 * @file Node-only entry point of @rewind/optim (`@rewind/optim/node`): checkpoint files. The
 * encoding is `encodeCheckpoint` / `restoreCheckpoint` from the browser-safe core; this file only
 * adds the disk, with an atomic write so that a crash (or Ctrl-C) mid-save never leaves a torn
 * checkpoint: the previous file stays until the new one is complete on disk.
 *
 * Both functions report every failure as a `Left`; neither throws.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { TensorException, type TensorError } from "@rewind/tensor";
import { encodeCheckpoint, restoreCheckpoint, type Checkpoint, type CheckpointTemplate } from "./checkpoint.js";

const ioError = (op: string, verb: string, path: string, e: unknown): TensorError => ({
  _tag: "DecodeError",
  op,
  detail: `cannot ${verb} ${JSON.stringify(path)}: ${e instanceof Error ? e.message : String(e)}`,
});

/** Flushes a directory entry (the rename) to disk; some platforms cannot open directories, which is harmless. */
const fsyncDirectory = (dir: string): void => {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Durability of the rename is best effort; the file itself was already flushed.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};

/**
 * Writes a checkpoint to `path` atomically: the bytes go to a temporary file in the same
 * directory, are flushed to disk, and the temporary file is renamed over `path`.
 * @returns `Left` when the state cannot be encoded (see `encodeCheckpoint`) or the file cannot be written.
 * @example
 * const saved = saveCheckpoint("out/ckpt.safetensors", { params, optState, step, key, config });
 * if (E.isLeft(saved)) console.error(formatTensorError(saved.left));
 */
export const saveCheckpoint = (path: string, state: Checkpoint): E.Either<TensorError, void> => {
  let bytes: Uint8Array;
  try {
    bytes = encodeCheckpoint(state);
  } catch (e) {
    if (e instanceof TensorException) return E.left(e.error);
    throw e;
  }
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const fd = openSync(tmp, "wx");
    try {
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The write already failed; a leftover temporary file is the lesser problem.
    }
    return E.left(ioError("saveCheckpoint", "write", path, e));
  }
  fsyncDirectory(dirname(path));
  return E.right(undefined);
};

/**
 * Reads a checkpoint file (see `restoreCheckpoint` for the template and what is checked).
 * @returns `Left` for a missing or unreadable file, or any problem `restoreCheckpoint` reports.
 * @example
 * const ckpt = loadCheckpoint("out/ckpt.safetensors", { params, optState: opt.init(params) });
 * if (E.isRight(ckpt)) ({ params, optState, step, key } = ckpt.right);
 */
export function loadCheckpoint<P, S>(path: string, template: CheckpointTemplate<P, S>): E.Either<TensorError, Checkpoint<P, S>>;
export function loadCheckpoint(path: string): E.Either<TensorError, Checkpoint>;
export function loadCheckpoint(path: string, template?: CheckpointTemplate<unknown, unknown>): E.Either<TensorError, Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return E.left(ioError("loadCheckpoint", "read", path, e));
  }
  const restored = template === undefined ? restoreCheckpoint(bytes) : restoreCheckpoint(bytes, template);
  return E.mapLeft((err: TensorError): TensorError => (err._tag === "DecodeError" ? { ...err, detail: `${JSON.stringify(path)}: ${err.detail}` } : err))(restored);
}
