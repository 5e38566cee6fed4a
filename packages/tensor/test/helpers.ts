/**
 * @file Helpers shared by the tensor tests: hand-written index arithmetic for the naive
 * references (deliberately not the library's strides) and an error-assertion helper.
 */
import { expect } from "vitest";
import { TensorException } from "../src/errors.js";
import type { Tensor } from "../src/Tensor.js";

/** Number of elements of a shape. */
export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** The multi-index of a row-major flat position. */
export const unravel = (flat: number, shape: readonly number[]): number[] => {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = flat % shape[a]!;
    flat = Math.floor(flat / shape[a]!);
  }
  return idx;
};

/** The row-major flat position of a multi-index. */
export const ravel = (idx: readonly number[], shape: readonly number[]): number =>
  idx.reduce((f, v, a) => f * shape[a]! + v, 0);

/** A tensor's values as a plain array. */
export const values = (x: Tensor): number[] => Array.from(x.data);

/** Asserts that `f` throws a TensorException with this tag and a message containing each fragment. */
export const throwsTensor = (f: () => unknown, tag: string, ...fragments: string[]): void => {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(TensorException);
  const err = caught as TensorException;
  expect(err.error._tag).toBe(tag);
  for (const s of fragments) expect(err.message).toContain(s);
};
