/**
 * @file The checks `defineCell` wraps around a user's cell: that a step or a whole-sequence form
 * gives back a carry of the structure, shapes and dtypes it was given, and (for the sequence
 * form) that xs is a whole batch-major sequence and ys has one row per sample and step. They
 * name the cell, so a mistake surfaces as "myCell.sequence returned ys of shape …" instead of a
 * shape error deep inside `rnn`.
 */
import * as T from "@rewind/tensor";
import { isValue, treeDefKey, treeLeavesWithPaths, treeStructure, type Value } from "@rewind/autodiff";

const describeShape = (v: Value): string => `${v.dtype}[${v.shape.join(", ")}]`;

/**
 * Throws unless `next` has the tree structure, leaf shapes and leaf dtypes of `carry`, naming `op`.
 * @example checkCarryKept("myCell.step", h, hNext)
 */
export const checkCarryKept = (op: string, carry: unknown, next: unknown): void => {
  const before = treeDefKey(treeStructure(carry));
  const after = treeDefKey(treeStructure(next));
  if (before !== after) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "carry",
      detail: `the returned carry has structure ${after} but the carry passed in has ${before}`,
      fix: "return a carry with the same keys and nesting as initialCarry's",
    });
  }
  const inLeaves = treeLeavesWithPaths(carry);
  treeLeavesWithPaths(next).forEach(([path, leaf], i) => {
    const prev = inLeaves[i]![1];
    if (leaf.dtype !== prev.dtype || !T.shapesEqual(leaf.shape, prev.shape)) {
      T.fail({
        _tag: "ShapeError",
        op,
        arg: `carry${path === "<root>" ? "" : path}`,
        shapes: [prev.shape, leaf.shape],
        detail: `the carry leaf changed from ${describeShape(prev)} to ${describeShape(leaf)}`,
        fix: "keep every carry leaf's shape and dtype from step to step (cast or reshape before returning)",
      });
    }
  });
};

/** A user's whole-sequence form, uncurried: `(params, carry, xs [B, T, in], lengths?) → [carry', ys]`. */
export type SequenceSpec<P, C> = (params: P, carry: C, xs: Value, lengths?: Value) => readonly [C, Value];

/**
 * Curries a user's sequence form into `Cell.sequence` and checks its argument and result: xs
 * must be `[batch, time, features]`; the result `[carry', ys]` with the carry's structure, shapes
 * and dtypes and ys `[batch, time, outputSize]`.
 * @example const sequence = checkedSequence("myCell", spec.sequence, (p) => 4)
 */
export const checkedSequence =
  <P, C>(name: string, sequence: SequenceSpec<P, C>, outputSize: (params: P) => number) =>
  (params: P) => {
    const n = outputSize(params);
    const op = `${name}.sequence`;
    return (carry: C, xs: Value, lengths?: Value): readonly [C, Value] => {
      if (!isValue(xs) || xs.shape.length !== 3)
        T.fail({
          _tag: "ShapeError",
          op,
          arg: "xs",
          shapes: isValue(xs) ? [xs.shape] : [],
          detail: `xs must be a whole batch-major sequence [batch, time, features], got ${
            isValue(xs) ? describeShape(xs) : typeof xs
          }`,
          fix: 'run it through rnn(cell, params, xs, { mode: "parallel" }), which passes [batch, time, features]',
        });
      const result: unknown = sequence(params, carry, xs, lengths);
      if (!Array.isArray(result) || result.length !== 2)
        T.fail({
          _tag: "ValueError",
          op,
          arg: "return value",
          detail: `sequence must return [carry, ys], got ${
            Array.isArray(result) ? `an array of ${result.length}` : typeof result
          }`,
          fix: "return a two-element array [finalCarry, ys]",
        });
      const [next, ys] = result as [C, unknown];
      checkCarryKept(op, carry, next);
      const [batch, time] = xs.shape as [number, number];
      if (!isValue(ys) || !T.shapesEqual(ys.shape, [batch, time, n]))
        T.fail({
          _tag: "ShapeError",
          op,
          arg: "ys",
          shapes: isValue(ys) ? [ys.shape] : [],
          detail: `ys must be [${batch}, ${time}, ${n}] (batch × time × outputSize), got ${
            isValue(ys) ? describeShape(ys) : typeof ys
          }`,
          fix: "return every step's output, batch-major, with outputSize features",
        });
      return [next, ys as Value];
    };
  };
