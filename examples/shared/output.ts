/**
 * @file Where the examples write, checked before they train: the output folder (`--out`) or file
 * (`--losses-json`) must be creatable and writable, on a file system that stores files, with room
 * for what the run will write. A path that fails gets one message naming the flag, the path, what
 * is wrong and what to do; the examples print it and exit with 2, like their other usage errors.
 *
 * Why folders are created one level at a time rather than with `mkdirSync(dir, { recursive: true })`:
 * Node 20's recursive mkdir reads ENOENT as "the parent is missing", creates the parent, gets
 * EEXIST and tries the child again. /proc answers ENOENT for every new name, so on `/proc/x` that
 * loop never ends — in C++, where no signal handler runs and no worker can be stopped — and on a
 * read-only or full disk the same walk reports ENOENT instead of the real cause. One `mkdir` per
 * missing level reports the error the kernel gave.
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  rmdirSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A command-line mistake: the program prints the message and exits with `exitCode`, without a stack trace. */
export class UsageError extends Error {
  /** The exit code of every usage error of the examples. */
  readonly exitCode = 2;
}

/** The part of `fs.statfsSync`'s answer the checks read; injectable so a full disk can be simulated in tests. */
export interface FsStats {
  /** The file system's magic number (`f_type` of statfs(2)). */
  readonly type: number;
  /** Blocks available to an unprivileged user, and the block size in bytes. */
  readonly bavail: number;
  readonly bsize: number;
}
export type StatFs = (path: string) => FsStats;

/** Options of the checks. */
export interface OutputOptions {
  /** statfs(2); by default `fs.statfsSync`. */
  readonly statfs?: StatFs;
  /** The example of a good value that messages suggest (default `--out out/my-run`). */
  readonly instead?: string;
}

/**
 * Kernel pseudo file systems (magic numbers from linux/magic.h): they expose kernel state, and a
 * checkpoint written there is refused, silently lost, or (on /proc) hangs recursive mkdir.
 */
const PSEUDO = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x1cd1, "devpts"],
  [0xcafe4a11, "bpf"],
  [0x6165676c, "pstore"],
  [0xde5e81e4, "efivarfs"],
  [0x62656570, "configfs"],
  [0x65735543, "fusectl"],
  [0x19800202, "mqueue"],
  [0xf97cff8c, "selinuxfs"],
  [0x42494e4d, "binfmt_misc"],
  [0x6e736673, "nsfs"],
]);

const nodeStatFs: StatFs = (path) => {
  const s = statfsSync(path);
  return { type: Number(s.type), bavail: Number(s.bavail), bsize: Number(s.bsize) };
};

/** What an errno means here, in words. */
const REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "the operation is not permitted there",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  ENOENT: "the file system refuses new names there",
  ENOTDIR: "a part of the path is a file, not a folder",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
};
const reason = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === undefined ? String(e) : `${REASONS[code] ?? "the system refused"} (${code})`;
};
const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** `undefined` for a folder, else what the path is, with its article ("a file", "a FIFO", …). */
const kind = (path: string): string | undefined => {
  const s = statSync(path);
  if (s.isDirectory()) return undefined;
  if (s.isFile()) return "a file";
  if (s.isFIFO()) return "a FIFO";
  if (s.isSocket()) return "a socket";
  return "a device";
};

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 0)} MB`;

/** The nearest part of `path` that exists (the path itself if it does), and the names below it still to create. */
const existingPart = (label: string, path: string): { readonly dir: string; readonly missing: readonly string[] } => {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    try {
      statSync(at);
      return { dir: at, missing };
    } catch (e) {
      // ENOTDIR: a part above is a file; walking up finds it, and the caller names it.
      if (codeOf(e) !== "ENOENT" && codeOf(e) !== "ENOTDIR")
        throw new UsageError(`${label}: cannot look at ${at}: ${reason(e)}; give a folder you can write to.`);
      if (codeOf(e) === "ENOENT" && lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
        throw new UsageError(
          `${label}: ${at} is a symbolic link to something that does not exist; fix or remove the link, or give another folder.`,
        );
      }
    }
    const parent = dirname(at);
    if (parent === at) return { dir: at, missing }; // the root itself is missing: mkdir below reports why
    missing.unshift(basename(at));
    at = parent;
  }
};

/**
 * Makes sure `dir` can hold the run's output, before any training: refuses a path on a kernel
 * pseudo file system (/proc, /sys, …) or one that is a file, creates the missing folders one level
 * at a time, then writes and removes a probe file. `label` names the flag and path in messages
 * (e.g. `--out /proc/x`); `opts.instead` is the good value they suggest, `opts.statfs` replaces
 * statfs(2) in tests. Throws a {@link UsageError}; folders it created are removed again when a
 * later check fails. Returns the absolute path.
 * @example prepareOutputDir("--out out/run1", "out/run1") // "/home/me/rewind/out/run1", created
 */
export const prepareOutputDir = (label: string, dir: string, opts: OutputOptions = {}): string => {
  const statfs = opts.statfs ?? nodeStatFs;
  const instead = opts.instead ?? "--out out/my-run";
  const path = resolve(dir);
  const { dir: existing, missing } = existingPart(label, path);
  const refuse = (why: string): never => {
    throw new UsageError(`${label}: ${why}`);
  };
  const what = kind(existing);
  if (what !== undefined && missing.length === 0)
    refuse(
      `${path} is ${what}, not a folder; give a folder (it is created if missing)${what === "a file" ? ", or move the file away" : ""}.`,
    );
  if (what !== undefined) refuse(`${existing} is ${what}, so no folder can be made under it; give another folder.`);
  let stats: FsStats | undefined;
  try {
    stats = statfs(existing);
  } catch {
    stats = undefined; // statfs unsupported here: the probe write below still decides
  }
  const pseudo = stats === undefined ? undefined : PSEUDO.get(stats.type);
  if (pseudo !== undefined)
    refuse(
      `${existing} is on a ${pseudo} file system, which shows kernel state and holds no files; give a folder on a disk, e.g. ${instead}.`,
    );
  const created: string[] = [];
  const undo = (): void => {
    for (const d of created.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty any more (another process wrote there): leave it
      }
    }
  };
  try {
    let at = existing;
    for (const name of missing) {
      at = join(at, name);
      try {
        mkdirSync(at);
        created.push(at);
      } catch (e) {
        if (codeOf(e) !== "EEXIST" || !statSync(at).isDirectory())
          refuse(`cannot create the folder ${at}: ${reason(e)}; give a folder you can write to, e.g. ${instead}.`);
      }
    }
    const probe = join(path, `.write-probe-${process.pid}`);
    try {
      const fd = openSync(probe, "wx");
      try {
        writeSync(fd, "probe\n");
      } finally {
        try {
          closeSync(fd);
        } finally {
          unlinkSync(probe);
        }
      }
    } catch (e) {
      refuse(`cannot write in ${path}: ${reason(e)}; give a folder you can write to, e.g. ${instead}.`);
    }
  } catch (e) {
    undo();
    throw e;
  }
  return path;
};

/**
 * Refuses to start when the file system of `dir` has less than `bytes` free for an unprivileged
 * user (statfs's `bavail`), so a full disk is reported before training rather than at the first
 * save. Throws a {@link UsageError} naming both sizes.
 * @example checkFreeSpace("--out out/run1", "/home/me/rewind/out/run1", 2_500_000)
 */
export const checkFreeSpace = (label: string, dir: string, bytes: number, statfs: StatFs = nodeStatFs): void => {
  let stats: FsStats;
  try {
    stats = statfs(dir);
  } catch {
    return; // no statfs here: the saves report a full disk themselves
  }
  const free = stats.bavail * stats.bsize;
  if (free < bytes) {
    throw new UsageError(
      `${label}: ${megabytes(free)} free on its disk, and the run writes about ${megabytes(bytes)}; free some space or give a folder on another disk.`,
    );
  }
};

/**
 * Checks an output file's path before the run: not an existing folder, and its folder creatable
 * and writable as for {@link prepareOutputDir} (the folder is created when missing). Throws a
 * {@link UsageError}; returns the absolute path of the file.
 * @example prepareOutputFile("--losses-json", "out/losses.json") // "/home/me/rewind/out/losses.json"
 */
export const prepareOutputFile = (flag: string, file: string, opts: OutputOptions = {}): string => {
  const path = resolve(file);
  const instead = opts.instead ?? `${flag} out/${basename(path)}`;
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    // missing, or under a file: the checks of its folder below say which
  }
  if (folder) throw new UsageError(`${flag} ${file}: ${path} is a folder; give a file name, e.g. ${instead}.`);
  const parent = existingPart(`${flag} ${file}`, dirname(path)).dir;
  const what = kind(parent);
  if (what !== undefined)
    throw new UsageError(
      `${flag} ${file}: ${parent} is ${what}, so no file can be made under it; give another path, e.g. ${instead}.`,
    );
  prepareOutputDir(`${flag} ${file}`, dirname(path), { ...opts, instead });
  return path;
};

/**
 * Runs `f`; a {@link UsageError} it throws is printed as `<program>: <message>` and ends the
 * process with exit code 2 (no stack trace: the mistake is the user's, and the message says what
 * to change). Other errors pass through.
 * @example const out = orUsageExit("char-rnn", () => prepareOutputDir("--out x", "x"))
 */
export const orUsageExit = <A>(program: string, f: () => A): A => {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${program}: ${e.message}\n`);
    process.exit(e.exitCode);
  }
};
