/**
 * @file The per-sequence context a cell may read (e.g. an attention decoder's encoder outputs):
 * the one check every caller makes before binding `step(params, context)`. The context is the
 * same at every step, so the callers close the step over it (a scan constant, as `params`) rather
 * than slicing it per step; its gradient flows back through the closure like the parameters'.
 */
import * as T from "@rewind/tensor";
import type { Cell } from "./Cell.js";

/**
 * Throws unless `context` suits `cell`: given exactly when the cell reads one (it has
 * `checkContext`), and then accepted by the cell's own check for this batch and these params.
 * @example checkContextFor("rnn", "options.context", additiveAttention(gru), ctx, 4, params)
 */
export const checkContextFor = <P, C, X>(
  op: string,
  arg: string,
  cell: Cell<P, C, X>,
  context: unknown,
  batch: number,
  params: P,
): void => {
  const check = cell.checkContext;
  if (check === undefined) {
    if (context === undefined) return;
    // `return`: so that the checker narrows `check` even where `fail` is read from source.
    return T.fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `${cell.name} reads no context, but one was given`,
      fix:
        "remove the context, or give it to a cell that reads one " +
        "(e.g. additiveAttention(cell) attends over { memory, lengths })",
    });
  }
  if (context === undefined) {
    T.fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `${cell.name} reads a per-sequence context, but none was given`,
      fix: `pass ${arg}, the context the cell reads (for an attention cell: { memory: [batch, S, D], lengths? })`,
    });
  }
  check(op, context, batch, params);
};

/**
 * The inner cell's context check, for a wrapper whose params hold the inner cell's (`{}` when it
 * reads none), to spread into the wrapper.
 * @example ({ ...contextOf(inner, (p: MapInputParams<Q, P>) => p.cell) })
 */
export const contextOf = <W, P, C, X>(
  inner: Cell<P, C, X>,
  part: (p: W) => P,
): { checkContext?: (op: string, ctx: unknown, batch: number, p: W) => void } => {
  const check = inner.checkContext;
  return check === undefined ? {} : { checkContext: (op, ctx, batch, p) => check(op, ctx, batch, part(p)) };
};
