/**
 * @file minGRU and minLSTM (Feng, Tung, Ahmed, Bengio & Hajimirsadeghi 2024, "Were RNNs All We
 * Needed?", §3): a GRU and an LSTM whose gates read only x_t, never h_{t−1}, so that the hidden
 * state follows a linear recurrence h_t = a_t ⊙ h_{t−1} + b_t and a whole sequence can be computed
 * at once (`sequence`, through `linearRecurrence`) as well as step by step (`step`).
 *
 *     minGRU:   z_t = σ(W_z x_t + b_z)    h̃_t = W_h x_t + b_h
 *               h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t                         (paper's eq. for minGRU)
 *     minLSTM:  f_t = σ(W_f x_t + b_f)    i_t = σ(W_i x_t + b_i)    h̃_t = W_h x_t + b_h
 *               f'_t = f_t / (f_t + i_t)  i'_t = i_t / (f_t + i_t)  (the normalised gates)
 *               h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t
 *
 * Parameters are one gate-stacked `weight` `[G·H, in]` and `bias` `[G·H]` (G = 2: z, h̃; G = 3:
 * f, i, h̃), PyTorch's `nn.Linear` layout and default init (uniform ±1/√in). The carry and the
 * output are h `[B, H]`. These are the paper's plain (not log-space) forms.
 */
import * as T from "@rewind/tensor";
import { add, div, isValue, matmul, mul, sigmoid, split, sub, transpose, type Value } from "@rewind/autodiff";
import type { TensorInitCell } from "../tensorInit.js";
import { linearRecurrence } from "../linearRecurrence.js";
import { checkFields, checkSizes, checkStep, zeroState } from "./common.js";
import { checkInitOptions, gateWeight, uniformInit, withGateBias } from "../init.js";

/** Parameters of `minGru` (G = 2) and `minLstm` (G = 3): one gate-stacked linear map of x_t. */
export interface MinimalCellParams {
  /** `[G·H, inputSize]`: the gates' rows stacked (minGRU: z, h̃; minLSTM: f, i, h̃). */
  readonly weight: Value;
  /** `[G·H]`. */
  readonly bias: Value;
}

const FIELDS = ["weight", "bias"] as const;

/** Throws unless `p` is a G-gate minimal cell's parameters of one float dtype; returns H. */
const hiddenOf = (op: string, p: MinimalCellParams, gates: number): number => {
  checkFields(op, p, FIELDS);
  const rows = p.weight.shape[0] ?? 0;
  const h = rows / gates;
  if (p.weight.shape.length !== 2 || !Number.isInteger(h) || h < 1 || !T.shapesEqual(p.bias.shape, [rows]))
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params",
      shapes: [p.weight.shape, p.bias.shape],
      detail: `a ${gates}-gate minimal cell needs weight [${gates}·H, in] and bias [${gates}·H]`,
      fix: "pass parameters made by this cell's init",
    });
  if (p.weight.dtype !== p.bias.dtype || !T.isFloating(p.weight.dtype))
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "params",
      detail: `weight and bias must share one float dtype, got ${p.weight.dtype} and ${p.bias.dtype}`,
      fix: 'cast both with astype(p, "float32") or "float64"',
    });
  return h;
};

/** Checks a whole sequence `xs` `[B, T, in]` and the carry `[B, H]` against the weight. */
const checkSequenceInput = (name: string, xs: unknown, h: unknown, weight: Value, hidden: number): void => {
  const op = `${name}.sequence`;
  const inputSize = weight.shape[1]!;
  if (!isValue(xs) || xs.shape.length !== 3 || xs.shape[2] !== inputSize)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "xs",
      shapes: isValue(xs) ? [xs.shape, weight.shape] : [weight.shape],
      detail: `xs must be [batch, time, ${inputSize}] for weight of shape [${weight.shape.join(", ")}], got ${
        isValue(xs) ? `[${xs.shape.join(", ")}]` : typeof xs
      }`,
      fix: "pass the whole batch-major sequence; rnn(cell, params, xs, { mode: 'parallel' }) does",
    });
  const v = xs as Value;
  if (v.dtype !== weight.dtype)
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "xs",
      detail: `xs is ${v.dtype} but the parameters are ${weight.dtype}`,
      fix: `convert one of them with astype(…, "${weight.dtype}")`,
    });
  const want = [v.shape[0]!, hidden];
  if (!isValue(h) || !T.shapesEqual(h.shape, want) || h.dtype !== weight.dtype)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "carry",
      shapes: isValue(h) ? [h.shape, want] : [want],
      detail: `the carry must be ${weight.dtype} [${want.join(", ")}] (batch × hidden), got ${
        isValue(h) ? `${h.dtype} [${h.shape.join(", ")}]` : typeof h
      }`,
      fix: "start from cell.initialCarry(batch, params), with the batch of xs",
    });
};

/** The recurrence's coefficients from the gate pre-activations `[..., G·H]`: [a, b] of h = a h + b. */
type Coefficients = (gates: Value) => readonly [Value, Value];

const minGruCoefficients: Coefficients = (gates) => {
  const [zPre, candidate] = split(gates, 2, -1) as [Value, Value];
  const z = sigmoid(zPre);
  return [sub(1, z), mul(z, candidate)];
};

const minLstmCoefficients: Coefficients = (gates) => {
  const [fPre, iPre, candidate] = split(gates, 3, -1) as [Value, Value, Value];
  const [f, i] = [sigmoid(fPre), sigmoid(iPre)];
  const total = add(f, i);
  return [div(f, total), mul(div(i, total), candidate)];
};

const minimalCell = (
  name: string,
  gates: number,
  coefficients: Coefficients,
  forgetBlock?: number,
): TensorInitCell<MinimalCellParams, Value> => ({
  name,
  init: (key, sizes, options = {}) => {
    checkSizes(name, sizes);
    // No recurrent weight (the gates read only x_t); minLSTM's forget gate is block 0 of (f, i, h̃).
    checkInitOptions(`${name}.init`, options, { forgetGate: forgetBlock !== undefined });
    const [k1, k2] = T.random.split(key, 2) as [T.Key, T.Key];
    const dtype = options.dtype ?? "float32";
    // nn.Linear's default: both weight and bias uniform in ±1/√in.
    const bias = uniformInit(k2, [gates * sizes.hiddenSize], sizes.inputSize, dtype);
    return {
      weight:
        (options.scheme ?? "default") === "default"
          ? uniformInit(k1, [gates * sizes.hiddenSize, sizes.inputSize], sizes.inputSize, dtype)
          : gateWeight(k1, gates, sizes.hiddenSize, sizes.inputSize, options),
      bias:
        options.forgetBias === undefined || forgetBlock === undefined
          ? bias
          : withGateBias(bias, forgetBlock, sizes.hiddenSize, options.forgetBias),
    };
  },
  initialCarry: (batch, p) => zeroState(name, batch, hiddenOf(`${name}.initialCarry`, p, gates), p.weight.dtype),
  step: (p) => {
    const hidden = hiddenOf(`${name}.step`, p, gates);
    return (h, x) => {
      checkStep(name, x, h, p.weight, hidden);
      const [a, b] = coefficients(add(matmul(x, transpose(p.weight)), p.bias));
      const next = add(mul(a, h), b);
      return [next, next];
    };
  },
  sequence: (p) => {
    const hidden = hiddenOf(`${name}.sequence`, p, gates);
    return (h, xs, lengths) => {
      // One [B·T, in] × [in, G·H] product for every step, then the linear recurrence over time.
      checkSequenceInput(name, xs, h, p.weight, hidden);
      const [a, b] = coefficients(add(matmul(xs, transpose(p.weight)), p.bias));
      const r = linearRecurrence(a, b, h, lengths === undefined ? {} : { lengths });
      return [r.finalCarry, r.outputs];
    };
  },
  outputSize: (p) => hiddenOf(`${name}.outputSize`, p, gates),
  inputSize: (p) => {
    hiddenOf(`${name}.inputSize`, p, gates); // checks the parameters first
    return p.weight.shape[1]!;
  },
});

/**
 * minGRU (Feng et al. 2024): a GRU whose update gate and candidate read only x_t, so its state is
 * a linear recurrence; `rnn(minGru, p, xs, { mode: "parallel" })` computes all steps at once.
 * @example const p = minGru.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 */
export const minGru: TensorInitCell<MinimalCellParams, Value> = minimalCell("minGru", 2, minGruCoefficients);

/**
 * minLSTM (Feng et al. 2024): an LSTM without h_{t−1} in its gates and with the forget and input
 * gates normalised to sum to one; a linear recurrence, so it also runs in parallel over time.
 * @example const p = minLstm.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 */
export const minLstm: TensorInitCell<MinimalCellParams, Value> = minimalCell("minLstm", 3, minLstmCoefficients, 0);
