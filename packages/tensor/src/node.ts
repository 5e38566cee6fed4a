/// <reference types="node" />
/**
 * @file Node-only entry point of @rewind/tensor (`@rewind/tensor/node`): reading files and
 * writing them atomically, with every failure returned as a `Left`. The other packages' node
 * entry points (rnn's PyTorch weights, optim's checkpoints) save and load through these two.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { TensorError } from "./errors.js";

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
 * Writes `bytes` to `path` atomically: to a temporary file in the same directory, flushed to
 * disk, then renamed over `path` — so a crash or a kill mid-write leaves either the old file or
 * the new one, never a torn one. `op` names the caller in error messages.
 * @example writeFileAtomic("saveCheckpoint", "out/ckpt.safetensors", bytes)
 */
export const writeFileAtomic = (op: string, path: string, bytes: Uint8Array): E.Either<TensorError, void> => {
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
    return E.left(ioError(op, "write", path, e));
  }
  fsyncDirectory(dirname(path));
  return E.right(undefined);
};

/**
 * Reads a whole file as bytes; a missing or unreadable file is a `Left` naming `op` and the path.
 * @example readFileBytes("loadCheckpoint", "out/ckpt.safetensors")
 */
export const readFileBytes = (op: string, path: string): E.Either<TensorError, Uint8Array> => {
  try {
    return E.right(readFileSync(path));
  } catch (e) {
    return E.left(ioError(op, "read", path, e));
  }
};
