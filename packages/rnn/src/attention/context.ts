/**
 * @file What the attention cells share: their context `{ memory, lengths? }`, its checks, the
 * source-length mask, the masked softmax over source positions, and the query read from a carry.
 *
 * Masking: scores at padded positions are replaced by −∞ before the softmax, so their weight is
 * exp(−∞) = 0 exactly (in any float dtype), the context vector never reads padded memory, and the
 * gradient reaching a padded score or a padded memory row is exactly 0 (the `where` sends none to
 * the unselected branch). Each sample needs at least one valid position (lengths ≥ 1): a row of
 * −∞ only would have no distribution to normalise.
 */
import * as T from "@rewind/tensor";
import { concat, expandDims, isTracer, isValue, less, mul, softmax, sum, where, type Value } from "@rewind/autodiff";
import { describeArg } from "@rewind/tensor/internal/check";
import { validateLengths } from "../lengths.js";
import { uniformInit, type FloatDType } from "../init.js";

/**
 * The context of an attention cell: what it attends over, once per sequence.
 * @example const ctx: AttentionContext = { memory: encoderOutputs, lengths: [7, 4] }
 */
export interface AttentionContext {
  /** `[batch, S, D]`: one row per source position (e.g. an encoder's per-step outputs). */
  readonly memory: Value;
  /** Valid source positions per sample, int32 `[batch]` or numbers in [1, S]; the rest get weight 0. */
  readonly lengths?: Value | readonly number[];
}

/** One step's output of an attention cell made with `{ weights: true }`. */
export interface AttentionStep {
  /** `[batch, out]`: the step's output, as without the option. */
  readonly output: Value;
  /** `[batch, S]`: the step's attention weights (`rnn` stacks them to `[batch, T, S]`). */
  readonly weights: Value;
}

/** Options of `dotAttention` and `generalAttention`. */
export interface LuongOptions {
  /**
   * `true`: each step outputs `{ output, weights }` (an `AttentionStep`) instead of the output
   * alone, so `rnn` returns the weights `[batch, T, S]` next to the outputs. Default false.
   */
  readonly weights?: boolean;
}

/** Options of `additiveAttention`. */
export interface AttentionOptions<C> extends LuongOptions {
  /**
   * The query the cell's carry offers (default: the carry itself when it is a tensor, or its `h`,
   * as for `lstm`'s `{ h, c }`). Luong attention has none: it attends with the step's output.
   */
  readonly query?: (carry: C) => Value;
}

/** What one attention step computes. */
export interface Attended {
  /** `[batch, D]`: the weighted sum of the memory rows. */
  readonly context: Value;
  /** `[batch, S]`: the attention weights, 0 at padded positions, summing to 1 over valid ones. */
  readonly weights: Value;
}

const fail = (op: string, arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op, arg, detail, fix });

/**
 * Throws unless `ctx` is `{ memory: [batch, S, memorySize], lengths? }` in `dtype` with S ≥ 1 and
 * concrete lengths in [1, S]; names `op` and the field at fault.
 * @example checkAttentionContext("rnn", { memory: zeros([2, 5, 8]) }, 2, 8, "float32")
 */
export const checkAttentionContext = (
  op: string,
  ctx: unknown,
  batch: number,
  memorySize: number,
  dtype: T.DType,
): void => {
  if (typeof ctx !== "object" || ctx === null || isValue(ctx)) {
    fail(op, "context", `an attention cell's context must be { memory, lengths? }, got ${describeArg(ctx)}`, FIX_CTX);
  }
  const { memory, lengths } = ctx as Record<string, unknown>;
  const extra = Object.keys(ctx as object).filter((k) => k !== "memory" && k !== "lengths");
  if (extra.length > 0) fail(op, "context", `unknown context field(s) ${extra.join(", ")}`, FIX_CTX);
  if (!isValue(memory)) fail(op, "context.memory", `memory must be a tensor, got ${describeArg(memory)}`, FIX_CTX);
  const m = memory as Value;
  const shape = T.formatShape(m.shape);
  if (m.shape.length !== 3) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "context.memory",
      shapes: [m.shape],
      detail: `memory must be [batch, S, D] (rank 3), got ${shape}`,
      fix: "pass the encoder's outputs batch-major, [batch, S, D] (swap the axes of time-major outputs)",
    });
  }
  const [b, s, d] = m.shape as [number, number, number];
  if (b !== batch || d !== memorySize || s < 1) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "context.memory",
      shapes: [m.shape],
      detail:
        `memory must be [batch ${batch}, S ≥ 1, D ${memorySize}] for this batch and these parameters, ` +
        `got ${shape}`,
      fix:
        b !== batch
          ? "give the memory one row per sample of the batch being decoded"
          : d !== memorySize
            ? `init the cell with { memorySize: ${d} } (the memory's feature size)`
            : "give every sample at least one source position",
    });
  }
  if (m.dtype !== dtype) {
    fail(
      op,
      "context.memory",
      `memory is ${m.dtype} but the parameters are ${dtype}`,
      `convert it with astype(memory, "${dtype}") or init in ${m.dtype}`,
    );
  }
  if (lengths === undefined) return;
  const ls = validateLengths(op, lengths as Value | readonly number[], batch, s);
  if (!isTracer(ls) && ls.data.some((n) => Number(n) < 1)) {
    fail(
      op,
      "context.lengths",
      `every sample needs at least one valid source position, got a length of 0`,
      "drop empty sources from the batch, or give them length 1 (a single padding token)",
    );
  }
};

/**
 * The batch a context's memory holds (0 when it has none to read), for a step called directly:
 * the context check then reports what is wrong with the context itself.
 * @example ownBatch({ memory: zeros([4, 7, 8]) }) // 4
 */
export const ownBatch = (ctx: unknown): number => {
  const m = typeof ctx === "object" && ctx !== null ? (ctx as { memory?: unknown }).memory : undefined;
  return isValue(m) && m.shape.length > 0 ? m.shape[0]! : 0;
};

const FIX_CTX = "pass context: { memory: [batch, S, D], lengths?: [batch] }";

/**
 * The bool `[batch, S]` mask of valid positions (null when every position is valid).
 * @example attentionMask({ memory, lengths: [3, 1] }, "rnn") // [[T, T, T, F], [T, F, F, F]] for S = 4
 */
export const attentionMask = (ctx: AttentionContext, op: string): Value | null => {
  if (ctx.lengths === undefined) return null;
  const [batch, s] = ctx.memory.shape as [number, number];
  const ls = validateLengths(op, ctx.lengths, batch, s);
  return less(expandDims(T.arange(s), 0), expandDims(ls, 1));
};

/**
 * Masked softmax of `scores` `[batch, S]` over source positions, and the weighted sum of `memory`.
 * @example attend(scores, memory, mask).context // [batch, D]
 */
export const attend = (scores: Value, memory: Value, mask: Value | null): Attended => {
  const weights = softmax(mask === null ? scores : where(mask, scores, -Infinity), -1);
  return { context: sum(mul(expandDims(weights, 2), memory), { axis: 1 }), weights };
};

/** The default query: the carry if it is a tensor, else its `h` (lstm's `{ h, c }`). */
export const defaultQuery = (op: string, carry: unknown): Value => {
  if (isValue(carry)) return carry;
  const h = typeof carry === "object" && carry !== null ? (carry as { h?: unknown }).h : undefined;
  if (isValue(h)) return h;
  return fail(
    op,
    "options.query",
    "the carry is neither a tensor nor an object with a tensor h, so there is no default query",
    "pass { query: (carry) => <[batch, hidden] tensor> }",
  );
};

/** `[rows, cols]` drawn uniform in ±1/√rows (PyTorch's Linear default for fan-in `rows`), for `x · W`. */
export const inputMajor = (key: T.Key, rows: number, cols: number, dtype: FloatDType): T.Tensor =>
  T.transpose(uniformInit(key, [cols, rows], rows, dtype));

/** x `[batch, a]` and c `[batch, b]` side by side, `[batch, a + b]`. */
export const beside = (x: Value, c: Value): Value => concat([x, c], 1);
