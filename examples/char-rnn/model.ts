/**
 * @file The model: character ids → embedding → recurrent cell → linear readout → logits over the
 * vocabulary. The embedding and the readout run outside the recurrence, on the whole `[B, T]`
 * chunk at once (one lookup, one big matmul), so the scan carries only the cell; `generate` gets
 * the same two maps one step at a time.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { logSoftmax, mean, mul, neg, oneHot, sum, take, type Value } from "@rewind/autodiff";
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
import type { CellName, Config } from "./config.js";

/** The carry of any of the three cells: LSTM `{ h, c }`, GRU and tanh RNN `h`. */
export type Carry = LstmCarry | Value;
export type AnyCharCell = Cell<TorchCellParams, Carry>;

// Every cell has PyTorch's parameter layout; only the carry differs, and the trainer treats it as an opaque pytree.
export const cellOf = (name: CellName): AnyCharCell => ({ lstm, gru, rnn: elmanTanh })[name] as unknown as AnyCharCell;

export interface Params {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly readout: LinearParams;
}

/** PyTorch's initialisations (embedding N(0, 1), cell and readout uniform ±1/√fan), float32. */
export const initParams = (key: Key, config: Config, vocab: number): Params => {
  const [kEmbed, kCell, kOut] = random.split(key, 3) as [Key, Key, Key];
  return {
    embed: embedding(vocab, config.embed).init(kEmbed, 1),
    cell: cellOf(config.cell).init(kCell, { inputSize: config.embed, hiddenSize: config.hidden }),
    readout: linear(vocab).init(kOut, config.hidden),
  };
};

/** Logits `[B, T, V]` for ids `[B, T]` starting from `carry`, and the carry after the last step. */
export const forward = (
  cell: AnyCharCell,
  p: Params,
  carry: Carry,
  x: Value,
): { readonly logits: Value; readonly finalCarry: Carry } => {
  const { outputs, finalCarry } = rnn(cell, p.cell, take(p.embed.weight, x, 0), { initialCarry: carry });
  return { logits: linear(p.readout.weight.shape[0]!).apply(p.readout)(outputs), finalCarry };
};

/** Negative log-likelihood of each target, `[B, T]`, in nats. */
const nll = (logits: Value, y: Value): Value =>
  neg(sum(mul(oneHot(y, logits.shape[2]!), logSoftmax(logits, -1)), { axis: -1 }));

/** The training loss: mean nats/char over the chunk, with the final carry as aux (for the next chunk). */
export const trainLoss =
  (cell: AnyCharCell) =>
  (p: Params, carry: Carry, x: Value, y: Value): [Value, Carry] => {
    const { logits, finalCarry } = forward(cell, p, carry, x);
    return [mean(nll(logits, y)), finalCarry];
  };

/** The held-out loss of a chunk: summed nats over its unmasked characters, and the final carry. */
export const evalLoss =
  (cell: AnyCharCell) =>
  (p: Params, carry: Carry, x: Value, y: Value, mask: Value): [Value, Carry] => {
    const { logits, finalCarry } = forward(cell, p, carry, x);
    return [sum(mul(nll(logits, y), mask)), finalCarry];
  };

/**
 * `length` characters continuing `prime` (ids), drawn at `temperature` from `key`: the prime is
 * read by `rnn` to set the state, then `generate` feeds each drawn character back in, starting
 * from the prime's last character.
 */
export const sample = (
  cell: AnyCharCell,
  p: Params,
  prime: readonly number[],
  length: number,
  temperature: number,
  key: Key,
): Int32Array => {
  const head = prime.slice(0, -1);
  const start = cell.initialCarry(1, p.cell);
  const carry =
    head.length === 0 ? start : forward(cell, p, start, fromDataOrThrow(head, [1, head.length], "int32")).finalCarry;
  const vocab = p.embed.weight.shape[0]!;
  const { tokens } = generate(cell, p.cell, {
    startToken: prime[prime.length - 1]!,
    initialCarry: carry,
    embed: (id) => embedding(vocab, p.embed.weight.shape[1]!).apply(p.embed)(id),
    readout: (h) => linear(vocab).apply(p.readout)(h),
    maxLength: length,
    sampling: { kind: "temperature", temperature },
    key,
  });
  return (tokens as Tensor).data as Int32Array;
};
