/// <reference types="node" />
/**
 * Node-only entry point of @rewind/tensor (`@rewind/tensor/node`): reading files and
 * writing them atomically, with every failure returned as a `Left`. The other packages' node
 * entry points (rnn's PyTorch weights, optim's checkpoints) save and load through these two.
 *
 * @module @rewind/tensor/node
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { TensorError } from "./errors.js";

const ioError = (op: string, verb: string, path: string, e: unknown): TensorError => ({
  _tag: "DecodeError",
  op,
  detail: `cannot ${verb} ${JSON.stringify(path)}: ${e instanceof Error ? e.message : String(e)}`,
  fix: "",
});

/**
 * Why `path` is not a file path, or undefined. Only non-empty strings reach `fs`: a number would
 * be read as a file descriptor (0 is stdin, where a read blocks forever).
 */
const pathProblem = (op: string, path: unknown): TensorError | undefined =>
  typeof path === "string" && path !== ""
    ? undefined
    : {
        _tag: "DecodeError",
        op,
        detail: `the path must be a non-empty string, got ${
          typeof path === "string" ? '""' : path === null ? "null" : typeof path
        }`,
        fix: "",
      };

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

/** Whether process `pid` exists (EPERM: it does, under another user). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Removes the temporary files that writers of `path` killed mid-write left behind (`kill -9`, a
 * crash, a power cut): `<name>.<pid>.<12 hex digits>.tmp` whose process no longer exists. Without
 * this, a job killed during saves again and again fills its folder with dead temporary files.
 * Files of live processes — this one's other threads, or another process saving the same path —
 * are left alone. Best effort: a file that cannot be listed or removed is left for the next save.
 * Process ids are this machine's: in a folder shared by several machines, a remote writer's
 * temporary file can be removed mid-write, and that writer's save then fails (a `Left`, nothing
 * torn) instead of succeeding.
 */
const removeStaleTemporaries = (path: string): void => {
  const name = basename(path);
  const dir = dirname(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(`${name}.`)) continue;
    const m = /^\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry.slice(name.length));
    const pid = m === null ? NaN : Number(m[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    try {
      rmSync(join(dir, entry), { force: true });
    } catch {
      // Another writer may be removing it at the same moment; nothing is lost either way.
    }
  }
};

/**
 * Writes `bytes` to `path` atomically: to a temporary file in the same directory
 * (`<path>.<pid>.<random>.tmp`, so concurrent writers never share one), flushed to disk, then
 * renamed over `path` — so a crash or a kill mid-write leaves either the old file or the new one,
 * never a torn one. After the rename it removes the temporary files of writers of `path` that
 * died mid-write, so repeated kills do not pile them up. `op` names the caller in error messages.
 * @example writeFileAtomic("saveCheckpoint", "out/ckpt.safetensors", bytes)
 */
export const writeFileAtomic = (op: string, path: string, bytes: Uint8Array): E.Either<TensorError, void> => {
  const bad = pathProblem(op, path);
  if (bad !== undefined) return E.left(bad);
  if (!(bytes instanceof Uint8Array))
    return E.left({
      _tag: "DecodeError",
      op,
      detail: `cannot write ${JSON.stringify(path)}: the bytes must be a Uint8Array, got ${
        bytes === null ? "null" : typeof bytes
      }`,
      fix: "",
    });
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
  removeStaleTemporaries(path);
  return E.right(undefined);
};

/** What a non-regular file is, for messages; undefined for a regular file. */
const notRegular = (st: Stats): string | undefined =>
  st.isFile()
    ? undefined
    : st.isDirectory()
      ? "a directory"
      : st.isFIFO()
        ? "a FIFO (named pipe)"
        : st.isCharacterDevice()
          ? "a character device"
          : st.isBlockDevice()
            ? "a block device"
            : st.isSocket()
              ? "a socket"
              : "not a regular file";

/**
 * Reads a whole regular file as bytes; a missing or unreadable file, or a path that is not a
 * regular file, is a `Left` naming `op` and the path. Only regular files are read: a FIFO would
 * block forever waiting for a writer, `/dev/zero` would be read without end, a directory cannot
 * be. The path is checked with `stat` before it is opened (so a FIFO is never opened), opened
 * without blocking and checked again on the open descriptor (so a path swapped in between is
 * caught too), and read through that descriptor up to the size `stat` reported, so a file that
 * grows while it is read cannot make the read unbounded (a file that shrinks gives what is left).
 * @example readFileBytes("loadCheckpoint", "out/ckpt.safetensors")
 */
export const readFileBytes = (op: string, path: string): E.Either<TensorError, Uint8Array> => {
  const bad = pathProblem(op, path);
  if (bad !== undefined) return E.left(bad);
  const refuse = (what: string): E.Either<TensorError, Uint8Array> =>
    E.left({
      _tag: "DecodeError",
      op,
      detail: `cannot read ${JSON.stringify(path)}: it is ${what}, not a regular file; pass the path of a file`,
      fix: "",
    });
  let fd: number | undefined;
  try {
    const kind = notRegular(statSync(path));
    if (kind !== undefined) return refuse(kind);
    // O_NONBLOCK: if the path became a FIFO after the stat, opening it must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    const swapped = notRegular(st);
    if (swapped !== undefined) return refuse(swapped);
    const out = Buffer.alloc(st.size);
    let at = 0;
    while (at < out.length) {
      const n = readSync(fd, out, at, out.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return E.right(at === out.length ? out : out.subarray(0, at));
  } catch (e) {
    return E.left(ioError(op, "read", path, e));
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The bytes (or the error) are already in hand; a failed close loses nothing.
      }
    }
  }
};
