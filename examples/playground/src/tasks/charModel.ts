/**
 * @file The character model shared by the names and Moby Dick tasks: ids → embedding → recurrent
 * cell → linear readout → logits. The embedding and the readout run outside the recurrence on
 * the whole `[B, T]` batch (one lookup, one matmul), so the scan carries only the cell and the
 * model view shows the cell step alone as the scan body; `generate` applies the same two maps one
 * step at a time.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { logSoftmax, mul, neg, oneHot, sum, take, type Value } from "@rewind/autodiff";
import {
  elmanTanh,
  embedding,
  generate,
  gru,
  linear,
  lstm,
  rnn,
  type Cell,
  type EmbeddingParams,
  type LinearParams,
  type LstmCarry,
  type TorchCellParams,
} from "@rewind/rnn";
import type { CellName } from "../protocol.js";

/** The carry of any of the three cells: LSTM `{ h, c }`, GRU and tanh RNN `h`. */
export type Carry = LstmCarry | Value;
/** Any of the three cells: they share PyTorch's parameter layout and differ only in the carry. */
export type AnyCell = Cell<TorchCellParams, Carry>;

/**
 * The cell of a name.
 * @example cellOf("gru").name // "gru"
 */
export const cellOf = (name: CellName): AnyCell => ({ lstm, gru, rnn: elmanTanh })[name] as unknown as AnyCell;

/** The character model's parameters. */
export interface CharParams {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly readout: LinearParams;
}

/** Sizes of a character model. */
export interface CharSizes {
  readonly vocab: number;
  readonly embed: number;
  readonly hidden: number;
}

/**
 * PyTorch's initialisations (embedding N(0, 1), cell and readout uniform ±1/√fan), float32.
 * @example initChar(gru, random.key(0), { vocab: 28, embed: 16, hidden: 32 }).cell.weight_hh.shape // [96, 32]
 */
export const initChar = (cell: AnyCell, key: Key, s: CharSizes): CharParams => {
  const [kEmbed, kCell, kOut] = random.split(key, 3) as [Key, Key, Key];
  return {
    embed: embedding(s.vocab, s.embed).init(kEmbed, 1),
    cell: cell.init(kCell, { inputSize: s.embed, hiddenSize: s.hidden }),
    readout: linear(s.vocab).init(kOut, s.hidden),
  };
};

const vocabOf = (p: CharParams): number => p.readout.weight.shape[0]!;

/**
 * Logits `[B, T, V]` for ids `[B, T]`; with `lengths`, steps past a sequence's length output zeros
 * (the loss masks them out).
 * @example charLogits(gru, p, ids).shape // [B, T, V]
 */
export const charLogits = (cell: AnyCell, p: CharParams, ids: Value, lengths?: Value): Value => {
  const xs = take(p.embed.weight, ids, 0);
  const { outputs } = rnn(cell, p.cell, xs, lengths === undefined ? {} : { lengths });
  return linear(vocabOf(p)).apply(p.readout)(outputs);
};

/**
 * Negative log-likelihood of each target id, `[B, T]`, in nats.
 * @example tokenNll(logits, targets).shape // [B, T]
 */
export const tokenNll = (logits: Value, targets: Value): Value =>
  neg(sum(mul(oneHot(targets, logits.shape[2]!), logSoftmax(logits, -1)), { axis: -1 }));

/** Options of `sampleChars`. */
export interface SampleOptions {
  /** Ids read before sampling starts; sampling continues from the last one. At least one id. */
  readonly prime: readonly number[];
  readonly batch: number;
  readonly length: number;
  readonly temperature: number;
  readonly key: Key;
  /** Stop a sample after this id (e.g. the end-of-name token). */
  readonly stopToken?: number;
}

/**
 * Samples `batch` continuations of `prime` (`[batch, length]` ids, and each sample's length):
 * `rnn` reads all but the prime's last id to set the state, then `generate` feeds every drawn id
 * back in, starting from the prime's last id.
 * @example sampleChars(gru, p, { prime: [0], batch: 4, length: 12, temperature: 0.8, key, stopToken: 0 })
 */
export const sampleChars = (
  cell: AnyCell,
  p: CharParams,
  o: SampleOptions,
): { readonly ids: Int32Array; readonly lengths: Int32Array } => {
  const head = o.prime.slice(0, -1);
  const start = cell.initialCarry(o.batch, p.cell);
  // Every sample reads the same prime: one row per sample.
  const readPrime = (): Carry => {
    const ids = fromDataOrThrow(Array.from({ length: o.batch }, () => head).flat(), [o.batch, head.length], "int32");
    return rnn(cell, p.cell, take(p.embed.weight, ids, 0), { initialCarry: start }).finalCarry;
  };
  const carry = head.length === 0 ? start : readPrime();
  const vocab = vocabOf(p);
  const { tokens, lengths } = generate(cell, p.cell, {
    startToken: o.prime[o.prime.length - 1]!,
    batch: o.batch,
    initialCarry: carry,
    embed: (id) => embedding(vocab, p.embed.weight.shape[1]!).apply(p.embed)(id),
    readout: (h) => linear(vocab).apply(p.readout)(h),
    maxLength: o.length,
    sampling: { kind: "temperature", temperature: o.temperature },
    key: o.key,
    ...(o.stopToken === undefined ? {} : { stopToken: o.stopToken }),
  });
  return { ids: (tokens as Tensor).data as Int32Array, lengths: (lengths as Tensor).data as Int32Array };
};
