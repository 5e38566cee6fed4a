/**
 * Issue 15, "one error type": whatever a Rewind package throws on purpose is a `RewindError`
 * carrying a tagged value with `_tag` and `op`, and `formatError` gives its sentence — from a
 * tensor op, a transform, an RNN cell, an optimiser's options and the testing package's checks.
 * Before the change the testing package threw plain `Error`s and TensorException/GraphException
 * shared no class, so every `instanceof T.RewindError` below failed (RewindError did not exist).
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import * as O from "@rewind/optim";
import * as X from "@rewind/testing";
import { thrown } from "./thrown.js";

const f32 = (shape: T.Shape) => T.zeros(shape, "float32");

/** The checks every Rewind error must pass; returns the tagged value. */
const rewindError = (e: Error, op: RegExp): T.RewindErrorValue => {
  expect(e).toBeInstanceOf(T.RewindError);
  expect(e).toBeInstanceOf(A.RewindError);
  const r = e as T.RewindError;
  expect(typeof r.error._tag).toBe("string");
  expect(r.error.op).toMatch(op);
  expect(T.formatError(r)).toBe(e.message);
  expect(A.formatError(r)).toBe(e.message);
  expect(e.message).toMatch(op);
  return r.error;
};

describe("every package throws a RewindError with _tag and op, and formatError reads it", () => {
  it("@rewind/tensor: a shape error of matmul (still a TensorException)", () => {
    const e = thrown(() => T.matmul(f32([3, 4]), f32([5, 2])));
    expect(e).toBeInstanceOf(T.TensorException);
    const v = rewindError(e, /^matmul/);
    expect(v).toMatchObject({
      _tag: "ShapeError",
      op: "matmul",
      shapes: [
        [3, 4],
        [5, 2],
      ],
    });
    expect(T.formatError(v as T.TensorError)).toBe(e.message);
  });
  it("@rewind/autodiff: grad of a non-scalar (still a GraphException)", () => {
    const e = thrown(() => A.grad((x: A.Value) => A.exp(x))(f32([3])));
    expect(e).toBeInstanceOf(A.GraphException);
    const v = rewindError(e, /^grad/);
    expect(v._tag).toBe("NonScalarOutput");
    // The value alone formats through autodiff's formatError to the same sentence.
    expect(A.formatError(v as A.GraphError)).toBe(e.message);
    // Tensor's formatError does not know autodiff's tags and says where to go.
    expect(thrown(() => T.formatError(v as never)).message).toMatch(
      /^formatError: .*formatError from @rewind\/autodiff/,
    );
  });
  it("@rewind/rnn: a cell called with a wrong input shape", () => {
    const params = R.elmanTanh.init(T.random.key(0), { inputSize: 3, hiddenSize: 4 });
    const e = thrown(() => R.elmanTanh.step(params)(R.elmanTanh.initialCarry(2, params), f32([2, 5])));
    rewindError(e, /./);
  });
  it("@rewind/optim: a misspelt option of adam", () => {
    const e = thrown(() => O.adam({ learningRat: 0.1 } as never));
    const v = rewindError(e, /adam/);
    expect(e.message).toContain('did you mean "learningRate"');
    expect(v.op).toBe("adam");
  });
  it("@rewind/testing: a violated check and a bad argument", () => {
    const failed = thrown(() =>
      X.checkGrads((x: A.Value) => A.sum(A.stopGradient(A.mul(x, x))), [T.fromArrayOrThrow([1, 2], "float64")]),
    );
    expect(rewindError(failed, /checkGrads/)).toMatchObject({ _tag: "TestFailure", op: "checkGrads" });
    const refused = thrown(() => X.arbShape({ minRank: 3, maxRank: 1 }));
    expect(rewindError(refused, /arbShape/)).toMatchObject({ _tag: "TestArgumentError", op: "arbShape" });
  });
});
