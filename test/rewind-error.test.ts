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
    // The value alone formats to the same sentence, through either package's formatError.
    expect(A.formatError(v as A.GraphError)).toBe(e.message);
    expect(T.formatError(v as A.GraphError)).toBe(e.message);
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

/**
 * Issue 15, second round: one tagged union with uniform fields. Every error value, whatever its
 * tag and package, has `_tag`, `op`, `detail` and `fix` as strings (`arg` when an argument is at
 * fault, `shapes` when shapes are), and one formatter writes every tag's sentence. Before it,
 * an AxisError or NonScalarOutput value had no detail or fix, a decode Left had no fix, optim
 * threw GraphException(InvalidArgument) for some bad arguments and TensorException(ValueError)
 * for others, and @rewind/tensor's formatError refused autodiff's tags.
 */
describe("one tagged union: the same fields for every tag of every package", () => {
  /** The uniform fields; `arg` when given; returns the value for more checks. */
  const uniform = (e: Error, op: string, arg?: string): T.RewindErrorValue => {
    expect(e).toBeInstanceOf(T.RewindError);
    const v = (e as T.RewindError).error;
    expect(v.op).toBe(op);
    expect(typeof v.detail).toBe("string");
    expect(v.detail.length).toBeGreaterThan(0);
    expect(typeof v.fix).toBe("string");
    if (arg !== undefined) {
      expect(v.arg).toBe(arg);
      expect(e.message).toContain(`(argument \`${arg}\``);
    }
    // The one formatter writes op, detail and fix, for the value alone as for the thrown error.
    expect(T.formatError(v)).toBe(e.message);
    expect(e.message.startsWith(`${op}: `)).toBe(true);
    expect(e.message).toContain(v.detail);
    if (v.fix !== "") expect(e.message).toContain(v.fix);
    return v;
  };

  it("@rewind/tensor: an axis out of range has a detail and a fix (not only axis and rank)", () => {
    const v = uniform(
      thrown(() => T.sum(f32([2, 3]), { axis: 5 })),
      "sum",
      "axis",
    );
    expect(v).toMatchObject({ _tag: "AxisError", axis: 5, rank: 2, fix: "use an axis in [-2, 1]" });
    expect(v.detail).toBe("axis 5 is out of range for a rank-2 tensor");
  });
  it("@rewind/tensor: a shape error names its shapes", () => {
    const v = uniform(
      thrown(() => T.matmul(f32([3, 4]), f32([5, 2]))),
      "matmul",
    );
    expect(v.shapes).toEqual([
      [3, 4],
      [5, 2],
    ]);
  });
  it("@rewind/tensor: a decode Left has the uniform fields too", () => {
    const r = T.safetensors.decode(new Uint8Array([1, 2, 3]));
    expect(r._tag).toBe("Left");
    const v = (r as { left: T.TensorError }).left;
    expect(v).toMatchObject({ _tag: "DecodeError", op: "safetensors.decode" });
    expect(typeof v.detail).toBe("string");
    expect(typeof v.fix).toBe("string");
    expect(T.formatError(v)).toMatch(/^safetensors\.decode: /);
  });
  it("@rewind/autodiff: grad of a non-scalar has a detail and a fix", () => {
    const v = uniform(
      thrown(() => A.grad((x: A.Value) => A.exp(x))(f32([3]))),
      "grad",
    );
    expect(v.detail).toMatch(/must return a scalar .* got f32\[3\]$/);
    expect(v.fix).toMatch(/^reduce it first/);
  });
  it("@rewind/autodiff: a bad argument of a transform names it", () => {
    uniform(
      thrown(() => A.scan((c: A.Value) => [c, c], f32([2]), f32([3, 2]), { length: -1 })),
      "scan",
      "length",
    );
  });
  it("@rewind/rnn: a cell's bad size and a bad dropout rate name the argument and the fix", () => {
    const e = thrown(() => R.elmanTanh.init(T.random.key(0), { inputSize: 0, hiddenSize: 4 }));
    const v = uniform(e, "elmanTanh.init", "sizes.inputSize");
    expect(v.fix).toContain("inputSize: 8");
    expect(
      uniform(
        thrown(() => R.dropout(R.lstm, 1.5)),
        "dropout",
        "rate",
      ).detail,
    ).toBe("rate must be a number in [0, 1), got 1.5");
  });
  it("@rewind/optim: every bad argument is a ValueError, every tree mismatch a TreeMismatch", () => {
    const params = { w: f32([2]) };
    const decay = O.addDecayedWeights({ weightDecay: 0.1 });
    const noParams = thrown(() => decay.update(params, decay.init(params)));
    expect(uniform(noParams, "addDecayedWeights", "params")._tag).toBe("ValueError");
    expect(noParams).toBeInstanceOf(T.TensorException);
    const chain = O.chain(O.scale(1));
    const badState = thrown(() => chain.update(params, null as never));
    expect(uniform(badState, "chain", "state")._tag).toBe("ValueError");
    const misfit = thrown(() => decay.update({ w: f32([3]) }, decay.init(params), params));
    expect(uniform(misfit, "addDecayedWeights")._tag).toBe("TreeMismatch");
    expect(misfit).toBeInstanceOf(A.GraphException);
  });
  it("the class follows the tag, whichever package throws it", () => {
    expect(
      thrown(() => T.fail({ _tag: "TreeMismatch", op: "f", path: "<root>", detail: "d", fix: "x" })),
    ).toBeInstanceOf(A.GraphException);
    expect(thrown(() => T.fail({ _tag: "ValueError", op: "f", arg: "x", detail: "d", fix: "x" }))).toBeInstanceOf(
      T.TensorException,
    );
  });
  it("one formatter: autodiff's formatError is tensor's, and the old names still format", () => {
    expect(A.formatError).toBe(T.formatError);
    const axis = { _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 } as const;
    const sentence = "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]";
    expect(T.formatError(axis)).toBe(sentence);
    expect(T.formatTensorError(axis)).toBe(sentence);
    expect(A.formatGraphError(axis)).toBe(sentence);
  });
});
