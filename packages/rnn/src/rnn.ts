/**
 * @file `rnn`: run a cell over a batch of sequences as one `scan` over time, with per-sample
 * lengths, either layout, either direction, and per-step noise for dropout.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import { treeMap, type ScanOptions, type Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { validateLengths } from "./lengths.js";
import { checkFlag, checkKey, checkOptions, checkValue, swapBatchTime } from "./util.js";
import { checkCell } from "./custom.js";
import { checkContextFor } from "./context.js";
import { checkSequenceRank, explainStepInput } from "./rnnInput.js";
import { checkParallel, runParallel } from "./rnnParallel.js";
import { pickLast, runLoop, type Keep, type Kept } from "./rnnScan.js";

/** Options of `rnn`. */
export interface RnnOptions<C, X = undefined> {
  /** The carry at the first step (default: `cell.initialCarry(batch, params)`). */
  readonly initialCarry?: C;
  /** Valid steps per sample (int32 `[batch]` or numbers). Past it the carry freezes and outputs are 0. */
  readonly lengths?: Value | readonly number[];
  /** xs and outputs are `[time, batch, features]` instead of `[batch, time, features]`. */
  readonly timeMajor?: boolean;
  /** Read each sequence (each sample's valid prefix) from its end; outputs stay aligned with xs. */
  readonly reverse?: boolean;
  /**
   * Turns on the cell's noise (dropout); without a key the cell runs deterministically. The s-th
   * step processed (counting from each sequence's start, or from its end with `reverse`) draws
   * from the s-th key of `split(key, time)`, with or without `lengths`.
   */
  readonly key?: Key;
  /** Passed to `scan`: what the forward pass keeps for the gradient (`"all"`, `"carries"`, `{ every: k }`). */
  readonly remat?: ScanOptions["remat"];
  /**
   * The old name of `remat`, passed to `scan` as is (giving both is an error).
   * @deprecated Use `remat`; "checkpoint" now only means saved training state.
   */
  readonly checkpoint?: ScanOptions["checkpoint"];
  /** Passed to `scan`: cell steps per loop iteration (speed only; values are identical). */
  readonly unroll?: ScanOptions["unroll"];
  /** Passed to `scan`: stop the carry's gradient every k steps (truncated BPTT). */
  readonly truncate?: ScanOptions["truncate"];
  /**
   * `"sequential"` (default): the cell's `step` in a `scan` over time. `"parallel"`: the cell's
   * `sequence` form, every step at once (cells such as `minGru` and `minLstm`); same values to
   * rounding, same `lengths`, `reverse` and layout; the scan-only options (key, remat, unroll,
   * truncate) are refused.
   */
  readonly mode?: "sequential" | "parallel";
  /**
   * The per-sequence context of a cell that reads one (e.g. `{ memory, lengths }` for an
   * attention cell): given to `cell.step(params, context)` once, so every step reads the same
   * value (a scan constant) and its gradient flows back. Refused for a cell that reads none, and
   * in mode "parallel" (the `sequence` forms take no context).
   */
  readonly context?: X;
}

/** Every key of `RnnOptions`, as `keysOf` wants them (so a new option must be listed here). */
const RNN_OPTION_FLAGS = {
  initialCarry: true,
  lengths: true,
  timeMajor: true,
  reverse: true,
  key: true,
  remat: true,
  checkpoint: true,
  unroll: true,
  truncate: true,
  mode: true,
  context: true,
} as const satisfies { readonly [K in keyof RnnOptions<unknown>]-?: true };

/** The keys of `RnnOptions`, for the options check of `rnn` and the layer shapes built on it. */
export const RNN_OPTION_KEYS = keysOf<RnnOptions<unknown>>(RNN_OPTION_FLAGS);

/** Options of `rnn` itself: `RnnOptions`, plus whether to return the per-step outputs. */
export interface RnnCallOptions<C, X = undefined> extends RnnOptions<C, X> {
  /**
   * `false`: return only `finalCarry`, and never stack the per-step outputs `[batch, time, out]`
   * (eagerly they would be computed and held; under `jit` unread outputs are dropped anyway).
   * For final-state uses such as an encoder. Default `true`. Mode "parallel" still computes the
   * outputs (its cell forms return them) and drops them.
   */
  readonly outputs?: boolean;
}

/** The keys of `RnnCallOptions`: `RNN_OPTION_KEYS` and `outputs`. */
export const RNN_CALL_KEYS = keysOf<RnnCallOptions<unknown>>({ ...RNN_OPTION_FLAGS, outputs: true });

/** What `rnn` returns: per-step outputs (in the input layout) and each sample's final carry. */
export interface RnnResult<C, Y = Value> {
  /**
   * The cell's output at every step, `[batch, time, out]` (or time-major); 0 past a sample's
   * length. A cell with several outputs per step (`Y` a tree) gets each leaf stacked so.
   */
  readonly outputs: Y;
  /** Each sample's carry after its last valid step. */
  readonly finalCarry: C;
}

/** What `rnn` returns with `outputs: false`: each sample's final carry, and no per-step outputs. */
export interface RnnFinal<C> {
  /** Each sample's carry after its last valid step. */
  readonly finalCarry: C;
}

/** A wrong `mode` as the message shows it: a string quoted, anything else by its type. */
const describeMode = (mode: unknown): string => (typeof mode === "string" ? `"${mode}"` : typeof mode);

/**
 * Runs `cell` over `xs` (`[batch, time, ...features]`, or time-major) as a `scan` over time; x_t
 * is `[batch, ...features]` (`[batch]` token ids for int32 `[batch, time]` xs, e.g. in front of an
 * embedding). Its gradient is backpropagation through time, derived from the scan.
 * Each x_t must have the parameters' dtype (the built-in cells refuse float32 inputs to float64
 * parameters rather than promote). A batch or a sequence of size 0 gives empty outputs, and with
 * no steps the final carry is the initial one.
 * With `outputs: false` it returns only `finalCarry` and never stacks the per-step outputs.
 * A cell that reads a per-sequence context (an attention cell) gets `options.context`, bound once
 * outside the loop; a cell whose steps output a tree (`{ output, weights }`) gets each leaf stacked.
 * @throws TensorException for a non-cell, xs that is not a tensor with batch and time axes,
 * invalid `lengths`, non-boolean `timeMajor`/`reverse`/`outputs`, a `key` that is not a PRNG key,
 * or a context the cell does not read, lacks, or refuses.
 * @example const { outputs, finalCarry } = rnn(lstm, params, xs, { lengths: [5, 3] })
 * @example const { finalCarry } = rnn(gru, params, xs, { outputs: false }) // no [B, T, H] held
 * @example rnn(additiveAttention(gru), p, xs, { context: { memory: encOut, lengths: [7, 4] } })
 */
export function rnn<P, C, X = undefined, Y = Value>(
  cell: Cell<P, C, X, Y>,
  params: NoInfer<P>,
  xs: Value,
  opts: RnnOptions<C, NoInfer<X>> & { readonly outputs: false },
): RnnFinal<C>;
export function rnn<P, C, X = undefined, Y = Value>(
  cell: Cell<P, C, X, Y>,
  params: NoInfer<P>,
  xs: Value,
  opts?: RnnOptions<C, NoInfer<X>> & { readonly outputs?: true },
): RnnResult<C, Y>;
export function rnn<P, C, X = undefined, Y = Value>(
  cell: Cell<P, C, X, Y>,
  params: NoInfer<P>,
  xs: Value,
  opts?: RnnCallOptions<C, NoInfer<X>>,
): RnnFinal<C> & Partial<RnnResult<C, Y>>;
export function rnn<P, C, X = undefined, Y = Value>(
  cell: Cell<P, C, X, Y>,
  params: NoInfer<P>,
  xs: Value,
  opts: RnnCallOptions<C, X> = {},
): RnnFinal<C> & Partial<RnnResult<C, Y>> {
  checkCell("rnn", "cell", cell);
  checkValue("rnn", "xs", xs);
  checkOptions("rnn", "options", opts, RNN_CALL_KEYS);
  checkFlag("rnn", "options.outputs", opts.outputs);
  const { outputs = true, ...rest } = opts;
  // A cell's tree of outputs is stacked leaf by leaf; runRnn is written for one tensor per step.
  const run = runRnn(cell as unknown as Cell<P, C, X>, params, xs, rest, { outputs, last: false });
  return run.ys === undefined
    ? { finalCarry: run.finalCarry }
    : { outputs: run.ys as unknown as Y, finalCarry: run.finalCarry };
}

/**
 * `rnn` keeping only the outputs `keep` asks for, in the caller's layout (`ys` batch-major unless
 * `timeMajor`); checks everything but the option keys (each caller checks its own).
 * @internal For the layer shapes (many-to-one); not re-exported from the package index.
 * @example runRnn(gru, params, xs, { lengths: [5, 3] }, { outputs: false, last: true }).last // [2, H]
 */
export const runRnn = <P, C, X>(
  cell: Cell<P, C, X>,
  params: P,
  xs: Value,
  opts: RnnOptions<C, X>,
  keep: Keep,
): Kept<C> => {
  checkCell("rnn", "cell", cell);
  checkValue("rnn", "xs", xs);
  checkFlag("rnn", "options.timeMajor", opts.timeMajor);
  checkFlag("rnn", "options.reverse", opts.reverse);
  checkKey("rnn", "options.key", opts.key);
  if (opts.mode !== undefined && opts.mode !== "sequential" && opts.mode !== "parallel")
    T.fail({
      _tag: "ValueError",
      op: "rnn",
      arg: "options.mode",
      detail: `mode must be "sequential" or "parallel", got ${describeMode(opts.mode)}`,
      fix: 'pass mode: "parallel" for a cell with a sequence form, or leave it out',
    });
  checkSequenceRank(xs, opts.timeMajor ?? false);
  const timeMajor = opts.timeMajor ?? false;
  // Batch-major ↔ time-major swaps the two leading axes; per-step features (none for token ids) stay.
  const seq = timeMajor ? xs : swapBatchTime(xs);
  const [time, batch] = seq.shape as [number, number];
  const init = opts.initialCarry ?? cell.initialCarry(batch, params);
  const lengths = opts.lengths === undefined ? undefined : validateLengths("rnn", opts.lengths, batch, time);
  const reverse = opts.reverse ?? false;
  checkContextFor("rnn", "options.context", cell, opts.context, batch, params);
  let run: Kept<C>;
  if (opts.mode === "parallel") {
    if (opts.context !== undefined)
      T.fail({
        _tag: "ValueError",
        op: "rnn",
        arg: "options.context",
        detail: `mode "parallel" runs ${cell.name}'s sequence form, which reads no context`,
        fix: 'leave mode out (or "sequential") to run a cell with context step by step',
      });
    // The cell's sequence form returns every output, so this mode stacks them whatever is read.
    checkParallel(cell as unknown as Cell<unknown, unknown>, opts as Readonly<Record<string, unknown>>);
    const [finalCarry, ys] = runParallel(cell, params, init, seq, lengths, reverse);
    run = {
      finalCarry,
      ...(keep.outputs ? { ys } : {}),
      ...(keep.last ? { last: pickLast(ys, lengths, reverse) } : {}),
    };
  } else {
    const scanOpts: ScanOptions = {
      length: time,
      ...(opts.remat === undefined ? {} : { remat: opts.remat }),
      ...(opts.checkpoint === undefined ? {} : { checkpoint: opts.checkpoint }),
      ...(opts.unroll === undefined ? {} : { unroll: opts.unroll }),
      ...(opts.truncate === undefined ? {} : { truncate: opts.truncate }),
    };
    // The context is bound once, outside the loop: the scan body closes over it as a constant.
    const step = explainStepInput(cell.name, xs, timeMajor, cell.step(params, opts.context));
    run = runLoop({ cell, params, step, init, seq, lengths, reverse, key: opts.key, scanOpts }, keep);
  }
  return run.ys === undefined || timeMajor ? run : { ...run, ys: treeMap(swapBatchTime, run.ys) };
};
