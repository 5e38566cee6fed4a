/**
 * @file Paths that are not regular files, given to the loaders (`loadCheckpoint`,
 * `loadTorchSafetensors`, both through `readFileBytes` of @rewind/tensor/node): a FIFO (which
 * blocked forever), `/dev/zero` (read without end: 6.7 GB in 40 s), a directory and a socket must
 * each be refused at once with a message naming the op, the path and what it is; and a regular
 * file is read only up to the size `stat` reported. The calls run in a child process with a
 * timeout, so a regression fails the test instead of hanging the runner.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCheckpoint } from "@rewind/optim";
import * as T from "@rewind/tensor";
import type { PathReport } from "./paths.child.js";
import { ROOT } from "./files.js";

const dir = mkdtempSync(join(tmpdir(), "rewind-paths-"));
let server: Server | undefined;
const paths = {
  fifo: join(dir, "ckpt.fifo"),
  directory: join(dir, "a-directory"),
  socket: join(dir, "ckpt.sock"),
  regular: join(dir, "ckpt.safetensors"),
  devZero: "/dev/zero",
  // A regular file whose stat size (0) is less than what reading it gives.
  procStatus: "/proc/self/status",
};

beforeAll(async () => {
  execFileSync("mkfifo", [paths.fifo]);
  mkdirSync(paths.directory);
  const params = { w: T.ones([2]) };
  writeFileSync(paths.regular, encodeCheckpoint({ params, optState: {}, step: 1 }));
  server = createServer();
  await new Promise<void>((resolve) => server!.listen(paths.socket, resolve));
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the loaders on `targets` in a child; its output, or what it printed before the timeout. */
const load = (targets: readonly string[]): PathReport[] => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "test/hostile/paths.child.ts"), ...targets], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.status !== 0) {
    const last = r.stderr.trim().split("\n").at(-1);
    throw new Error(
      `the loaders did not return (${r.signal ?? `exit ${r.status}`}); the last call started: ${last}\n${r.stderr.slice(-2000)}`,
    );
  }
  return r.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as PathReport);
};

describe("loaders on paths that are not regular files", () => {
  // One child for every path (starting one costs seconds); each test reads its part.
  let reports: PathReport[] = [];
  beforeAll(() => {
    reports = load([paths.fifo, paths.devZero, paths.directory, paths.socket, paths.regular, paths.procStatus]);
  }, 60_000);
  const of = (path: string): PathReport[] => reports.filter((r) => r.path === path);

  it("a FIFO, /dev/zero, a directory and a socket are refused at once, naming the op, the path and what it is", () => {
    expect(statSync(paths.fifo).isFIFO() && statSync(paths.socket).isSocket() && existsSync(paths.devZero)).toBe(true);
    const refused = [paths.fifo, paths.devZero, paths.directory, paths.socket].flatMap(of);
    expect(refused).toHaveLength(8);
    const what: Record<string, string> = {
      [paths.fifo]: "a FIFO \\(named pipe\\)",
      [paths.devZero]: "a character device",
      [paths.directory]: "a directory",
      [paths.socket]: "a socket",
    };
    for (const r of refused) {
      expect(r.outcome).toBe("left");
      expect(r.message).toMatch(
        new RegExp(
          `^${r.op}: cannot read "${r.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}": it is ${what[r.path]}, not a regular file; pass the path of a file$`,
        ),
      );
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it("a regular file is read up to the size stat reported, no further", () => {
    const [ckpt, torch, procCkpt, procTorch] = [...of(paths.regular), ...of(paths.procStatus)];
    // The real checkpoint is read whole (the torch loader then finds no GRU weights in it).
    expect(ckpt!.outcome).toBe("right");
    expect(torch!.message).toMatch(/^fromTorchStateDict: the state dict does not fit/);
    // /proc/self/status has a stat size of 0 but a kilobyte of text: only those 0 bytes are read.
    expect(statSync(paths.procStatus).size).toBe(0);
    expect(procCkpt!.message).toMatch(
      /^restoreCheckpoint: "\/proc\/self\/status": the bytes are not a valid safetensors file: safetensors\.decode: the file is 0 bytes/,
    );
    expect(procTorch!.message).toMatch(
      /^loadTorchSafetensors: "\/proc\/self\/status" is not a valid safetensors file: safetensors\.decode: the file is 0 bytes/,
    );
  });
});
