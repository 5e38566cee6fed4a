/**
 * @file The two models of the `parallel` example and their parameter counts: character ids →
 * embedding → recurrence → linear readout → logits, where the recurrence is either two stacked
 * minGRU layers run in parallel over time (`rnn(minGru, …, { mode: "parallel" })`) or one LSTM
 * run step by step (`rnn(lstm, …)`, the default sequential scan). Both start every chunk from a
 * zero state.
 */
import { random, type Key } from "@rewind/tensor";
import { logSoftmax, mean, mul, neg, oneHot, sum, take, type Concrete, type Value } from "@rewind/autodiff";
import {
  embedding,
  linear,
  lstm,
  minGru,
  rnn,
  type EmbeddingParams,
  type LinearParams,
  type MinimalCellParams,
  type TorchCellParams,
} from "@rewind/rnn";

export interface Sizes {
  readonly vocab: number;
  readonly embed: number;
  readonly hidden: number;
}

export interface MinGruParams {
  readonly embed: EmbeddingParams;
  /** Two layers: the second reads the first's outputs (plain code; no `stack`). */
  readonly layers: readonly [MinimalCellParams, MinimalCellParams];
  readonly readout: LinearParams;
}

export interface LstmParams {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly readout: LinearParams;
}

/** Parameters of embed + two minGRU layers + readout: V·E + (2H·E + 2H) + (2H·H + 2H) + (V·H + V). */
export const minGruCount = ({ vocab: v, embed: e, hidden: h }: Sizes): number =>
  v * e + (2 * h * e + 2 * h) + (2 * h * h + 2 * h) + (v * h + v);

/** Parameters of embed + LSTM (PyTorch's two biases) + readout: V·E + 4H(E + H) + 8H + (V·H + V). */
export const lstmCount = ({ vocab: v, embed: e, hidden: h }: Sizes): number =>
  v * e + (4 * h * (e + h) + 8 * h) + (v * h + v);

/** The minGRU hidden size whose parameter count is closest to `target` (with the same V and E). */
export const matchMinGruHidden = (target: number, vocab: number, embed: number): number => {
  let best = 1;
  for (let h = 1; minGruCount({ vocab, embed, hidden: h }) <= 2 * target; h++)
    if (
      Math.abs(minGruCount({ vocab, embed, hidden: h }) - target) <
      Math.abs(minGruCount({ vocab, embed, hidden: best }) - target)
    )
      best = h;
  return best;
};

/** PyTorch's initialisations (embedding N(0, 1), the cells and readout uniform ±1/√fan), float32. */
export const initMinGru = (key: Key, s: Sizes): Concrete<MinGruParams> => {
  const [k0, k1, k2, k3] = random.split(key, 4) as [Key, Key, Key, Key];
  return {
    embed: embedding(s.vocab, s.embed).init(k0, 1),
    layers: [
      minGru.init(k1, { inputSize: s.embed, hiddenSize: s.hidden }),
      minGru.init(k2, { inputSize: s.hidden, hiddenSize: s.hidden }),
    ],
    readout: linear(s.vocab).init(k3, s.hidden),
  };
};

export const initLstm = (key: Key, s: Sizes): Concrete<LstmParams> => {
  const [k0, k1, k2] = random.split(key, 3) as [Key, Key, Key];
  return {
    embed: embedding(s.vocab, s.embed).init(k0, 1),
    cell: lstm.init(k1, { inputSize: s.embed, hiddenSize: s.hidden }),
    readout: linear(s.vocab).init(k2, s.hidden),
  };
};

const readout = (p: LinearParams, h: Value): Value => linear(p.weight.shape[0]!).apply(p)(h);

/**
 * Logits `[B, T, V]` for ids `[B, T]`: every step of both layers at once (`"parallel"`), or the
 * same cells one step after another (`"sequential"`: the same values, for timing it).
 */
export const minGruLogits =
  (mode: "parallel" | "sequential") =>
  (p: MinGruParams, x: Value): Value => {
    const first = rnn(minGru, p.layers[0], take(p.embed.weight, x, 0), { mode }).outputs;
    const second = rnn(minGru, p.layers[1], first, { mode }).outputs;
    return readout(p.readout, second);
  };

/** Logits `[B, T, V]` for ids `[B, T]`: the LSTM one step after another. */
export const lstmLogits = (p: LstmParams, x: Value): Value =>
  readout(p.readout, rnn(lstm, p.cell, take(p.embed.weight, x, 0)).outputs);

/** Negative log-likelihood of each target, `[B, T]`, in nats. */
const nll = (logits: Value, y: Value): Value =>
  neg(sum(mul(oneHot(y, logits.shape[2]!), logSoftmax(logits, -1)), { axis: -1 }));

/** Mean nats/char of a batch (the training loss). */
export const meanLoss =
  <P>(logits: (p: P, x: Value) => Value) =>
  (p: P, x: Value, y: Value): Value =>
    mean(nll(logits(p, x), y));

/** Summed nats of a batch (held-out scoring: summed over every chunk, divided once at the end). */
export const sumLoss =
  <P>(logits: (p: P, x: Value) => Value) =>
  (p: P, x: Value, y: Value): Value =>
    sum(nll(logits(p, x), y));
