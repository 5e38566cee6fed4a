/**
 * @file char-rnn resumes exactly: a run stopped half-way (as Ctrl-C stops it), checkpointed to
 * bytes and resumed from them gives the same losses, bit for bit, as the run that never stopped —
 * the checkpoint holds everything the run depends on (parameters, optimizer state, the carried
 * recurrent state, the step, the key and the config). Runs the example's smoke configuration
 * through its exported training functions, in-process.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { useKernelThreads } from "@rewind/workers/node";
import * as E from "fp-ts/lib/Either.js";
import type { Key, Tensor } from "@rewind/tensor";
import { treeLeaves } from "@rewind/autodiff";
import { encodeCheckpoint, restoreCheckpoint, type Checkpoint, type CheckpointTemplate } from "@rewind/optim";

// The example lives outside this project's rootDir (test/), so it is loaded by a computed path and
// described by the few types used here rather than imported statically (which tsc -b would refuse).
type Config = { readonly steps: number } & Record<string, unknown>;
interface TrainState {
  readonly params: unknown;
  readonly optState: unknown;
  readonly carry: unknown;
  readonly step: number;
}
interface Trainer {
  readonly unigram: number;
  readonly stepTraces: () => number | undefined;
  readonly close: () => Promise<void>;
  readonly init: () => TrainState;
  readonly toCheckpoint: (s: TrainState) => Checkpoint;
  readonly template: () => CheckpointTemplate<unknown, unknown>;
  readonly fromCheckpoint: (c: Checkpoint) => TrainState;
}
interface Hooks {
  readonly onStep?: (step: number, loss: number) => void;
  readonly onEval?: (step: number, loss: number) => void;
  readonly onSample?: (step: number, text: string) => void;
  readonly shouldStop?: () => boolean;
}
const dir = join(fileURLToPath(new URL("..", import.meta.url)), "examples", "char-rnn");
const load = <M>(file: string): Promise<M> => import(pathToFileURL(join(dir, file)).href) as Promise<M>;
const { DEFAULTS, SMOKE } = await load<{ DEFAULTS: Config; SMOKE: Partial<Config> }>("config.ts");
const { loadMobyDick, makeCorpus } = await load<{ loadMobyDick: () => string; makeCorpus: (text: string) => unknown }>(
  "data.ts",
);
const { createTrainer, train } = await load<{
  createTrainer: (config: Config, corpus: unknown, key?: Key, options?: { workers?: number }) => Trainer;
  train: (
    t: Trainer,
    start: TrainState,
    hooks: Hooks,
  ) => Promise<{ readonly state: TrainState; readonly stopped: boolean }>;
}>("train.ts");

const corpus = makeCorpus(loadMobyDick());
const config: Config = {
  ...DEFAULTS,
  ...SMOKE,
  steps: 8,
  decaySteps: 8,
  evalEvery: 4,
  sampleEvery: 4,
  sampleLength: 20,
};

/** Runs the training loop from `start`, recording every step's loss and every held-out loss; stops after `stopAt` steps if given. */
const run = async (t: Trainer, start: TrainState, stopAt?: number) => {
  const losses: number[] = [];
  const heldOut: number[] = [];
  const samples: string[] = [];
  const r = await train(t, start, {
    onStep: (_, loss) => losses.push(loss),
    onEval: (_, loss) => heldOut.push(loss),
    onSample: (_, text) => samples.push(text),
    shouldStop: () => stopAt !== undefined && losses.length >= stopAt,
  });
  return { ...r, losses, heldOut, samples };
};

const bits = (xs: readonly number[]): string[] =>
  xs.map((x) => new Float64Array([x]).buffer).map((b) => Buffer.from(b).toString("hex"));

const leaves = (s: TrainState) =>
  treeLeaves([s.params, s.optState, s.carry]).map((l) => Buffer.from((l as Tensor).data.buffer).toString("hex"));

describe("char-rnn", () => {
  // With workers (pnpm start --workers 2) the run is a pure function of its state too: each step
  // sums the shards' gradients in worker order, whatever the threads' timing.
  it.each([1, 2])(
    "%i worker(s): a run checkpointed half-way and resumed equals the uninterrupted run, bit for bit",
    async (workers) => {
      const trainers: Trainer[] = [];
      const make = (c: Config, key?: Key): Trainer => {
        const t = createTrainer(c, corpus, key, { workers });
        trainers.push(t);
        return t;
      };
      try {
        await resumeLaw(make);
      } finally {
        await Promise.all(trainers.map((t) => t.close()));
      }
    },
  );

  it("2 workers agree with 1 within float rounding (the same batches, gradients averaged over shards)", async () => {
    const one = createTrainer(config, corpus);
    const two = createTrainer(config, corpus, undefined, { workers: 2 });
    try {
      const a = await run(one, one.init());
      const b = await run(two, two.init());
      expect(b.losses).toHaveLength(a.losses.length);
      b.losses.forEach((l, i) => expect(Math.abs(l - a.losses[i]!)).toBeLessThan(1e-4));
      b.heldOut.forEach((l, i) => expect(Math.abs(l - a.heldOut[i]!)).toBeLessThan(1e-4));
      expect(two.stepTraces()).toBeUndefined();
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  // pnpm start --kernel-threads 2: the step's products split by rows over two threads, the same bits.
  it("with kernel threads a run equals the one-thread run bit for bit", async () => {
    const one = createTrainer(config, corpus);
    const a = await run(one, one.init());
    await one.close();
    // Smoke-sized products are small: split them all, as 250 k splits the full model's.
    const threads = await useKernelThreads(2, { minMacs: 1000 });
    try {
      const two = createTrainer(config, corpus);
      const b = await run(two, two.init());
      await two.close();
      expect(threads.splits).toBeGreaterThan(0);
      expect(bits(b.losses)).toEqual(bits(a.losses));
      expect(bits(b.heldOut)).toEqual(bits(a.heldOut));
      expect(leaves(b.state)).toEqual(leaves(a.state));
    } finally {
      await threads.close();
    }
  });

  it("pnpm start refuses --workers with --kernel-threads (the workers' steps never reach the kernel threads)", () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const args = ["--import", "tsx", "examples/run.ts", "char-rnn", "--workers", "2", "--kernel-threads", "2"];
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--workers and --kernel-threads do not combine: pass one of them/);
  });

  it("refuses a worker count that does not divide the batch, with the fix", () => {
    expect(() => createTrainer(config, corpus, undefined, { workers: 3 })).toThrow(/batch of 4 streams.*divisor of 4/);
  });
});

/** The resume law, with trainers from `make` (the config and key of each). */
const resumeLaw = async (make: (c: Config, key?: Key) => Trainer): Promise<void> => {
  const straight = await run(make(config), make(config).init());
  expect(straight.losses).toHaveLength(8);
  expect(straight.stopped).toBe(false);

  const first = make(config);
  const half = await run(first, first.init(), 4);
  expect(half.stopped).toBe(true);
  expect(half.state.step).toBe(4);
  const bytes = encodeCheckpoint(first.toCheckpoint(half.state));

  // As `--resume` does: the config and key come from the checkpoint, then the state is restored against a template.
  const head = restoreCheckpoint(bytes);
  if (E.isLeft(head)) throw new Error(head.left._tag);
  const second = make(head.right.config as unknown as Config, head.right.key);
  const restored = restoreCheckpoint(bytes, second.template());
  if (E.isLeft(restored)) throw new Error(restored.left._tag);
  const rest = await run(second, second.fromCheckpoint(restored.right));

  expect(bits([...half.losses, ...rest.losses])).toEqual(bits(straight.losses));
  // Parameters, optimizer moments and the carried state all agree at the end.
  expect(leaves(rest.state)).toEqual(leaves(straight.state));
  // Samples are drawn from keys of their step, so they agree too.
  expect([...half.samples, ...rest.samples]).toEqual(straight.samples);
};

describe("char-rnn's jitted step", () => {
  it("the whole training step (loss, gradient, clipping, Adam, update) is traced once over 100 steps", async () => {
    const t = createTrainer({ ...config, steps: 100, decaySteps: 100, evalEvery: 50, sampleEvery: 50 }, corpus);
    const start = t.init();
    const r = await run(t, start);
    expect(r.losses).toHaveLength(100);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(t.stepTraces()).toBe(1);
    // The first step was given the initial state and consumed it: its parameters were donated.
    expect(() => treeLeaves(start.params)).toThrow(/donated to a jitted call/);
  });

  it("learns: the smoke run's held-out loss falls and the baseline is the unigram cross-entropy", async () => {
    const t = createTrainer({ ...config, steps: 20, decaySteps: 20, evalEvery: 20, lr: 1e-2 }, corpus);
    const r = await run(t, t.init());
    expect(r.heldOut[r.heldOut.length - 1]!).toBeLessThan(r.heldOut[0]!);
    expect(t.unigram).toBeGreaterThan(2.9);
    expect(t.unigram).toBeLessThan(3.2);
  });
});
