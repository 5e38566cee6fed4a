/**
 * @file seq2seq: an encoder–decoder that learns to reverse strings of digits.
 *
 * What it does: generated data — strings of 5 to 8 random digits, target the same digits in
 * reverse order followed by an end token. A GRU encoder reads the source (padded to 8 steps,
 * per-sample `lengths`); its state at each string's own last digit starts a GRU decoder
 * (`encoderDecoder`), trained with teacher forcing (the decoder reads the true previous target
 * token) and `sequenceCrossEntropy` over the valid target steps (`padSequences` pads the source
 * and the targets and gives their lengths); Adam with a cosine-decayed learning rate
 * (3e-3 → 3e-4) and global-norm clipping at 5. Source and target share one embedding.
 * Every training batch is freshly drawn from a key; a fixed held-out set of 1,000 strings (from
 * its own key, independent of --seed) is never trained on. Evaluation is free-running: `generate`
 * decodes greedily from the encoder's state until the end token, and a string counts only if
 * every digit and the end are right (exact match).
 *
 * Run:   pnpm example seq2seq [--steps 1500] [--hidden 128] [--batch 64] [--seed 0]
 *        pnpm example seq2seq --smoke        (a few steps, tiny GRUs)
 *
 * Prints: every --eval steps, the training loss (nats/token) and the held-out exact-match
 * accuracy and per-digit accuracy; then a few held-out examples with the model's answers, the
 * accuracy by length, and the run time.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { item, random, type Tensor } from "@rewind/tensor";
import { jit, take, type Value } from "@rewind/autodiff";
import {
  embedding,
  encoderDecoder,
  generate,
  gru,
  linear,
  padSequences,
  rnn,
  sequenceCrossEntropy,
  type EmbeddingParams,
  type LinearParams,
  type PaddedSequences,
  type TorchCellParams,
} from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm, cosineDecay, trainStep } from "@rewind/optim";

const { smoke, int } = exampleFlags({ steps: "1500", hidden: "128", batch: "64", eval: "250", seed: "0" });
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 4 : int("steps", 1);
const hiddenSize = smoke ? 8 : int("hidden", 1);
const batchSize = smoke ? 8 : int("batch", 1);
const evalEvery = smoke ? 2 : int("eval", 1);
const seed = int("seed", 0);
const embedDim = smoke ? 4 : 16;
const nHeld = smoke ? 50 : 1000;

// ---- data: digit strings, tokens 0–9, then the start and end tokens --------------------------
const MIN_LEN = 5;
const MAX_LEN = 8;
const BOS = 10;
const EOS = 11;
const V = 12;
const S = MAX_LEN; //     source steps
const T = MAX_LEN + 1; // target steps: the reversed digits, then EOS

/** `n` strings of random length in [5, 8] and random digits, from one key. */
const drawStrings = (key: random.Key, n: number): number[][] => {
  const u = random.uniform(key, [n, MAX_LEN + 1], { dtype: "float64" }).data;
  return Array.from({ length: n }, (_, i) => {
    const len = MIN_LEN + Math.floor(u[i * (MAX_LEN + 1)]! * (MAX_LEN - MIN_LEN + 1));
    return Array.from({ length: len }, (_, t) => Math.floor(u[i * (MAX_LEN + 1) + 1 + t]! * 10));
  });
};
const held = drawStrings(random.key(12345), nHeld);
const heldSet = new Set(held.map((s) => s.join("")));

/** A batch: the source padded to S steps (with lengths), and the decoder's inputs and targets padded to T. */
interface Batch {
  readonly src: PaddedSequences; //    the digits, padded with 0
  readonly tgtIn: PaddedSequences; //  BOS, then the reversed digits, padded with EOS
  readonly tgtOut: PaddedSequences; // the reversed digits, then EOS, padded with EOS
}
/** The padded batch of some strings; the target lengths (digits + EOS) mark the steps the loss counts. */
const encode = (strings: readonly number[][]): Batch => {
  const reversed = strings.map((s) => [...s].reverse());
  return {
    src: padSequences(strings, { maxLength: S }),
    tgtIn: padSequences(
      reversed.map((r) => [BOS, ...r]),
      { maxLength: T, padValue: EOS },
    ),
    tgtOut: padSequences(
      reversed.map((r) => [...r, EOS]),
      { maxLength: T, padValue: EOS },
    ),
  };
};

// ---- model -----------------------------------------------------------------------------------
interface Params {
  readonly embed: EmbeddingParams; // shared by source and target tokens
  readonly encoder: TorchCellParams;
  readonly decoder: TorchCellParams;
  readonly out: LinearParams;
}
const embedLayer = embedding(V, embedDim);
const readoutLayer = linear(V);
const [kEmbed, kEnc, kDec, kOut, kData] = random.split(random.key(seed), 5) as [
  random.Key,
  random.Key,
  random.Key,
  random.Key,
  random.Key,
];
let params: Params = {
  embed: embedLayer.init(kEmbed, V),
  encoder: gru.init(kEnc, { inputSize: embedDim, hiddenSize }),
  decoder: gru.init(kDec, { inputSize: embedDim, hiddenSize }),
  out: readoutLayer.init(kOut, hiddenSize),
};
const embedIds =
  (p: Params) =>
  (ids: Value): Value =>
    take(p.embed.weight, ids, 0);

/** Teacher-forced cross-entropy per valid target token (the mean over digits and EOS, never padding). */
const loss = (p: Params, b: Batch): Value => {
  const { logits } = encoderDecoder(
    gru,
    gru,
    { encoder: p.encoder, decoder: p.decoder },
    embedIds(p)(b.src.xs),
    b.tgtIn.xs,
    {
      srcLengths: b.src.lengths,
      embedTarget: embedIds(p),
      readout: readoutLayer.apply(p.out),
      teacherForcing: 1,
    },
  );
  return sequenceCrossEntropy(logits, b.tgtOut.xs, b.tgtOut.lengths);
};

/** Free-running greedy decoding: the encoder's state at each string's end starts `generate`. */
const decode = jit((p: Params, b: Batch): Value => {
  const { finalCarry } = rnn(gru, p.encoder, embedIds(p)(b.src.xs), { lengths: b.src.lengths });
  return generate(gru, p.decoder, {
    initialCarry: finalCarry,
    startToken: BOS,
    maxLength: T,
    stopToken: EOS,
    embed: embedIds(p),
    readout: readoutLayer.apply(p.out),
  }).tokens;
});

const heldBatch = encode(held);
const evaluate = (p: Params) => {
  const tokens = (decode(p, heldBatch) as Tensor).data;
  const want = heldBatch.tgtOut.xs.data;
  const answers: number[][] = [];
  let exact = 0,
    digits = 0,
    right = 0;
  const byLength = new Map<number, [number, number]>();
  held.forEach((s, b) => {
    const row = Array.from(tokens.subarray(b * T, (b + 1) * T));
    answers.push(row);
    let ok = true;
    for (let t = 0; t <= s.length; t++) if (row[t] !== want[b * T + t]) ok = false;
    for (let t = 0; t < s.length; t++) {
      digits += 1;
      right += row[t] === want[b * T + t] ? 1 : 0;
    }
    exact += ok ? 1 : 0;
    const [n, k] = byLength.get(s.length) ?? [0, 0];
    byLength.set(s.length, [n + 1, k + (ok ? 1 : 0)]);
  });
  return { exact: exact / held.length, perDigit: right / digits, answers, byLength };
};

// The learning rate anneals from 3e-3 to 3e-4 over the run: the end settles instead of jittering.
const optimizer = chain(
  clipByGlobalNorm(5),
  adam({ learningRate: cosineDecay({ initValue: 3e-3, decaySteps: steps, alpha: 0.1 }) }),
);
let optState = optimizer.init(params);
// Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once per batch shape.
const trainingStep = trainStep(loss, optimizer);

// ---- training: a fresh batch every step (strings in the held-out set are skipped) -------------
const trainBatch = (step: number): Batch => {
  const strings = drawStrings(random.foldIn(kData, step), 2 * batchSize).filter((s) => !heldSet.has(s.join("")));
  return encode(strings.slice(0, batchSize)); // twice as many drawn as needed: enough to spare
};

console.log(
  `reversing digit strings of length ${MIN_LEN}–${MAX_LEN}; ${held.length} held-out strings; GRU ${hiddenSize} encoder and decoder, batch ${batchSize}`,
);
const started = performance.now();
let running = NaN;
for (let step = 1; step <= steps; step++) {
  const result = trainingStep(params, optState, trainBatch(step)); // gives up the old params and optState (donated)
  ({ params, optState } = result);
  running = Number.isNaN(running) ? item(result.loss) : 0.95 * running + 0.05 * item(result.loss);
  if (step % evalEvery === 0 || step === steps) {
    const r = evaluate(params);
    const s = (performance.now() - started) / 1000;
    console.log(
      `step ${String(step).padStart(5)}  loss ${running.toFixed(4)}  held-out exact match ${(100 * r.exact).toFixed(1)}%  per digit ${(100 * r.perDigit).toFixed(1)}%  [${s.toFixed(0)} s]`,
    );
  }
}

const final = evaluate(params);
const show = (row: readonly number[]): string => {
  const end = row.indexOf(EOS);
  return row
    .slice(0, end < 0 ? row.length : end)
    .map((d) => (d === BOS ? "^" : String(d)))
    .join("");
};
console.log("\nheld-out examples (source → model's answer):");
for (let b = 0; b < 6; b++) {
  const want = [...held[b]!].reverse().join("");
  const got = show(final.answers[b]!);
  console.log(
    `  ${held[b]!.join("").padEnd(MAX_LEN)} → ${got.padEnd(MAX_LEN)} ${got === want ? "✓" : `✗ (want ${want})`}`,
  );
}
console.log(
  `exact match by length: ${[...final.byLength]
    .sort((a, b) => a[0] - b[0])
    .map(([len, [n, k]]) => `${len}: ${((100 * k) / n).toFixed(1)}%`)
    .join(", ")}`,
);
console.log(
  `held-out exact match ${(100 * final.exact).toFixed(1)}% after ${steps} steps, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
