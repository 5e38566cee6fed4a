/**
 * @file Interrupted training: a training process killed at random moments — often in the middle
 * of writing a checkpoint — always leaves a checkpoint that loads, whose step never goes back, and
 * whose contents are exactly those of an uninterrupted run at that step; resuming after the last
 * kill ends bit for bit where the uninterrupted run ends. SIGINT and SIGTERM save and exit with
 * 130 and 143, for the test trainer and for the real char-rnn main job (on one thread and on two
 * worker threads).
 *
 * The kills are real: a child process (test/interrupt/trainer.ts, saving after every step) is sent
 * SIGKILL after a delay drawn from a seeded PRNG, then restarted from its checkpoint; meanwhile
 * the test reads the checkpoint the job keeps replacing, and every read must load.
 * REWIND_KILLS sets the number of kills (default 30; `pnpm test:soak` runs 500) and
 * REWIND_KILL_SEED the schedule. The figures go to node_modules/.cache/fuzz/kills.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError, isTensor } from "@rewind/tensor";
import { treeLeaves } from "@rewind/autodiff";
import { restoreCheckpoint } from "@rewind/optim";
import { writeFileAtomic } from "@rewind/tensor/node";
import { loadCheckpoint } from "@rewind/optim/node";
import { CHECKPOINT_FILE, createRun, type RunState } from "./interrupt/trainer.js";
import {
  prepareTrainer,
  ROOT,
  recordKills,
  seededRandom,
  sleep,
  startNode,
  startTrainer,
  tempFiles,
} from "./interrupt/harness.js";

const KILLS = Number(process.env["REWIND_KILLS"] ?? 30);
const SEED = Number(process.env["REWIND_KILL_SEED"] ?? 20261128);
if (!Number.isSafeInteger(KILLS) || KILLS < 1)
  throw new Error(`REWIND_KILLS must be a positive integer, got ${process.env["REWIND_KILLS"]}`);

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "rewind-interrupt-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const trainer = prepareTrainer(tempDir());

/** Every bit of a state's parameters and optimizer state (tensor bytes as hex, static leaves as JSON). */
const fingerprint = (s: Pick<RunState, "params" | "optState">): string[] =>
  treeLeaves([s.params, s.optState]).map((l: unknown) =>
    isTensor(l)
      ? `${l.dtype}[${l.shape}]:${Buffer.from(l.data.buffer, l.data.byteOffset, l.data.byteLength).toString("hex")}`
      : JSON.stringify(l),
  );

/** The uninterrupted run, advanced on demand: `at(n)` is the state after n steps (n never decreases). */
const uninterrupted = () => {
  const run = createRun();
  let state = run.init();
  return {
    template: run.template(),
    at: (n: number): RunState => {
      if (n < state.step) throw new Error(`the reference run is at step ${state.step}, cannot go back to ${n}`);
      while (state.step < n) state = run.step(state).state;
      return state;
    },
  };
};

describe("interrupted training", () => {
  it(
    `${KILLS} SIGKILLs at random moments: the checkpoint always loads, never goes back, and equals the uninterrupted run`,
    async () => {
      const began = performance.now();
      const dir = tempDir();
      const path = join(dir, CHECKPOINT_FILE);
      const rng = seededRandom(SEED);
      const reference = uninterrupted();
      const stats = { killedMidSave: 0, killedMidWrite: 0, killedDuringStartup: 0, readsDuringSaves: 0 };
      let last = 0;
      let job = startTrainer(trainer, dir);
      for (let k = 0; k < KILLS; k++) {
        // Three kinds of kill, drawn from the seeded PRNG: while the job starts or loads its
        // checkpoint (timed from the spawn); aimed at a save (just after a `save` line: the job is
        // encoding, writing, flushing or renaming); and at a uniformly random moment of training.
        const kind = rng();
        if (kind < 0.15) await sleep(rng() * 600);
        else {
          const [, from] = await job.waitFor(/^ready (\d+)$/);
          expect(Number(from), "the job resumes from the step on disk").toBe(last);
          const [, first] = await job.waitFor(/^saved (\d+)$/);
          if (kind < 0.55) {
            await job.waitFor(new RegExp(`^save ${Number(first) + 1 + Math.floor(rng() * 5)}$`));
            await sleep(rng() * 4);
          } else {
            // Meanwhile read the checkpoint as another process would (an evaluator, a copy): the
            // job renames new files over it, and every read must still see a whole one.
            const until = performance.now() + rng() * 150;
            while (performance.now() < until) {
              const read = restoreCheckpoint(readFileSync(path), reference.template);
              if (E.isLeft(read))
                throw new Error(`kill ${k}: a read during training failed: ${formatTensorError(read.left)}`);
              expect(read.right.step).toBeGreaterThanOrEqual(last);
              stats.readsDuringSaves++;
              await sleep(2);
            }
          }
        }
        const ready = job.lines.some((l) => l.startsWith("ready "));
        job.child.kill("SIGKILL");
        const { signal } = await job.exited;
        expect(signal, `kill ${k}: ${job.stderr()}`).toBe("SIGKILL");
        if (!ready) stats.killedDuringStartup++;
        if (job.lines[job.lines.length - 1]?.startsWith("save ") === true) stats.killedMidSave++;
        const temps = tempFiles(dir);
        if (temps.some((t) => t.includes(`.${job.child.pid}.`))) stats.killedMidWrite++;
        // A job that completed a save removed the temporary files of earlier killed jobs, so at most
        // its own (the write it was killed in) is left; before its first save, those of the jobs
        // killed since the last completed save remain — a few at most.
        if (job.lines.some((l) => l.startsWith("saved ")))
          expect(temps.length, `kill ${k}: ${temps.join(", ")}`).toBeLessThanOrEqual(1);
        else expect(temps.length, `kill ${k}: ${temps.join(", ")}`).toBeLessThanOrEqual(8);
        const bytes = existsSync(path) ? readFileSync(path) : undefined;
        if (k + 1 < KILLS) job = startTrainer(trainer, dir); // starts up while this one's checkpoint is checked
        if (bytes === undefined) {
          expect(last, `kill ${k}: the checkpoint disappeared`).toBe(0);
          continue;
        }
        const restored = restoreCheckpoint(bytes, reference.template);
        if (E.isLeft(restored))
          throw new Error(`kill ${k}: the checkpoint does not load: ${formatTensorError(restored.left)}`);
        const step = restored.right.step;
        expect(step, `kill ${k}: the step went back`).toBeGreaterThanOrEqual(last);
        expect(
          fingerprint(restored.right),
          `kill ${k}: the checkpoint at step ${step} differs from the uninterrupted run`,
        ).toEqual(fingerprint(reference.at(step)));
        last = step;
      }

      // The last job runs to a fixed end: exit 0, and exactly the uninterrupted run's parameters.
      const end = last + 20;
      const final = startTrainer(trainer, dir, "--steps", String(end));
      const { code } = await final.exited;
      expect(code, final.stderr()).toBe(0);
      expect(final.lines[final.lines.length - 1]).toBe(`done ${end}`);
      const restored = loadCheckpoint(path, reference.template);
      if (E.isLeft(restored)) throw new Error(formatTensorError(restored.left));
      expect(restored.right.step).toBe(end);
      expect(fingerprint(restored.right)).toEqual(fingerprint(reference.at(end)));
      expect(tempFiles(dir), "a completed save cleans up the temporary files of killed writers").toEqual([]);

      // Kills that land mid-save are the point of the test: two in five kills are aimed at a save
      // and saves are ~40% of the job's time otherwise, so a good share must have landed there.
      expect(stats.killedMidSave, JSON.stringify(stats)).toBeGreaterThanOrEqual(Math.ceil(KILLS / 15));
      expect(last, "the jobs made progress between kills").toBeGreaterThan(KILLS);
      recordKills({
        kills: KILLS,
        ...stats,
        stepsReached: end,
        seconds: Math.round((performance.now() - began) / 100) / 10,
        seed: SEED,
      });
    },
    60_000 + KILLS * 3_000,
  );

  it("a save removes the temporary files of dead writers of the same file, and only those", () => {
    const dir = tempDir();
    const path = join(dir, "w.bin");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid; // a process that has exited
    const names = {
      dead: `w.bin.${dead}.0123456789ab.tmp`,
      alive: `w.bin.${process.ppid}.0123456789ab.tmp`, // a live process: might be mid-write
      self: `w.bin.${process.pid}.0123456789ab.tmp`, // this process: another thread might be mid-write
      other: `x.bin.${dead}.0123456789ab.tmp`, // a writer of another file
      unrelated: `w.bin.${dead}.notours.tmp`,
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), "partial");
    const saved = writeFileAtomic("test", path, new Uint8Array([1, 2, 3]));
    expect(E.isRight(saved)).toBe(true);
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(tempFiles(dir).sort()).toEqual([names.alive, names.self, names.other, names.unrelated].sort());
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal}: the trainer finishes its step, saves, and exits with ${code}`, async () => {
      const dir = tempDir();
      const job = startTrainer(trainer, dir, "--save-every", "1000");
      await job.waitFor(/^ready 0$/);
      await sleep(300); // some steps, none saved yet (saves every 1000)
      job.child.kill(signal);
      const exit = await job.exited;
      expect(exit.code, job.stderr()).toBe(code);
      const stopped = job.lines[job.lines.length - 1]?.match(new RegExp(`^stopped (\\d+) ${signal}$`));
      expect(stopped, job.lines.join("\n")).toBeTruthy();
      const step = Number(stopped![1]);
      expect(step).toBeGreaterThan(0);
      const reference = uninterrupted();
      const restored = loadCheckpoint(join(dir, CHECKPOINT_FILE), reference.template);
      if (E.isLeft(restored)) throw new Error(formatTensorError(restored.left));
      expect(restored.right.step).toBe(step);
      expect(fingerprint(restored.right)).toEqual(fingerprint(reference.at(step)));
    });
  }

  it("the char-rnn main job: SIGINT (one thread) and SIGTERM (--workers 2) save a loadable checkpoint and exit 130 / 143; the SIGINT one resumes", async () => {
    const flags = [
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
    const runs = (["SIGINT", "SIGTERM"] as const).map((signal) => {
      const out = tempDir();
      // The SIGTERM run trains on two worker threads: they stop, and the process exits, as with one.
      const workers = signal === "SIGTERM" ? ["--workers", "2"] : [];
      const job = startNode(["run.ts", "char-rnn", ...flags, ...workers, "--out", out], join(ROOT, "examples"));
      return { signal, out, job };
    });
    const stopped = await Promise.all(
      runs.map(async ({ signal, out, job }) => {
        await job.waitFor(/^step +50\/1000 /); // plain progress lines (stdout is a pipe), every 50 steps
        job.child.kill(signal);
        const exit = await job.exited;
        expect(exit.code, job.stderr()).toBe(signal === "SIGINT" ? 130 : 143);
        const said = job.lines.find((l) => l.startsWith("stopped at step "))?.match(/^stopped at step (\d+)\/1000/);
        expect(said, job.lines.join("\n")).toBeTruthy();
        const ckpt = loadCheckpoint(join(out, "checkpoint.safetensors"));
        if (E.isLeft(ckpt)) throw new Error(formatTensorError(ckpt.left));
        expect(ckpt.right.step).toBe(Number(said![1]));
        expect(ckpt.right.step).toBeGreaterThanOrEqual(50);
        expect(ckpt.right.step).toBeLessThan(1000);
        const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as { train: number[] };
        expect(history.train).toHaveLength(ckpt.right.step);
        return { out, step: ckpt.right.step };
      }),
    );

    const { out, step } = stopped[0]!;
    const resumed = startNode(
      ["run.ts", "char-rnn", "--resume", join(out, "checkpoint.safetensors"), "--steps", String(step + 5)],
      join(ROOT, "examples"),
    );
    const exit = await resumed.exited;
    expect(exit.code, resumed.stderr()).toBe(0);
    expect(
      resumed.lines.some((l) => l.includes(`resuming at step ${step} of ${step + 5} steps`)),
      resumed.lines.join("\n"),
    ).toBe(true);
    const ckpt = loadCheckpoint(join(out, "checkpoint.safetensors"));
    if (E.isLeft(ckpt)) throw new Error(formatTensorError(ckpt.left));
    expect(ckpt.right.step).toBe(step + 5);
  }, 120_000);
});
