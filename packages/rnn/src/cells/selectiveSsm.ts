/**
 * @file A selective diagonal state-space model: the core recurrence of Mamba (Gu & Dao 2023,
 * "Mamba: Linear-Time Sequence Modeling with Selective State Spaces", §3.2 and Algorithm 2, "S6"),
 * whose step size Δ and matrices B and C depend on the input.
 *
 *     Δ_t = softplus(W_Δ x_t + b_Δ) ∈ R^D          B_t = W_B x_t ∈ R^N      C_t = W_C x_t ∈ R^N
 *     A = −exp(A_log) ∈ R^{D×N}                    (S4D-real init: A_log[d, n] = log(n + 1))
 *     Ā_t = exp(Δ_t A)                             (zero-order hold, eq. 4)
 *     B̄_t x_t = Δ_t ⊙ B_t ⊙ x_t                    (the paper's simplified Euler step for B)
 *     h_t = Ā_t ⊙ h_{t−1} + B̄_t x_t               h_t ∈ R^{D×N}, one N-state per channel
 *     y_t = Σ_n C_t[n] h_t[:, n] + D ⊙ x_t
 *
 * Only the selective scan (S6): no convolution, gating, SiLU or in/out projections of the full
 * Mamba block; compose those around it (`mapInput`, `mapOutput`, `residual`). Named
 * `selectiveSsm` for what it is rather than `mamba`, which names the whole block. Δ uses a full
 * `[D, D]` projection (the paper's is low rank, R ≪ D; full rank is the R = D case).
 *
 * Init as in the reference implementation (mamba_simple.py): A_log = log(1 … N) per row, D_skip
 * = 1, W_Δ uniform ±1/√D, b_Δ = softplus⁻¹(Δ₀) with Δ₀ log-uniform in [0.001, 0.1], W_B and W_C
 * PyTorch's nn.Linear default (uniform ±1/√D).
 *
 * Sizes: inputSize = D (channels; the output has D too, so `outputSize` is inputSize),
 * hiddenSize = N (state entries per channel). The carry is h flattened to `[batch, D·N]` (entry
 * d·N + n is h[d, n]; `reshape(carry, [batch, D, N])` gives the paper's layout), the project's
 * `[batch, features]` carry convention. The sequence form runs `linearRecurrence` on
 * `[B, T, D, N]` coefficients, parallel over time, with `rnn`'s lengths (padded steps are the
 * identity map).
 */
import * as T from "@rewind/tensor";
import {
  add,
  exp,
  expandDims,
  matmul,
  mul,
  neg,
  reshape,
  softplus,
  sum,
  transpose,
  type Value,
} from "@rewind/autodiff";
import type { TensorInitCell } from "../tensorInit.js";
import { linearRecurrence } from "../linearRecurrence.js";
import { validateLengths } from "../lengths.js";
import { uniformInit } from "../init.js";
import { checkFields, checkSizes, checkStep, zeroState } from "./common.js";
import {
  checkCarryLeaf,
  checkParamShapes,
  checkSequenceXs,
  checkStepX,
  fromDraws,
  paperInitDType,
} from "./paramCheck.js";

/** Parameters of `selectiveSsm` (D = inputSize channels, N = hiddenSize states per channel). */
export interface SelectiveSsmParams {
  /** `[D, D]`: W_Δ, the step-size projection. */
  readonly weight_dt: Value;
  /** `[D]`: b_Δ. */
  readonly bias_dt: Value;
  /** `[N, D]`: W_B, the input-dependent B. */
  readonly weight_B: Value;
  /** `[N, D]`: W_C, the input-dependent C. */
  readonly weight_C: Value;
  /** `[D, N]`: A = −exp(A_log). */
  readonly A_log: Value;
  /** `[D]`: the skip connection. */
  readonly D: Value;
}

const NAME = "selectiveSsm";
const FIELDS = ["weight_dt", "bias_dt", "weight_B", "weight_C", "A_log", "D"] as const;
const LAYOUT = "weight_dt [D, D], bias_dt [D], weight_B and weight_C [N, D], A_log [D, N], D [D]";
/** Δ₀'s range at init (Mamba's dt_min, dt_max). */
const [DT_MIN, DT_MAX] = [0.001, 0.1];

/** Throws unless `p` is selectiveSsm parameters; returns [D, N]. */
const sizesOf = (op: string, p: SelectiveSsmParams): readonly [number, number] => {
  checkFields(op, p, FIELDS);
  const [d, n] = [p.A_log.shape[0] ?? 0, p.A_log.shape[1] ?? 0];
  if (p.A_log.shape.length !== 2 || d < 1 || n < 1)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params.A_log",
      shapes: [p.A_log.shape],
      detail: `A_log must be [D, N] with D, N ≥ 1, got ${T.formatShape(p.A_log.shape)} (the layout is ${LAYOUT})`,
      fix: "pass parameters made by selectiveSsm.init",
    });
  const want = { weight_dt: [d, d], bias_dt: [d], weight_B: [n, d], weight_C: [n, d], A_log: [d, n], D: [d] };
  checkParamShapes(op, p, want, LAYOUT);
  return [d, n];
};

/**
 * The recurrence's coefficients for inputs x `[..., D]`: Ā = exp(Δ A) and B̄x = Δ B x, both
 * `[..., D, N]`, and C `[..., 1, N]` (broadcast over the channels).
 */
const coefficients = (p: SelectiveSsmParams, a: Value, x: Value): readonly [Value, Value, Value] => {
  const delta = expandDims(softplus(add(matmul(x, transpose(p.weight_dt)), p.bias_dt)), -1); // [..., D, 1]
  const b = expandDims(matmul(x, transpose(p.weight_B)), -2); // [..., 1, N]
  const c = expandDims(matmul(x, transpose(p.weight_C)), -2); // [..., 1, N]
  return [exp(mul(delta, a)), mul(mul(delta, b), expandDims(x, -1)), c];
};

/** y = Σ_n C[n] h[:, n] + D ⊙ x. */
const readout = (p: SelectiveSsmParams, h: Value, c: Value, x: Value): Value =>
  add(sum(mul(h, c), { axis: -1 }), mul(p.D, x));

/**
 * A selective diagonal SSM (Gu & Dao 2023, S6): h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t x_t and
 * y_t = C_t h_t + D ⊙ x_t, with Δ_t, B_t and C_t computed from x_t. `hiddenSize` is the state size
 * N per channel; the output has the input's width D; the carry is `[batch, D·N]`. Both a `step`
 * and a parallel `sequence` form: `rnn(selectiveSsm, p, xs, { mode: "parallel" })`.
 * @example
 * const p = selectiveSsm.init(random.key(0), { inputSize: 16, hiddenSize: 8 }) // D = 16, N = 8
 * const { outputs } = rnn(selectiveSsm, p, xs, { mode: "parallel" }) // [batch, time, 16]
 */
export const selectiveSsm: TensorInitCell<SelectiveSsmParams, Value> = {
  name: NAME,
  init: (key, sizes, options = {}) => {
    checkSizes(NAME, sizes);
    const dtype = paperInitDType(NAME, options);
    const { inputSize: d, hiddenSize: n } = sizes;
    const k = T.random.split(key, 4) as [T.Key, T.Key, T.Key, T.Key];
    const [lo, hi] = [Math.log(DT_MIN), Math.log(DT_MAX)];
    return {
      weight_dt: uniformInit(k[0], [d, d], d, dtype),
      // Δ₀ log-uniform in [dt_min, dt_max]; b = softplus⁻¹(Δ₀) = Δ₀ + log(−expm1(−Δ₀)).
      bias_dt: fromDraws(
        T.random.uniform(k[1], [d], { dtype: "float64" }),
        [d],
        (u) => {
          const dt = Math.exp(lo + (hi - lo) * u);
          return dt + Math.log(-Math.expm1(-dt));
        },
        dtype,
      ),
      weight_B: uniformInit(k[2], [n, d], d, dtype),
      weight_C: uniformInit(k[3], [n, d], d, dtype),
      A_log: T.fromDataOrThrow(
        Array.from({ length: d * n }, (_, i) => Math.log((i % n) + 1)),
        [d, n],
        dtype,
      ),
      D: T.ones([d], dtype),
    };
  },
  initialCarry: (batch, p) => {
    const [d, n] = sizesOf(`${NAME}.initialCarry`, p);
    return zeroState(NAME, batch, d * n, p.D.dtype);
  },
  step: (p) => {
    const [d, n] = sizesOf(`${NAME}.step`, p);
    const a = neg(exp(p.A_log)); // once, outside the loop over time
    return (h, x) => {
      checkStepX(NAME, x, d, p.D.dtype);
      checkStep(NAME, x, h, p.weight_dt, d * n); // the carry (x passed above)
      const [abar, bx, c] = coefficients(p, a, x);
      const next = add(mul(abar, reshape(h, [h.shape[0]!, d, n])), bx); // [B, D, N]
      return [reshape(next, [h.shape[0]!, d * n]), readout(p, next, c, x)];
    };
  },
  sequence: (p) => {
    const op = `${NAME}.sequence`;
    const [d, n] = sizesOf(op, p);
    const a = neg(exp(p.A_log));
    return (h, xs, lengths) => {
      const batch = checkSequenceXs(op, xs, d, p.D.dtype);
      checkCarryLeaf(op, "carry", h, batch, d * n, p.D.dtype);
      const time = xs.shape[1]!;
      const lens = lengths === undefined ? undefined : validateLengths(op, lengths, batch, time);
      const [abar, bx, c] = coefficients(p, a, xs); // [B, T, D, N] (c: [B, T, 1, N])
      const r = linearRecurrence(abar, bx, reshape(h, [batch, d, n]), lens === undefined ? {} : { lengths: lens });
      return [reshape(r.finalCarry, [batch, d * n]), readout(p, r.outputs, c, xs)];
    };
  },
  outputSize: (p) => sizesOf(`${NAME}.outputSize`, p)[0],
  inputSize: (p) => sizesOf(`${NAME}.inputSize`, p)[0],
};
