/**
 * @file What the RNN laws share beyond the law toolkit (lawKit.ts: tolerances, violations,
 * comparisons): their options (the implementations under test, injectable so the tests can show
 * each law failing on a broken one) and the outcome of one way of running a case (outputs, final
 * carry, loss and gradients).
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { bidirectional, rnn, stack, type AnyCell, type Cell, type RnnOptions, type RnnResult } from "@rewind/rnn";
import { describeCase, lossOf, type CellCase } from "./cellCase.js";
import { testingError } from "./failure.js";
import type { LawOptions, VmapImpl } from "./lawOptions.js";

/**
 * Anything with the signature of `rnn` returning its outputs (the laws read them, so the
 * `outputs: false` form is not part of it): the layer implementation a law checks.
 * @example
 * const ignoresLengths: RnnImpl = (cell, p, xs, o = {}) => rnn(cell, p, xs, { ...o, lengths: undefined as never })
 */
export type RnnImpl = <P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  xs: A.Value,
  opts?: RnnOptions<C, NoInfer<X>>,
) => RnnResult<C>;

/**
 * Anything that stacks cells like `stack` (the stacking law checks it).
 * @example const myStack: StackImpl = (cells) => stack(cells)
 */
export type StackImpl = (cells: readonly AnyCell[]) => AnyCell;

/**
 * Anything with the signature of `bidirectional` (the bidirectional padding law checks it).
 * @example const bi: BidirectionalImpl = bidirectional
 */
export type BidirectionalImpl = typeof bidirectional;

/**
 * Anything with the signature of `jit` (the invariance law checks it).
 * @example const noJit: JitImpl = (f) => f
 */
export type JitImpl = <Args extends unknown[], R>(f: (...args: Args) => R) => (...args: Args) => R;

/**
 * Options of every RNN law check: tolerances (`LawOptions`, the defaults of every law: rtol 1e-10,
 * atol 1e-12), finite differences and the implementations under test.
 * @example cellLawChecks.bptt(c, { order: 2, rtol: 1e-9 } satisfies CellLawCheckOptions)
 */
export interface CellLawCheckOptions extends LawOptions {
  /** Finite differences in the BPTT law: order 1 (default) or 2. */
  readonly order?: 1 | 2;
  /** Which derivatives the BPTT law checks against finite differences: reverse, forward (default both). */
  readonly modes?: ReadonlyArray<"rev" | "fwd">;
  /** Remat segment and unroll sizes of the invariance law (default 1, 2 and T + 1). */
  readonly segments?: readonly number[];
  /** The second cell of the stacking law (default: the cell itself). */
  readonly stackWith?: AnyCell;
  /** The `rnn` under test (default Rewind's own). */
  readonly rnn?: RnnImpl;
  /** The `stack` under test in the stacking law (default Rewind's own). */
  readonly stack?: StackImpl;
  /** The `bidirectional` under test in the bidirectional padding law (default Rewind's own). */
  readonly bidirectional?: BidirectionalImpl;
  /** The `jit` under test in the invariance and vmap laws (default Rewind's own). */
  readonly jit?: JitImpl;
  /** The `vmap` under test in the vmap law (default Rewind's own). */
  readonly vmap?: VmapImpl;
}

/** The keys of `CellLawCheckOptions`. */
export const CELL_LAW_CHECK_KEYS = keysOf<CellLawCheckOptions>({
  rtol: true,
  atol: true,
  order: true,
  modes: true,
  segments: true,
  stackWith: true,
  rnn: true,
  stack: true,
  bidirectional: true,
  jit: true,
  vmap: true,
});

/**
 * The fields of `o` named in `keys`, and no others (to hand one function's options on to another).
 * @example pick({ rtol: 1e-9, seed: 1 }, ["seed"]) // { seed: 1 }
 */
export const pick = <O extends object>(o: O, keys: readonly string[]): Partial<O> => {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(o, k)) out[k] = (o as Record<string, unknown>)[k];
  return out as Partial<O>;
};

/**
 * One way of running a case: `(params, initialCarry, xs) → { outputs, finalCarry }`.
 * @example const run: Run = (p, init, xs) => rnn(gru, p, xs, { initialCarry: init })
 */
export type Run = (params: unknown, initialCarry: unknown, xs: A.Value) => RnnResult<unknown>;

/**
 * The `rnn` options of a case, plus extra ones (remat, unroll, …).
 * @example rnn(c.cell, c.params, c.xs, rnnOptions(c, c.initialCarry, { unroll: 2 }))
 */
export const rnnOptions = (
  c: CellCase,
  init: unknown,
  extra: Partial<RnnOptions<unknown>> = {},
): RnnOptions<unknown> => ({
  initialCarry: init,
  timeMajor: c.timeMajor,
  reverse: c.reverse,
  ...(c.lengths === undefined ? {} : { lengths: c.lengths }),
  ...(c.key === undefined ? {} : { key: c.key }),
  ...extra,
});

/**
 * A case run through `impl` (default `rnn`) with extra options.
 * @example rnnRun(c, {}, { remat: "carries" })(c.params, c.initialCarry, c.xs).outputs
 */
export const rnnRun = (c: CellCase, o: CellLawCheckOptions, extra: Partial<RnnOptions<unknown>> = {}): Run => {
  const impl: RnnImpl = o.rnn ?? rnn;
  return (params, init, xs) => impl(c.cell, params, xs, rnnOptions(c, init, extra));
};

/**
 * Outputs, final carry, loss and gradients (w.r.t. params, initial carry and float xs).
 * @example const o: Outcome = outcome(rnnRun(c, {}), c); o.grad.params
 */
export interface Outcome {
  readonly outputs: A.Value;
  readonly finalCarry: unknown;
  readonly loss: A.Value;
  readonly grad: { readonly params: unknown; readonly initialCarry: unknown; readonly xs: unknown };
}

/**
 * Runs `run` on the case's values (or `args`) once, differentiating the fixed loss.
 * @example outcome(rnnRun(c, {}), c).loss
 */
export const outcome = (
  run: Run,
  c: CellCase,
  args: readonly [unknown, unknown, A.Value] = [c.params, c.initialCarry, c.xs],
): Outcome => {
  const floatXs = T.isFloating(args[2].dtype);
  const f = (p: unknown, i: unknown, x: A.Value) => {
    const r = run(p, i, x);
    return [lossOf(r), r] as const;
  };
  const [[loss, r], grads] = A.valueAndGrad(f, { argnums: floatXs ? [0, 1, 2] : [0, 1], hasAux: true })(...args) as [
    [A.Value, RnnResult<unknown>],
    unknown[],
  ];
  return {
    outputs: r.outputs,
    finalCarry: r.finalCarry,
    loss,
    grad: { params: grads[0], initialCarry: grads[1], xs: floatXs ? grads[2] : null },
  };
};

/**
 * `stack` without dropout between layers: the stacking law's default.
 * @example defaultStack([lstm, gru]).name // "stack([lstm, gru])"
 */
export const defaultStack: StackImpl = (cells) => stack(cells);

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Runs one law, turning an unexpected exception into an error that names the law and the case
 * (a violation, which already does, passes through).
 * @example guarded("padding", c, () => paddingCheck(c))
 */
export const guarded = (law: string, c: CellCase, check: () => void): void => {
  try {
    check();
  } catch (e) {
    if (e instanceof Error && / law violated for /.test(e.message)) throw e;
    throw testingError(
      { _tag: "TestFailure", op: law, detail: `${law} law could not run for ${describeCase(c)}: ${message(e)}` },
      e,
    );
  }
};
