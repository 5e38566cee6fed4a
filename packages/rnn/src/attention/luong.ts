/**
 * @file Luong, Pham & Manning (2015) global attention: after each step the cell's output h_t
 * attends over the memory with score_j = h_tᵀ h_j (`dotAttention`) or h_tᵀ W_a h_j
 * (`generalAttention`), and the step outputs the attentional state h̃_t = tanh(W_c [c_t; h_t]).
 * W_a h_j does not depend on t, so it is computed once per sequence, outside the loop. (The
 * paper's input feeding, h̃_{t−1} concatenated to x_t, is left out: the carry stays the cell's.)
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { expandDims, matmul, mul, sum, tanh, type Value } from "@rewind/autodiff";
import type { Cell } from "../Cell.js";
import { checkCell } from "../custom.js";
import { inputSizeOf } from "../dropoutKit.js";
import {
  attend,
  attentionMask,
  beside,
  checkAttentionContext,
  inputMajor,
  ownBatch,
  type AttentionStep,
  type LuongOptions,
} from "./context.js";
import type { TensorInitCell } from "../tensorInit.js";
import { splitSizes, type AttentionCell, type AttentionSizes, type TensorInitAttentionCell } from "./sizes.js";
import { attentionParts, checkAttentionOptions } from "./params.js";

/** The weights of `dotAttention` / `generalAttention`. */
export interface LuongWeights {
  /** W_a `[D, H]` (general only): h_tᵀ W_aᵀ… is computed as h_t · (h_j W_a). */
  readonly score?: Value;
  /** W_c `[D + H, H]`: the attentional state tanh([c_t; h_t] · W_c). */
  readonly output: Value;
}

/** Parameters of `dotAttention(cell)` and `generalAttention(cell)`. */
export interface LuongAttentionParams<P> {
  /** The wrapped cell's. */
  readonly cell: P;
  /** The attention weights. */
  readonly attention: LuongWeights;
}

type LuongCell<P, C, Y = Value> = AttentionCell<LuongAttentionParams<P>, C, Y>;

const luong = <P, C>(kind: "dot" | "general", cell: Cell<P, C>, withWeights: boolean): LuongCell<P, C, unknown> => {
  const op = `${kind}Attention`;
  const inner = checkCell(op, "cell", cell);
  const name = `${op}(${inner.name})`;
  const parts = attentionParts<P, LuongWeights>(name, kind === "general" ? ["score", "output"] : ["output"]);
  // W_c is [D + H, H]: D is what is left of its rows after the cell's output width.
  const memorySizeOf = (p: LuongAttentionParams<P>): number => {
    const w = parts(p).attention.output;
    return w.shape[0]! - w.shape[1]!;
  };
  const checkContext = (at: string, ctx: unknown, batch: number, p: LuongAttentionParams<P>): void =>
    checkAttentionContext(at, ctx, batch, memorySizeOf(p), parts(p).attention.output.dtype);
  return {
    name,
    init: (key: Key, sizes: AttentionSizes, initOptions) => {
      const { memorySize, rest } = splitSizes(`${name}.init`, sizes);
      const hidden = rest.hiddenSize;
      if (kind === "dot" && memorySize !== hidden) {
        T.fail({
          _tag: "ValueError",
          op: `${name}.init`,
          arg: "sizes.memorySize",
          detail: `dot attention scores h_tᵀ h_j, so memorySize (${memorySize}) must equal hiddenSize (${hidden})`,
          fix: `use generalAttention for a memory of ${memorySize} features, or set hiddenSize: ${memorySize}`,
        });
      }
      const [kCell, ka, kc] = T.random.split(key, 3) as [Key, Key, Key];
      const p = inner.init(kCell, rest, initOptions);
      const out = inner.outputSize(p);
      const dtype = initOptions?.dtype ?? "float32";
      return {
        cell: p,
        attention: {
          ...(kind === "general" ? { score: inputMajor(ka, memorySize, out, dtype) } : {}),
          output: inputMajor(kc, memorySize + out, out, dtype),
        },
      };
    },
    initialCarry: (batch, p) => inner.initialCarry(batch, parts(p).cell),
    checkContext,
    step: (p, ctx) => {
      const { cell: q, attention: w } = parts(p);
      // Called directly (not through rnn), the batch is the memory's own.
      checkContext(`${name}.step`, ctx, ownBatch(ctx), p);
      const context = ctx!;
      const s = inner.step(q);
      // Once per sequence: the keys h_j (dot) or h_j W_a (general), and the mask.
      const keys = w.score === undefined ? context.memory : matmul(context.memory, w.score); // [B, S, H]
      const mask = attentionMask(context, `${name}.step`);
      return (carry, x, noise) => {
        const [next, h] = s(carry, x, noise);
        const e = sum(mul(keys, expandDims(h, 1)), { axis: -1 });
        const { context: c, weights } = attend(e, context.memory, mask);
        const out = tanh(matmul(beside(c, h), w.output));
        return [next, withWeights ? { output: out, weights } : out];
      };
    },
    outputSize: (p) => parts(p).attention.output.shape[1]!,
    inputSize: (p) => inputSizeOf(name, inner, parts(p).cell),
    ...(inner.noise === undefined
      ? {}
      : { noise: (key: Key, batch: number, p: LuongAttentionParams<P>) => inner.noise!(key, batch, parts(p).cell) }),
  };
};

/**
 * Turns `cell` into a Luong "dot" attention decoder over the context `{ memory: [batch, S, D],
 * lengths? }`: after each step, score_j = h_tᵀ h_j (so D must equal the cell's output width),
 * masked past `lengths`, and the output is h̃_t = tanh(W_c [c_t; h_t]) `[batch, H]`. The carry is
 * the cell's. Init sizes: the cell's, plus `memorySize` (default `hiddenSize`). With
 * `{ weights: true }` each step outputs `{ output, weights }` (the weights `[batch, S]`).
 * @throws TensorException at init when memorySize ≠ hiddenSize; at `rnn` for a bad context.
 * @example
 * const dec = dotAttention(lstm)
 * const p = dec.init(random.key(0), { inputSize: 8, hiddenSize: 16 })
 * rnn(dec, p, xs, { context: { memory: encOut, lengths: [7, 4] } }).outputs // [2, T, 16]
 */
export function dotAttention<P, C>(
  cell: TensorInitCell<P, C>,
  options: LuongOptions & { readonly weights: true },
): TensorInitAttentionCell<LuongAttentionParams<P>, C, AttentionStep>;
export function dotAttention<P, C>(
  cell: TensorInitCell<P, C>,
  options?: LuongOptions & { readonly weights?: false },
): TensorInitAttentionCell<LuongAttentionParams<P>, C>;
export function dotAttention<P, C>(
  cell: Cell<P, C>,
  options: LuongOptions & { readonly weights: true },
): AttentionCell<LuongAttentionParams<P>, C, AttentionStep>;
export function dotAttention<P, C>(
  cell: Cell<P, C>,
  options?: LuongOptions & { readonly weights?: false },
): AttentionCell<LuongAttentionParams<P>, C>;
export function dotAttention<P, C>(
  cell: Cell<P, C>,
  options: LuongOptions = {},
): AttentionCell<LuongAttentionParams<P>, C, unknown> {
  return luong("dot", cell, checkAttentionOptions("dotAttention", options, false));
}

/**
 * Turns `cell` into a Luong "general" attention decoder: as `dotAttention`, with score_j =
 * h_tᵀ W_a h_j, so the memory may have any width D (`memorySize`, default `hiddenSize`).
 * @throws TensorException at init for bad sizes; at `rnn` for a bad context.
 * @example
 * const dec = generalAttention(gru)
 * const p = dec.init(random.key(0), { inputSize: 8, hiddenSize: 16, memorySize: 32 })
 * rnn(dec, p, xs, { context: { memory: encOut } }).outputs // [B, T, 16]
 */
export function generalAttention<P, C>(
  cell: TensorInitCell<P, C>,
  options: LuongOptions & { readonly weights: true },
): TensorInitAttentionCell<LuongAttentionParams<P>, C, AttentionStep>;
export function generalAttention<P, C>(
  cell: TensorInitCell<P, C>,
  options?: LuongOptions & { readonly weights?: false },
): TensorInitAttentionCell<LuongAttentionParams<P>, C>;
export function generalAttention<P, C>(
  cell: Cell<P, C>,
  options: LuongOptions & { readonly weights: true },
): AttentionCell<LuongAttentionParams<P>, C, AttentionStep>;
export function generalAttention<P, C>(
  cell: Cell<P, C>,
  options?: LuongOptions & { readonly weights?: false },
): AttentionCell<LuongAttentionParams<P>, C>;
export function generalAttention<P, C>(
  cell: Cell<P, C>,
  options: LuongOptions = {},
): AttentionCell<LuongAttentionParams<P>, C, unknown> {
  return luong("general", cell, checkAttentionOptions("generalAttention", options, false));
}
