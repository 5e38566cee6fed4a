/**
 * @file The whole-sequence (`sequence`) forms of the combinators, for `rnn(…, { mode: "parallel" })`.
 *
 * A composite has a sequence form exactly when every cell inside it has one, and it is the same
 * composition one level up: a stack runs layer k's sequence over layer k−1's outputs (the
 * carries are the stack's carry), a residual adds xs to the inner cell's ys, and a layer in
 * front of or after a cell maps every step at once (its per-step map applied to the
 * `[batch·time, …]` rows, which is the same map on the same rows). The forms read no noise:
 * parallel mode refuses a dropout key, and without one dropout is the identity.
 */
import * as T from "@rewind/tensor";
import { add, reshape, type Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";

/** A cell's sequence form, for its parameters. */
type SequenceOf<P, C> = NonNullable<Cell<P, C>["sequence"]>;

/**
 * `perStep` (a map of one step, `[batch, …] → [batch, …]`) on every step of batch-major `xs`
 * `[batch, time, …]` at once: the steps' rows side by side, `[batch·time, …]`, then back.
 * @example overSteps(linear(4).apply(p), xs) // [B, T, 4]
 */
export const overSteps = (perStep: (x: Value) => Value, xs: Value): Value => {
  const [batch, time] = xs.shape as [number, number];
  const y = perStep(reshape(xs, [batch * time, ...xs.shape.slice(2)]));
  return reshape(y, [batch, time, ...y.shape.slice(1)]);
};

/**
 * The sequence form of a stack of `parts` (undefined unless every layer has one): layer k's over
 * layer k−1's outputs, each from its own carry; `list` checks params and carries are per-layer arrays.
 * @example stackSequence([minGru, minLstm], asList) // (ps) => (carries, xs, lengths) => …
 */
export const stackSequence = (
  parts: ReadonlyArray<Pick<Cell<unknown, unknown>, "sequence">>,
  list: (op: string, v: unknown, what: string) => readonly unknown[],
  name: string,
): SequenceOf<readonly unknown[], readonly unknown[]> | undefined => {
  if (!parts.every((c) => typeof c.sequence === "function")) return undefined;
  return (ps) => {
    const seqs = list(`${name}.sequence`, ps, "params").map((p, k) => parts[k]!.sequence!(p));
    return (carry, xs, lengths) => {
      const cs = list(`${name}.sequence`, carry, "carry");
      const next: unknown[] = [];
      let h = xs;
      seqs.forEach((s, k) => {
        const [c, ys] = s(cs[k], h, lengths);
        next.push(c);
        h = ys;
      });
      return [next, h];
    };
  };
};

/**
 * The sequence form of `residual(inner)`: ys + xs, refused (by `mismatch`) when the widths differ.
 * @example residualSequence(minGru, mismatch)
 */
export const residualSequence = <P, C>(
  inner: Pick<Cell<P, C>, "sequence">,
  mismatch: (shapes: readonly (readonly number[])[], inputSize: number, outputSize: number) => never,
): SequenceOf<P, C> | undefined => {
  const sequence = inner.sequence;
  if (sequence === undefined) return undefined;
  return (p) => {
    const s = sequence(p);
    return (carry, xs, lengths) => {
      const [next, ys] = s(carry, xs, lengths);
      if (!T.shapesEqual(xs.shape, ys.shape)) mismatch([xs.shape, ys.shape], xs.shape[2] ?? 0, ys.shape[2] ?? 0);
      return [next, add(xs, ys)];
    };
  };
};

/**
 * The sequence form of a cell behind a per-step map of its input (`mapInput`): the map on every
 * step, then the cell's sequence. `split` gives the map and the cell's parameters.
 * @example mapInputSequence(minGru, (p) => [embedding.apply(p.input), p.cell])
 */
export const mapInputSequence = <P, C, Q>(
  inner: Pick<Cell<P, C>, "sequence">,
  split: (p: Q) => readonly [(x: Value) => Value, P],
): SequenceOf<Q, C> | undefined => {
  const sequence = inner.sequence;
  if (sequence === undefined) return undefined;
  return (p) => {
    const [f, q] = split(p);
    const s = sequence(q);
    return (carry, xs, lengths) => s(carry, overSteps(f, xs), lengths);
  };
};

/**
 * The sequence form of a cell followed by a per-step map of its output (`mapOutput`, a
 * many-to-many readout): the cell's sequence, then the map on every step.
 * @example mapOutputSequence(minGru, (p) => [p.cell, linear.apply(p.output)])
 */
export const mapOutputSequence = <P, C, Q>(
  inner: Pick<Cell<P, C>, "sequence">,
  split: (p: Q) => readonly [P, (y: Value) => Value],
): SequenceOf<Q, C> | undefined => {
  const sequence = inner.sequence;
  if (sequence === undefined) return undefined;
  return (p) => {
    const [q, g] = split(p);
    const s = sequence(q);
    return (carry, xs, lengths) => {
      const [next, ys] = s(carry, xs, lengths);
      return [next, overSteps(g, ys)];
    };
  };
};
