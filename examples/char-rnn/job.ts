/**
 * @file The main job around the trainer: a fresh run or a resumed one, the output folder, saving
 * (checkpoint and history at every evaluation and at the end, written atomically so an
 * interrupted save never leaves a torn file), and what is printed at the end. It runs in a worker
 * thread (worker.ts) and talks to the terminal only through `JobUi`; stopping is a flag it polls
 * between steps.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError, type TensorError } from "@rewind/tensor";
import { writeFileAtomic } from "@rewind/tensor/node";
import { treeLeaves } from "@rewind/autodiff";
import { encodeCheckpoint } from "@rewind/optim";
import { loadCheckpoint, saveCheckpoint } from "@rewind/optim/node";
import { useKernelThreads } from "@rewind/workers/node";
import { checkFreeSpace, UsageError } from "../shared/output.js";
import type { CliOptions, OutputFolder } from "./cli.js";
import { checkConfig, DEFAULTS, SMOKE, type Config } from "./config.js";
import { loadMobyDick, makeCorpus, type Corpus } from "./data.js";
import { formatDuration } from "./progress.js";
import { emptyHistory, historyUpTo, htmlReport, terminalChart, type History } from "./report.js";
import { createTrainer, train, type Trainer, type TrainState } from "./train.js";
import { cellOf } from "./model.js";
import { exportSampler } from "./onnx.js";

const CHECKPOINT = "checkpoint.safetensors";

const orThrow = <A>(what: string, e: E.Either<TensorError, A>): A => {
  if (E.isLeft(e)) throw new Error(`${what}: ${formatTensorError(e.left)}`);
  return e.right;
};

/** Writes a text file atomically (a temporary file renamed over it), as checkpoints are written. */
const writeAtomic = (path: string, text: string): void =>
  orThrow("writing the output", writeFileAtomic("char-rnn", path, new TextEncoder().encode(text)));

/** A fresh run: defaults, then the flags (`--smoke` wins: it must stay tiny). The cosine decay spans the run. */
const freshConfig = (o: CliOptions): Config => {
  const merged = { ...DEFAULTS, ...o.overrides, ...(o.smoke ? SMOKE : {}) };
  return checkConfig({ ...merged, decaySteps: Math.max(1, merged.steps) });
};

/** A resumed run: the checkpoint's config and key; only --steps (and presentation flags) may change. */
const resumed = (o: CliOptions & { resume: string }, corpus: Corpus): { trainer: Trainer; state: TrainState } => {
  const head = orThrow(`cannot resume from ${o.resume}`, loadCheckpoint(o.resume));
  const saved = head.config as unknown as Config | undefined;
  if (saved === undefined || head.key === undefined)
    throw new Error(`${o.resume} has no config or key: it was not written by char-rnn`);
  for (const k of ["cell", "hidden", "seed", "batch", "chunk", "lr"] as const) {
    const v = o.overrides[k];
    if (v !== undefined && v !== saved[k])
      throw new UsageError(
        `--${k} ${v} differs from the checkpoint's ${JSON.stringify(saved[k])}; a resumed run keeps its configuration`,
      );
  }
  const changeable = ["steps", "evalEvery", "sampleEvery", "temperature", "prime"] as const;
  const changes = Object.fromEntries(
    changeable.filter((k) => o.overrides[k] !== undefined).map((k) => [k, o.overrides[k]]),
  );
  const config = checkConfig({ ...DEFAULTS, ...saved, ...changes });
  const trainer = createTrainer(config, corpus, head.key, { workers: o.workers });
  const ckpt = orThrow(`cannot resume from ${o.resume}`, loadCheckpoint(o.resume, trainer.template()));
  return { trainer, state: trainer.fromCheckpoint(ckpt) };
};

const readHistory = (path: string, step: number): History => {
  try {
    return historyUpTo(JSON.parse(readFileSync(path, "utf8")), step);
  } catch {
    return emptyHistory(); // no history beside the checkpoint: the curves start at the resumed step
  }
};

const indent = (text: string): string =>
  text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

/** What the job shows; the main thread draws it (progress.ts). */
export interface JobUi {
  /** Lines of output outside the progress display. */
  readonly print: (text: string) => void;
  /** Training starts at step `from` of `total` (a resumed run: with its last held-out loss): show the progress display. */
  readonly begin: (from: number, total: number, heldOut?: readonly [number, number]) => void;
  readonly step: (step: number, loss: number, stepsPerSecond: number, secondsLeft: number) => void;
  readonly heldOut: (step: number, loss: number) => void;
  /** Text shown during training (samples), above the progress bar. */
  readonly log: (text: string) => void;
  /** Training is over: remove the progress display. */
  readonly end: () => void;
}

/**
 * What a run writes besides its checkpoint, with room to spare: history.json and report.html take
 * about 22 and 40 bytes per step plus ~5 KB of markup and samples (measured: 8.8 and 16.3 KB after
 * 400 steps), and each file occupies whole blocks.
 */
const extraBytes = (steps: number): number => 64 * 1024 + 64 * steps;

/**
 * Runs the job until done or until `shouldStop()` (checked after every step); resolves to whether
 * it was stopped early. `out` was created and probed by the caller (shared/output.ts); here, once
 * the checkpoint's size is known and before the first step, the free space is checked too.
 */
export const runJob = async (
  o: CliOptions,
  out: OutputFolder,
  ui: JobUi,
  shouldStop: () => boolean,
  color: boolean,
): Promise<{ readonly stopped: boolean }> => {
  const began = performance.now();
  // Before the trainer: runners compiled from now on split their products over the threads. While
  // other processes leave the cores free, every product of 250 k multiply-adds and more splits, the
  // per-step ones of the scan included; on a busy machine only those of 4 M and more (see
  // @rewind/workers' README).
  const threads = o.kernelThreads > 1 ? await useKernelThreads(o.kernelThreads) : undefined;
  const corpus = makeCorpus(loadMobyDick());
  const { trainer, state } =
    o.resume === undefined
      ? (() => {
          const t = createTrainer(freshConfig(o), corpus, undefined, { workers: o.workers });
          return { trainer: t, state: t.init() };
        })()
      : resumed({ ...o, resume: o.resume }, corpus);
  const { config } = trainer;
  // A save writes the new checkpoint beside the old one, then renames it over: room for one more;
  // model.onnx at the end holds the parameters (float32, as the checkpoint stores them) and ~4 KB of graph.
  const paramBytes = treeLeaves(state.params).reduce((n, l) => n + 4 * l.shape.reduce((a, b) => a * b, 1), 0);
  checkFreeSpace(
    out.label,
    out.path,
    encodeCheckpoint(trainer.toCheckpoint(state)).byteLength + extraBytes(config.steps) + paramBytes + 16 * 1024,
  );
  const paths = {
    checkpoint: join(out.path, CHECKPOINT),
    history: join(out.path, "history.json"),
    report: join(out.path, "report.html"),
    model: join(out.path, "model.onnx"),
    modelInfo: join(out.path, "model.json"),
  };
  const history =
    o.resume === undefined ? emptyHistory() : readHistory(join(dirname(o.resume), "history.json"), state.step);

  const nParams = treeLeaves(state.params).reduce((n, l) => n + l.shape.reduce((a, b) => a * b, 1), 0);
  ui.print(
    `Moby Dick: ${(corpus.train.length + corpus.heldOut.length).toLocaleString("en-US")} characters, ${corpus.chars.length} distinct; held out: the last 5% (${trainer.heldOut.count.toLocaleString("en-US")} characters scored).`,
  );
  ui.print(
    `model: embedding ${config.embed} → ${config.cell.toUpperCase()} ${config.hidden} → linear ${corpus.chars.length} (${nParams.toLocaleString("en-US")} parameters).`,
  );
  ui.print(
    `training: batches of ${config.batch} streams × ${config.chunk} characters, truncated BPTT carrying the state between chunks; Adam ${config.lr} with cosine decay, clipping at norm ${config.clip}` +
      (trainer.workers > 1
        ? `; each step on ${trainer.workers} worker threads (pmap), gradients averaged.`
        : threads !== undefined
          ? `; the step's products split over ${threads.threads} threads.`
          : "."),
  );
  ui.print(`unigram baseline on the held-out text: ${trainer.unigram.toFixed(3)} nats/char.`);
  ui.print(
    `${o.resume === undefined ? "training" : `resuming at step ${state.step} of`} ${config.steps} steps; output: ${out.path}\n`,
  );

  ui.begin(state.step, config.steps, history.heldOut[history.heldOut.length - 1]);
  const save = (s: TrainState): void => {
    orThrow("saving the checkpoint", saveCheckpoint(paths.checkpoint, trainer.toCheckpoint(s)));
    writeAtomic(paths.history, JSON.stringify(history));
  };
  const trainStart = performance.now();
  const result = await train(trainer, state, {
    onStep: (step, loss, rate, left) => {
      history.train[step - 1] = loss;
      ui.step(step, loss, rate, left);
    },
    onEval: (step, loss) => {
      history.heldOut.push([step, loss]);
      ui.heldOut(step, loss);
    },
    onSample: (step, text) => {
      history.samples.push({ step, text });
      ui.log(`sample at step ${step} (temperature ${config.temperature}):\n${indent(config.prime + text)}`);
    },
    shouldStop,
    onCheckpoint: save,
  }).finally(async () => {
    ui.end();
    await trainer.close();
    await threads?.close();
  });
  const trainSeconds = (performance.now() - trainStart) / 1000;
  save(result.state);
  // The trained one-step sampler for ONNX Runtime (`pnpm example serve-onnx <folder>` runs it).
  const sampler = exportSampler(cellOf(config.cell), result.state.params, corpus.chars);
  orThrow("writing the ONNX model", writeFileAtomic("char-rnn", paths.model, sampler.bytes));
  writeAtomic(paths.modelInfo, JSON.stringify(sampler.info));
  const stepsDone = result.state.step - state.step;
  const final = history.heldOut[history.heldOut.length - 1]![1];
  writeAtomic(
    paths.report,
    htmlReport(history, {
      config,
      unigram: trainer.unigram,
      heldOutCount: trainer.heldOut.count,
      seconds: trainSeconds,
      stepsPerSecond: stepsDone > 0 ? stepsDone / result.stepSeconds : 0,
      stopped: result.stopped,
      checkpoint: paths.checkpoint,
    }),
  );

  ui.print(`\nloss curves (nats/char):\n${terminalChart(history, trainer.unigram, color)}\n`);
  ui.print(
    `${result.stopped ? "stopped at" : "trained"} step ${result.state.step}/${config.steps}: held-out ${final.toFixed(3)} nats/char (unigram baseline ${trainer.unigram.toFixed(3)}).`,
  );
  const rate =
    stepsDone > 0 ? `${(stepsDone / result.stepSeconds).toFixed(1)} steps/s in training steps` : "no training steps";
  ui.print(
    `${stepsDone} step${stepsDone === 1 ? "" : "s"} in ${formatDuration(trainSeconds)} (${rate}, ${formatDuration(trainSeconds - result.stepSeconds)} in evaluations and samples); ` +
      `${formatDuration((performance.now() - began) / 1000)} in all.`,
  );
  ui.print(`report:     ${paths.report}\ncheckpoint: ${paths.checkpoint}\nonnx model: ${paths.model} (+ model.json)`);
  if (result.stopped) ui.print(`resume with: pnpm start -- --resume ${paths.checkpoint}`);

  if (o.smoke) {
    // The smoke run checks its own files, then removes them (pnpm test must not litter).
    const back = orThrow("reading the checkpoint back", loadCheckpoint(paths.checkpoint, trainer.template()));
    if (back.step !== result.state.step || !existsSync(paths.report) || !existsSync(paths.model))
      throw new Error("smoke: the checkpoint, report or ONNX model was not written correctly");
    if (out.temporary) rmSync(out.path, { recursive: true, force: true });
    ui.print("smoke: checkpoint read back, output removed.");
  }
  return { stopped: result.stopped };
};
