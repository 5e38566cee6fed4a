/**
 * @file `additiveAttention` (Bahdanau, Cho & Bengio 2015): before each step the previous state
 * s_{t−1} attends over the memory with score_j = vᵀ tanh(W_q s_{t−1} + W_k h_j), and the
 * attention context c_t = Σ_j a_tj h_j is concatenated to the step's input: the wrapped cell reads
 * [x_t; c_t]. W_k h_j does not depend on t, so it is computed once per sequence, outside the loop.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { add, expandDims, matmul, mul, sum, tanh, type Value } from "@rewind/autodiff";
import type { Cell } from "../Cell.js";
import { checkCell } from "../custom.js";
import { inputSizeOf } from "../dropoutKit.js";
import {
  attend,
  attentionMask,
  beside,
  checkAttentionContext,
  defaultQuery,
  inputMajor,
  ownBatch,
  type AttentionOptions,
  type AttentionStep,
} from "./context.js";
import type { TensorInitCell } from "../tensorInit.js";
import { splitSizes, type AttentionCell, type AttentionSizes, type TensorInitAttentionCell } from "./sizes.js";
import { attentionParts, checkAttentionOptions } from "./params.js";

/** The score layer of `additiveAttention`. */
export interface AdditiveWeights {
  /** W_q `[H, A]`: projects the query (the previous state). */
  readonly query: Value;
  /** W_k `[D, A]`: projects each memory row (once per sequence). */
  readonly key: Value;
  /** v `[A]`: reduces tanh(W_q s + W_k h_j) to one score per position. */
  readonly v: Value;
}

/** Parameters of `additiveAttention(cell)`. */
export interface AdditiveAttentionParams<P> {
  /** The wrapped cell's, initialised for `inputSize + memorySize` input features. */
  readonly cell: P;
  /** The score layer's. */
  readonly attention: AdditiveWeights;
}

/**
 * Turns `cell` into a Bahdanau attention decoder over the context `{ memory: [batch, S, D],
 * lengths? }` (pass it as `rnn`'s, `generate`'s … `context`; `encoderDecoder` passes the
 * encoder's outputs). Each step attends with the previous state (the carry, or its `h`; see
 * `options.query`), masks positions past `lengths` (weight exactly 0), and feeds `[x_t; c_t]` to
 * the cell. Carry and output are the cell's. Init sizes: the cell's, plus `memorySize` (D) and
 * `attentionSize` (A), both defaulting to `hiddenSize`. With `{ weights: true }` each step outputs
 * `{ output, weights }`, so `rnn` also returns the weights `[batch, T, S]` (0 at padding).
 * @throws TensorException at init for bad sizes; at `rnn` for a context that is not a
 *   `{ memory, lengths? }` of the batch, the parameters' D and dtype, with lengths in [1, S].
 * @example
 * const dec = additiveAttention(gru)
 * const p = dec.init(random.key(0), { inputSize: 8, hiddenSize: 16, memorySize: 32 })
 * rnn(dec, p, xs, { context: { memory: encOut, lengths: [7, 4] } }).outputs // [2, T, 16]
 * const seen = additiveAttention(gru, { weights: true })
 * rnn(seen, p, xs, { context: { memory: encOut } }).outputs.weights // [2, T, S]
 */
export function additiveAttention<P, C>(
  cell: TensorInitCell<P, C>,
  options: AttentionOptions<C> & { readonly weights: true },
): TensorInitAttentionCell<AdditiveAttentionParams<P>, C, AttentionStep>;
export function additiveAttention<P, C>(
  cell: TensorInitCell<P, C>,
  options?: AttentionOptions<C> & { readonly weights?: false },
): TensorInitAttentionCell<AdditiveAttentionParams<P>, C>;
export function additiveAttention<P, C>(
  cell: Cell<P, C>,
  options: AttentionOptions<C> & { readonly weights: true },
): AttentionCell<AdditiveAttentionParams<P>, C, AttentionStep>;
export function additiveAttention<P, C>(
  cell: Cell<P, C>,
  options?: AttentionOptions<C> & { readonly weights?: false },
): AttentionCell<AdditiveAttentionParams<P>, C>;
export function additiveAttention<P, C>(
  cell: Cell<P, C>,
  options: AttentionOptions<C> = {},
): AttentionCell<AdditiveAttentionParams<P>, C, Value | AttentionStep> {
  const inner = checkCell("additiveAttention", "cell", cell);
  const name = `additiveAttention(${inner.name})`;
  const withWeights = checkAttentionOptions("additiveAttention", options, true);
  const parts = attentionParts<P, AdditiveWeights>(name, ["query", "key", "v"]);
  const query = options.query ?? ((c: C) => defaultQuery(`${name}.step`, c));
  const memorySizeOf = (p: AdditiveAttentionParams<P>): number => parts(p).attention.key.shape[0]!;
  const checkContext = (op: string, ctx: unknown, batch: number, p: AdditiveAttentionParams<P>): void =>
    checkAttentionContext(op, ctx, batch, memorySizeOf(p), parts(p).attention.key.dtype);
  return {
    name,
    init: (key: Key, sizes: AttentionSizes, initOptions) => {
      const op = `${name}.init`;
      const { memorySize, attentionSize, rest } = splitSizes(op, sizes);
      const [kCell, kq, kk, kv] = T.random.split(key, 4) as [Key, Key, Key, Key];
      const p = inner.init(kCell, { ...rest, inputSize: rest.inputSize + memorySize }, initOptions);
      const dtype = initOptions?.dtype ?? "float32";
      const hidden = rest.hiddenSize;
      return {
        cell: p,
        attention: {
          query: inputMajor(kq, hidden, attentionSize, dtype),
          key: inputMajor(kk, memorySize, attentionSize, dtype),
          v: T.reshape(inputMajor(kv, attentionSize, 1, dtype), [attentionSize]),
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
      // Once per sequence: the memory's projection and the mask (scan constants).
      const keys = matmul(context.memory, w.key); // [B, S, A]
      const mask = attentionMask(context, `${name}.step`);
      return (carry, x, noise) => {
        const e = sum(mul(tanh(add(keys, expandDims(matmul(query(carry), w.query), 1))), w.v), { axis: -1 });
        const { context: c, weights } = attend(e, context.memory, mask);
        const [next, y] = s(carry, beside(x, c), noise);
        return [next, withWeights ? { output: y, weights } : y];
      };
    },
    outputSize: (p) => inner.outputSize(parts(p).cell),
    // The cell reads [x_t; c_t]: x_t is what is left of its input after the memory's D features.
    inputSize: (p) => inputSizeOf(name, inner, parts(p).cell) - memorySizeOf(p),
    ...(inner.noise === undefined
      ? {}
      : {
          noise: (key: Key, batch: number, p: AdditiveAttentionParams<P>) => inner.noise!(key, batch, parts(p).cell),
        }),
  };
}
