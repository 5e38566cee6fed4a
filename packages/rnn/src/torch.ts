/**
 * @file PyTorch interoperability: `torchRnn(spec)` is a multi-layer, optionally bidirectional
 * layer that behaves exactly like `torch.nn.RNN` / `LSTM` / `GRU` in eval mode, and
 * `fromTorchStateDict` / `toTorchStateDict` move its weights in and out under PyTorch's names.
 *
 * Every direction of every layer is one `rnn(...)` call (a scan), so the gradient is, as
 * everywhere in this package, the derivative of scan; nothing here computes a derivative.
 * Parameters are a flat array indexed `layer · numDirections + direction`, the order of PyTorch's
 * `h_n` rows and of its state dict, so index i of the params, of `h_0` and of `h_n` always agree.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import { concat, isTracer, isValue, reshape, split, stack, transpose, type Value } from "@rewind/autodiff";
import type { Cell, InitOptions } from "./Cell.js";
import type { TorchCellParams, TorchCellWeights } from "./cells/common.js";
import { withoutBias } from "./cells/withoutBias.js";
import { elmanRelu, elmanTanh } from "./cells/elman.js";
import { gru } from "./cells/gru.js";
import { lstm, type LstmCarry } from "./cells/lstm.js";
import { rnn, type RnnOptions, type RnnResult } from "./rnn.js";
import { validateLengths } from "./lengths.js";
import { checkKey, checkOptions, checkValue } from "./util.js";
import { checkInitOptions } from "./init.js";
import {
  checkParams,
  directions,
  fmt,
  resolveOrThrow,
  type ResolvedTorchRnnSpec,
  type TorchRnnMode,
  type TorchRnnParams,
  type TorchRnnSpec,
} from "./torchSpec.js";

export type { ResolvedTorchRnnSpec, TorchRnnMode, TorchRnnParams, TorchRnnSpec } from "./torchSpec.js";
export { fromTorchStateDict, toTorchStateDict, torchParamNames, type TorchStateDictOptions } from "./torchStateDict.js";

/**
 * The state a mode carries, shaped like PyTorch's: h `[L·D, B, H]`, and for LSTM also c.
 * @example const h0: TorchRnnCarry<"lstm"> = { h: zeros([2, 8, 16]), c: zeros([2, 8, 16]) }
 */
export type TorchRnnCarry<M extends TorchRnnMode = TorchRnnMode> = M extends "lstm" ? LstmCarry : Value;

/**
 * Options of `apply`.
 * @example layer.apply(params, xs, { lengths: [5, 2], initialCarry: h0 })
 */
export interface TorchRnnApplyOptions<C> {
  /** Valid steps per sample (as `pack_padded_sequence`): outputs are zero past it, h_n is taken at it. */
  readonly lengths?: Value | readonly number[];
  /** PyTorch's `h_0` (LSTM: `{ h: h_0, c: c_0 }`), `[L·D, B, H]`; zeros by default. */
  readonly initialCarry?: C;
  /** Passed to every direction's scan (memory policy); never changes values. */
  readonly remat?: RnnOptions<unknown>["remat"];
  /**
   * The old name of `remat` (giving both is an error).
   * @deprecated Use `remat`; "checkpoint" now only means saved training state.
   */
  readonly checkpoint?: RnnOptions<unknown>["checkpoint"];
  /** Passed to every direction's scan (steps per loop iteration); never changes values. */
  readonly unroll?: RnnOptions<unknown>["unroll"];
}

/**
 * A PyTorch-compatible recurrent layer, built by `torchRnn(spec)`.
 * @example const layer: TorchRnn<Value> = torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 })
 */
export interface TorchRnn<C, B extends boolean = true> {
  /** The spec it was built from, with every default filled in. */
  readonly spec: ResolvedTorchRnnSpec;
  /** The per-direction cell (elmanTanh, elmanRelu, lstm or gru; `withoutBias` of it for `bias: false`). */
  readonly cell: Cell<TorchRnnParams<B>[number], unknown>;
  /**
   * Parameters with PyTorch's default initialisation (uniform ±1/√hidden) unless `options.scheme`;
   * no bias tensors for `bias: false`.
   */
  readonly init: (key: Key, options?: InitOptions) => TorchRnnParams<B>;
  /** Runs the layer: outputs `[B, T, D·H]` (or time-major) and `finalCarry` as PyTorch's h_n (, c_n). */
  readonly apply: (params: TorchRnnParams<B>, xs: Value, options?: TorchRnnApplyOptions<C>) => RnnResult<C>;
}

const APPLY_KEYS = keysOf<TorchRnnApplyOptions<unknown>>({
  lengths: true,
  initialCarry: true,
  remat: true,
  checkpoint: true,
  unroll: true,
});

// The layer picks its cell at run time, so the carry type is erased here and restored by TorchRnnCarry<M>.
const erase = <C>(cell: Cell<TorchCellParams, C>): Cell<TorchCellParams, unknown> =>
  cell as unknown as Cell<TorchCellParams, unknown>;
const CELLS: Readonly<Record<TorchRnnMode, Cell<TorchCellParams, unknown>>> = {
  rnn_tanh: erase(elmanTanh),
  rnn_relu: erase(elmanRelu),
  lstm: erase(lstm),
  gru: erase(gru),
};
// PyTorch's bias=False: the same cells, stepping parameters that have no bias fields.
const CELLS_WITHOUT_BIAS: Readonly<Record<TorchRnnMode, Cell<TorchCellParams, unknown>>> = {
  rnn_tanh: erase(withoutBias(elmanTanh) as unknown as Cell<TorchCellParams, Value>),
  rnn_relu: erase(withoutBias(elmanRelu) as unknown as Cell<TorchCellParams, Value>),
  lstm: erase(withoutBias(lstm) as unknown as Cell<TorchCellParams, LstmCarry>),
  gru: erase(withoutBias(gru) as unknown as Cell<TorchCellParams, Value>),
};

/** Checks a `[L·D, B, H]` state and splits it into one `[B, H]` per layer and direction. */
const splitState = (s: ResolvedTorchRnnSpec, name: string, v: unknown, batch: number, dtype: T.DType): Value[] => {
  const n = s.numLayers * directions(s);
  const want = [n, batch, s.hiddenSize];
  if ((!T.isTensor(v) && !isTracer(v)) || !T.shapesEqual(v.shape, want)) {
    const got = T.isTensor(v) || isTracer(v) ? fmt(v.shape) : typeof v;
    return T.fail({
      _tag: "ShapeError",
      op: "torchRnn.apply",
      arg: `initialCarry${name}`,
      shapes: T.isTensor(v) || isTracer(v) ? [v.shape, want] : [want],
      detail: `expected ${fmt(want)} (numLayers·numDirections, batch, hiddenSize), got ${got}`,
      fix: "pass PyTorch's h_0 (and c_0) layout",
    });
  }
  if (v.dtype !== dtype) {
    T.fail({
      _tag: "DTypeError",
      op: "torchRnn.apply",
      arg: `initialCarry${name}`,
      detail: `the initial state is ${v.dtype} but the parameters are ${dtype}`,
      fix: `convert it with astype(h0, "${dtype}")`,
    });
  }
  return split(v, n, 0).map((x) => reshape(x, [batch, s.hiddenSize]));
};

/** The batch size an h_0 (`[L·D, B, H]`, LSTM: `{ h, c }`) or lengths (`[B]`) implies, if they are shaped. */
const impliedBatch = (v: unknown, axis: number): number | undefined => {
  const t = typeof v === "object" && v !== null && !isValue(v) && "h" in v ? v.h : v;
  if (Array.isArray(t)) return axis === 0 ? t.length : undefined;
  return isValue(t) ? t.shape[axis] : undefined;
};

/**
 * Refuses, naming `batchFirst`, a batch-first read of xs that h_0 or lengths show to be time-major:
 * PyTorch's modules default to `batch_first=False`, so a literal port passes `[time, batch, in]`,
 * which this layer (default `batchFirst: true`) would otherwise run as batch `time`.
 */
const checkReadAsBatchFirst = (s: ResolvedTorchRnnSpec, xs: Value, options: TorchRnnApplyOptions<unknown>): void => {
  const [batch, time] = xs.shape as [number, number];
  const implied: ReadonlyArray<readonly [string, number | undefined]> = [
    ["initialCarry", impliedBatch(options.initialCarry, 1)],
    ["lengths", impliedBatch(options.lengths, 0)],
  ];
  const hit = implied.find(([, b]) => b !== undefined && b !== batch && b === time);
  if (hit === undefined) return;
  T.fail({
    _tag: "ShapeError",
    op: "torchRnn.apply",
    arg: hit[0],
    shapes: [xs.shape],
    detail:
      `${hit[0]} is for a batch of ${time}, but xs ${fmt(xs.shape)} is read as [batch ${batch}, time ${time}, ` +
      `features ${s.inputSize}] because batchFirst is true ` +
      "(the default here; PyTorch's modules default to batch_first=False)",
    fix: "for time-major xs [time, batch, inputSize], as nn.RNN/LSTM/GRU take them, set batchFirst: false in the spec",
  });
};

/** Checks `apply`'s parameters, xs and options against the spec; returns the parameters' dtype. */
const checkApply = (
  s: ResolvedTorchRnnSpec,
  params: readonly (TorchCellParams | TorchCellWeights)[],
  xs: Value,
  options: TorchRnnApplyOptions<unknown>,
): T.DType => {
  checkParams("torchRnn.apply", s, params);
  checkValue("torchRnn.apply", "xs", xs);
  checkOptions("torchRnn.apply", "options", options, APPLY_KEYS);
  const layout = s.batchFirst ? "[batch, time, inputSize]" : "[time, batch, inputSize]";
  if (xs.shape.length !== 3 || xs.shape[2] !== s.inputSize) {
    T.fail({
      _tag: "ShapeError",
      op: "torchRnn.apply",
      arg: "xs",
      shapes: [xs.shape],
      detail: `xs must be ${layout} with inputSize ${s.inputSize}`,
      fix: s.batchFirst ? "set batchFirst: false for time-major input" : "set batchFirst: true for batch-major input",
    });
  }
  if (s.batchFirst) checkReadAsBatchFirst(s, xs, options);
  const dtype = params[0]!.weight_ih.dtype;
  if (xs.dtype !== dtype) {
    T.fail({
      _tag: "DTypeError",
      op: "torchRnn.apply",
      arg: "xs",
      detail: `xs is ${xs.dtype} but the parameters are ${dtype}`,
      fix: `convert one of them with astype(x, "${dtype}")`,
    });
  }
  return dtype;
};

/** Each cell's initial carry (row `layer · numDirections + direction`) from PyTorch's h_0 (LSTM: and c_0). */
const initialCarries = (s: ResolvedTorchRnnSpec, c: unknown, batch: number, dtype: T.DType): unknown[] => {
  if (s.mode === "lstm") {
    const { h, c: cell0 } = (c ?? {}) as Partial<LstmCarry>;
    const hs = splitState(s, ".h", h, batch, dtype);
    const cs = splitState(s, ".c", cell0, batch, dtype);
    return hs.map((hi, i) => ({ h: hi, c: cs[i]! }));
  }
  return splitState(s, "", c, batch, dtype);
};

/**
 * A layer that behaves like `torch.nn.RNN` / `LSTM` / `GRU` (eval mode, no inter-layer dropout):
 * layer k > 0 reads the concatenation of both directions' outputs, the reverse direction reads
 * each sample's valid prefix backward, and `finalCarry` is PyTorch's `h_n` (LSTM: `{ h: h_n, c: c_n }`)
 * with rows ordered `layer · numDirections + direction`.
 * @throws TensorException for an invalid spec (at construction), or mismatched params, xs,
 * initialCarry or lengths (at apply).
 * @example
 * const layer = torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
 * const { outputs, finalCarry } = layer.apply(layer.init(random.key(0)), xs, { lengths: [5, 2] });
 * // outputs [B, T, 8], finalCarry [4, B, 4]
 */
export const torchRnn = <M extends TorchRnnMode, B extends boolean = true>(
  spec: TorchRnnSpec & { readonly mode: M; readonly bias?: B },
): TorchRnn<TorchRnnCarry<M>, B> => {
  const s = resolveOrThrow("torchRnn", spec);
  const cell = (s.bias ? CELLS : CELLS_WITHOUT_BIAS)[s.mode];
  const D = directions(s);
  const isLstm = s.mode === "lstm";

  const init = (key: Key, options?: InitOptions): TorchRnnParams<B> => {
    checkKey("torchRnn.init", "key", key);
    checkInitOptions("torchRnn.init", options, { recurrent: true, forgetGate: s.mode === "lstm" });
    if (!s.bias && options?.forgetBias !== undefined) {
      T.fail({
        _tag: "ValueError",
        op: "torchRnn.init",
        arg: "options.forgetBias",
        detail: "forgetBias sets the forget gate's bias, and the spec says bias: false",
        fix: "drop forgetBias, or leave bias: false out of the spec",
      });
    }
    const keys = T.random.split(key, s.numLayers * D);
    // The cell is the biased or the bias-free one, as s.bias (from spec.bias: B) says.
    return Object.freeze(
      keys.map((k, i) =>
        cell.init(k, { inputSize: i < D ? s.inputSize : s.hiddenSize * D, hiddenSize: s.hiddenSize }, options),
      ),
    );
  };

  const apply = (
    params: TorchRnnParams<B>,
    xs: Value,
    options: TorchRnnApplyOptions<TorchRnnCarry<M>> = {},
  ): RnnResult<TorchRnnCarry<M>> => {
    const dtype = checkApply(s, params, xs, options);
    // Run every layer time-major so stacking layers costs no transposes.
    const seq = s.batchFirst ? transpose(xs, [1, 0, 2]) : xs;
    const [time, batch] = seq.shape as [number, number];
    const lengths =
      options.lengths === undefined ? undefined : validateLengths("torchRnn.apply", options.lengths, batch, time);
    const initial =
      options.initialCarry === undefined ? undefined : initialCarries(s, options.initialCarry, batch, dtype);
    const finals: unknown[] = [];
    let input = seq;
    for (let k = 0; k < s.numLayers; k++) {
      const outs: Value[] = [];
      for (let d = 0; d < D; d++) {
        const i = k * D + d;
        const r = rnn(cell, params[i] as TorchCellParams, input, {
          timeMajor: true,
          reverse: d === 1,
          ...(lengths === undefined ? {} : { lengths }),
          ...(initial === undefined ? {} : { initialCarry: initial[i] }),
          ...(options.remat === undefined ? {} : { remat: options.remat }),
          ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
          ...(options.unroll === undefined ? {} : { unroll: options.unroll }),
        });
        outs.push(r.outputs);
        finals.push(r.finalCarry);
      }
      input = D === 1 ? outs[0]! : concat(outs, 2);
    }
    const finalCarry = isLstm
      ? { h: stack((finals as LstmCarry[]).map((f) => f.h)), c: stack((finals as LstmCarry[]).map((f) => f.c)) }
      : stack(finals as Value[]);
    return { outputs: s.batchFirst ? transpose(input, [1, 0, 2]) : input, finalCarry: finalCarry as TorchRnnCarry<M> };
  };

  return Object.freeze({ spec: s, cell: cell as Cell<TorchRnnParams<B>[number], unknown>, init, apply });
};
