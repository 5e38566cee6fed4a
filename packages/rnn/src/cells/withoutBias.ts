/**
 * @file `withoutBias(cell)`: a PyTorch-layout cell with no `bias_ih`/`bias_hh` (PyTorch's
 * `nn.RNNCell/LSTMCell/GRUCell(..., bias=False)`). A wrapper rather than an init option so the
 * types stay honest: `lstm.init` keeps returning parameters whose biases are always there (code
 * reading `p.bias_ih` is unaffected), while this cell's parameters have no bias fields to read.
 */
import * as T from "@rewind/tensor";
import type { Cell } from "../Cell.js";
import type { TorchCellParams } from "./common.js";
import { elmanRelu, elmanTanh } from "./elman.js";
import { gru } from "./gru.js";
import { lstm } from "./lstm.js";
import { peepholeLstm } from "./peephole.js";

/**
 * The parameters of a PyTorch-layout cell without its two biases.
 * @example const p: WithoutBias<TorchCellParams> = withoutBias(gru).init(random.key(0), sizes)
 */
export type WithoutBias<P extends TorchCellParams> = Omit<P, "bias_ih" | "bias_hh">;

/** The cells whose step reads absent biases as "no bias" (checkTorchParams allows both absent). */
const TORCH_CELLS: ReadonlySet<unknown> = new Set([elmanTanh, elmanRelu, lstm, gru, peepholeLstm]);

/** Drops the two biases (a new record; the others are kept as they are). */
const strip = <P extends TorchCellParams>(p: P): WithoutBias<P> => {
  const { bias_ih: _ih, bias_hh: _hh, ...rest } = p;
  return rest;
};

/**
 * The PyTorch-layout `cell` (elmanTanh, elmanRelu, lstm, gru or peepholeLstm) without biases, as
 * PyTorch's `bias=False`: its `init` returns the weights only (the same weights `cell.init` draws
 * from the same key), and its step adds no bias (GRU: n = tanh(W_in x + r ⊙ (W_hn h))).
 * `forgetBias` is refused: there is no bias to set.
 * @throws TensorException for any other cell.
 * @example
 * const cell = withoutBias(lstm)
 * const p = cell.init(random.key(0), { inputSize: 3, hiddenSize: 8 }) // { weight_ih, weight_hh }
 * const { outputs } = rnn(cell, p, xs)
 */
export const withoutBias = <P extends TorchCellParams, C>(cell: Cell<P, C>): Cell<WithoutBias<P>, C> => {
  if (!TORCH_CELLS.has(cell)) {
    T.fail({
      _tag: "ValueError",
      op: "withoutBias",
      arg: "cell",
      detail:
        `expected a built-in PyTorch-layout cell, got ${describeCell(cell)}; ` +
        "other cells' steps always read their biases",
      fix: "pass elmanTanh, elmanRelu, lstm, gru or peepholeLstm (a custom cell leaves its bias out of its own init)",
    });
  }
  const name = `${cell.name}WithoutBias`;
  // The wrapped cell receives parameters without the two bias fields; the built-in cells check
  // that both are absent (checkTorchParams) and then add no bias, so the record is valid for them.
  // Biases that are there anyway are refused: this cell would otherwise add them.
  const full = (op: string, p: WithoutBias<P>): P => {
    const rec: unknown = p;
    const found = ["bias_ih", "bias_hh"].filter(
      (f) => typeof rec === "object" && rec !== null && (rec as Record<string, unknown>)[f] !== undefined,
    );
    if (found.length > 0) {
      T.fail({
        _tag: "ValueError",
        op: `${name}.${op}`,
        arg: `params.${found[0]!}`,
        detail: `a cell without bias got params holding ${found.join(" and ")}`,
        fix: `pass the parameters ${name}.init returned, or use ${cell.name} for parameters with biases`,
      });
    }
    return p as unknown as P;
  };
  return Object.freeze({
    name,
    init: (key, sizes, options) => {
      const o: unknown = options;
      if (typeof o === "object" && o !== null && (o as { forgetBias?: unknown }).forgetBias !== undefined) {
        T.fail({
          _tag: "ValueError",
          op: `${name}.init`,
          arg: "options.forgetBias",
          detail: "forgetBias sets the forget gate's bias, and a cell without bias has none",
          fix: `drop forgetBias, or use ${cell.name} (with biases) to start the forget gate open`,
        });
      }
      return strip(cell.init(key, sizes, options));
    },
    initialCarry: (batch, p) => cell.initialCarry(batch, full("initialCarry", p)),
    step: (p) => cell.step(full("step", p)),
    outputSize: (p) => cell.outputSize(full("outputSize", p)),
    ...(cell.inputSize === undefined
      ? {}
      : { inputSize: (p: WithoutBias<P>) => cell.inputSize!(full("inputSize", p)) }),
  } satisfies Cell<WithoutBias<P>, C>);
};

/** A short description of a non-cell or another cell, for the message. */
const describeCell = (cell: unknown): string => {
  const n: unknown = typeof cell === "object" && cell !== null ? (cell as { name?: unknown }).name : undefined;
  return typeof n === "string" ? `the cell ${JSON.stringify(n.slice(0, 40))}` : cell === null ? "null" : typeof cell;
};
