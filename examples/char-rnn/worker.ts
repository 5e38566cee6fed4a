/**
 * @file The training side of the main job, in a worker thread. Why a thread: a training step
 * keeps JavaScript busy for ~0.1 s and an evaluation for ~1.5 s, and signal handlers only run
 * between such turns. The tsx CLI (`tsx examples/run.ts …`) kills its child when the child does
 * not acknowledge Ctrl-C within ~60 ms, so on the main thread Ctrl-C would lose the run instead of
 * saving it. Here the main thread stays idle: it answers signals at once, draws the
 * progress bar, and asks the worker to stop through a shared flag the loop reads after each step.
 */
import { parentPort, workerData } from "node:worker_threads";
import { UsageError } from "../shared/output.js";
import type { CliOptions, OutputFolder } from "./cli.js";
import { runJob, type JobUi } from "./job.js";

/** What the main thread hands the worker. */
export interface WorkerInput {
  readonly options: CliOptions;
  /** The output folder, already created and probed by the main thread. */
  readonly out: OutputFolder;
  /** Set to 1 by the main thread on SIGINT/SIGTERM/SIGHUP (a SharedArrayBuffer: readable mid-loop, no message needed). */
  readonly stop: Int32Array;
  /** Whether the terminal takes ANSI colours. */
  readonly color: boolean;
}

/** What the worker tells the main thread: the calls of `JobUi`, then how it ended. */
export type JobMessage =
  | { readonly kind: "print" | "log"; readonly text: string }
  | {
      readonly kind: "begin";
      readonly from: number;
      readonly total: number;
      readonly heldOut?: readonly [number, number];
    }
  | {
      readonly kind: "step";
      readonly step: number;
      readonly loss: number;
      readonly rate: number;
      readonly left: number;
    }
  | { readonly kind: "heldOut"; readonly step: number; readonly loss: number }
  | { readonly kind: "end" }
  | { readonly kind: "done"; readonly stopped: boolean }
  /** The run failed: exit code 2 for a usage error (a flag to change), 1 otherwise. */
  | { readonly kind: "failed"; readonly message: string; readonly exitCode: 1 | 2 };

const port = parentPort!;
const send = (m: JobMessage): void => port.postMessage(m);
const { options, out, stop, color } = workerData as WorkerInput;
const ui: JobUi = {
  print: (text) => send({ kind: "print", text }),
  log: (text) => send({ kind: "log", text }),
  begin: (from, total, heldOut) => send({ kind: "begin", from, total, ...(heldOut === undefined ? {} : { heldOut }) }),
  step: (step, loss, rate, left) => send({ kind: "step", step, loss, rate, left }),
  heldOut: (step, loss) => send({ kind: "heldOut", step, loss }),
  end: () => send({ kind: "end" }),
};
try {
  const { stopped } = await runJob(options, out, ui, () => Atomics.load(stop, 0) !== 0, color);
  send({ kind: "done", stopped });
} catch (e) {
  send({
    kind: "failed",
    message: e instanceof Error ? e.message : String(e),
    exitCode: e instanceof UsageError ? 2 : 1,
  });
}
