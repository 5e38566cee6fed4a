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
 * Run:   pnpm example seq2seq [--steps 800] [--hidden 64] [--batch 32] [--seed 0] [--workers 1]
 *        pnpm example seq2seq --smoke        (a few steps, tiny GRUs)
 *
 * `--workers N` (N dividing --batch; the batch is 8 with --smoke) runs each training step on N
 * worker threads, B / N strings each; each worker's mean loss and gradient is weighted by its share
 * of the batch's valid target steps and the shares summed: the same losses as one worker within
 * float rounding (not bit for bit: the mean is summed in another order); bit-reproducible for a given N.
 *
 * Prints: every --eval steps, each model's training loss (nats/token), held-out exact match and
 * per-symbol accuracy; then a few held-out examples with both models' answers, and the summary
 * (exact match with and without attention after the same steps) with the run times.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import { trainer } from "../shared/trainer.js";
import { random } from "@rewind/tensor";
import { jit, type Concrete, type Value } from "@rewind/autodiff";
import {
  additiveAttention,
  embedding,
  generate,
  gru,
  linear,
  padSequences,
  rnn,
  type AttentionContext,
  type TensorInitCell,
} from "@rewind/rnn";
import { build, embedIds, type Batch, type Params, type StepConfig } from "./step.js";

const flags = exampleFlags({ steps: "800", hidden: "64", batch: "32", eval: "200", seed: "0" }, { workers: true });
const { smoke, int } = flags;
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 4 : int("steps", 1);
const hiddenSize = smoke ? 8 : int("hidden", 1);
const batchSize = smoke ? 8 : int("batch", 1);
const evalEvery = smoke ? 2 : int("eval", 1);
const seed = int("seed", 0);
const workers = flags.workers(batchSize, smoke ? "fixed by --smoke" : "--batch");
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

// ---- models (step.ts: the loss and the optimizer; the workers of --workers N import it) -------
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
 * Trains `decoder` (plain, or reading the encoder's outputs as its context) and evaluates it. Both
 * models start from the same keys, see the same batches and take the same optimizer steps.
 */
const train = async <PD, X extends AttentionContext | undefined>(
  label: string,
  decoder: TensorInitCell<PD, Value, X>,
  params0: Concrete<Params<PD>>,
): Promise<Outcome> => {
  const attends = decoder.checkContext !== undefined;

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

  // Loss (step.ts), gradient, clipping, Adam and applyUpdates as one jitted program, traced once per
  // batch shape; with --workers N each worker runs it on B / N strings, and their losses and
  // gradients are weighted by their shares of the batch's valid target steps and summed.
  // The step module builds either decoder's loss from the configuration, so it types the decoder's
  // parameters as unknown; these are the ones of `decoder`.
  const start: unknown = params0;
  const training = trainer<StepConfig, Params<unknown>, unknown, [Batch]>({
    workers,
    module: new URL("./step.ts", import.meta.url),
    build,
    config: { vocab: V, steps, attention: attends },
    params: start as Concrete<Params<unknown>>,
  });
  const started = performance.now();
  let running = NaN;
  for (let step = 1; step <= steps; step++) {
    const loss = await training.step(trainBatch(step));
    running = Number.isNaN(running) ? loss : 0.95 * running + 0.05 * loss;
    if (step % evalEvery === 0 || step === steps) {
      const r = evaluate(training.params() as Concrete<Params<PD>>);
      const s = (performance.now() - started) / 1000;
      console.log(
        `${label.padEnd(18)} step ${String(step).padStart(5)}  loss ${running.toFixed(4)}  held-out exact match ${(100 * r.exact).toFixed(1)}%  per symbol ${(100 * r.perSymbol).toFixed(1)}%  [${s.toFixed(0)} s]`,
      );
    }
  }
  const final = evaluate(training.params() as Concrete<Params<PD>>);
  await training.close();
  return { label, ...final, seconds: (performance.now() - started) / 1000 };
};

console.log(
  `reversing strings of ${MIN_LEN}–${MAX_LEN} symbols from ${SYMBOLS}; ${held.length} held-out strings; ` +
    `GRU ${hiddenSize} encoder and decoder, batch ${batchSize}, ${steps} steps each`,
);
const plain = await train("no attention", gru, initParams(gru));
const attentionDecoder = additiveAttention(gru);
const attention = await train("additive attention", attentionDecoder, initParams(attentionDecoder));

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
