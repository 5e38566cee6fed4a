/**
 * @file `bidirectional`: a forward and a backward cell over the same sequences, merged per step.
 *
 * Both directions are plain `rnn` calls (so, two scans): the backward one with `reverse: true`,
 * which with `lengths` reverses only each sample's valid prefix, so padding stays at the end and
 * the backward direction starts at each sample's own last valid step. There is no backward code:
 * the gradient is the two scans' BPTT plus the merge's.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { describeKeys, keysOf } from "@rewind/tensor/internal/check";
import { add, concat, type Value } from "@rewind/autodiff";
import type { Cell, CellSizes, InitOptions } from "./Cell.js";
import { rnn, type RnnOptions } from "./rnn.js";
import { checkCell } from "./custom.js";
import { checkKey, checkOptions } from "./util.js";

/** How the two directions' per-step outputs are combined. */
export type BidirectionalMerge = "concat" | "sum";

/** Options of `bidirectional`. */
export interface BidirectionalOptions {
  /** `"concat"` (default): `[fwd, bwd]` on the feature axis, as PyTorch; `"sum"`: fwd + bwd. */
  readonly merge?: BidirectionalMerge;
}

/** A value per direction: parameters, carries. */
export interface PerDirection<F, B> {
  /** The direction that reads each sequence from its start. */
  readonly forward: F;
  /** The direction that reads each sequence's valid prefix from its end. */
  readonly reverse: B;
}

/** Options of a bidirectional layer's `apply`. */
export interface BidirectionalApplyOptions<CF, CB, X = undefined> {
  /** Valid steps per sample (int32 `[batch]` or numbers); both directions see only the valid prefix. */
  readonly lengths?: Value | readonly number[];
  /** xs and outputs are `[time, batch, features]`. */
  readonly timeMajor?: boolean;
  /** Starting carries; a missing direction starts from its cell's `initialCarry`. */
  readonly initialCarry?: Partial<PerDirection<CF, CB>>;
  /** Turns on the cells' noise (dropout); split into one key per direction. */
  readonly key?: Key;
  /** Passed to both scans: what the forward pass keeps for the gradient. */
  readonly remat?: RnnOptions<unknown>["remat"];
  /**
   * The old name of `remat` (giving both is an error).
   * @deprecated Use `remat`; "checkpoint" now only means saved training state.
   */
  readonly checkpoint?: RnnOptions<unknown>["checkpoint"];
  /** Passed to both scans: cell steps per loop iteration. */
  readonly unroll?: RnnOptions<unknown>["unroll"];
  /** Passed to both scans: stop the carry's gradient every k steps. */
  readonly truncate?: RnnOptions<unknown>["truncate"];
  /**
   * `"sequential"` (default) or `"parallel"`: both directions through their cells' `sequence`
   * forms (both cells need one), as `rnn`'s `mode`; same values to rounding.
   */
  readonly mode?: "sequential" | "parallel";
  /**
   * The per-sequence context (e.g. attention memory), given to each direction whose cell reads
   * one; refused when neither does.
   */
  readonly context?: X;
}

/** What a bidirectional layer returns: merged per-step outputs and each direction's final carry. */
export interface BidirectionalResult<CF, CB> {
  /** `[batch, time, Hf + Hb]` (concat) or `[batch, time, H]` (sum); zero past each sample's length. */
  readonly outputs: Value;
  /**
   * forward: the state after each sample's last valid step; reverse: the state after reading the
   * valid prefix backward, i.e. at step 0 (PyTorch's `h_n[1]` for packed sequences).
   */
  readonly finalCarry: PerDirection<CF, CB>;
}

/** A bidirectional recurrent layer: parameters per direction and an `apply` over whole sequences. */
export interface Bidirectional<PF, CF, PB, CB, X = undefined> {
  /** `bidirectional(<forward cell>, <reverse cell>)`, for messages. */
  readonly name: string;
  /** How the two directions' outputs are combined at each step. */
  readonly merge: BidirectionalMerge;
  /** Parameters of both directions, from two keys split off `key`. */
  readonly init: (key: Key, sizes: CellSizes, options?: InitOptions) => PerDirection<PF, PB>;
  /** Runs both directions over `xs` and merges their outputs. */
  readonly apply: (
    params: PerDirection<PF, PB>,
    xs: Value,
    options?: BidirectionalApplyOptions<CF, CB, X>,
  ) => BidirectionalResult<CF, CB>;
  /** Features per step of the merged output. */
  readonly outputSize: (params: PerDirection<PF, PB>) => number;
}

const OPTION_KEYS = keysOf<BidirectionalOptions>({ merge: true });
const APPLY_KEYS = keysOf<BidirectionalApplyOptions<unknown, unknown, unknown>>({
  lengths: true,
  timeMajor: true,
  initialCarry: true,
  key: true,
  remat: true,
  checkpoint: true,
  unroll: true,
  truncate: true,
  mode: true,
  context: true,
});
const DIRECTIONS = keysOf<PerDirection<unknown, unknown>>({ forward: true, reverse: true });

/** What the parallel check reads of a direction's cell. */
type DirectionCell = { readonly name: string; readonly sequence?: unknown };

/** Throws, naming `bidirectional.apply` and the direction, unless both cells have a sequence form. */
const checkBothParallel = (fwd: DirectionCell, bwd: DirectionCell): void => {
  const missing = (
    [
      ["forward", fwd],
      ["reverse", bwd],
    ] as const
  ).filter(([, c]) => typeof c.sequence !== "function");
  if (missing.length > 0)
    T.fail({
      _tag: "ValueError",
      op: "bidirectional.apply",
      arg: "options.mode",
      detail:
        'mode "parallel" runs both directions through their cells\' sequence forms, and ' +
        missing.map(([d, c]) => `the ${d} cell ${c.name} has only step`).join(" and "),
      fix: 'use mode "sequential" (the default), or cells with both forms such as minGru or minLstm',
    });
};

const badMerge = (merge: unknown): never =>
  T.fail({
    _tag: "ValueError",
    op: "bidirectional",
    arg: "options.merge",
    detail: `merge must be "concat" or "sum", got ${JSON.stringify(merge)}`,
    fix: 'pass { merge: "concat" } (PyTorch\'s layout) or { merge: "sum" }',
  });

/**
 * A bidirectional layer from a forward and a backward cell (often the same cell twice; each
 * direction gets its own parameters). The backward direction reads each sample's valid prefix
 * from its end, so on a padded batch every sample gets exactly what it would get alone.
 * @throws TensorException for an unknown merge, or (in apply) "sum" over directions of different widths.
 * @example
 * const bi = bidirectional(lstm, lstm, { merge: "concat" });
 * const params = bi.init(random.key(0), { inputSize: 3, hiddenSize: 8 });
 * const { outputs, finalCarry } = bi.apply(params, xs, { lengths: [5, 2] }); // outputs [2, 5, 16]
 * bidirectional(minGru, minGru).apply(ps, xs, { mode: "parallel" }) // both directions at once
 */
export const bidirectional = <PF, CF, PB, CB, X = undefined>(
  cellFwd: Cell<PF, CF, X>,
  cellBwd: Cell<PB, CB, X>,
  options: BidirectionalOptions = {},
): Bidirectional<PF, CF, PB, CB, X> => {
  checkCell("bidirectional", "cellFwd", cellFwd);
  checkCell("bidirectional", "cellBwd", cellBwd);
  checkOptions("bidirectional", "options", options, OPTION_KEYS);
  const merge = options.merge ?? "concat";
  if (merge !== "concat" && merge !== "sum") badMerge(merge);
  const perDirection = (op: string, p: PerDirection<PF, PB>): PerDirection<PF, PB> => {
    if (typeof p !== "object" || p === null || !("forward" in p) || !("reverse" in p)) {
      T.fail({
        _tag: "ValueError",
        op,
        arg: "params",
        detail: `params must be { forward, reverse }, got ${describeKeys(p)}`,
        fix: "pass the parameters this layer's init returned",
      });
    }
    return p;
  };
  const outputSize = (p: PerDirection<PF, PB>): number => {
    perDirection("bidirectional.outputSize", p);
    const f = cellFwd.outputSize(p.forward);
    const b = cellBwd.outputSize(p.reverse);
    return merge === "concat" ? f + b : f;
  };
  return {
    name: `bidirectional(${cellFwd.name}, ${cellBwd.name})`,
    merge,
    init: (key, sizes, initOptions) => {
      const [kf, kb] = T.random.split(key, 2) as [Key, Key];
      return { forward: cellFwd.init(kf, sizes, initOptions), reverse: cellBwd.init(kb, sizes, initOptions) };
    },
    apply: (params, xs, o = {}) => {
      perDirection("bidirectional.apply", params);
      checkOptions("bidirectional.apply", "options", o, APPLY_KEYS);
      // { foward: h0 } would otherwise start the forward direction from zeros.
      checkOptions("bidirectional.apply", "options.initialCarry", o.initialCarry, DIRECTIONS);
      checkKey("bidirectional.apply", "options.key", o.key);
      if (o.mode === "parallel") checkBothParallel(cellFwd, cellBwd);
      const [kf, kb] = o.key === undefined ? [undefined, undefined] : (T.random.split(o.key, 2) as [Key, Key]);
      const shared = {
        ...(o.lengths === undefined ? {} : { lengths: o.lengths }),
        ...(o.timeMajor === undefined ? {} : { timeMajor: o.timeMajor }),
        ...(o.remat === undefined ? {} : { remat: o.remat }),
        ...(o.checkpoint === undefined ? {} : { checkpoint: o.checkpoint }),
        ...(o.unroll === undefined ? {} : { unroll: o.unroll }),
        ...(o.truncate === undefined ? {} : { truncate: o.truncate }),
        ...(o.mode === undefined ? {} : { mode: o.mode }),
      };
      // A direction reads the context only if its cell does; rnn refuses one no direction reads.
      const fwdReads = cellFwd.checkContext !== undefined;
      const bwdReads = cellBwd.checkContext !== undefined;
      const ctx = (reads: boolean): { context?: X } =>
        o.context === undefined || (!reads && (fwdReads || bwdReads)) ? {} : { context: o.context };
      const fwd = rnn(cellFwd, params.forward, xs, {
        ...shared,
        ...ctx(fwdReads),
        ...(o.initialCarry?.forward === undefined ? {} : { initialCarry: o.initialCarry.forward }),
        ...(kf === undefined ? {} : { key: kf }),
      });
      const bwd = rnn(cellBwd, params.reverse, xs, {
        ...shared,
        reverse: true,
        ...ctx(bwdReads),
        ...(o.initialCarry?.reverse === undefined ? {} : { initialCarry: o.initialCarry.reverse }),
        ...(kb === undefined ? {} : { key: kb }),
      });
      const finalCarry = { forward: fwd.finalCarry, reverse: bwd.finalCarry };
      if (merge === "concat") return { outputs: concat([fwd.outputs, bwd.outputs], 2), finalCarry };
      if (!T.shapesEqual(fwd.outputs.shape, bwd.outputs.shape)) {
        T.fail({
          _tag: "ShapeError",
          op: "bidirectional.apply",
          arg: "params",
          shapes: [fwd.outputs.shape, bwd.outputs.shape],
          detail:
            `merge "sum" needs both directions to output the same features, got ${cellFwd.name}: ` +
            `${fwd.outputs.shape[2]} and ${cellBwd.name}: ${bwd.outputs.shape[2]}`,
          fix: 'give both directions the same hidden size, or use { merge: "concat" }',
        });
      }
      return { outputs: add(fwd.outputs, bwd.outputs), finalCarry };
    },
    outputSize,
  };
};
