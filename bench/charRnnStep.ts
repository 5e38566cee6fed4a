/**
 * @file The char-rnn training step of `pnpm start`, for the benchmarks: ids → embedding 32 → LSTM
 * 128 → linear over a vocabulary of 89; batch 32 streams of 64 characters, float32; clipping at 5
 * and Adam under a cosine-decayed learning rate, as examples/char-rnn builds it (that example
 * lives outside the bench project, so the few lines of model are repeated here). The data is a
 * fixed deterministic chunk: the benchmarks time the step, not the learning.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { logSoftmax, mean, mul, neg, oneHot, sum, take, valueAndGrad, type Value } from "@rewind/autodiff";
import {
  embedding,
  linear,
  lstm,
  rnn,
  type EmbeddingParams,
  type LinearParams,
  type LstmCarry,
  type TorchCellParams,
} from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm, cosineDecay, type StateOf } from "@rewind/optim";

export const VOCAB = 89;
export const EMBED = 32;
export const HIDDEN = 128;
export const BATCH = 32;
export const CHUNK = 64;

/** The char-rnn model's parameters. */
export interface Params {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly readout: LinearParams;
}

/** Clipping at 5, then Adam with the main job's cosine-decayed learning rate. */
export const makeOptimizer = () =>
  chain(clipByGlobalNorm(5), adam({ learningRate: cosineDecay({ initValue: 2e-2, decaySteps: 800, alpha: 0.1 }) }));
export type OptState = StateOf<ReturnType<typeof makeOptimizer>>;

/** Mean nats per character of the chunk, with the LSTM's final carry as aux (the next chunk starts from it). */
export const loss = (p: Params, carry: LstmCarry, x: Value, y: Value): [Value, LstmCarry] => {
  const { outputs, finalCarry } = rnn(lstm, p.cell, take(p.embed.weight, x, 0), { initialCarry: carry });
  const logits = linear(VOCAB).apply(p.readout)(outputs);
  return [mean(neg(sum(mul(oneHot(y, VOCAB), logSoftmax(logits, -1)), { axis: -1 }))), finalCarry];
};

/** The model as `pnpm start` initialises it, a fixed chunk of ids and next-character targets, and a zero carry. */
export const setup = () => {
  const [kEmbed, kCell, kOut] = random.split(random.key(7), 3) as [Key, Key, Key];
  const params: Params = {
    embed: embedding(VOCAB, EMBED).init(kEmbed, 1),
    cell: lstm.init(kCell, { inputSize: EMBED, hiddenSize: HIDDEN }),
    readout: linear(VOCAB).init(kOut, HIDDEN),
  };
  // A deterministic "text" (a scrambled walk over the vocabulary); the targets are the next characters.
  const text = Array.from({ length: BATCH * (CHUNK + 1) }, (_, i) => (i * 37 + 11) % VOCAB);
  const rows = (from: number) =>
    Array.from({ length: BATCH }, (_, b) => text.slice(b * (CHUNK + 1) + from, b * (CHUNK + 1) + from + CHUNK)).flat();
  const x = fromDataOrThrow(rows(0), [BATCH, CHUNK], "int32");
  const y = fromDataOrThrow(rows(1), [BATCH, CHUNK], "int32");
  const carry = lstm.initialCarry(BATCH, params.cell);
  const optimizer = makeOptimizer();
  return { params, x, y, carry, optimizer, optState: optimizer.init(params) };
};

/** The loss's value (with the final carry as aux) and its gradient. */
export const lossAndGradOf = valueAndGrad(loss, { hasAux: true }) as (
  p: Params,
  carry: LstmCarry,
  x: Value,
  y: Value,
) => [[Tensor, LstmCarry], Params];
