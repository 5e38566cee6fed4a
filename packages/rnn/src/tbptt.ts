/**
 * @file Truncated BPTT across chunks and stateful training (min-char-rnn style).
 *
 * A long sequence is walked in chunks of k steps. Each chunk's loss is differentiated on its own
 * and its final carry, with the gradient stopped, starts the next chunk: memory is bounded by k
 * steps, and the state still flows forward across the whole sequence.
 *
 * Relation to `rnn(..., { truncate: k })`: that option cuts the carry's gradient at every k-th
 * step boundary *inside one scan*. For a loss that is a sum over steps, the gradient of the whole
 * sequence under `truncate: k` equals the sum over chunks of the per-chunk gradients computed
 * here (`tbpttGrads`): in both, gradient flows only within a chunk. They differ in when you can
 * update: chunking lets you take an optimizer step after every chunk (with new parameters for the
 * next chunk, which `truncate` cannot express) and never holds more than one chunk in memory.
 */
import * as T from "@rewind/tensor";
import { check, intAtLeast, keysOf, withFix } from "@rewind/tensor/internal/check";
import {
  add,
  isValue,
  maximum,
  minimum,
  slice,
  stopGradient,
  sub,
  treeLeavesWithPaths,
  treeMap,
  valueAndGrad,
  type Value,
} from "@rewind/autodiff";
import { validateLengths } from "./lengths.js";
import { checkFlag, checkOptions } from "./util.js";

/** Options of `chunkSequence`. */
export interface ChunkOptions {
  /** Time is axis 0 (`[time, batch, ...]`) instead of axis 1 (`[batch, time, ...]`). */
  readonly timeMajor?: boolean;
}

const CHUNK_KEYS = keysOf<ChunkOptions>({ timeMajor: true });

const chunkRule = withFix(intAtLeast(1), "pass the number of steps per chunk, e.g. 25");
const checkK = (op: string, k: number): void => {
  check(op, "k", k, chunkRule);
};

/** The number of steps of every leaf of `xs` along the time axis (they must agree). */
const timeOf = (op: string, xs: unknown, axis: number): number => {
  const leaves = treeLeavesWithPaths(xs);
  const times = new Set(leaves.map(([, l]) => l.shape[axis]));
  const bad = leaves.find(([, l]) => l.shape.length <= axis);
  if (leaves.length === 0 || bad !== undefined || times.size !== 1) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: bad === undefined ? "xs" : `xs${bad[0] === "<root>" ? "" : bad[0]}`,
      shapes: leaves.map(([, l]) => l.shape),
      detail: leaves.length === 0 ? "xs has no tensors" : `every leaf needs a time axis ${axis} of one common length`,
      fix:
        axis === 1
          ? "pass [batch, time, ...] leaves (or set timeMajor for [time, batch, ...])"
          : "pass [time, batch, ...] leaves",
    });
  }
  return [...times][0]!;
};

/**
 * Splits a sequence (a tensor or a pytree of tensors sharing the time axis, e.g. inputs and
 * targets together) into consecutive chunks of `k` steps; the last chunk may be shorter.
 * @throws TensorException for k < 1 or leaves without a common time axis.
 * @example chunkSequence(xs, 25).length // ceil(T / 25) chunks of [B, ≤25, F]
 */
export const chunkSequence = <X>(xs: X, k: number, opts: ChunkOptions = {}): X[] => {
  checkK("chunkSequence", k);
  checkOptions("chunkSequence", "options", opts, CHUNK_KEYS);
  checkFlag("chunkSequence", "options.timeMajor", opts.timeMajor);
  const axis = (opts.timeMajor ?? false) ? 0 : 1;
  const time = timeOf("chunkSequence", xs, axis);
  const chunks: X[] = [];
  for (let start = 0; start < time; start += k) {
    const spec = { start, stop: Math.min(time, start + k) };
    chunks.push(treeMap<X>((l) => slice(l, axis === 0 ? [spec] : [null, spec]), xs));
  }
  return chunks;
};

/**
 * Per-chunk valid lengths for `chunkSequence(xs, k)` of a batch with per-sample `lengths` over
 * `time` steps: chunk j gets `clamp(length − j·k, 0, chunk size)`, so a sample that has ended
 * keeps its carry frozen through later chunks.
 * @example chunkLengths([5, 2], 6, 4) // [[4, 2], [1, 0]]
 */
export const chunkLengths = (lengths: Value | readonly number[], time: number, k: number): Value[] => {
  checkK("chunkLengths", k);
  const batch = Array.isArray(lengths) ? lengths.length : isValue(lengths) ? (lengths.shape[0] ?? 0) : 0;
  const len = validateLengths("chunkLengths", lengths, batch, time);
  const out: Value[] = [];
  for (let start = 0; start < time; start += k)
    out.push(maximum(minimum(sub(len, start), Math.min(k, time - start)), 0));
  return out;
};

/** A chunk loss: `(params, carry, chunk) → [scalar loss, final carry]`. */
export type ChunkLoss<P, C, X> = (params: P, carry: C, chunk: X) => readonly [Value, C];

/** What one truncated-BPTT step returns. */
export interface TbpttStepResult<P, C> {
  /** The chunk's loss. */
  readonly loss: Value;
  /** d loss / d params for this chunk alone (no gradient flows into earlier chunks). */
  readonly grads: P;
  /** The chunk's final carry with its gradient stopped: pass it to the next chunk. */
  readonly carry: C;
}

const stopCarry = <C>(c: C): C => treeMap<C>((l) => (T.isFloating(l.dtype) ? stopGradient(l) : l), c);

/**
 * One step of truncated BPTT / stateful training: the loss and parameter gradient of one chunk
 * starting from `carry`, and the chunk's final carry with the gradient stopped (min-char-rnn's
 * `hprev`). Update the parameters between calls as you like.
 * @example
 * let carry = lstm.initialCarry(B, params);
 * for (const chunk of chunkSequence({ x, y }, 25)) {
 *   const r = tbpttStep(loss, params, carry, chunk);
 *   params = sgd(params, r.grads); carry = r.carry;
 * }
 */
export const tbpttStep = <P, C, X>(loss: ChunkLoss<P, C, X>, params: P, carry: C, chunk: X): TbpttStepResult<P, C> => {
  if (typeof loss !== "function") {
    T.fail({
      _tag: "ValueError",
      op: "tbpttStep",
      arg: "loss",
      detail: `loss must be a function (params, carry, chunk) → [loss, carry], got ${typeof loss}`,
      fix: "pass the chunk's loss function",
    });
  }
  const [out, grads] = valueAndGrad((p: P, c: C, x: X) => loss(p, c, x), { hasAux: true })(
    params,
    stopCarry(carry),
    chunk,
  );
  return { loss: out[0], grads, carry: stopCarry(out[1]) };
};

/** What `tbpttGrads` returns. */
export interface TbpttResult<P, C> {
  /** Sum of the chunk losses. */
  readonly loss: Value;
  /** Sum of the chunk gradients (equal to `truncate: k` over the whole sequence for a summed loss). */
  readonly grads: P;
  /** The last chunk's final carry, gradient stopped. */
  readonly carry: C;
}

/**
 * Truncated BPTT over all `chunks` with fixed parameters: sums each chunk's loss and gradient,
 * carrying the (gradient-stopped) state across. For a loss summed over steps this equals the
 * gradient of the whole sequence under `rnn(..., { truncate: k })`.
 * @throws TensorException when there are no chunks.
 * @example const { grads } = tbpttGrads(loss, params, lstm.initialCarry(B, params), chunkSequence(xs, 10))
 */
export const tbpttGrads = <P, C, X>(
  loss: ChunkLoss<P, C, X>,
  params: P,
  carry: C,
  chunks: readonly X[],
): TbpttResult<P, C> => {
  if (!Array.isArray(chunks)) {
    T.fail({
      _tag: "ValueError",
      op: "tbpttGrads",
      arg: "chunks",
      detail: `chunks must be an array, got ${chunks === null ? "null" : typeof chunks}`,
      fix: "pass chunkSequence(xs, k)",
    });
  }
  if (chunks.length === 0) {
    T.fail({
      _tag: "ValueError",
      op: "tbpttGrads",
      arg: "chunks",
      detail: "there are no chunks to train on",
      fix: "pass chunkSequence(xs, k) of a non-empty sequence",
    });
  }
  let total: TbpttResult<P, C> | undefined;
  let c = carry;
  for (const chunk of chunks) {
    const r = tbpttStep(loss, params, c, chunk);
    total =
      total === undefined
        ? r
        : { loss: add(total.loss, r.loss), grads: treeMap<P>(add, total.grads, r.grads), carry: r.carry };
    c = r.carry;
  }
  return total!;
};
