/**
 * @file `rnn`'s step-by-step loop: the cell's `step` in one `scan` over time, keeping only the
 * per-step outputs a caller reads.
 *
 * Stacking every y_t into `[time, batch, out]` costs memory linear in the length. Under `jit`,
 * dead-code elimination drops stacked outputs nobody reads; eagerly (and under eager `grad`) they
 * would be computed and held anyway. So the loop is told what to keep: every output (stacked),
 * none (the final carry only), or the last valid one, held in the scan carry next to the cell's
 * carry and replaced at every valid step, so many-to-one keeps O(batch · out) instead of
 * O(time · batch · out). Selecting with `where` routes the gradient of that output to exactly the
 * step it came from, as the gather from stacked outputs did. A step may output a tree of tensors
 * (an attention cell's `{ output, weights }`): stacking, masking and reversal then act per leaf.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import {
  broadcastTo,
  flip,
  gather,
  maximum,
  reshape,
  scan,
  slice,
  stack,
  sub,
  traceTree,
  treeDefKey,
  treeFlatten,
  treeMap,
  treeUnflatten,
  where,
  type ScanOptions,
  type Value,
} from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { reverseValid, stepMask } from "./lengths.js";
import { maskFor } from "./util.js";

/** What the loop returns besides the final carry. */
export interface Kept<C> {
  readonly finalCarry: C;
  /** Time-major outputs aligned with the input, 0 past each length; present when asked for. */
  readonly ys?: Value;
  /** `[batch, out]`: each sample's output at its last valid step read (zeros for length 0), when asked for. */
  readonly last?: Value;
}

/** Which outputs a caller reads: every step's, the last valid step's, both, or neither. */
export interface Keep {
  readonly outputs: boolean;
  readonly last: boolean;
}

/** Everything the loop needs, already validated by `rnn`. */
export interface LoopSpec<P, C, X = undefined> {
  readonly cell: Cell<P, C, X>;
  readonly params: P;
  /** The checked step function (its errors explain bad step inputs). */
  readonly step: (carry: C, x: Value, noise?: unknown) => readonly [C, Value];
  readonly init: C;
  /** Time-major inputs `[time, batch, ...]`. */
  readonly seq: Value;
  readonly lengths: Value | undefined;
  readonly reverse: boolean;
  readonly key: Key | undefined;
  readonly scanOpts: ScanOptions;
}

/** Per-step noise drawn outside the loop: one key per step, stacked along time. */
const stepNoise = <P, C, X>(cell: Cell<P, C, X>, params: P, key: Key, time: number, batch: number): unknown => {
  if (cell.noise === undefined || time === 0) return null;
  const keys = T.random.split(key, time);
  const samples = keys.map((k) => cell.noise!(k, batch, params));
  const [first, def] = treeFlatten(samples[0]);
  return treeUnflatten(
    def,
    first.map((_, i) => stack(samples.map((s) => treeFlatten(s)[0][i]!))),
  );
};

/** Same pytree structure and the same leaf shapes and dtypes. */
const sameAvals = (a: unknown, b: unknown): boolean => {
  const [la, da] = treeFlatten(a);
  const [lb, db] = treeFlatten(b);
  return (
    treeDefKey(da) === treeDefKey(db) &&
    la.every((l, i) => l.dtype === lb[i]!.dtype && T.shapesEqual(l.shape, lb[i]!.shape))
  );
};

/**
 * Zeros shaped like one step's output: the step is traced abstractly on zeros of one step's
 * input and noise (nothing computed), so the held output starts with exactly y_t's shape and dtype.
 * Undefined when the step breaks the cell contract (a carry that changes, an output that is not
 * one tensor): the caller then stacks as `rnn` does, and `scan` reports the fault in the cell's
 * own terms rather than inside the wrapper carry.
 */
const outputZeros = <C, X>(s: LoopSpec<unknown, C, X>, noise: unknown): Value | undefined => {
  const zerosOfRow = (v: Value): Value => T.zeros(v.shape.slice(1), v.dtype);
  let keepsCarry = false;
  const outs = traceTree(
    (c: C, x: Value, n: unknown) => {
      const [next, y] = s.step(c, x, n ?? undefined);
      keepsCarry = sameAvals(next, c);
      return y;
    },
    [s.init, zerosOfRow(s.seq), treeMap(zerosOfRow, noise)],
  ).graph.outAvals;
  return keepsCarry && outs.length === 1 ? T.zeros(outs[0]!.shape, outs[0]!.dtype) : undefined;
};

/**
 * Each sample's row of time-major `ys` at its last valid step read: `length − 1` forward, step 0
 * with `reverse`; zeros for length 0 (rnn has zeroed outputs past a length, and step 0 is one).
 * @example pickLast(ys, lengths, false) // [batch, out]
 */
export const pickLast = (ys: Value, lengths: Value | undefined, reverse: boolean): Value => {
  const [time, batch, features] = ys.shape as [number, number, number];
  if (time === 0) return broadcastTo(T.scalar(0, ys.dtype), [batch, features]);
  if (reverse) return reshape(slice(ys, [{ start: 0, stop: 1 }]), [batch, features]);
  if (lengths === undefined) return reshape(slice(ys, [{ start: time - 1, stop: time }]), [batch, features]);
  const last = maximum(sub(lengths, 1), 0);
  return reshape(gather(ys, reshape(last, [1, batch, 1]), 0), [batch, features]);
};

/**
 * Runs the loop, stacking outputs only when `keep.outputs`; the last valid output is picked from
 * the stack when there is one, else carried.
 * @example runLoop(spec, { outputs: false, last: true }).last // [batch, out]
 */
export const runLoop = <P, C, X>(s: LoopSpec<P, C, X>, keep: Keep): Kept<C> => {
  const [time, batch] = s.seq.shape as [number, number];
  const noise = s.key === undefined ? null : stepNoise(s.cell, s.params, s.key, time, batch);
  const zeros = keep.last && !keep.outputs ? outputZeros(s as LoopSpec<unknown, C, X>, noise) : undefined;
  const carryLast = zeros !== undefined;
  const stacking = keep.outputs || (keep.last && !carryLast);
  // The held output rides next to the cell's carry only when asked for, so any other run keeps
  // the cell's own carry (and scan's carry errors name the user's structure, not a wrapper).
  type Held = { c: C; y: Value | null };
  const pack = (c: C, y: Value | null): unknown => (carryLast ? { c, y } : c);
  const unpack = (st: unknown): Held => (carryLast ? (st as Held) : { c: st as C, y: null });
  const init = pack(s.init, zeros ?? null);
  const { lengths, step } = s;
  let state: unknown;
  let ys: Value | null;
  if (lengths === undefined) {
    // Step s (in processing order) draws the s-th key; a reverse scan reads index T−1−s at step s.
    const n = s.reverse ? treeMap((leaf) => flip(leaf, 0), noise) : noise;
    [state, ys] = scan(
      (st: unknown, x: { x: Value; n: unknown }): readonly [unknown, Value | null] => {
        const [next, y] = step(unpack(st).c, x.x, x.n ?? undefined);
        return [pack(next, y), stacking ? y : null];
      },
      init,
      { x: s.seq, n },
      { ...s.scanOpts, reverse: s.reverse },
    );
  } else {
    // A reversed direction reads each sample's valid prefix backward and leaves padding at the end.
    const inputs = s.reverse ? reverseValid(s.seq, lengths) : s.seq;
    const body = (st: unknown, x: { x: Value; m: Value; n: unknown }): readonly [unknown, Value | null] => {
      const c = unpack(st);
      const [next, y] = step(c.c, x.x, x.n ?? undefined);
      const frozen = treeMap<C>((a, b) => where(maskFor(x.m, a), a, b), next, c.c);
      const held = c.y === null ? null : where(maskFor(x.m, y), y, c.y);
      // A cell may output a tree per step (e.g. attention's { output, weights }): mask each leaf.
      return [pack(frozen, held), stacking ? treeMap((l) => where(maskFor(x.m, l), l, 0), y) : null];
    };
    [state, ys] = scan(body, init, { x: inputs, m: stepMask(lengths, time), n: noise }, s.scanOpts);
    if (s.reverse && ys !== null) ys = treeMap((l) => reverseValid(l, lengths), ys);
  }
  const { c: finalCarry, y: last } = unpack(state);
  if (ys === null) return carryLast ? { finalCarry, last: last! } : { finalCarry };
  return {
    finalCarry,
    ...(keep.outputs ? { ys } : {}),
    ...(keep.last ? { last: treeMap((l) => pickLast(l, lengths, s.reverse), ys) } : {}),
  };
};
