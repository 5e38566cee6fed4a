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

import { broadcastTo, expandDims, isValue, pad, type Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { rnn, RNN_CALL_KEYS, RNN_OPTION_KEYS, runRnn, type RnnOptions, type RnnResult } from "./rnn.js";
import { checkFlag, checkFunction, checkOptions, checkSteps, checkVector } from "./util.js";
import { overSteps } from "./combinatorSequences.js";

// ---------------------------------------------------------------------------------------------
// many-to-one, many-to-many, one-to-many with a vector input

/** Options of `manyToOne`: `rnn`'s, plus whether to also stack every step's output. */
export interface ManyToOneOptions<C, X = undefined> extends RnnOptions<C, X> {
  /**
   * `true`: also return `outputs`, every step's output stacked as `rnn` returns them (memory
   * linear in the length). Default `false`: the last valid output is carried through the loop
   * and nothing `[batch, time, out]` is materialised.
   */
  readonly outputs?: boolean;
}

/** The keys of `ManyToOneOptions` (those of `rnn` itself). */
const MANY_TO_ONE_KEYS = RNN_CALL_KEYS;

/** What `manyToOne` returns: each sample's last valid output and its final carry. */
export interface ManyToOneResult<C> {
  /** `[batch, features]`: each sample's output at its last valid step (zeros for length 0). */
  readonly output: Value;
  /** Each sample's carry after its last valid step. */
  readonly finalCarry: C;
  /**
   * Every step's output, `[batch, time, out]`; computed when first read, by running `rnn` again
   * with the same arguments (same values, a second forward pass).
   * @deprecated Pass `{ outputs: true }` to get them from the same pass, or call `rnn` directly.
   */
  readonly outputs: Value;
}

/** What `manyToOne(…, { outputs: true })` returns: `rnn`'s result plus the last valid output. */
export interface ManyToOneWithOutputs<C> extends RnnResult<C> {
  /** `[batch, features]`: each sample's output at its last valid step (zeros for length 0). */
  readonly output: Value;
}

/**
 * Many-to-one (e.g. sentiment classification): runs the cell over `xs` and returns each sample's
 * output at its last valid step, `length − 1` (with `reverse`, the last step read is step 0). A
 * sample of length 0 has no valid step: its output is zeros (and its final carry the initial
 * carry). The output is carried through the loop, so no per-step outputs are stacked (memory
 * O(batch · out), not O(time · batch · out)) unless `{ outputs: true }` asks for them; mode
 * "parallel" computes every output and picks from them.
 * @example const { output } = manyToOne(gru, params, xs, { lengths: [5, 3] }) // output [2, H]
 * @example const { output, outputs } = manyToOne(gru, params, xs, { outputs: true }) // and [2, T, H]
 */
export function manyToOne<P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  xs: Value,
  opts: RnnOptions<C, NoInfer<X>> & { readonly outputs: true },
): ManyToOneWithOutputs<C>;
export function manyToOne<P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  xs: Value,
  opts?: ManyToOneOptions<C, NoInfer<X>>,
): ManyToOneResult<C>;
export function manyToOne<P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  xs: Value,
  opts: ManyToOneOptions<C, X> = {},
): ManyToOneResult<C> {
  checkOptions("manyToOne", "options", opts, MANY_TO_ONE_KEYS);
  checkFlag("manyToOne", "options.outputs", opts.outputs);
  const { outputs = false, ...rest } = opts;
  const run = runRnn(cell, params, xs, rest, { outputs, last: true });
  if (run.ys !== undefined) return { output: run.last!, outputs: run.ys, finalCarry: run.finalCarry };
  const result = { output: run.last!, finalCarry: run.finalCarry };
  // The old result extended rnn's; code that still reads `outputs` gets them, computed on demand.
  // Not enumerable, so spreading or flattening the result (e.g. as a jit output) never runs it.
  let ys: Value | undefined;
  Object.defineProperty(result, "outputs", {
    enumerable: false,
    get: () => (ys ??= rnn(cell, params, xs, rest).outputs),
  });
  return result as ManyToOneResult<C>;
}

/** Options of `manyToMany`: `rnn`'s, plus a readout applied to every step's output. */
export interface ManyToManyOptions<C, X = undefined> extends RnnOptions<C, X> {
  /** Maps y_t `[batch, H]` to `[batch, V]` inside the loop (e.g. a linear layer for per-frame labels). */
  readonly readout?: (y: Value) => Value;
}

const MANY_TO_MANY_KEYS: readonly string[] = [...RNN_OPTION_KEYS, "readout"];

/** The cell with `readout` applied to its output (inside the scan, so it sees exactly y_t). */
const withReadout = <P, C, X>(cell: Cell<P, C, X>, readout: (y: Value) => Value): Cell<P, C, X> => {
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
    step: (p, ctx) => {
      const step = cell.step(p, ctx);
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
export const manyToMany = <P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  xs: Value,
  opts: ManyToManyOptions<C, NoInfer<X>> = {},
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
export const repeatInput = <P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  v: Value,
  steps: number,
  opts: RnnOptions<C, NoInfer<X>> = {},
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
export const feedOnce = <P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  v: Value,
  steps: number,
  opts: RnnOptions<C, NoInfer<X>> = {},
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
