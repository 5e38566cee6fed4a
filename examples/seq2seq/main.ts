/**
 * @file seq2seq: encoder–decoders that learn to reverse long strings, with and without attention.
 *
 * What it does: generated data — strings of 15 to 30 random symbols from an alphabet of 8, target
 * the same symbols in reverse order followed by an end token. A GRU encoder reads the source
 * (padded to 30 steps, per-sample `lengths`). Two decoders are trained on the same batches for the
 * same number of steps: a plain GRU started from the encoder's state at each string's own last
 * symbol (all a 30-symbol string must pass through one vector), and the same GRU wrapped in
 * `additiveAttention` (Bahdanau et al. 2015), which at every step also attends over all the
 * encoder's outputs, with the source lengths as the mask (`encoderDecoder` passes them as the
 * decoder's context). Training is teacher forcing with `sequenceCrossEntropy` over the valid
 * target steps, Adam with a cosine-decayed learning rate (3e-3 → 3e-4) and global-norm clipping
 * at 5. Every training batch is freshly drawn from a key; a fixed held-out set of 500 strings
 * (from its own key, independent of --seed) is never trained on. Evaluation is free-running:
 * `generate` decodes greedily until the end token, and a string counts only if every symbol and
 * the end are right (exact match).
 *
 * Run:   pnpm example seq2seq [--steps 800] [--hidden 64] [--batch 32] [--seed 0]
 *        pnpm example seq2seq --smoke        (a few steps, tiny GRUs)
 *
 * Prints: every --eval steps, each model's training loss (nats/token), held-out exact match and
 * per-symbol accuracy; then a few held-out examples with both models' answers, and the summary
 * (exact match with and without attention after the same steps) with the run times.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { item, random } from "@rewind/tensor";
import { jit, take, type Concrete, type Value } from "@rewind/autodiff";
import {
  additiveAttention,
  embedding,
  encoderDecoder,
  generate,
  gru,
  linear,
  padSequences,
  rnn,
  sequenceCrossEntropy,
  type AttentionContext,
  type EmbeddingParams,
  type LinearParams,
  type PaddedSequences,
  type TensorInitCell,
  type TorchCellParams,
} from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm, cosineDecay, trainStep, type StateOf } from "@rewind/optim";

const { smoke, int } = exampleFlags({ steps: "800", hidden: "64", batch: "32", eval: "200", seed: "0" });
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 4 : int("steps", 1);
const hiddenSize = smoke ? 8 : int("hidden", 1);
const batchSize = smoke ? 8 : int("batch", 1);
const evalEvery = smoke ? 2 : int("eval", 1);
const seed = int("seed", 0);
const embedDim = smoke ? 4 : 16;
const nHeld = smoke ? 40 : 500;

// ---- data: strings over symbols 0–7, then the start and end tokens ----------------------------
const MIN_LEN = smoke ? 4 : 15;
const MAX_LEN = smoke ? 6 : 30;
const SYMBOLS = 8;
const BOS = SYMBOLS;
const EOS = SYMBOLS + 1;
const V = SYMBOLS + 2;
const S = MAX_LEN; //     source steps
const T = MAX_LEN + 1; // target steps: the reversed symbols, then EOS

/** `n` strings of random length in [MIN_LEN, MAX_LEN] and random symbols, from one key. */
const drawStrings = (key: random.Key, n: number): number[][] => {
  const u = random.uniform(key, [n, MAX_LEN + 1], { dtype: "float64" }).data;
  return Array.from({ length: n }, (_, i) => {
    const len = MIN_LEN + Math.floor(u[i * (MAX_LEN + 1)]! * (MAX_LEN - MIN_LEN + 1));
    return Array.from({ length: len }, (_, t) => Math.floor(u[i * (MAX_LEN + 1) + 1 + t]! * SYMBOLS));
  });
};
const held = drawStrings(random.key(12345), nHeld);
const heldSet = new Set(held.map((s) => s.join(",")));

/** A batch: the source padded to S steps (with lengths), and the decoder's inputs and targets padded to T. */
interface Batch {
  readonly src: PaddedSequences; //    the symbols, padded with 0
  readonly tgtIn: PaddedSequences; //  BOS, then the reversed symbols, padded with EOS
  readonly tgtOut: PaddedSequences; // the reversed symbols, then EOS, padded with EOS
}
/** The padded batch of some strings; the target lengths (symbols + EOS) mark the steps the loss counts. */
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
const heldBatch = encode(held);

// ---- data for training: a fresh batch every step (strings in the held-out set are skipped) ----
const [kModel, kData] = random.split(random.key(seed), 2) as [random.Key, random.Key];
const trainBatch = (step: number): Batch => {
  const strings = drawStrings(random.foldIn(kData, step), 2 * batchSize).filter((s) => !heldSet.has(s.join(",")));
  return encode(strings.slice(0, batchSize)); // twice as many drawn as needed: enough to spare
};

// ---- models ----------------------------------------------------------------------------------
interface Params<PD> {
  readonly embed: EmbeddingParams; // shared by source and target tokens
  readonly encoder: TorchCellParams;
  readonly decoder: PD;
  readonly out: LinearParams;
}
const embedLayer = embedding(V, embedDim);
const readoutLayer = linear(V);

/** What one model's run reports. */
interface Outcome {
  readonly label: string;
  readonly exact: number;
  readonly perSymbol: number;
  readonly answers: number[][];
  readonly seconds: number;
}

// The learning rate anneals from 3e-3 to 3e-4 over the run: the end settles instead of jittering.
// One optimizer for both models (it holds no state: each run's state is made from its parameters).
const optimizer = chain(
  clipByGlobalNorm(5),
  adam({ learningRate: cosineDecay({ initValue: 3e-3, decaySteps: steps, alpha: 0.1 }) }),
);

/** Both models' initial parameters come from the same keys: as tensors (`Concrete`), from the layers' `init`. */
const initParams = <PD, X>(decoder: TensorInitCell<PD, Value, X>): Concrete<Params<PD>> => {
  const [kEmbed, kEnc, kDec, kOut] = random.split(kModel, 4) as [random.Key, random.Key, random.Key, random.Key];
  return {
    embed: embedLayer.init(kEmbed, V),
    encoder: gru.init(kEnc, { inputSize: embedDim, hiddenSize }),
    decoder: decoder.init(kDec, { inputSize: embedDim, hiddenSize }),
    out: readoutLayer.init(kOut, hiddenSize),
  };
};

/**
 * Parameters and their fresh optimizer state, made where the decoder's parameter type is known,
 * so both are typed as tensors and the jitted step and decoder return tensors.
 */
type Start<PD> = readonly [Concrete<Params<PD>>, Concrete<StateOf<typeof optimizer>>];

/**
 * Trains `decoder` (plain, or reading the encoder's outputs as its context) and evaluates it. Both
 * models start from the same keys, see the same batches and take the same optimizer steps.
 */
const train = <PD, X extends AttentionContext | undefined>(
  label: string,
  decoder: TensorInitCell<PD, Value, X>,
  start: Start<PD>,
): Outcome => {
  const attends = decoder.checkContext !== undefined;
  let [params, optState] = start;
  const embedIds =
    (p: Params<PD>) =>
    (ids: Value): Value =>
      take(p.embed.weight, ids, 0);

  /** Teacher-forced cross-entropy per valid target token (the mean over symbols and EOS, never padding). */
  const loss = (p: Params<PD>, b: Batch): Value => {
    const { logits } = encoderDecoder(
      gru,
      decoder,
      { encoder: p.encoder, decoder: p.decoder },
      embedIds(p)(b.src.xs),
      b.tgtIn.xs,
      { srcLengths: b.src.lengths, embedTarget: embedIds(p), readout: readoutLayer.apply(p.out), teacherForcing: 1 },
    );
    return sequenceCrossEntropy(logits, b.tgtOut.xs, b.tgtOut.lengths);
  };

  /** Free-running greedy decoding from the encoder's state; an attention decoder also reads its outputs. */
  const decode = jit((p: Params<PD>, b: Batch): Value => {
    const enc = rnn(gru, p.encoder, embedIds(p)(b.src.xs), { lengths: b.src.lengths });
    const context = { memory: enc.outputs, lengths: b.src.lengths };
    return generate(decoder, p.decoder, {
      initialCarry: enc.finalCarry,
      startToken: BOS,
      maxLength: T,
      stopToken: EOS,
      embed: embedIds(p),
      readout: readoutLayer.apply(p.out),
      ...(attends ? { context: context as X } : {}),
    }).tokens;
  });

  const evaluate = (p: Concrete<Params<PD>>) => {
    const tokens = decode(p, heldBatch).data;
    const want = heldBatch.tgtOut.xs.data;
    const answers: number[][] = [];
    let exact = 0,
      symbols = 0,
      right = 0;
    held.forEach((s, b) => {
      const row = Array.from(tokens.subarray(b * T, (b + 1) * T));
      answers.push(row);
      let ok = true;
      for (let t = 0; t <= s.length; t++) if (row[t] !== want[b * T + t]) ok = false;
      for (let t = 0; t < s.length; t++) {
        symbols += 1;
        right += row[t] === want[b * T + t] ? 1 : 0;
      }
      exact += ok ? 1 : 0;
    });
    return { exact: exact / held.length, perSymbol: right / symbols, answers };
  };

  // Loss, gradient, clipping, Adam and applyUpdates as one jitted program, traced once per batch shape.
  const trainingStep = trainStep(loss, optimizer);
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
        `${label.padEnd(18)} step ${String(step).padStart(5)}  loss ${running.toFixed(4)}  held-out exact match ${(100 * r.exact).toFixed(1)}%  per symbol ${(100 * r.perSymbol).toFixed(1)}%  [${s.toFixed(0)} s]`,
      );
    }
  }
  const final = evaluate(params);
  return { label, ...final, seconds: (performance.now() - started) / 1000 };
};

console.log(
  `reversing strings of ${MIN_LEN}–${MAX_LEN} symbols from ${SYMBOLS}; ${held.length} held-out strings; ` +
    `GRU ${hiddenSize} encoder and decoder, batch ${batchSize}, ${steps} steps each`,
);
const plain0 = initParams(gru);
const plain = train("no attention", gru, [plain0, optimizer.init(plain0)]);
const attentionDecoder = additiveAttention(gru);
const attention0 = initParams(attentionDecoder);
const attention = train("additive attention", attentionDecoder, [attention0, optimizer.init(attention0)]);

const show = (row: readonly number[]): string => {
  const end = row.indexOf(EOS);
  return row
    .slice(0, end < 0 ? row.length : end)
    .map((d) => (d === BOS ? "^" : String(d)))
    .join("");
};
console.log("\nheld-out examples (source → reversed; ✓/✗ without attention, with attention):");
for (let b = 0; b < 4; b++) {
  const want = [...held[b]!].reverse().join("");
  const mark = (o: Outcome): string => (show(o.answers[b]!) === want ? "✓" : "✗");
  console.log(`  ${held[b]!.join("").padEnd(MAX_LEN)} → ${want.padEnd(MAX_LEN)}  ${mark(plain)} ${mark(attention)}`);
}
for (const o of [plain, attention])
  console.log(
    `${o.label}: held-out exact match ${(100 * o.exact).toFixed(1)}%, per symbol ${(100 * o.perSymbol).toFixed(1)}% ` +
      `after ${steps} steps, in ${o.seconds.toFixed(1)} s`,
  );
