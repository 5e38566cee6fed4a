/**
 * @file A small training job for the interruption tests: an LSTM regressor trained with Adam that
 * saves a checkpoint after (nearly) every step, so that a kill at a random moment often lands in
 * the middle of a save. Run as a script it resumes from the checkpoint in its folder when there
 * is one; the tests also import `createRun` to compute the uninterrupted run in-process.
 *
 * Usage: node --import tsx test/interrupt/trainer.ts <dir> [--steps N] [--save-every K]
 *
 * It reports on stdout, one line each, written synchronously so that a line is in the pipe before
 * the work it announces starts: `ready <step>` (loaded or initialised), `save <step>` (a save
 * begins), `saved <step>` (the save is complete), `stopped <step> <signal>` (SIGINT/SIGTERM: saved,
 * exiting 130/143), `done <step>` (all steps made and saved, exiting 0).
 */
import { existsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError, item, random, tensor, type Key, type Tensor } from "@rewind/tensor";
import { jit, matmul, mean, square, sub, valueAndGrad, type Value } from "@rewind/autodiff";
import { lstm, linear, rnn, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import {
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  type Checkpoint,
  type CheckpointTemplate,
  type StateOf,
} from "@rewind/optim";
import { loadCheckpoint, saveCheckpoint } from "@rewind/optim/node";

/** The sizes of the run. Large enough that a save (~230 KB, flushed to disk) is a sizeable part of a step. */
export const RUN = { seed: 7, input: 8, hidden: 64, batch: 4, time: 6, lr: 1e-2 } as const;

/** The file the job saves to, inside its folder. */
export const CHECKPOINT_FILE = "ckpt.safetensors";

interface Params {
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}
const readout = linear(1);
const makeOptimizer = () => chain(clipByGlobalNorm(1), adam({ learningRate: RUN.lr }));
type OptState = StateOf<ReturnType<typeof makeOptimizer>>;

/** The state of the run after `step` updates. */
export interface RunState {
  readonly params: Params;
  readonly optState: OptState;
  readonly step: number;
}

/** The run's pure functions: `step` depends only on the state and the root key, so a resumed run is the same run. */
export interface Run {
  readonly init: () => RunState;
  readonly step: (s: RunState) => { readonly state: RunState; readonly loss: number };
  readonly template: () => CheckpointTemplate<Params, OptState>;
  readonly toCheckpoint: (s: RunState) => Checkpoint<Params, OptState>;
  readonly fromCheckpoint: (c: Checkpoint<Params, OptState>) => RunState;
}

/** Builds the run from its root key (the checkpoint stores it). */
export const createRun = (key: Key = random.key(RUN.seed)): Run => {
  const [kCell, kOut, kData] = random.split(key, 3) as [Key, Key, Key];
  const optimizer = makeOptimizer();
  // The target is the mean of each sequence's first feature: learnable, and needs the whole sequence.
  const pick = tensor(
    Array.from({ length: RUN.input }, (_, i) => [i === 0 ? 1 : 0]),
    "float32",
  );
  const loss = (p: Params, xs: Value): Value => {
    const { finalCarry } = rnn(lstm, p.cell, xs);
    const prediction = readout.apply(p.out)(finalCarry.h);
    return mean(square(sub(prediction, mean(matmul(xs, pick), { axis: 1 }))));
  };
  const lossAndGrad = jit(valueAndGrad(loss) as (p: Params, xs: Tensor) => [Tensor, Params]);
  const init = (): RunState => {
    const params: Params = {
      cell: lstm.init(kCell, { inputSize: RUN.input, hiddenSize: RUN.hidden }, { dtype: "float32" }),
      out: readout.init(kOut, RUN.hidden, { dtype: "float32" }),
    };
    return { params, optState: optimizer.init(params), step: 0 };
  };
  const step = (s: RunState): { state: RunState; loss: number } => {
    const xs = random.normal(random.foldIn(kData, s.step), [RUN.batch, RUN.time, RUN.input], "float32");
    const [value, grads] = lossAndGrad(s.params, xs);
    const [updates, optState] = optimizer.update(grads, s.optState, s.params);
    return { state: { params: applyUpdates(s.params, updates), optState, step: s.step + 1 }, loss: item(value) };
  };
  const template = (): CheckpointTemplate<Params, OptState> => {
    const s = init();
    return { params: s.params, optState: s.optState };
  };
  return {
    init,
    step,
    template,
    toCheckpoint: (s) => ({ params: s.params, optState: s.optState, step: s.step, key, config: { ...RUN } }),
    fromCheckpoint: (c) => ({ params: c.params, optState: c.optState, step: c.step }),
  };
};

/** One line on stdout, written synchronously (fd 1) so it is in the pipe before the next statement runs. */
const say = (line: string): void => void writeSync(1, `${line}\n`);

const fail = (message: string): never => {
  process.stderr.write(`trainer: ${message}\n`);
  process.exit(3);
};

const parseArgs = (argv: readonly string[]): { dir: string; steps: number; saveEvery: number } => {
  const [dir, ...rest] = argv;
  if (dir === undefined || dir.startsWith("--")) return fail("usage: trainer.ts <dir> [--steps N] [--save-every K]");
  const flags = new Map<string, number>();
  for (let i = 0; i < rest.length; i += 2) {
    const n = Number(rest[i + 1]);
    if (!Number.isSafeInteger(n) || n < 1) fail(`${rest[i]} needs a positive integer, got ${rest[i + 1]}`);
    flags.set(rest[i]!, n);
  }
  return { dir, steps: flags.get("--steps") ?? 1_000_000, saveEvery: flags.get("--save-every") ?? 1 };
};

/** The job: resume or start, train to `steps` saving every `saveEvery` steps, stop cleanly on SIGINT/SIGTERM. */
const main = async (): Promise<void> => {
  const { dir, steps, saveEvery } = parseArgs(process.argv.slice(2));
  const path = join(dir, CHECKPOINT_FILE);
  let run = createRun();
  let state = run.init();
  if (existsSync(path)) {
    const head = loadCheckpoint(path);
    if (E.isLeft(head)) return fail(`cannot resume: ${formatTensorError(head.left)}`);
    run = createRun(head.right.key);
    const restored = loadCheckpoint(path, run.template());
    if (E.isLeft(restored)) return fail(`cannot resume: ${formatTensorError(restored.left)}`);
    state = run.fromCheckpoint(restored.right);
  }
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals): void => void (signal ??= s);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const save = (): void => {
    say(`save ${state.step}`);
    const saved = saveCheckpoint(path, run.toCheckpoint(state));
    if (E.isLeft(saved)) fail(formatTensorError(saved.left));
    say(`saved ${state.step}`);
  };
  say(`ready ${state.step}`);
  while (state.step < steps) {
    state = run.step(state).state;
    if (state.step % saveEvery === 0) save();
    // Signals are delivered between turns of the event loop: let one pass after every step.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal !== undefined) {
      if (state.step % saveEvery !== 0) save();
      say(`stopped ${state.step} ${signal}`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
  }
  if (state.step % saveEvery !== 0 || !existsSync(path)) save();
  say(`done ${state.step}`);
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
