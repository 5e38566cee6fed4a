/**
 * @file The synchronous shapes of a recurrent layer, each a short combinator over `rnn`:
 * many-to-one, many-to-many, and one-to-many with a vector input (repeated, or fed once).
 * Autoregressive generation is in generate.ts, encoder–decoder in seq2seq.ts.
 *
 * `mode: "parallel"` (a cell with a `sequence` form): every shape here knows all its inputs before
 * the first step — xs, or the vector repeated, or the vector then zeros — so each runs its cell
 * in parallel like `rnn`, with the same values. The one-to-many shape that feeds each output back
 * as the next input (`generate`) is inherently sequential: step t's input is step t−1's result,
 * so it has no parallel mode.
 */
import * as T from "@rewind/tensor";

import {
  broadcastTo,
  expandDims,
  gather,
  isValue,
  maximum,
  pad,
  reshape,
  slice,
  sub,
  type Value,
} from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { validateLengths } from "./lengths.js";
import { rnn, RNN_OPTION_KEYS, type RnnOptions, type RnnResult } from "./rnn.js";
import { checkFunction, checkOptions, checkSteps, checkVector, swapBatchTime } from "./util.js";
import { overSteps } from "./combinatorSequences.js";

// ---------------------------------------------------------------------------------------------
// many-to-one, many-to-many, one-to-many with a vector input

/** What `manyToOne` returns: the last valid output per sample, all outputs, and the final carry. */
export interface ManyToOneResult<C> extends RnnResult<C> {
  /** `[batch, features]`: each sample's output at its last valid step (zeros for length 0). */
  readonly output: Value;
}

/**
 * Many-to-one (e.g. sentiment classification): runs `rnn` and picks each sample's output at its
 * last valid step, `length − 1` (with `reverse`, the last step read is step 0). A sample of
 * length 0 has no valid step: its output is zeros (and its final carry the initial carry).
 * @example const { output } = manyToOne(gru, params, xs, { lengths: [5, 3] }) // output [2, H]
 */
export const manyToOne = <P, C>(
  cell: Cell<P, C>,
  params: NoInfer<P>,
  xs: Value,
  opts: RnnOptions<C> = {},
): ManyToOneResult<C> => {
  checkOptions("manyToOne", "options", opts, RNN_OPTION_KEYS);
  const res = rnn(cell, params, xs, opts);
  const seq = (opts.timeMajor ?? false) ? res.outputs : swapBatchTime(res.outputs);
  const [time, batch, features] = seq.shape as [number, number, number];
  if (time === 0) return { ...res, output: broadcastTo(T.scalar(0, seq.dtype), [batch, features]) };
  let output: Value;
  if (opts.reverse ?? false) output = reshape(slice(seq, [{ start: 0, stop: 1 }]), [batch, features]);
  else if (opts.lengths === undefined)
    output = reshape(slice(seq, [{ start: time - 1, stop: time }]), [batch, features]);
  else {
    // Length 0 gathers step 0, which rnn has already zeroed (outputs past a length are 0).
    const last = maximum(sub(validateLengths("manyToOne", opts.lengths, batch, time), 1), 0);
    output = reshape(gather(seq, reshape(last, [1, batch, 1]), 0), [batch, features]);
  }
  return { ...res, output };
};

/** Options of `manyToMany`: `rnn`'s, plus a readout applied to every step's output. */
export interface ManyToManyOptions<C> extends RnnOptions<C> {
  /** Maps y_t `[batch, H]` to `[batch, V]` inside the loop (e.g. a linear layer for per-frame labels). */
  readonly readout?: (y: Value) => Value;
}

const MANY_TO_MANY_KEYS: readonly string[] = [...RNN_OPTION_KEYS, "readout"];

/** The cell with `readout` applied to its output (inside the scan, so it sees exactly y_t). */
const withReadout = <P, C>(cell: Cell<P, C>, readout: (y: Value) => Value): Cell<P, C> => {
  const checked = (y: Value): Value => {
    const out = readout(y);
    if (!isValue(out)) {
      T.fail({
        _tag: "ValueError",
        op: "manyToMany",
        arg: "options.readout",
        detail: `readout must return a tensor [batch, features], got ${out === null ? "null" : typeof out}`,
        fix: "return one row per sample from readout",
      });
    }
    return out;
  };
  const { sequence } = cell;
  return {
    ...cell,
    name: `${cell.name}+readout`,
    step: (p) => {
      const step = cell.step(p);
      return (c, x, n) => {
        const [next, y] = step(c, x, n);
        return [next, checked(y)];
      };
    },
    // Parallel mode: the readout on every step's output at once (the cell's own sequence would skip it).
    ...(sequence === undefined
      ? {}
      : {
          sequence: (p: P) => {
            const s = sequence(p);
            return (c: C, xs: Value, lengths?: Value) => {
              const [next, ys] = s(c, xs, lengths);
              return [next, overSteps(checked, ys)] as const;
            };
          },
        }),
  };
};

/**
 * Many-to-many, synchronised (per-frame labelling): one output per input step, optionally through
 * a readout. Outputs past a sample's length are zero (also after the readout). In mode "parallel"
 * the readout maps every step's rows at once, so it must treat rows independently (as a linear
 * layer does).
 * @example const { outputs } = manyToMany(lstm, p, xs, { readout: (y) => add(matmul(y, W), b) }) // [B, T, V]
 */
export const manyToMany = <P, C>(
  cell: Cell<P, C>,
  params: NoInfer<P>,
  xs: Value,
  opts: ManyToManyOptions<C> = {},
): RnnResult<C> => {
  checkOptions("manyToMany", "options", opts, MANY_TO_MANY_KEYS);
  const { readout, ...rest } = opts;
  checkFunction("manyToMany", "options.readout", readout, true);
  return rnn(readout === undefined ? cell : withReadout(cell, readout), params, xs, rest);
};

/**
 * One-to-many with the vector repeated: `v` `[batch, features]` is the input at every one of
 * `steps` steps (e.g. an image embedding conditioning every step of a caption).
 * @example const { outputs } = repeatInput(gru, p, imageVec, 10) // [B, 10, H]
 */
export const repeatInput = <P, C>(
  cell: Cell<P, C>,
  params: NoInfer<P>,
  v: Value,
  steps: number,
  opts: RnnOptions<C> = {},
): RnnResult<C> => {
  checkVector("repeatInput", "v", v);
  checkOptions("repeatInput", "options", opts, RNN_OPTION_KEYS);
  checkSteps("repeatInput", "steps", steps, 0);
  const [batch, features] = v.shape as [number, number];
  const tm = opts.timeMajor ?? false;
  const xs = broadcastTo(expandDims(v, tm ? 0 : 1), tm ? [steps, batch, features] : [batch, steps, features]);
  return rnn(cell, params, xs, opts);
};

/**
 * One-to-many with the vector fed once: `v` is the input at step 0 and zeros follow, so later
 * steps run on the carry alone.
 * @example const { outputs } = feedOnce(gru, p, v, 10) // [B, 10, H]
 */
export const feedOnce = <P, C>(
  cell: Cell<P, C>,
  params: NoInfer<P>,
  v: Value,
  steps: number,
  opts: RnnOptions<C> = {},
): RnnResult<C> => {
  checkVector("feedOnce", "v", v);
  checkOptions("feedOnce", "options", opts, RNN_OPTION_KEYS);
  checkSteps("feedOnce", "steps", steps, 1);
  const tm = opts.timeMajor ?? false;
  const xs = pad(
    expandDims(v, tm ? 0 : 1),
    tm
      ? [
          [0, steps - 1],
          [0, 0],
          [0, 0],
        ]
      : [
          [0, 0],
          [0, steps - 1],
          [0, 0],
        ],
  );
  return rnn(cell, params, xs, opts);
};

// ---------------------------------------------------------------------------------------------
// Token choice
