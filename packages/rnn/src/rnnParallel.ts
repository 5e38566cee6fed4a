/**
 * @file `rnn`'s parallel mode: a cell's `sequence` form over the whole input at once, with the
 * same layout, `lengths` and `reverse` semantics as the step-by-step scan.
 *
 * The cell sees batch-major xs with each sample's valid steps first (reversed: each valid prefix
 * read backwards, as the scan reads it) and `lengths`; it returns the frozen final carry and the
 * per-step outputs, which are zeroed past each length and put back in the caller's order.
 */
import * as T from "@rewind/tensor";
import { flip, reshape, where, type Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { reverseValid, stepMask } from "./lengths.js";
import { swapBatchTime } from "./util.js";

/** Options `rnn` has that only the step-by-step scan can honour. */
const SEQUENTIAL_ONLY = ["key", "remat", "checkpoint", "unroll", "truncate"] as const;

/**
 * Throws unless `cell` has a `sequence` form and `opts` asks nothing of the scan, naming `rnn`.
 * @example checkParallel(minGru, { lengths: [3] })
 */
export const checkParallel = (cell: Cell<unknown, unknown>, opts: Readonly<Record<string, unknown>>): void => {
  if (typeof cell.sequence !== "function")
    T.fail({
      _tag: "ValueError",
      op: "rnn",
      arg: "options.mode",
      detail: `mode "parallel" needs a cell with a sequence form, and ${cell.name} has only step`,
      fix: 'use mode "sequential" (the default), or a cell with both forms such as minGru or minLstm',
    });
  const asked = SEQUENTIAL_ONLY.filter((k) => opts[k] !== undefined);
  // A key means dropout: masks drawn one step at a time for the loop, which this mode does not run.
  if (asked[0] === "key" && cell.noise !== undefined)
    T.fail({
      _tag: "ValueError",
      op: "rnn",
      arg: "options.key",
      detail:
        `the key turns on ${cell.name}'s dropout, whose masks are drawn step by step for the sequential ` +
        'loop; mode "parallel" cannot honour them',
      fix:
        'train with dropout in mode "sequential", or drop the key (dropout off, e.g. to evaluate) ' +
        'in mode "parallel"',
    });
  if (asked.length > 0)
    T.fail({
      _tag: "ValueError",
      op: "rnn",
      arg: `options.${asked[0]}`,
      detail: `${asked.join(", ")} shape the step-by-step loop, which mode "parallel" does not run`,
      fix: `drop ${asked.join(", ")}, or use mode "sequential"`,
    });
};

/**
 * The cell's `sequence` form over time-major `seq` `[T, B, ...]`: returns `[finalCarry, ys]`
 * with ys time-major, zero past each length, aligned with `seq`.
 * @example const [carry, ys] = runParallel(minGru, params, init, seq, lengths, false)
 */
export const runParallel = <P, C, X>(
  cell: Cell<P, C, X>,
  params: P,
  init: C,
  seq: Value,
  lengths: Value | undefined,
  reverse: boolean,
): readonly [C, Value] => {
  const ordered = !reverse ? seq : lengths === undefined ? flip(seq, 0) : reverseValid(seq, lengths);
  const [finalCarry, out] = cell.sequence!(params)(init, swapBatchTime(ordered), lengths);
  let ys = swapBatchTime(out);
  if (lengths !== undefined) {
    const valid = stepMask(lengths, seq.shape[0]!); // [T, B]
    ys = where(reshape(valid, [...valid.shape, ...ys.shape.slice(2).map(() => 1)]), ys, 0);
  }
  if (reverse) ys = lengths === undefined ? flip(ys, 0) : reverseValid(ys, lengths);
  return [finalCarry, ys];
};
