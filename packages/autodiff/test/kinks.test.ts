/**
 * @file The documented derivative choices at kinks, ties and singular points: relu'(0) = 0,
 * abs'(0) = 0, maximum/minimum ties split 0.5/0.5, reduceMax/reduceMin ties share equally,
 * sqrt'(0) = +Inf, prod with zeros, pow's exponent gradient at a zero base.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const data = (v: unknown): number[] => Array.from((v as T.Tensor).data);
const gradOfSum =
  (f: (x: Value) => Value) =>
  (x: T.Tensor): number[] =>
    data(A.grad((v: Value) => A.sum(f(v)))(x));

describe("derivatives at kinks", () => {
  it("relu'(0) = 0", () => {
    expect(gradOfSum(A.relu)(f64([-1, 0, 2]))).toEqual([0, 0, 1]);
  });

  it("abs'(0) = 0", () => {
    expect(gradOfSum(A.abs)(f64([-1, 0, 3]))).toEqual([-1, 0, 1]);
  });

  it("maximum and minimum split a tie 0.5/0.5, so max(x, x)' = 1", () => {
    const x = f64([1, 2, 3]);
    const y = f64([1, 5, 0]);
    for (const op of [A.maximum, A.minimum]) {
      const [gx, gy] = A.grad((a: Value, b: Value) => A.sum(op(a, b)), { argnums: [0, 1] })(x, y) as T.Tensor[];
      const xWins = op === A.maximum ? [0.5, 0, 1] : [0.5, 1, 0];
      expect(data(gx)).toEqual(xWins);
      expect(data(gy)).toEqual(xWins.map((w) => 1 - w));
    }
    expect(gradOfSum((v) => A.maximum(v, v))(x)).toEqual([1, 1, 1]);
  });

  it("reduceMax and reduceMin share the cotangent equally among ties", () => {
    expect(gradOfSum((v) => A.max(v))(f64([1, 3, 3, 2]))).toEqual([0, 0.5, 0.5, 0]);
    expect(
      gradOfSum((v) => A.min(v, { axis: 1 }))(
        f64([
          [2, 2, 2],
          [0, 1, 0],
        ]),
      ),
    ).toEqual([1 / 3, 1 / 3, 1 / 3, 0.5, 0, 0.5]);
  });

  it("sqrt'(0) = +Inf (as JAX)", () => {
    expect(gradOfSum(A.sqrt)(f64([0, 4]))).toEqual([Infinity, 0.25]);
  });

  it("prod's gradient is exact with one zero and zero with two", () => {
    expect(gradOfSum(A.prod)(f64([2, 0, 3]))).toEqual([0, 6, 0]);
    expect(gradOfSum(A.prod)(f64([2, 0, 0]))).toEqual([0, 0, 0]);
    expect(gradOfSum(A.prod)(f64([2, 4, 3]))).toEqual([12, 6, 8]);
  });

  it("prod's Hessian (∂²Π/∂x_a∂x_b = Π_{j≠a,b} x_j) is exact with zeros too", () => {
    const hessianAt = (x: T.NestedArray) => T.toArray(A.hessian((v: Value) => A.prod(v))(f64(x)) as T.Tensor);
    expect(hessianAt([0.5, 0, 2])).toEqual([
      [0, 2, 0],
      [2, 0, 0.5],
      [0, 0.5, 0],
    ]);
    expect(hessianAt([0, 0, 2])).toEqual([
      [0, 2, 0],
      [2, 0, 0],
      [0, 0, 0],
    ]);
    expect(hessianAt([0, 0, 0])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("pow's exponent gradient is 0, not NaN, where the base is 0", () => {
    const [ga, gb] = A.grad((a: Value, b: Value) => A.sum(A.pow(a, b)), { argnums: [0, 1] })(
      f64([0, 2]),
      f64([2, 3]),
    ) as T.Tensor[];
    expect(data(ga)).toEqual([0, 12]);
    expect(data(gb)[0]).toBe(0);
    expect(data(gb)[1]).toBeCloseTo(8 * Math.log(2), 14);
  });

  it("no gradient flows through comparisons, rounding or argmax", () => {
    const x = f64([0.3, -1.7, 2.5]);
    expect(gradOfSum((v) => A.mul(A.astype(A.greater(v, 0), "float64"), 3))(x)).toEqual([0, 0, 0]);
    expect(gradOfSum((v) => A.add(A.floor(v), A.round(v)))(x)).toEqual([0, 0, 0]);
    expect(gradOfSum((v) => A.astype(A.argmax(v), "float64"))(x)).toEqual([0, 0, 0]);
  });
});
