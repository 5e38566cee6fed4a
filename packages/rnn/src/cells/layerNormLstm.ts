/**
 * @file The layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", §3.1 and
 * the LSTM equations of its supplement). The input and recurrent contributions are normalised
 * separately over the 4H gate pre-activations, so neither can drown the other; the cell state is
 * normalised before the output tanh. Gate order i, f, g, o and the stacked weights follow PyTorch:
 *
 *     LN(a; γ, β) = γ ⊙ (a − mean(a)) / √(var(a) + ε) + β      (over features; biased var; ε = 1e-5)
 *     [a_i, a_f, a_g, a_o] = LN(W_ih x; γ_ih, β_ih) + LN(W_hh h; γ_hh, β_hh)
 *     i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
 *     c' = f ⊙ c + i ⊙ g
 *     h' = o ⊙ tanh(LN(c'; γ_c, β_c))
 *
 * The layer-norm biases β play the role of LSTM biases, so there is no `bias_ih`/`bias_hh`.
 * The carried c' is the un-normalised cell state, as in the paper (PyTorch's fastrnns benchmark
 * cell instead carries LN(c')). Gains start at 1 and biases at 0, as `nn.LayerNorm`'s.
 */
import * as T from "@rewind/tensor";
import {
  add,
  mean,
  mul,
  rsqrt,
  sigmoid,
  split,
  square,
  sub,
  tanh,
  matmul,
  transpose,
  type Value,
} from "@rewind/autodiff";
import type { TensorInitCell } from "../tensorInit.js";
import { gateWeight, withGateBias } from "../init.js";
import { checkInitOptions } from "../init.js";
import { checkFields, checkStep, checkSizes, zeroState } from "./common.js";
import type { LstmCarry } from "./lstm.js";

/** Parameters of the layer-normalised LSTM (PyTorch-style names; LN gains `*_weight`, shifts `*_bias`). */
export interface LayerNormLstmParams {
  /** `[4H, inputSize]`, gates i, f, g, o stacked. */
  readonly weight_ih: Value;
  /** `[4H, H]`. */
  readonly weight_hh: Value;
  /** `[4H]` gain of LN(W_ih x). */
  readonly ln_ih_weight: Value;
  /** `[4H]` shift of LN(W_ih x). */
  readonly ln_ih_bias: Value;
  /** `[4H]` gain of LN(W_hh h). */
  readonly ln_hh_weight: Value;
  /** `[4H]` shift of LN(W_hh h). */
  readonly ln_hh_bias: Value;
  /** `[H]` gain of LN(c'). */
  readonly ln_c_weight: Value;
  /** `[H]` shift of LN(c'). */
  readonly ln_c_bias: Value;
}

/** ε inside the square root, PyTorch's `nn.LayerNorm` default. */
export const LAYER_NORM_EPS = 1e-5;

/**
 * Layer normalisation over the last axis with gain and shift (biased variance, as PyTorch).
 * @example layerNorm(tensor([[1, 2, 3]]), ones([3]), zeros([3])) // ≈ [[-1.2247, 0, 1.2247]]
 */
export const layerNorm = (a: Value, gain: Value, shift: Value, eps = LAYER_NORM_EPS): Value => {
  const centred = sub(a, mean(a, { axis: -1, keepDims: true }));
  const variance = mean(square(centred), { axis: -1, keepDims: true });
  return add(mul(gain, mul(centred, rsqrt(add(variance, eps)))), shift);
};

const NAME = "layerNormLstm";
const hiddenOf = (p: LayerNormLstmParams): number => p.weight_hh.shape[1]!;

const FIELDS = [
  "weight_ih",
  "weight_hh",
  "ln_ih_weight",
  "ln_ih_bias",
  "ln_hh_weight",
  "ln_hh_bias",
  "ln_c_weight",
  "ln_c_bias",
] as const;

/** Throws unless `p` holds every parameter, shaped for one hidden size and of one float dtype. */
const checkParams = (op: string, p: LayerNormLstmParams): LayerNormLstmParams => {
  checkFields(op, p, FIELDS);
  const h = p.weight_hh.shape[1] ?? 0;
  const want: Record<(typeof FIELDS)[number], readonly number[] | undefined> = {
    weight_ih: undefined,
    weight_hh: [4 * h, h],
    ln_ih_weight: [4 * h],
    ln_ih_bias: [4 * h],
    ln_hh_weight: [4 * h],
    ln_hh_bias: [4 * h],
    ln_c_weight: [h],
    ln_c_bias: [h],
  };
  const wrong = FIELDS.filter(
    (f) => (want[f] !== undefined && !T.shapesEqual(p[f].shape, want[f])) || p[f].dtype !== p.weight_hh.dtype,
  );
  if (
    h === 0 ||
    p.weight_ih.shape.length !== 2 ||
    p.weight_ih.shape[0] !== 4 * h ||
    wrong.length > 0 ||
    !T.isFloating(p.weight_hh.dtype)
  ) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params",
      shapes: FIELDS.map((f) => p[f].shape),
      detail:
        `the parameters do not fit one hidden size H = ${h} of one float ` +
        `dtype${wrong.length > 0 ? ` (check ${wrong.join(", ")})` : ""}: weight_ih [4H, in], weight_hh [4H, H], ` +
        `ln_ih_*/ln_hh_* [4H], ln_c_* [H]`,
      fix: "pass parameters made by layerNormLstm.init",
    });
  }
  return p;
};

/**
 * The layer-normalised LSTM cell: carry `{ h, c }` (c un-normalised), output h `[B, H]`.
 * @example
 * const p = layerNormLstm.init(random.key(0), { inputSize: 3, hiddenSize: 8 })
 * const { outputs } = rnn(layerNormLstm, p, xs) // xs [B, T, 3] → outputs [B, T, 8]
 */
export const layerNormLstm: TensorInitCell<LayerNormLstmParams, LstmCarry> = {
  name: NAME,
  init: (key, sizes, options = {}) => {
    checkSizes(NAME, sizes);
    checkInitOptions(`${NAME}.init`, options, { recurrent: true, forgetGate: true });
    const { inputSize, hiddenSize: h } = sizes;
    const dtype = options.dtype ?? "float32";
    const [k1, k2] = T.random.split(key, 2) as [T.Key, T.Key];
    const identity = options.scheme === "identity";
    // The gates' only biases are the layer norms' shifts: the forget gate's is ln_ih_bias's block 1.
    const lnIhBias = T.zeros([4 * h], dtype);
    return {
      weight_ih: gateWeight(k1, 4, h, inputSize, identity ? { ...options, scheme: "default" } : options),
      weight_hh: gateWeight(k2, 4, h, h, options),
      ln_ih_weight: T.ones([4 * h], dtype),
      ln_ih_bias: options.forgetBias === undefined ? lnIhBias : withGateBias(lnIhBias, 1, h, options.forgetBias),
      ln_hh_weight: T.ones([4 * h], dtype),
      ln_hh_bias: T.zeros([4 * h], dtype),
      ln_c_weight: T.ones([h], dtype),
      ln_c_bias: T.zeros([h], dtype),
    };
  },
  initialCarry: (batch, p) => {
    const zero = zeroState(NAME, batch, hiddenOf(checkParams(`${NAME}.initialCarry`, p)), p.weight_hh.dtype);
    return { h: zero, c: zero };
  },
  step: (p) => {
    checkParams(`${NAME}.step`, p);
    return (carry, x) => {
      checkStep(NAME, x, carry, p.weight_ih, hiddenOf(p), ["h", "c"]);
      const { h, c } = carry;
      const fromInput = layerNorm(matmul(x, transpose(p.weight_ih)), p.ln_ih_weight, p.ln_ih_bias);
      const fromHidden = layerNorm(matmul(h, transpose(p.weight_hh)), p.ln_hh_weight, p.ln_hh_bias);
      const [ai, af, ag, ao] = split(add(fromInput, fromHidden), 4, 1) as [Value, Value, Value, Value];
      const cNext = add(mul(sigmoid(af), c), mul(sigmoid(ai), tanh(ag)));
      const hNext = mul(sigmoid(ao), tanh(layerNorm(cNext, p.ln_c_weight, p.ln_c_bias)));
      return [{ h: hNext, c: cNext }, hNext];
    };
  },
  outputSize: (p) => hiddenOf(checkParams(`${NAME}.outputSize`, p)),
  inputSize: (p) => checkParams(`${NAME}.inputSize`, p).weight_ih.shape[1]!,
};
