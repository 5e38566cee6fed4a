/**
 * @file `rnnUnrolled`: what `rnn` means, written as a JavaScript loop over time slices — the
 * oracle of the BPTT law.
 *
 * Each step slices one time step of every sample out of xs, calls `cell.step(params)` on the
 * batch, masks the carry and output of samples past their length, and writes each sample's
 * output back at the position it read. Its gradient falls out of the per-op VJP rules (slice,
 * concat, where) and owes nothing to `scan`. Its graph grows with B·T; never use it outside tests.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { checkCell, type Cell, type RnnResult } from "@rewind/rnn";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkOptions, invalid } from "./args.js";
import { lengthsOf, samples, steps } from "./cellCase.js";
import { testingError } from "./failure.js";

/**
 * Options of `rnnUnrolled`: the semantic options of `rnn` (memory and unrolling options never
 * change results, so they are not here).
 * @example rnnUnrolled(lstm, p, xs, { lengths: [3, 1], reverse: true } satisfies RnnUnrolledOptions<LstmCarry>)
 */
export interface RnnUnrolledOptions<C> {
  /** The carry at the first step (default: `cell.initialCarry`). */
  readonly initialCarry?: C;
  /** Concrete lengths (numbers or an int32 tensor). */
  readonly lengths?: readonly number[] | T.Tensor;
  /** xs and outputs are `[time, batch, features]`. */
  readonly timeMajor?: boolean;
  /** Read each sample's valid prefix from its end. */
  readonly reverse?: boolean;
  /** Turns on the cell's noise, drawn as `rnn` draws it. */
  readonly key?: T.Key;
}

/** One step `[1, ...features]` of sample b at time t. */
const stepOf = (xs: A.Value, timeMajor: boolean, b: number, t: number): A.Value => {
  const one = steps(samples(xs, timeMajor, b), timeMajor, t, t + 1);
  return A.reshape(one, [1, ...xs.shape.slice(2)]);
};

/** A `[B]` mask broadcast against `[B, ...]` values. */
const maskFor = (mask: T.Tensor, v: A.Value): A.Value =>
  A.reshape(mask, [mask.shape[0]!, ...v.shape.slice(1).map(() => 1)]);

/**
 * The loop `rnn(cell, params, xs, opts)` stands for. Sample b reads its first `lengths[b]` steps
 * (all T without lengths) in order, or from the last valid one back when `reverse`; the carry
 * freezes and outputs are zero after that; outputs stay aligned with the inputs. With a key and a
 * cell that has `noise`, loop step s (in reading order, whatever the direction) gets
 * `cell.noise(split(key, T)[s], batch, params)`: one key per step of the loop.
 * @throws Error for traced or out-of-range lengths.
 * @example
 * const { outputs, finalCarry } = rnnUnrolled(gru, p, xs, { lengths: [4, 0, 2] })
 * expect(outputs).toBeAllClose(rnn(gru, p, xs, { lengths: [4, 0, 2] }).outputs, { rtol: 1e-12 })
 */
export const rnnUnrolled = <P, C>(
  cell: Cell<P, C>,
  params: NoInfer<P>,
  xs: A.Value,
  opts: RnnUnrolledOptions<C> = {},
): RnnResult<C> => {
  checkCell("rnnUnrolled", "cell", cell);
  checkOptions(
    "rnnUnrolled",
    "opts",
    opts,
    keysOf<RnnUnrolledOptions<unknown>>({
      initialCarry: true,
      lengths: true,
      timeMajor: true,
      reverse: true,
      key: true,
    }),
  );
  if (!A.isValue(xs) || xs.shape.length < 2)
    invalid(
      "rnnUnrolled",
      "xs",
      `must be a tensor [batch, time, ...] (or time-major), ` +
        `got ${A.isValue(xs) ? `shape [${xs.shape.join(", ")}]` : typeof xs}`,
    );
  const timeMajor = opts.timeMajor ?? false;
  const [batch, time] = (timeMajor ? [xs.shape[1], xs.shape[0]] : [xs.shape[0], xs.shape[1]]) as [number, number];
  if (opts.lengths !== undefined && !T.isTensor(opts.lengths) && !Array.isArray(opts.lengths))
    throw testingError({
      _tag: "TestArgumentError",
      op: "rnnUnrolled",
      detail: "rnnUnrolled: lengths must be concrete",
    });
  const given = lengthsOf(opts.lengths, batch, time);
  const lengths = given ?? Array.from({ length: batch }, () => time);
  const reverse = opts.reverse ?? false;
  // The position sample b reads at loop step s: forward s; backward through its valid prefix, then
  // (on padding, which is masked anyway) s itself.
  const position = (b: number, s: number): number => (!reverse ? s : s < lengths[b]! ? lengths[b]! - 1 - s : s);
  const step = cell.step(params);
  const keys =
    opts.key !== undefined && cell.noise !== undefined && time > 0 ? T.random.split(opts.key, time) : undefined;
  let carry = opts.initialCarry ?? cell.initialCarry(batch, params);
  if (time === 0 || batch === 0) {
    // No steps or no samples: the output's features come from one step on zeros, whose result is
    // discarded; the final carry is the initial one.
    const x0 = T.zeros([batch, ...xs.shape.slice(2)], xs.dtype);
    const y0 = step(carry, x0, undefined)[1];
    const shape = timeMajor ? [time, batch, ...y0.shape.slice(1)] : [batch, time, ...y0.shape.slice(1)];
    return { outputs: T.zeros(shape, y0.dtype), finalCarry: carry };
  }
  const ys: A.Value[][] = Array.from({ length: time }, () => new Array<A.Value>(batch));
  for (let s = 0; s < time; s++) {
    const rows = Array.from({ length: batch }, (_, b) => stepOf(xs, timeMajor, b, position(b, s)));
    const x = rows.length === 1 ? rows[0]! : A.concat(rows, 0);
    const noise = keys === undefined ? undefined : cell.noise!(keys[s]!, batch, params);
    const [next, yRaw] = step(carry, x, noise);
    let y = yRaw;
    if (given === undefined) {
      carry = next;
    } else {
      const mask = T.fromDataOrThrow(
        lengths.map((n) => (s < n ? 1 : 0)),
        [batch],
        "bool",
      );
      carry = A.treeMap<C>((n, c) => A.where(maskFor(mask, n), n, c), next, carry);
      y = A.where(maskFor(mask, y), y, 0);
    }
    for (let b = 0; b < batch; b++) ys[position(b, s)]![b] = A.slice(y, [{ start: b, stop: b + 1 }]);
  }
  const perTime = ys.map((row) => (row.length === 1 ? row[0]! : A.concat(row, 0)));
  return { outputs: A.stack(perTime, timeMajor ? 0 : 1), finalCarry: carry };
};
