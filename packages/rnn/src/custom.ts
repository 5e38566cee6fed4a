/**
 * @file Building a cell from plain functions (`defineCell`), the checks every combinator runs on
 * the cells it is given (`checkCell`), and a worked custom cell, the Minimal Gated Unit.
 *
 * A user's step is an ordinary function of a parameter tree; `defineCell` curries it into the
 * `Cell` shape and wraps it with checks that name the cell, so a mistake surfaces as "mgu.step
 * returned y of shape [2, 3], expected [2, 4]" instead of a shape error deep inside `scan`.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { describeArg, keysOf, optionsProblem } from "@rewind/tensor/internal/check";
import {
  add,
  isTracer,
  isValue,
  matmul,
  mul,
  sigmoid,
  sub,
  tanh,
  transpose,
  treeFlatten,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import type { Cell, CellSizes, InitOptions } from "./Cell.js";
import type { TensorInitCell } from "./tensorInit.js";
import { affine, checkFields, checkSizes, checkStep, zeroState } from "./cells/common.js";
import { checkInitOptions, gateWeight, INIT_OPTION_KEYS, uniformInit } from "./init.js";
import { checkOptions } from "./util.js";
import { checkCarryKept, checkedSequence, type SequenceSpec } from "./customSequence.js";

/** What `defineCell` takes: plain, uncurried functions over a parameter tree. */
export interface CellSpec<P, C> {
  /** A short name, used in every error the cell raises. */
  readonly name: string;
  /** Parameters for the given sizes, from `key` (split it for several tensors). */
  readonly init: (key: Key, sizes: CellSizes, options: InitOptions) => P;
  /** The carry at t = 0 for `batch` samples. */
  readonly initialCarry: (batch: number, params: P) => C;
  /** One step: `(params, carry, x_t [B, in], noise?) → [carry', y_t [B, outputSize]]`. */
  readonly step: (params: P, carry: C, x: Value, noise?: unknown) => readonly [C, Value];
  /** Features of y_t: a number, or read from the parameters. */
  readonly outputSize: number | ((params: P) => number);
  /** Features of x_t, read from the parameters (lets `dropout` wrap the cell). */
  readonly inputSize?: (params: P) => number;
  /** Per-step randomness drawn outside the loop (see `Cell.noise`). */
  readonly noise?: (key: Key, batch: number, params: P) => unknown;
  /**
   * Optional whole-sequence form (see `Cell.sequence`): `(params, carry, xs [B, T, in], lengths?)
   * → [finalCarry, ys [B, T, outputSize]]`, equal to running `step` over time (the parallel law).
   */
  readonly sequence?: SequenceSpec<P, C>;
}

const SPEC_KEYS = keysOf<CellSpec<unknown, unknown>>({
  name: true,
  init: true,
  initialCarry: true,
  step: true,
  outputSize: true,
  inputSize: true,
  noise: true,
  sequence: true,
});

const specError = (name: string, arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op: `defineCell(${name})`, arg, detail, fix });

const describeShape = (v: Value): string => `${v.dtype}[${v.shape.join(", ")}]`;

/**
 * Throws unless `cell` has the shape of a cell (name, init, initialCarry, step, outputSize),
 * naming the combinator and argument that received it.
 * @example checkCell("stack", "cells[1]", lstm) // returns lstm
 */
export const checkCell = <P, C, X = undefined, Y = Value>(
  op: string,
  arg: string,
  cell: Cell<P, C, X, Y>,
): Cell<P, C, X, Y> => {
  const c = cell as unknown as Record<string, unknown> | null | undefined;
  const missing =
    typeof c !== "object" || c === null
      ? ["everything"]
      : (["init", "initialCarry", "step", "outputSize"] as const).filter((k) => typeof c[k] !== "function");
  if (missing.length > 0 || typeof c?.["name"] !== "string") {
    T.fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `expected a cell ({ name, init, initialCarry, step, outputSize }), got ${
        c === null || typeof c !== "object"
          ? describeArg(c)
          : `an object lacking ${missing.length > 0 ? missing.join(", ") : "a string name"}`
      }`,
      fix: "pass a built-in cell (lstm, gru, …), a combinator's result, or a cell made with defineCell",
    });
  }
  return cell;
};

/** Checks a step's result against its carry and input, naming the cell and the offending path. */
const checkStepResult = <C>(
  name: string,
  carry: C,
  x: Value,
  result: unknown,
  outputSize: number,
): readonly [C, Value] => {
  const op = `${name}.step`;
  if (!Array.isArray(result) || result.length !== 2) {
    return T.fail({
      _tag: "ValueError",
      op,
      arg: "return value",
      detail:
        `step must return [carry, y], got ` +
        `${Array.isArray(result) ? `an array of ${result.length}` : typeof result}`,
      fix: "return a two-element array [nextCarry, y]",
    });
  }
  const [next, y] = result as [C, unknown];
  checkCarryKept(op, carry, next);
  const batch = x.shape[0]!;
  if (!isValue(y) || y.shape.length !== 2 || y.shape[0] !== batch || y.shape[1] !== outputSize) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "y",
      shapes: isValue(y) ? [y.shape] : [],
      detail:
        `y must be [${batch}, ${outputSize}] (batch × outputSize), ` +
        `got ${isValue(y) ? describeShape(y) : typeof y}`,
      fix: "return y_t with one row per sample and outputSize features, or fix outputSize",
    });
  }
  return [next, y as Value];
};

/**
 * Checks a cell spec's fields (an object, no unknown keys, a non-empty name, the functions, the
 * output size) and returns its name. Throws the first problem.
 */
const checkSpec = <P, C>(spec: CellSpec<P, C>): string => {
  const s = spec as unknown as Record<string, unknown> | null | undefined;
  if (typeof s !== "object" || s === null)
    return specError(
      "?",
      "spec",
      `expected an object, got ${String(s)}`,
      "pass { name, init, initialCarry, step, outputSize }",
    );
  const given = s["name"];
  // A misspelt optional field (`nosie`) would silently give a cell without dropout.
  const keys = optionsProblem(`defineCell(${typeof given === "string" ? given : "?"})`, "spec", s, SPEC_KEYS, true);
  if (keys !== undefined) specError(typeof given === "string" ? given : "?", keys.arg, keys.detail, keys.fix);
  const name = given;
  if (typeof name !== "string" || name.length === 0)
    return specError(
      "?",
      "name",
      `name must be a non-empty string, got ${JSON.stringify(name)}`,
      'pass e.g. name: "myCell"',
    );
  for (const k of ["init", "initialCarry", "step"] as const) {
    if (typeof s[k] !== "function")
      specError(
        name,
        k,
        `${k} must be a function, got ${typeof s[k]}`,
        "pass { name, init, initialCarry, step, outputSize }",
      );
  }
  for (const k of ["inputSize", "noise", "sequence"] as const) {
    if (s[k] !== undefined && typeof s[k] !== "function")
      specError(
        name,
        k,
        `${k} must be a function when given, got ${typeof s[k]}`,
        `pass ${k}: (params) => … or leave it out`,
      );
  }
  const out = spec.outputSize;
  if (typeof out === "number") {
    if (!Number.isSafeInteger(out) || out <= 0)
      specError(
        name,
        "outputSize",
        `outputSize must be a positive integer, got ${out}`,
        "pass a number of features, or (params) => number",
      );
  } else if (typeof out !== "function") {
    specError(
      name,
      "outputSize",
      `outputSize must be a number or a function, got ${typeof out}`,
      "pass (params) => params.w.shape[0]",
    );
  }
  return name;
};

/**
 * Builds a cell from plain functions: `step(params, carry, x)` is curried into the `Cell` shape
 * and wrapped with checks that name the cell (the carry must keep its structure, shapes and
 * dtypes; y must be `[batch, outputSize]`). The result gets every combinator, layer shape and law.
 * An optional `sequence(params, carry, xs, lengths?)` gives the cell a parallel form for
 * `rnn(…, { mode: "parallel" })` (checked likewise: xs `[B, T, in]`, ys `[B, T, outputSize]`);
 * `cellLaws`' parallel law checks that it equals the step.
 * @throws TensorException naming `defineCell(name)` when the spec is malformed, and `name.step`
 * when a step returns the wrong thing.
 * @example
 * // The Minimal Gated Unit (Zhou et al. 2016), written out in full below as `mgu`:
 * const myMgu = defineCell({
 *   name: "myMgu",
 *   init: (key, { inputSize, hiddenSize: h }, { dtype = "float32" }) => {
 *     const [k1, k2, k3, k4] = random.split(key, 4)
 *     const u = (k, shape) => uniformInit(k, shape, h, dtype)
 *     return { wf: u(k1, [h, inputSize]), uf: u(k2, [h, h]), wn: u(k3, [h, inputSize]), un: u(k4, [h, h]) }
 *   },
 *   initialCarry: (batch, p) => zeros([batch, p.uf.shape[0]], p.uf.dtype),
 *   step: (p, h, x) => {
 *     const f = sigmoid(add(matmul(x, transpose(p.wf)), matmul(h, transpose(p.uf))))
 *     const n = tanh(add(matmul(x, transpose(p.wn)), matmul(mul(f, h), transpose(p.un))))
 *     const hNext = add(h, mul(f, sub(n, h)))   // (1 − f) h + f n
 *     return [hNext, hNext]
 *   },
 *   outputSize: (p) => p.uf.shape[0],
 * })
 * const { outputs } = rnn(myMgu, myMgu.init(random.key(0), { inputSize: 3, hiddenSize: 8 }), xs)
 */
export const defineCell = <P, C>(spec: CellSpec<P, C>): TensorInitCell<P, C> => {
  const name = checkSpec(spec);
  const out = spec.outputSize;
  const outputSize = (params: P): number => {
    const n = typeof out === "number" ? out : out(params);
    if (!Number.isSafeInteger(n) || n <= 0)
      specError(name, "outputSize", `outputSize(params) returned ${String(n)}`, "return the number of features of y_t");
    return n;
  };
  return {
    name,
    init: (key, sizes, options = {}) => {
      checkOptions(`${name}.init`, "options", options, INIT_OPTION_KEYS);
      const params = spec.init(key, sizes, options);
      if (params === undefined || params === null)
        specError(
          name,
          "init",
          `init returned ${String(params)}`,
          "return the parameter tree (e.g. an object of tensors)",
        );
      // The type says init returns tensors (like the built-in cells'), so that parameters from
      // it flow into jitted functions whose results are tensors: hold a concrete key to that.
      // (A traced key, e.g. init vmapped over keys, rightly gives traced parameters.)
      if (!isTracer(key)) {
        const traced = treeFlatten(params)[0].findIndex((l) => isTracer(l));
        if (traced >= 0)
          specError(
            name,
            "init",
            `init was given a tensor key but returned a traced value (leaf ${traced}), captured from a transform`,
            "build the parameters from the key and sizes, not from values of an enclosing grad, jit or vmap",
          );
      }
      return params as P & Concrete<P>;
    },
    initialCarry: (batch, params) => {
      if (!Number.isSafeInteger(batch) || batch < 0) {
        T.fail({
          _tag: "ValueError",
          op: `${name}.initialCarry`,
          arg: "batch",
          detail: `batch must be a non-negative integer, got ${batch}`,
          fix: "pass the batch size",
        });
      }
      return spec.initialCarry(batch, params);
    },
    step: (params) => {
      const n = outputSize(params);
      return (carry, x, noise) => {
        if (!isValue(x) || x.shape.length !== 2) {
          T.fail({
            _tag: "ShapeError",
            op: `${name}.step`,
            arg: "x",
            shapes: isValue(x) ? [x.shape] : [],
            detail: "x_t must be one step, [batch, features]",
            fix: "run whole sequences with rnn(cell, params, xs)",
          });
        }
        return checkStepResult(name, carry, x, spec.step(params, carry, x, noise), n);
      };
    },
    outputSize,
    ...(spec.inputSize === undefined ? {} : { inputSize: spec.inputSize }),
    ...(spec.noise === undefined ? {} : { noise: spec.noise }),
    ...(spec.sequence === undefined ? {} : { sequence: checkedSequence(name, spec.sequence, outputSize) }),
  };
};

/** Parameters of the Minimal Gated Unit: forget-gate and candidate weights, PyTorch-style `[out, in]`. */
export interface MguParams {
  /** `[H, in]`: input to the forget gate f. */
  readonly weight_if: Value;
  /** `[H, H]`: hidden state to the forget gate f. */
  readonly weight_hf: Value;
  /** `[H]`: bias of the forget gate f. */
  readonly bias_f: Value;
  /** `[H, in]`: input to the candidate n. */
  readonly weight_in: Value;
  /** `[H, H]`: gated hidden state `f ⊙ h` to the candidate n. */
  readonly weight_hn: Value;
  /** `[H]`: bias of the candidate n. */
  readonly bias_n: Value;
}

const MGU_FIELDS = ["weight_if", "weight_hf", "bias_f", "weight_in", "weight_hn", "bias_n"] as const;

/** Throws unless `p` holds the MGU's tensors, shaped for one hidden size and of one float dtype. */
const checkMgu = (op: string, p: MguParams): MguParams => {
  checkFields(op, p, MGU_FIELDS);
  const [h = 0, inputs = 0] = p.weight_if.shape;
  const want: Record<(typeof MGU_FIELDS)[number], readonly number[]> = {
    weight_if: [h, inputs],
    weight_hf: [h, h],
    bias_f: [h],
    weight_in: [h, inputs],
    weight_hn: [h, h],
    bias_n: [h],
  };
  const wrong = MGU_FIELDS.filter((f) => !T.shapesEqual(p[f].shape, want[f]) || p[f].dtype !== p.weight_if.dtype);
  if (p.weight_if.shape.length !== 2 || h === 0 || wrong.length > 0 || !T.isFloating(p.weight_if.dtype)) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params",
      shapes: MGU_FIELDS.map((f) => p[f].shape),
      detail:
        `the parameters do not fit one hidden size of one float ` +
        `dtype${wrong.length > 0 ? ` (check ${wrong.join(", ")})` : ""}: weight_if/weight_in [H, in], ` +
        `weight_hf/weight_hn [H, H], bias_f/bias_n [H]`,
      fix: "pass parameters made by mgu.init",
    });
  }
  return p;
};

/**
 * The Minimal Gated Unit (Zhou, Wu, Zhang & Zhou 2016), a worked `defineCell` example: a GRU
 * with one gate doing the work of both.
 *
 *     f  = σ(W_if x + W_hf h + b_f)
 *     n  = tanh(W_in x + W_hn (f ⊙ h) + b_n)
 *     h' = (1 − f) ⊙ h + f ⊙ n
 *
 * Carry and output h `[B, H]`; weights uniform ±1/√H like PyTorch's cells.
 * @example
 * const p = mgu.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 * const { outputs } = rnn(mgu, p, xs) // xs [B, T, 3] → [B, T, 8]
 */
export const mgu: Cell<MguParams, Value> = defineCell<MguParams, Value>({
  name: "mgu",
  init: (key, sizes, options) => {
    checkSizes("mgu", sizes);
    checkInitOptions("mgu.init", options, { recurrent: true, forgetGate: true });
    const { dtype = "float32", scheme = "default", forgetBias } = options;
    const { inputSize, hiddenSize: h } = sizes;
    const [k1, k2, k3, k4, k5, k6] = T.random.split(key, 6) as [Key, Key, Key, Key, Key, Key];
    const u = (k: Key, shape: readonly number[]): T.Tensor => uniformInit(k, shape, h, dtype);
    // Recurrent weights follow the scheme; input weights too, except under identity (IRNN keeps
    // them at the default and zeroes the biases).
    const recurrent = (k: Key): T.Tensor => gateWeight(k, 1, h, h, options);
    const input = (k: Key): T.Tensor =>
      gateWeight(k, 1, h, inputSize, scheme === "identity" ? { ...options, scheme: "default" } : options);
    const bias = (k: Key): T.Tensor => (scheme === "identity" ? T.zeros([h], dtype) : u(k, [h]));
    return {
      weight_if: input(k1),
      weight_hf: recurrent(k2),
      bias_f: forgetBias === undefined ? bias(k3) : T.full([h], forgetBias, dtype),
      weight_in: input(k4),
      weight_hn: recurrent(k5),
      bias_n: bias(k6),
    };
  },
  initialCarry: (batch, p) =>
    zeroState("mgu", batch, checkMgu("mgu.initialCarry", p).weight_hf.shape[0]!, p.weight_hf.dtype),
  step: (p, h, x) => {
    checkStep("mgu", x, h, checkMgu("mgu.step", p).weight_if, p.weight_hf.shape[0]!);
    const f = sigmoid(add(affine(x, p.weight_if, p.bias_f), matmul(h, transpose(p.weight_hf))));
    const n = tanh(add(affine(x, p.weight_in, p.bias_n), matmul(mul(f, h), transpose(p.weight_hn))));
    // (1 − f) h + f n, written as h + f (n − h) to save an op.
    const hNext = add(h, mul(f, sub(n, h)));
    return [hNext, hNext];
  },
  outputSize: (p) => checkMgu("mgu.outputSize", p).weight_hf.shape[0]!,
  inputSize: (p) => checkMgu("mgu.inputSize", p).weight_if.shape[1]!,
});
