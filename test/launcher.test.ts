/**
 * @file Signals through the launcher. `pnpm start` is pnpm → node (the job); a terminal's Ctrl-C
 * or `kill -TERM -<pgid>` reaches every process of the group, pnpm forwards what it receives, the
 * tsx CLI relays too — so one signal often arrives twice. Whatever the route, the job must save
 * exactly once, exit 130 / 143, leave a checkpoint that loads and resumes, and be gone when its
 * launcher is gone; a launcher killed outright (SIGKILL: nothing forwarded) must not leave the job
 * training as an orphan. A genuine second signal, later than the repeat window, still quits at
 * once without saving.
 *
 * Each job runs in its own process group (the launcher is its leader), so the test signals the
 * group as a terminal would, or the launcher alone, and checks afterwards in /proc that no
 * process of it is left. Saves are counted by watching the output folder: every save
 * renames a new checkpoint.safetensors into it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, watch, type FSWatcher } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError } from "@rewind/tensor";
import { loadCheckpoint } from "@rewind/optim/node";
import { pathToFileURL } from "node:url";
import { ROOT, sleep, startGroup, type Job } from "./interrupt/harness.js";

// The rule lives in examples/ (outside this project's rootDir): loaded by a computed path, as test/char-rnn.test.ts does.
const { stopRule, REPEAT_WINDOW_MS } = (await import(
  pathToFileURL(join(ROOT, "examples", "shared", "stop.ts")).href
)) as {
  stopRule: (windowMs?: number) => (atMs: number) => "stop" | "repeat" | "quit";
  REPEAT_WINDOW_MS: number;
};

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "rewind-launcher-"));
  dirs.push(d);
  return d;
};
const groups: number[] = [];
afterAll(() => {
  // A failing run may leave a job behind (that is what these tests catch): end it.
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // the group is gone, as it should be
    }
  }
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A tiny model, many steps, no evaluation before the end: the only save is the one the stop makes. */
const FLAGS = [
  "--hidden",
  "16",
  "--batch",
  "4",
  "--chunk",
  "16",
  "--steps",
  "1000",
  "--eval-every",
  "100000",
  "--sample-every",
  "100000",
];
const TSX_CLI = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const CODE = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

type Launcher = "pnpm" | "tsx" | "node";
/** How each launcher starts the main job with `args`. */
const launch = (launcher: Launcher, args: readonly string[]): Job => {
  if (launcher === "pnpm") return startGroup("pnpm", ["start", "--", ...args]);
  if (launcher === "tsx") return startGroup(process.execPath, [TSX_CLI, "examples/run.ts", "char-rnn", ...args]);
  return startGroup(process.execPath, ["--import", "tsx", "examples/run.ts", "char-rnn", ...args]);
};

/**
 * The live processes of the group `pgid`, as "pid state command" (Linux: from /proc). Zombies do
 * not count: an orphan that has exited stays one until init reaps it, and kill(-pgid, 0) would
 * still find it.
 */
const groupMembers = (pgid: number): string[] => {
  const live: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z")
      live.push(`${pid} ${state} ${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))}`);
  }
  return live;
};

/**
 * The members of group `pgid` still alive at `deadline` (a `performance.now()` time), polling
 * until the group is empty. The example's node process exits first; tsx's esbuild service, its
 * child, ends when it sees its stdin close, a few milliseconds later (more on a loaded machine),
 * so a single look right after the exit can still catch it.
 */
const groupMembersAt = async (pgid: number, deadline: number): Promise<string[]> => {
  for (;;) {
    const live = groupMembers(pgid);
    if (live.length === 0 || performance.now() >= deadline) return live;
    await sleep(50);
  }
};

/** A job with a watch on its output folder: `saves()` counts the checkpoints renamed into it. */
interface Watched {
  readonly job: Job;
  readonly out: string;
  /** The launcher's exit (not the job's: with a launcher that does not wait, they differ). */
  readonly launcherExit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  readonly saves: () => number;
  readonly watcher: FSWatcher;
}
const start = (launcher: Launcher, extra: readonly string[] = FLAGS): Watched => {
  const out = tempDir();
  let saves = 0;
  const watcher = watch(out, (_, name) => void (name === "checkpoint.safetensors" && saves++));
  const job = launch(launcher, [...extra, "--out", out]);
  groups.push(job.child.pid!);
  const launcherExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    job.child.once("exit", (code, signal) => res({ code, signal })),
  );
  return { job, out, launcherExit, saves: () => saves, watcher };
};

/**
 * After the job has ended: exactly one save, at the step the job says it stopped at, a checkpoint
 * that loads (CRC verified), no temporary file left. Returns the step.
 */
const expectOneSave = async (w: Watched): Promise<number> => {
  await w.job.exited; // the job's stdout closed: the job is gone too
  await sleep(200); // let the last watch events arrive
  w.watcher.close();
  const log = w.job.lines.join("\n");
  const said = log.match(/stopped at step (\d+)\/1000/);
  expect(said, `${log}\n${w.job.stderr()}`).toBeTruthy();
  expect(log.match(/stopping after this step and saving/g), log).toHaveLength(1);
  expect(log).not.toContain("quitting at once");
  expect(w.saves(), log).toBe(1);
  const ckpt = loadCheckpoint(join(w.out, "checkpoint.safetensors"));
  if (E.isLeft(ckpt)) throw new Error(formatTensorError(ckpt.left));
  expect(ckpt.right.step).toBe(Number(said![1]));
  expect(ckpt.right.step).toBeGreaterThanOrEqual(50);
  expect(ckpt.right.step).toBeLessThan(1000);
  expect(readdirSync(w.out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  return ckpt.right.step;
};

describe("the double-signal rule", () => {
  it("the first request stops; more within the window are the same request; one after it quits", () => {
    expect(REPEAT_WINDOW_MS).toBe(1000);
    const rule = stopRule();
    expect([0, 1, 30, 999.9, 1000, 5000].map((t) => rule(t + 12_345))).toEqual([
      "stop",
      "repeat",
      "repeat",
      "repeat",
      "quit",
      "quit",
    ]);
  });
});

describe("signals through the launcher: one save, then nothing left running", () => {
  const cases: readonly {
    readonly launcher: Launcher;
    readonly target: "group" | "launcher";
    readonly signal: "SIGINT" | "SIGTERM" | "SIGHUP";
  }[] = [
    ...(["SIGINT", "SIGTERM"] as const).flatMap((signal) =>
      (["group", "launcher"] as const).map((target) => ({ launcher: "pnpm" as const, target, signal })),
    ),
    { launcher: "tsx", target: "group", signal: "SIGTERM" },
    { launcher: "tsx", target: "group", signal: "SIGINT" },
    { launcher: "node", target: "group", signal: "SIGTERM" },
    // A closed terminal: the shell (or the kernel, for the session's foreground group) sends SIGHUP.
    { launcher: "node", target: "group", signal: "SIGHUP" },
  ];
  it.concurrent.each(cases)(
    "$launcher: $signal to the $target saves once, exits with its code, and the group is gone when the launcher is",
    async ({ launcher, target, signal }) => {
      const w = start(launcher);
      await w.job.waitFor(/^step +50\/1000 /); // plain progress lines (stdout is a pipe), every 50 steps
      const pid = w.job.child.pid!;
      process.kill(target === "group" ? -pid : pid, signal);
      const exit = await w.launcherExit;
      // The launcher waited for the job: when it is gone, so is every process of the group.
      expect(groupMembers(pid), "processes of the job that outlived its launcher").toEqual([]);
      expect(exit, w.job.stderr()).toEqual({ code: CODE[signal], signal: null });
      await expectOneSave(w);
    },
    60_000,
  );

  it("pnpm killed outright (SIGKILL, nothing forwarded): the job notices, saves once and exits; it resumes", async () => {
    const w = start("pnpm");
    await w.job.waitFor(/^step +50\/1000 /);
    const pid = w.job.child.pid!;
    process.kill(pid, "SIGKILL");
    const killedAt = performance.now();
    expect(await w.launcherExit).toEqual({ code: null, signal: "SIGKILL" });
    const step = await expectOneSave(w);
    expect(w.job.lines.join("\n")).toMatch(/the launcher \(pid \d+\) exited: stopping after this step/);
    const orphanMs = performance.now() - killedAt;
    expect(groupMembers(pid)).toEqual([]);
    expect(orphanMs, "the orphaned job ended promptly").toBeLessThan(5_000);

    const resumed = start("pnpm", ["--resume", join(w.out, "checkpoint.safetensors"), "--steps", String(step + 3)]);
    const exit = await resumed.launcherExit;
    expect(exit.code, resumed.job.stderr()).toBe(0);
    expect(
      resumed.job.lines.some((l) => l.includes(`resuming at step ${step} of ${step + 3} steps`)),
      resumed.job.lines.join("\n"),
    ).toBe(true);
    const ckpt = loadCheckpoint(join(resumed.out, "checkpoint.safetensors"));
    if (E.isLeft(ckpt)) throw new Error(formatTensorError(ckpt.left));
    expect(ckpt.right.step).toBe(step + 3);
    resumed.watcher.close();
  }, 60_000);

  it("a second SIGTERM after the repeat window quits at once, without saving, exit 143", async () => {
    // A wide model: its first held-out evaluation takes seconds, so the first stop request is
    // still pending (the loop checks it after a step) when the second signal arrives.
    const w = start("pnpm", [
      "--hidden",
      "512",
      "--steps",
      "1000",
      "--eval-every",
      "100000",
      "--sample-every",
      "100000",
    ]);
    await w.job.waitFor(/^training 1000 steps; output: /);
    const pid = w.job.child.pid!;
    process.kill(-pid, "SIGTERM");
    await w.job.waitFor(/^SIGTERM: stopping after this step and saving/);
    await sleep(1300);
    process.kill(-pid, "SIGTERM");
    const second = performance.now();
    const exit = await w.launcherExit;
    const quitMs = performance.now() - second;
    await w.job.exited;
    await sleep(200);
    w.watcher.close();
    expect(exit, w.job.stderr()).toEqual({ code: 143, signal: null });
    expect(groupMembers(pid)).toEqual([]);
    expect(w.job.lines.join("\n")).toContain("SIGTERM: quitting at once without saving");
    expect(w.job.lines.join("\n")).not.toContain("stopped at step");
    expect(w.saves()).toBe(0);
    expect(quitMs).toBeLessThan(1_500);
  }, 60_000);
});

describe("the other examples end with their launcher", () => {
  // They keep no state worth saving: a signal ends them at once (its default action), and when
  // the launcher dies without forwarding anything they notice and end (shared/launcher.ts).
  const training = ["min-char-rnn", "names", "spam", "seq2seq", "custom-cell", "forecast", "demo", "parallel"];
  it.concurrent.each(training)(
    "pnpm example %s: pnpm killed outright, the example ends within seconds",
    async (name) => {
      const job = startGroup("pnpm", ["example", name]);
      groups.push(job.child.pid!);
      await job.waitFor(/\S/); // it has started: its first line of output
      process.kill(job.child.pid!, "SIGKILL");
      const killedAt = performance.now();
      const ended = await Promise.race([job.exited.then(() => true), sleep(5_000).then(() => false)]);
      expect(ended, `${name} still runs 5 s after its launcher died`).toBe(true);
      expect(performance.now() - killedAt).toBeLessThan(5_000);
      // Nothing of the group is left within the same 5 s.
      expect(await groupMembersAt(job.child.pid!, killedAt + 5_000)).toEqual([]);
    },
    60_000,
  );

  it("pnpm example names: SIGTERM to the group ends it, and nothing outlives pnpm", async () => {
    const job = startGroup("pnpm", ["example", "names"]);
    groups.push(job.child.pid!);
    await job.waitFor(/\S/);
    const exit = new Promise<NodeJS.Signals | number | null>((res) =>
      job.child.once("exit", (code, signal) => res(signal ?? code)),
    );
    process.kill(-job.child.pid!, "SIGTERM");
    expect([143, "SIGTERM"]).toContain(await exit);
    expect(await groupMembersAt(job.child.pid!, performance.now() + 5_000)).toEqual([]);
  }, 60_000);
});
