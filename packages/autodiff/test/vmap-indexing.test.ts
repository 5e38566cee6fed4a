/**
 * @file take / addAt under vmap with both the operand and the indices batched: every example
 * indexes its own rows only. An index out of range for one example raises the unbatched op's
 * out-of-range error (eagerly and under jit) instead of reading a row of another example.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

/** Two examples of 3 rows × 2 columns: example b, row r holds 10b + r in both columns. */
const xs = T.tensor(
  [
    [
      [0, 0],
      [1, 1],
      [2, 2],
    ],
    [
      [10, 10],
      [11, 11],
      [12, 12],
    ],
  ],
  "float64",
);
const idx = (rows: number[][]): T.Tensor => T.tensor(rows, "int32");
/** The out-of-range error of take / addAt for index `i` of an axis of 3 rows. */
const outOfRange = (op: string, i: number) =>
  expect.objectContaining({
    message: expect.stringMatching(new RegExp(`^${op}: index ${i} .*out of range for axis 0 of size 3`)) as unknown,
  });

describe("vmap of take / addAt with batched operand and indices", () => {
  const take0 = (x: Value, i: Value) => A.take(x, i, 0);
  const addAt0 = (x: Value, i: Value) => A.addAt(x, i, A.onesLike(A.take(x, i, 0)), 0);

  it("reads each example's own rows, negative indices counting from the end of its axis", () => {
    const out = A.vmap(take0)(
      xs,
      idx([
        [2, -1, 0],
        [-3, 1, 2],
      ]),
    );
    expect(Array.from(out.data)).toEqual([2, 2, 2, 2, 0, 0, 10, 10, 11, 11, 12, 12]);
  });

  it("raises take's out-of-range error for an index equal to the row count (eager)", () => {
    // unbatched take raises for index 3 on 3 rows; the batched one must not read example 1's row 0
    const x0 = T.reshape(T.take(xs, [0], 0), [3, 2]);
    expect(() => take0(x0, T.tensor([3], "int32"))).toThrow(outOfRange("take", 3));
    expect(() => A.vmap(take0)(xs, idx([[3], [0]]))).toThrow(outOfRange("take", 3));
  });

  it("raises for an index below minus the row count (eager)", () => {
    expect(() => A.vmap(take0)(xs, idx([[0], [-4]]))).toThrow(outOfRange("take", -4));
  });

  it("raises under jit too, instead of reading another example", () => {
    expect(() => A.jit(A.vmap(take0))(xs, idx([[3], [0]]))).toThrow(/out of range/);
    expect(() => A.jit(A.vmap(take0))(xs, idx([[0], [-4]]))).toThrow(/out of range/);
  });

  it("addAt raises for an out-of-range index instead of adding into another example", () => {
    expect(() => A.vmap(addAt0)(xs, idx([[3], [0]]))).toThrow(outOfRange("take", 3));
    expect(() =>
      A.vmap((x: Value, i: Value) => A.addAt(x, i, T.ones([1, 2], "float64"), 0))(xs, idx([[0], [3]])),
    ).toThrow(outOfRange("addAt", 3));
    expect(() => A.jit(A.vmap(addAt0))(xs, idx([[0], [-4]]))).toThrow(/out of range/);
  });
});
