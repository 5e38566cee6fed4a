/**
 * @file Output paths are checked before training. `--out` (char-rnn) and `--losses-json`
 * (min-char-rnn) must be creatable and writable on a file system that holds files: a path on
 * /proc or /sys, a file given as the folder, a folder under a file, a folder without write
 * permission or a disk without room for the checkpoint each end the run at once with one message
 * naming the flag and the path, and exit code 2 (the code of every usage error of the examples).
 * Before this check, `--out /proc/x` spun forever in Node's recursive mkdir, a read-only folder
 * was reported as "ENOENT … mkdir", a file as a raw EEXIST, and a full disk only at the first save.
 *
 * The functions are tested in-process (examples/shared/output.ts, with an injected statfs for the
 * full disk: a real one would need a mount), and the refusals end to end through `pnpm start`,
 * `pnpm example` and, for the permission case, `node` as an unprivileged user (root writes
 * through any mode bits, so as root the job runs under setpriv as `nobody`).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, startGroup } from "./interrupt/harness.js";

// The module lives in examples/ (outside this project's rootDir): loaded by a computed path and
// described by the few types used here, as test/char-rnn.test.ts does.
interface FsStats {
  readonly type: number;
  readonly bavail: number;
  readonly bsize: number;
}
interface OutputOptions {
  readonly statfs?: (path: string) => FsStats;
  readonly instead?: string;
}
const output = (await import(pathToFileURL(join(ROOT, "examples", "shared", "output.ts")).href)) as {
  UsageError: new (message: string) => Error & { readonly exitCode: number };
  prepareOutputDir: (label: string, dir: string, opts?: OutputOptions) => string;
  prepareOutputFile: (flag: string, file: string, opts?: OutputOptions) => string;
  checkFreeSpace: (label: string, dir: string, bytes: number, statfs?: (path: string) => FsStats) => void;
};

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "rewind-output-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) {
    chmodSync(d, 0o700);
    for (const f of readdirSync(d)) chmodSync(join(d, f), 0o700);
    rmSync(d, { recursive: true, force: true });
  }
});

/** The usage error `f` throws: its message and exit code. */
const refusal = (f: () => unknown): { readonly message: string; readonly exitCode: number } => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof output.UsageError)) throw e;
    return { message: e.message, exitCode: e.exitCode };
  }
  throw new Error("expected a usage error, but the path was accepted");
};

describe("output checks (in-process)", () => {
  it("/proc and /sys paths are refused as pseudo file systems, at once and without creating anything", () => {
    for (const path of ["/proc/x", "/proc/x/y/z", "/sys/x"]) {
      const began = performance.now();
      const r = refusal(() => output.prepareOutputDir(`--out ${path}`, path));
      expect(performance.now() - began).toBeLessThan(1000);
      expect(r.exitCode).toBe(2);
      expect(r.message).toMatch(new RegExp(`^--out ${path}: /(proc|sys) is on a (proc|sysfs) file system`));
      expect(r.message).toContain("give a folder on a disk");
    }
  });

  it("a file given as the folder, or as a folder on the way, is named in the refusal", () => {
    const d = tempDir();
    const file = join(d, "notes.txt");
    writeFileSync(file, "x");
    expect(refusal(() => output.prepareOutputDir(`--out ${file}`, file)).message).toBe(
      `--out ${file}: ${file} is a file, not a folder; give a folder (it is created if missing), or move the file away.`,
    );
    expect(refusal(() => output.prepareOutputDir(`--out ${file}/a/b`, join(file, "a", "b"))).message).toBe(
      `--out ${file}/a/b: ${file} is a file, so no folder can be made under it; give another folder.`,
    );
    expect(refusal(() => output.prepareOutputFile("--losses-json", d)).message).toContain(
      `${d} is a folder; give a file name`,
    );
  });

  it("missing folders are created, an existing folder is kept as it was, and the probe file is removed", () => {
    const d = tempDir();
    const nested = join(d, "a", "b", "c");
    expect(output.prepareOutputDir("--out x", nested)).toBe(nested);
    expect(readdirSync(nested)).toEqual([]);
    writeFileSync(join(nested, "checkpoint.safetensors"), "old");
    output.prepareOutputDir("--out x", nested);
    expect(readdirSync(nested)).toEqual(["checkpoint.safetensors"]);
    expect(output.prepareOutputFile("--losses-json", join(d, "new", "losses.json"))).toBe(
      join(d, "new", "losses.json"),
    );
    expect(readdirSync(join(d, "new"))).toEqual([]);
  });

  it("a pseudo file system other than /proc is known by its magic number (injected statfs), and nothing is left behind", () => {
    const d = tempDir();
    const debugfs = (): FsStats => ({ type: 0x64626720, bavail: 1e6, bsize: 4096 });
    const r = refusal(() => output.prepareOutputDir("--out x/y", join(d, "x", "y"), { statfs: debugfs }));
    expect(r.message).toContain("is on a debugfs file system");
    expect(existsSync(join(d, "x"))).toBe(false);
  });

  it("a disk without room for the run is refused before training, naming both sizes (injected statfs: 1 MB free)", () => {
    const full = (): FsStats => ({ type: 0xef53, bavail: 244, bsize: 4096 }); // ext4, 999,424 bytes free
    const r = refusal(() => output.checkFreeSpace("--out out/run1", "/anywhere", 2_500_000, full));
    expect(r.exitCode).toBe(2);
    expect(r.message).toBe(
      "--out out/run1: 1.00 MB free on its disk, and the run writes about 2.50 MB; free some space or give a folder on another disk.",
    );
    expect(() => output.checkFreeSpace("--out out/run1", "/anywhere", 999_424, full)).not.toThrow(); // exactly enough
    const noStatfs = (): FsStats => {
      throw Object.assign(new Error("ENOSYS"), { code: "ENOSYS" });
    };
    expect(() => output.checkFreeSpace("--out out/run1", "/anywhere", 1e12, noStatfs)).not.toThrow(); // no statfs: the saves report a full disk
  });
});

/** Runs a command in its own process group; kills the group if it is still running after `ms` (the old /proc loop never ended). */
const run = async (command: string, args: readonly string[], ms = 20_000) => {
  const job = startGroup(command, args);
  const began = performance.now();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    process.kill(-job.child.pid!, "SIGKILL");
  }, ms);
  const exit = await job.exited;
  clearTimeout(timer);
  // pnpm prints its own lines ("$ exec …", "[ELIFECYCLE] …") on stderr; the rest is the program's.
  const stderr = job
    .stderr()
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("$ ") && !l.startsWith("[ELIFECYCLE]"));
  return {
    code: exit.code,
    killed,
    seconds: (performance.now() - began) / 1000,
    stdout: job.lines.filter((l) => l !== ""),
    stderr,
  };
};

/** A refusal: exit 2 within seconds, nothing on stdout (no training began), one line on stderr naming the program, flag and path. */
const expectRefused = (r: Awaited<ReturnType<typeof run>>, line: RegExp): void => {
  expect(r.killed, "the run had to be killed: it hung").toBe(false);
  expect(r.code, r.stderr.join("\n")).toBe(2);
  expect(r.stdout).toEqual([]);
  expect(r.stderr).toHaveLength(1);
  expect(r.stderr[0]).toMatch(line);
};

describe("refused before training, end to end", () => {
  it.concurrent(
    "pnpm start --out /proc/x: one message and exit 2, instead of an endless mkdir loop",
    async () => {
      expectRefused(
        await run("pnpm", ["start", "--out", "/proc/x"]),
        /^char-rnn: --out \/proc\/x: \/proc is on a proc file system, .*give a folder on a disk/,
      );
    },
    30_000,
  );

  it.concurrent(
    "pnpm start --out <a file> and --out <file>/sub: the file is named, no raw EEXIST",
    async () => {
      const file = join(tempDir(), "f");
      writeFileSync(file, "x");
      expectRefused(
        await run("pnpm", ["start", "--out", file]),
        new RegExp(`^char-rnn: --out ${file}: ${file} is a file, not a folder`),
      );
      expectRefused(
        await run("pnpm", ["start", "--out", join(file, "sub")]),
        new RegExp(`^char-rnn: --out ${file}/sub: ${file} is a file, so no folder can be made under it`),
      );
    },
    40_000,
  );

  it.concurrent(
    "a folder the user cannot write to: 'permission denied (EACCES)', not 'ENOENT … mkdir'",
    async () => {
      const d = tempDir();
      chmodSync(d, 0o755); // let `nobody` reach the read-only folder inside
      const readOnly = join(d, "read-only");
      mkdirSync(readOnly, { mode: 0o555 });
      chmodSync(readOnly, 0o555);
      // Root writes through mode bits: then the job runs as `nobody`, for whom the folder is read-only.
      const asUser =
        process.getuid?.() === 0
          ? (["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath]] as const)
          : ([process.execPath, []] as const);
      if (process.getuid?.() === 0)
        expect(
          spawnSync("setpriv", ["--version"]).status,
          "setpriv (util-linux) runs the job as an unprivileged user",
        ).toBe(0);
      const job = (out: string) =>
        run(asUser[0], [...asUser[1], "--import", "tsx", "examples/run.ts", "char-rnn", "--out", out]);
      expectRefused(
        await job(join(readOnly, "run")),
        new RegExp(
          `^char-rnn: --out ${readOnly}/run: cannot create the folder ${readOnly}/run: permission denied \\(EACCES\\)`,
        ),
      );
      expectRefused(
        await job(readOnly),
        new RegExp(`^char-rnn: --out ${readOnly}: cannot write in ${readOnly}: permission denied \\(EACCES\\)`),
      );
    },
    40_000,
  );

  it.concurrent(
    "pnpm example min-char-rnn --losses-json: a /proc path or a folder is refused before training, not after it",
    async () => {
      expectRefused(
        await run("pnpm", ["example", "min-char-rnn", "--smoke", "--losses-json", "/proc/x"]),
        /^min-char-rnn: --losses-json \/proc\/x: \/proc is on a proc file system/,
      );
      const d = tempDir();
      expectRefused(
        await run("pnpm", ["example", "min-char-rnn", "--smoke", "--losses-json", d]),
        new RegExp(`^min-char-rnn: --losses-json ${d}: ${d} is a folder; give a file name`),
      );
    },
    40_000,
  );
});
