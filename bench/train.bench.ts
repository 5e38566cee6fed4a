/**
 * @file Benchmark of a whole training step: the char-rnn model of `pnpm start` (ids → embedding
 * 32 → LSTM 128 → linear over a vocabulary of 89; batch 32 streams of 64 characters, float32)
 * with gradient clipping at 5 and Adam under a cosine-decayed learning rate, as
 * examples/char-rnn builds it. Two ways of running the same step:
 *
 * - **split**: `jit(valueAndGrad(loss))` for the loss and gradient, then the optimizer update and
 *   `applyUpdates` eagerly, op by op (how every example trained before the optimizer state was
 *   made of tensors: a jitted update used to retrace at every step);
 * - **one jit**: loss, gradient, clipping, Adam and `applyUpdates` traced once into one compiled
 *   program, with the old parameters and optimizer state donated so their buffers are reused.
 *
 * Both run from the same parameters and data; the one-jit case is the split case's ratio.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { jit, logSoftmax, mean, mul, neg, oneHot, sum, take, valueAndGrad, type Value } from "@rewind/autodiff";
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
import { adam, applyUpdates, chain, clipByGlobalNorm, cosineDecay, type StateOf } from "@rewind/optim";
import type { BenchSuite } from "./run.js";

const VOCAB = 89;
const EMBED = 32;
const HIDDEN = 128;
const BATCH = 32;
const CHUNK = 64;

interface Params {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly readout: LinearParams;
}

const makeOptimizer = () =>
  chain(clipByGlobalNorm(5), adam({ learningRate: cosineDecay({ initValue: 2e-2, decaySteps: 800, alpha: 0.1 }) }));
type OptState = StateOf<ReturnType<typeof makeOptimizer>>;

/** Mean nats per character of the chunk, with the LSTM's final carry as aux (the next chunk starts from it). */
const loss = (p: Params, carry: LstmCarry, x: Value, y: Value): [Value, LstmCarry] => {
  const { outputs, finalCarry } = rnn(lstm, p.cell, take(p.embed.weight, x, 0), { initialCarry: carry });
  const logits = linear(VOCAB).apply(p.readout)(outputs);
  return [mean(neg(sum(mul(oneHot(y, VOCAB), logSoftmax(logits, -1)), { axis: -1 }))), finalCarry];
};

/** The model as `pnpm start` initialises it, a fixed chunk of ids and next-character targets, and a zero carry. */
const setup = () => {
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

const lossAndGradOf = valueAndGrad(loss, { hasAux: true }) as (
  p: Params,
  carry: LstmCarry,
  x: Value,
  y: Value,
) => [[Tensor, LstmCarry], Params];

const NAME = `char-rnn train step B=${BATCH} T=${CHUNK} H=${HIDDEN} f32, clip + Adam`;
const SPLIT = `${NAME}: split (jit(valueAndGrad) + eager update)`;

export const suite: BenchSuite = {
  name: "train",
  cases: [
    {
      name: SPLIT,
      minRepeats: 10,
      maxRepeats: 30,
      setup: () => {
        const s = setup();
        const lossAndGrad = jit(lossAndGradOf);
        let { params, optState } = s;
        return () => {
          const [[value], grads] = lossAndGrad(params, s.carry, s.x, s.y);
          const [updates, next] = s.optimizer.update(grads, optState, params);
          params = applyUpdates(params, updates);
          optState = next;
          return value;
        };
      },
    },
    {
      name: `${NAME}: one jit, donated`,
      baseline: SPLIT,
      minRepeats: 10,
      maxRepeats: 30,
      setup: () => {
        const s = setup();
        const trainStep = jit(
          (params: Params, optState: OptState, carry: LstmCarry, x: Tensor, y: Tensor) => {
            const [[value, finalCarry], grads] = lossAndGradOf(params, carry, x, y);
            const [updates, next] = s.optimizer.update(grads, optState, params);
            return [applyUpdates(params, updates), next, finalCarry, value] as const;
          },
          { donate: [0, 1] },
        );
        let { params, optState } = s;
        return () => {
          const [nextParams, nextState, , value] = trainStep(params, optState, s.carry, s.x, s.y);
          params = nextParams;
          optState = nextState;
          return value;
        };
      },
    },
  ],
};
