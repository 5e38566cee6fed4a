/**
 * @file Helpers of the interruption tests: start the trainer (trainer.ts) or the char-rnn main job
 * as a child process, follow its stdout line by line, signal it, and a small seeded PRNG for the
 * kill delays (Math.random would make a failure unreproducible).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TRAINER = join(ROOT, "test", "interrupt", "trainer.ts");

/**
 * mulberry32: a seeded PRNG returning floats in [0, 1). Enough for choosing delays; the point is
 * that the same seed replays the same kill schedule.
 * @example const rng = seededRandom(1); rng() // 0.627…
 */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A running child: its stdout lines so far, a wait for a line, and its exit. */
export interface Job {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first line (seen or still to come) that matches, rejects if the job exits first or after `ms`. */
  readonly waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

/** Spawns `node --import tsx <args>` in `cwd` and follows its output. */
export const startNode = (args: readonly string[], cwd = ROOT): Job =>
  follow(process.execPath, ["--import", "tsx", ...args], cwd, false);

/**
 * Spawns `command <args>` (e.g. `pnpm start …`) as the leader of a new process group, so that a
 * test can signal the group as a terminal would (`process.kill(-job.child.pid, …)`) or the
 * launcher alone, and check afterwards that no process of the group is left.
 */
export const startGroup = (command: string, args: readonly string[], cwd = ROOT): Job =>
  follow(command, args, cwd, true);

/** Spawns `command <args>` and follows its output. */
const follow = (command: string, args: readonly string[], cwd: string, detached: boolean): Job => {
  const child = spawn(command, args, { cwd, detached, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let err = "";
  const waiters = new Set<() => void>();
  let done = false;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on("close", (code, signal) => {
      done = true;
      if (partial !== "") lines.push(partial);
      res({ code, signal });
      for (const w of waiters) w();
    });
  });
  const waitFor = (re: RegExp, ms = 60_000): Promise<RegExpMatchArray> =>
    new Promise((res, rej) => {
      const timer = setTimeout(
        () =>
          finish(() => rej(new Error(`no line matching ${re} within ${ms} ms; output:\n${lines.join("\n")}\n${err}`))),
        ms,
      );
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      const check = (): void => {
        for (const l of lines) {
          const m = l.match(re);
          if (m !== null) return finish(() => res(m));
        }
        if (done)
          finish(() => rej(new Error(`exited before a line matching ${re}; output:\n${lines.join("\n")}\n${err}`)));
      };
      waiters.add(check);
      check();
    });
  return { child, lines, stderr: () => err, waitFor, exited };
};

/**
 * How to run the trainer: one bundled JavaScript file when esbuild (tsx's own dependency) can be
 * loaded — the kill test starts the job dozens of times, and a bundle starts in a third of the
 * CPU time of `--import tsx` (0.26 s against 0.78 s user time) — else through tsx. The bundle is
 * written to `dir`; the sources are the same either way.
 */
export const prepareTrainer = (dir: string): readonly string[] => {
  try {
    const esbuild = createRequire(createRequire(import.meta.url).resolve("tsx"))("esbuild") as {
      buildSync: (o: Record<string, unknown>) => unknown;
    };
    const outfile = join(dir, "trainer.mjs");
    esbuild.buildSync({
      entryPoints: [TRAINER],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile,
      logLevel: "error",
    });
    return [outfile];
  } catch {
    return ["--import", "tsx", TRAINER];
  }
};

/** Starts the trainer (`command` from `prepareTrainer`) on `dir`; it resumes from the checkpoint there, if any. */
export const startTrainer = (command: readonly string[], dir: string, ...flags: string[]): Job =>
  follow(process.execPath, [...command, dir, ...flags], ROOT, false);

/** Temporary files of atomic writes left in `dir` (`<name>.<pid>.<random>.tmp`). */
export const tempFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

/** What the kill test measured, for the README's Reliability figures. */
export interface KillRecord {
  readonly kills: number;
  /** Kills that landed between a `save` line and its `saved` line (encode, write, flush, rename). */
  readonly killedMidSave: number;
  /** Kills that left a temporary file: the process died between creating it and renaming it. */
  readonly killedMidWrite: number;
  /** Kills that landed before the job had loaded its checkpoint. */
  readonly killedDuringStartup: number;
  /** Checkpoint reads by the test while the job was saving over the file: all must load. */
  readonly readsDuringSaves: number;
  readonly stepsReached: number;
  readonly seconds: number;
  readonly seed: number;
}

/**
 * Writes the record to node_modules/.cache/fuzz/kills.json (the latest run) and to
 * kills-<kills>.json, so that the soak's figures survive the next `pnpm test`.
 */
export const recordKills = (record: KillRecord): void => {
  const dir = join(ROOT, "node_modules", ".cache", "fuzz");
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(record, null, 2)}\n`;
  writeFileSync(join(dir, "kills.json"), text);
  writeFileSync(join(dir, `kills-${record.kills}.json`), text);
};
