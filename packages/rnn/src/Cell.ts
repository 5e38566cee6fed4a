/**
 * @file What a recurrent cell is: a value with `init`, `initialCarry` and `step`.
 *
 * A cell's `step(params)` is exactly a `scan` body: `(carry, x_t) → [carry', y_t]` with x_t of
 * shape `[batch, features]`. Running a cell over a sequence is a scan, and its gradient (BPTT) is
 * the scan's reverse-scan VJP — nothing in this package computes a derivative. Anything of this
 * shape is a cell: a user's own cell gets every combinator, layer shape and law.
 */
import type { DType, Key } from "@rewind/tensor";
import type { Value } from "@rewind/autodiff";

/** Sizes a cell is initialised for. Cells may read more fields (e.g. a custom cell's extra sizes). */
export interface CellSizes {
  /** Features per input step. */
  readonly inputSize: number;
  /** Size of the hidden state (and, for the built-in cells, of each step's output). */
  readonly hiddenSize: number;
}

/**
 * How weights are drawn: PyTorch's default uniform ±1/√hidden, orthogonal, Glorot uniform, or
 * identity (IRNN, Le, Jaitly & Hinton 2015: each recurrent gate block is the identity matrix and
 * the biases are zero; input weights keep PyTorch's default).
 */
export type InitScheme = "default" | "orthogonal" | "glorot" | "identity";

/** Options of `init`. */
export interface InitOptions {
  /** Parameter dtype (default float32). */
  readonly dtype?: Extract<DType, "float32" | "float64">;
  /**
   * Weight initialisation (default "default", PyTorch's). Biases use PyTorch's default, except
   * under "identity" (zero, as IRNN). Cells without a square recurrent weight refuse "identity".
   */
  readonly scheme?: InitScheme;
  /**
   * The forget gate's total bias (Gers, Schmidhuber & Cummins 2000; Jozefowicz et al. 2015 advise
   * 1), for cells with a forget gate. In PyTorch's layout, with two biases, the forget block of
   * `bias_ih` is set to it and that of `bias_hh` to 0, so their sum is `forgetBias`; the other
   * gates' biases are drawn as usual. Cells without a forget gate refuse it.
   */
  readonly forgetBias?: number;
}

/**
 * A recurrent cell over parameters `P`, carry `C` and, for a cell that reads one, a per-sequence
 * context `Ctx` (e.g. an attention decoder's encoder outputs): the same value at every step, so
 * `rnn` closes the step over it (a scan constant, like `params`) and its gradient flows back.
 * Cells without context keep `Ctx = undefined` and a one-argument `step`. Each step's output `Y`
 * is one tensor `[batch, out]`, except for cells that return more per step (e.g. an attention
 * cell's `{ output, weights }`), which `rnn` stacks leaf by leaf.
 * @example const [carry, y] = lstm.step(params)(lstm.initialCarry(4, params), x_t)
 */
export interface Cell<P = unknown, C = unknown, Ctx = undefined, Y = Value> {
  /** A short name, for messages and printed graphs. */
  readonly name: string;
  /** Parameters for the given sizes, drawn from `key`. */
  readonly init: (key: Key, sizes: CellSizes, options?: InitOptions) => P;
  /** The carry at t = 0 for a batch (zeros for the built-in cells; sizes come from `params`). */
  readonly initialCarry: (batch: number, params: P) => C;
  /**
   * The step: `(carry, x_t, noise_t?) → [carry', y_t]`, a scan body; a cell with `checkContext`
   * also reads the sequence's context (given once per sequence, checked by `checkContext` first).
   */
  readonly step: (params: P, context?: Ctx) => (carry: C, x: Value, noise?: unknown) => readonly [C, Y];
  /**
   * Present exactly when the cell reads a context: throws (naming `op` and the argument) unless
   * `context` fits a batch of `batch` and these params. Callers (`rnn`, `generate`, …) call it
   * before `step`, and refuse a context for a cell without it.
   */
  readonly checkContext?: (op: string, context: unknown, batch: number, params: P) => void;
  /**
   * Optional whole-sequence form: `(carry, xs [batch, time, in], lengths?) → [carry', ys [batch,
   * time, out]]`, every step at once (e.g. by `linearRecurrence`), for cells whose state follows a
   * recurrence that can run in parallel over time. It must equal running `step` over time: past a
   * sample's length the carry stays frozen (its ys there are not read; `rnn` zeroes them). Used by
   * `rnn(cell, params, xs, { mode: "parallel" })`.
   */
  readonly sequence?: (params: P) => (carry: C, xs: Value, lengths?: Value) => readonly [C, Value];
  /** Features of y_t. */
  readonly outputSize: (params: P) => number;
  /** Features of x_t, when the cell can tell (input dropout needs it to size its masks). */
  readonly inputSize?: (params: P) => number;
  /**
   * Optional per-step randomness (dropout masks): drawn outside the loop from one key per step
   * and fed to `step` as `noise`, so the loop itself stays deterministic and differentiable.
   */
  readonly noise?: (key: Key, batch: number, params: P) => unknown;
}

/** Parameters of a cell, inferred. */
export type ParamsOf<K> = K extends Cell<infer P, infer _C, infer _X> ? P : never;
/** Carry of a cell, inferred. */
export type CarryOf<K> = K extends Cell<infer _P, infer C, infer _X> ? C : never;
/** Context of a cell, inferred (`undefined` for a cell that reads none). */
export type ContextOf<K> = K extends Cell<infer _P, infer _C, infer X> ? X : never;
