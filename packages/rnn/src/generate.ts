/**
 * @file One-to-many autoregressive generation: greedy, temperature and top-k sampling from keys,
 * a maximum length and an optional stop token.
 */
import * as T from "@rewind/tensor";
import type { Key, Tensor } from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import { transpose, treeFlatten, type Concrete, type Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import {
  checkFlag,
  checkFunction,
  checkKey,
  checkOptions,
  checkSteps,
  checkTokenIds,
  checkValue,
  checkVector,
  swapBatchTime,
} from "./util.js";
import { checkSampling, decode, type Sampling } from "./decode.js";
import { checkContextFor } from "./context.js";

/** Options of `generate`. */
export interface GenerateOptions<C, X = undefined> {
  /** The carry at step 0 (default: `cell.initialCarry(batch, params)`), e.g. an encoder's state. */
  readonly initialCarry?: C;
  /** Input of step 0, `[batch, F]` (e.g. an image embedding). Give this or `startToken`. */
  readonly firstInput?: Value;
  /** Token(s) whose embedding is the input of step 0: one id for all, or int32 `[batch]`. */
  readonly startToken?: number | Value;
  /** Needed only when the batch size cannot be read from firstInput, startToken or initialCarry. */
  readonly batch?: number;
  /** Token ids int32 `[batch]` → inputs `[batch, F]`. */
  readonly embed: (ids: Value) => Value;
  /** y_t `[batch, H]` → logits `[batch, V]`. */
  readonly readout: (y: Value) => Value;
  /** Number of steps (tokens per sample). */
  readonly maxLength: number;
  /** A sample stops after emitting this token; later tokens repeat it. */
  readonly stopToken?: number;
  /** Default greedy. */
  readonly sampling?: Sampling;
  /** Required for temperature and top-k sampling. */
  readonly key?: Key;
  /**
   * Teacher forcing: int32 `[batch, maxLength]` (time-major: `[maxLength, batch]`), column t fed
   * as the input of step t + 1 instead of the model's token; `tokens` stay the model's choices.
   */
  readonly teacherTokens?: Value;
  /** tokens `[maxLength, batch]`, logits `[maxLength, batch, V]`. */
  readonly timeMajor?: boolean;
  /**
   * The per-sequence context of a cell that reads one (e.g. `{ memory, lengths }` for an
   * attention decoder): bound once, read at every step (a scan constant).
   */
  readonly context?: X;
}

const GENERATE_KEYS = keysOf<GenerateOptions<unknown, unknown>>({
  initialCarry: true,
  firstInput: true,
  startToken: true,
  batch: true,
  embed: true,
  readout: true,
  maxLength: true,
  stopToken: true,
  sampling: true,
  key: true,
  teacherTokens: true,
  timeMajor: true,
  context: true,
});

/**
 * The options of a `generate` call on tensors: every per-sample input that is given is a tensor
 * (`embed` and `readout` stay `Value` functions, since the loop calls them on traced values).
 */
export type GenerateOptionsOnTensors<C, X = undefined> = Omit<
  GenerateOptions<C, X>,
  "initialCarry" | "firstInput" | "startToken" | "teacherTokens" | "context"
> & {
  /** The carry at step 0, as tensors. */
  readonly initialCarry?: Concrete<C>;
  /** Input of step 0, `[batch, F]`. */
  readonly firstInput?: Tensor;
  /** Token(s) whose embedding is the input of step 0: one id for all, or int32 `[batch]`. */
  readonly startToken?: number | Tensor;
  /** Teacher forcing's tokens, as in `GenerateOptions`. */
  readonly teacherTokens?: Tensor;
  /** The per-sequence context, as tensors. */
  readonly context?: Concrete<X>;
};

/**
 * What `generate` returns: `V` is `Tensor` for a call on tensors (`Value` inside a transform).
 */
export interface GenerateResult<C, V extends Value = Value> {
  /** int32 `[batch, maxLength]`; past a sample's length, the stop token. */
  readonly tokens: V;
  /** int32 `[batch]`: tokens up to and including the stop token (maxLength if it never stopped). */
  readonly lengths: V;
  /** The readout's logits at each step `[batch, maxLength, V]` (zero past a sample's length). */
  readonly logits: V;
  /** Each sample's carry after its last valid step. */
  readonly finalCarry: C;
}

/**
 * The batch size, read from whichever of firstInput, startToken, initialCarry and batch are
 * given (they must agree).
 */
const batchOf = <C, X>(op: string, o: GenerateOptions<C, X>): number => {
  const seen: Array<readonly [string, number]> = [];
  if (o.firstInput !== undefined) seen.push(["firstInput", o.firstInput.shape[0]!]);
  if (typeof o.startToken === "object") seen.push(["startToken", o.startToken.shape[0]!]);
  const leaf = o.initialCarry === undefined ? undefined : treeFlatten(o.initialCarry)[0][0];
  if (leaf !== undefined && leaf.shape.length > 0) seen.push(["initialCarry", leaf.shape[0]!]);
  if (o.batch !== undefined) seen.push(["batch", o.batch]);
  if (seen.length === 0) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "batch",
      detail: "the batch size is unknown: startToken is a single id and there is no initialCarry",
      fix: "pass { batch }, an int32 [batch] startToken, or an initialCarry",
    });
  }
  if (new Set(seen.map(([, n]) => n)).size > 1) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "batch",
      detail: `the batch sizes disagree: ${seen.map(([k, n]) => `${k}: ${n}`).join(", ")}`,
      fix: "give every per-sample input the same batch size",
    });
  }
  return seen[0]![1];
};

/**
 * Autoregressive generation (one-to-many): one `scan` over `maxLength` steps that runs the cell,
 * turns y_t into logits with `readout`, chooses a token (greedy, temperature or top-k, by the
 * Gumbel-max trick with noise drawn from `key` before the loop) and feeds `embed(token)` back.
 * After a sample emits `stopToken`, its carry freezes and its later tokens are the stop token.
 * With `teacherTokens` the loop follows the given tokens (a differentiable training path).
 * Called on tensors (parameters, carry, start tokens and context all tensors, as from a cell's
 * `init`), its tokens, lengths and logits are typed `Tensor`; otherwise (inside `grad` or `jit`)
 * `Value`. Like `jit`'s, the tensor signature trusts that `embed` and `readout` close over
 * tensors, not over another transform's traced values.
 * @throws TensorException for a bad sampling/temperature/k, a missing key, maxLength < 1,
 *   both or neither of firstInput/startToken, a negative or fractional token id, an out-of-range
 *   stopToken, or embed/readout that are not functions or return the wrong shapes.
 * @example
 * const { tokens, lengths } = generate(gru, p, {
 *   startToken: 0, batch: 4, embed: (ids) => take(E, ids, 0), readout: (y) => matmul(y, W),
 *   maxLength: 20, stopToken: 1, sampling: { kind: "topK", k: 5 }, key: random.key(7),
 * });
 */
export function generate<P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<Concrete<P>>,
  o: GenerateOptionsOnTensors<C, NoInfer<X>>,
): GenerateResult<Concrete<C>, Tensor>;
export function generate<P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  o: GenerateOptions<C, NoInfer<X>>,
): GenerateResult<C>;
export function generate<P, C, X = undefined>(
  cell: Cell<P, C, X>,
  params: NoInfer<P>,
  o: GenerateOptions<C, NoInfer<X>>,
): GenerateResult<C> {
  const op = "generate";
  // rnn's mode has no meaning here: say why, rather than only that the key is unknown.
  if (typeof o === "object" && o !== null && "mode" in o)
    T.fail({
      _tag: "ValueError",
      op,
      arg: "options.mode",
      detail:
        "generate feeds each step's chosen token back as the next step's input, so step t needs " +
        "step t−1's output: it runs step by step and has no parallel mode",
      fix:
        "remove mode; to score known targets in parallel (teacher forcing), run " +
        'manyToMany(cell, params, embedded inputs, { mode: "parallel", readout })',
    });
  checkOptions(op, "options", o, GENERATE_KEYS, true);
  checkFunction(op, "embed", o.embed);
  checkFunction(op, "readout", o.readout);
  checkSteps(op, "maxLength", o.maxLength, 1);
  const sampling = o.sampling ?? { kind: "greedy" };
  checkKey(op, "key", o.key);
  checkSampling(op, sampling, o.key);
  if ((o.firstInput === undefined) === (o.startToken === undefined)) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "firstInput, startToken",
      detail: `give exactly one of firstInput and startToken, got ${o.firstInput === undefined ? "neither" : "both"}`,
      fix: "pass firstInput: [batch, F] or startToken: an id",
    });
  }
  if (typeof o.startToken === "number") checkSteps(op, "startToken", o.startToken, 0);
  else if (o.startToken !== undefined) checkValue(op, "startToken", o.startToken);
  if (o.firstInput !== undefined) checkVector(op, "firstInput", o.firstInput);
  if (o.batch !== undefined) checkSteps(op, "batch", o.batch, 0);
  const batch = batchOf(op, o);
  const start =
    o.startToken === undefined
      ? undefined
      : typeof o.startToken === "number"
        ? T.full([batch], o.startToken, "int32")
        : o.startToken;
  if (start !== undefined && (start.dtype !== "int32" || start.shape.length !== 1 || start.shape[0] !== batch)) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "startToken",
      detail: `startToken must be an id or int32 [${batch}], got ${start.dtype} [${start.shape.join(", ")}]`,
      fix: "pass one int32 id per sample",
    });
  }
  if (start !== undefined) checkTokenIds(op, "startToken", start);
  checkFlag(op, "timeMajor", o.timeMajor);
  const tm = o.timeMajor ?? false;
  let teacher: Value | undefined;
  if (o.teacherTokens !== undefined) {
    checkValue(op, "teacherTokens", o.teacherTokens);
    checkTokenIds(op, "teacherTokens", o.teacherTokens);
    const want = tm ? [o.maxLength, batch] : [batch, o.maxLength];
    if (o.teacherTokens.dtype !== "int32" || !T.shapesEqual(o.teacherTokens.shape, want)) {
      T.fail({
        _tag: "ShapeError",
        op,
        arg: "teacherTokens",
        shapes: [o.teacherTokens.shape],
        detail: `teacherTokens must be int32 [${want.join(", ")}], got ${o.teacherTokens.dtype}`,
        fix: "pass one token id per sample and step",
      });
    }
    teacher = tm ? o.teacherTokens : transpose(o.teacherTokens);
  }
  checkContextFor(op, "context", cell, o.context, batch, params);
  const r = decode({
    op,
    cell,
    params,
    context: o.context,
    embed: o.embed,
    readout: o.readout,
    steps: o.maxLength,
    sampling,
    key: o.key,
    stopToken: o.stopToken,
    carry: o.initialCarry ?? cell.initialCarry(batch, params),
    x0: o.firstInput ?? o.embed(start!),
    ...(teacher === undefined ? {} : { teacher }),
  });
  return {
    tokens: tm ? r.tokens : transpose(r.tokens),
    logits: tm ? r.logits : swapBatchTime(r.logits),
    lengths: r.lengths,
    finalCarry: r.finalCarry,
  };
}

// ---------------------------------------------------------------------------------------------
// encoder–decoder
