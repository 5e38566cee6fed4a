/**
 * @file The Linear Recurrent Unit (Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De 2023,
 * "Resurrecting Recurrent Neural Networks for Long Sequences", §3 and Appendix A): a diagonal
 * complex linear recurrence read out through a complex linear map.
 *
 *     x_k = Λ ⊙ x_{k−1} + γ ⊙ (B u_k)        u_k ∈ R^H, x_k ∈ C^N, B ∈ C^{N×H}
 *     y_k = Re(C x_k) + D ⊙ u_k               y_k ∈ R^H, C ∈ C^{H×N}, D ∈ R^H
 *     Λ = exp(−exp(ν) + i exp(θ))             (the exponential parametrisation, §3.3; |λ| < 1 always)
 *     γ = exp(γ_log), initialised to √(1 − |Λ|²)  (the normalisation, §3.4; then trained freely)
 *
 * Init as in the paper's Appendix A: |λ|² uniform on [r_min², r_max²] (|λ| uniform on the ring by
 * area) with r_min = 0, r_max = 1, phase uniform in [0, max_phase = 2π]; B = (N(0,1) + i N(0,1))
 * / √(2H), C = (N(0,1) + i N(0,1)) / √N, D ~ N(0, 1). |λ|² and the phase are kept at least 1e-8
 * away from the ends of their ranges, where the paper's formulas give ν, θ or γ_log = ±∞.
 *
 * Sizes: inputSize = H (the model width; the output has it too, so `outputSize` is inputSize),
 * hiddenSize = N (complex state entries). Complex numbers are held as real pairs: parameters
 * `B_re`/`B_im`, `C_re`/`C_im` (the paper's names), and the carry `{ re, im }`, each leaf
 * `[batch, N]` — the project's `[batch, features]` carry convention per leaf, so `rnn`'s frozen
 * carries, `bidirectional`, `stack` and the laws treat it like an LSTM's `{ h, c }`, with no
 * concat/split of a `[B, 2N]` vector at every step.
 *
 * The sequence form is parallel over time through `linearRecurrence` in rotated coordinates.
 * Writing λ = r e^{iφ} and z_k = e^{−iφ(k+1)} x_k (k from 0, z_{−1} = x_{−1} = the carry):
 *
 *     z_k = r z_{k−1} + e^{−iφ(k+1)} γ (B u_k)    (a real decay r: linearRecurrence, re and im side by side)
 *     x_k = e^{iφ(k+1)} z_k
 *
 * Rotations are unitary, so nothing grows (unlike dividing by λ^k). The angles φ(k+1), their
 * cosines and sines are computed in float64 and rounded once to the cell's dtype: in float32 an
 * angle's error ~φ·k·2⁻²⁴ would grow with k (4e-4 at T = 1024, against the step form's 2e-6;
 * this way both stay ~2e-6 at T = 4096). Padded steps (past a
 * sample's length) are linearRecurrence's identity map, so z freezes at the last valid step
 * z_{len−1}, and the final carry is e^{iφ·len} z_{len−1} = x_{len−1} (len = 0 gives the carry).
 * This beat `associativeScan` with a complex affine combine: one kernel pass over time instead of
 * O(log T) levels of slices and interleaves.
 */
import * as T from "@rewind/tensor";
import {
  add,
  astype,
  concat,
  cos,
  exp,
  expandDims,
  matmul,
  mul,
  neg,
  reshape,
  sin,
  split,
  squeeze,
  sub,
  transpose,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import type { Cell, CellSizes, InitOptions } from "../Cell.js";
import type { TensorInitCell } from "../tensorInit.js";
import { checkOptions } from "../util.js";
import { linearRecurrence } from "../linearRecurrence.js";
import { validateLengths } from "../lengths.js";
import { checkFields, checkSizes, checkStep, zeroState } from "./common.js";
import {
  checkCarryLeaf,
  checkParamShapes,
  checkSequenceXs,
  checkStepX,
  fromDraws,
  paperInitDType,
} from "./paramCheck.js";

/** Parameters of `lru` (the paper's names; H = inputSize, N = hiddenSize). */
export interface LruParams {
  /** `[N]`: ν in |λ| = exp(−exp(ν)). */
  readonly nu_log: Value;
  /** `[N]`: θ in arg λ = exp(θ). */
  readonly theta_log: Value;
  /** `[N]`: log γ, the input normalisation. */
  readonly gamma_log: Value;
  /** `[N, H]`: Re B. */
  readonly B_re: Value;
  /** `[N, H]`: Im B. */
  readonly B_im: Value;
  /** `[H, N]`: Re C. */
  readonly C_re: Value;
  /** `[H, N]`: Im C. */
  readonly C_im: Value;
  /** `[H]`: the skip connection. */
  readonly D: Value;
}

/** The carry of `lru`: the complex state x as its real and imaginary parts, each `[batch, N]`. */
export interface LruCarry {
  /** Re x `[batch, N]`. */
  readonly re: Value;
  /** Im x `[batch, N]`. */
  readonly im: Value;
}

const NAME = "lru";
const CARRY_KEYS = ["re", "im"] as const;
const LAYOUT = "nu_log, theta_log, gamma_log [N]; B_re, B_im [N, H]; C_re, C_im [H, N]; D [H]";
/** How far |λ|² and the phase draw stay from the ends of their ranges (see the file comment). */
const EDGE = 1e-8;

const FIELDS = ["nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D"] as const;

/** Throws unless `p` is lru parameters; returns [H, N]. */
const sizesOf = (op: string, p: LruParams): readonly [number, number] => {
  checkFields(op, p, FIELDS);
  // N from nu_log, H from B_re: any other field of the wrong shape is then named by itself.
  const [n, h] = [p.nu_log.shape[0] ?? 0, p.B_re.shape[1] ?? 0];
  if (p.nu_log.shape.length !== 1 || p.B_re.shape.length !== 2 || n < 1 || h < 1)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params",
      shapes: [p.nu_log.shape, p.B_re.shape],
      detail: `lru needs nu_log [N] and B_re [N, H] with N, H ≥ 1 (the layout is ${LAYOUT})`,
      fix: "pass parameters made by lru.init",
    });
  const [vec, bShape, cShape] = [[n], [n, h], [h, n]];
  const want = { nu_log: vec, theta_log: vec, gamma_log: vec, B_re: bShape, B_im: bShape, C_re: cShape, C_im: cShape };
  checkParamShapes(op, p, { ...want, D: [h] }, LAYOUT);
  return [h, n];
};

/** Λ's polar form (r, φ) and γ, from the parameters. */
const polar = (p: LruParams): { r: Value; phi: Value; gamma: Value } => ({
  r: exp(neg(exp(p.nu_log))),
  phi: exp(p.theta_log),
  gamma: exp(p.gamma_log),
});

/** γ ⊙ (B u) for u `[..., H]`: its real and imaginary parts `[..., N]`. */
const drive = (p: LruParams, gamma: Value, u: Value): readonly [Value, Value] => [
  mul(matmul(u, transpose(p.B_re)), gamma),
  mul(matmul(u, transpose(p.B_im)), gamma),
];

/** y = Re(C x) + D ⊙ u, with Re(C x) = C_re x_re − C_im x_im. */
const readout = (p: LruParams, re: Value, im: Value, u: Value): Value =>
  add(sub(matmul(re, transpose(p.C_re)), matmul(im, transpose(p.C_im))), mul(p.D, u));

/**
 * e^{±iα}(re + i im) (sign +1 or −1) for float64 angles α broadcasting against re and im. The
 * angle and its cosine and sine are float64 whatever the cell's dtype, rounded once to it: a
 * float32 angle φ·k (and φ itself) would be off by ~φ·k·2⁻²⁴, an error that grows with k.
 */
const rotate = (re: Value, im: Value, alpha: Value, sign: 1 | -1): readonly [Value, Value] => {
  const c = astype(cos(alpha), re.dtype);
  const s = astype(sign === 1 ? sin(alpha) : neg(sin(alpha)), re.dtype);
  return [sub(mul(c, re), mul(s, im)), add(mul(s, re), mul(c, im))];
};

const checkCarry = (op: string, carry: unknown, batch: number, n: number, dtype: T.DType): LruCarry => {
  const rec = carry as Record<string, unknown> | null;
  if (typeof rec !== "object" || rec === null || !("re" in rec) || !("im" in rec))
    T.fail({
      _tag: "ValueError",
      op,
      arg: "carry",
      detail: `the carry must be { re, im } of tensors [${batch}, ${n}], got ${rec === null ? "null" : typeof rec}`,
      fix: "start from lru.initialCarry(batch, params)",
    });
  checkCarryLeaf(op, "carry.re", rec!["re"], batch, n, dtype);
  checkCarryLeaf(op, "carry.im", rec!["im"], batch, n, dtype);
  return carry as LruCarry;
};

/** Where `lruCell` draws Λ at init (Orvieto et al. 2023, §3.2): a ring of radii and a phase range. */
export interface LruRing {
  /** Smallest |λ| (default 0, the paper's). */
  readonly rMin?: number;
  /** Largest |λ| (default 1, the paper's; the long-range tasks used e.g. 0.9 to 0.999). */
  readonly rMax?: number;
  /** Phases are uniform in [0, maxPhase] (default 2π; the paper used π/10 for PathX). */
  readonly maxPhase?: number;
}

const RING_KEYS = ["rMin", "rMax", "maxPhase"] as const;

/** Throws unless `ring` is `{ rMin?, rMax?, maxPhase? }` with 0 ≤ rMin ≤ rMax ≤ 1 and maxPhase > 0. */
const checkRing = (ring: unknown): readonly [number, number, number] => {
  checkOptions("lruCell", "ring", ring, RING_KEYS);
  const r = (ring ?? {}) as Record<string, unknown>;
  const read = (key: string, dflt: number): number => {
    const v = r[key] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v))
      T.fail({
        _tag: "ValueError",
        op: "lruCell",
        arg: `ring.${key}`,
        detail: `${key} must be a finite number, got ${typeof v === "number" ? v : typeof v}`,
        fix: "pass e.g. lruCell({ rMin: 0.9, rMax: 0.999, maxPhase: Math.PI / 10 })",
      });
    return v as number;
  };
  const [rMin, rMax, maxPhase] = [read("rMin", 0), read("rMax", 1), read("maxPhase", 2 * Math.PI)];
  const bad = (arg: string, detail: string): never =>
    T.fail({
      _tag: "ValueError",
      op: "lruCell",
      arg: `ring.${arg}`,
      detail,
      fix: "keep 0 ≤ rMin ≤ rMax ≤ 1, maxPhase > 0",
    });
  if (rMin < 0 || rMin > rMax) bad("rMin", `rMin must be in [0, rMax = ${rMax}], got ${rMin}`);
  if (rMax > 1) bad("rMax", `rMax must be at most 1 (|λ| ≥ 1 does not decay), got ${rMax}`);
  if (maxPhase <= 0) bad("maxPhase", `maxPhase must be positive, got ${maxPhase}`);
  return [rMin, rMax, maxPhase];
};

/**
 * The Linear Recurrent Unit (Orvieto et al. 2023) with Λ drawn at init from the ring
 * rMin ≤ |λ| ≤ rMax and phases in [0, maxPhase]; `lru` is `lruCell()` (the paper's defaults
 * 0, 1, 2π). Only `init` reads the ring: the other members are `lru`'s.
 * @example
 * const longRange = lruCell({ rMin: 0.9, rMax: 0.999, maxPhase: Math.PI / 10 })
 * const p = longRange.init(random.key(0), { inputSize: 16, hiddenSize: 64 })
 */
export const lruCell = (ring: LruRing = {}): TensorInitCell<LruParams, LruCarry> => {
  const [rMin, rMax, maxPhase] = checkRing(ring);
  return { ...LRU_FORMS, init: (key, sizes, options = {}) => initLru(key, sizes, options, rMin, rMax, maxPhase) };
};

/** lru's parameters for `sizes`, Λ drawn on the ring [rMin, rMax] with phases in [0, maxPhase]. */
const initLru = (
  key: T.Key,
  sizes: CellSizes,
  options: InitOptions,
  rMin: number,
  rMax: number,
  maxPhase: number,
): Concrete<LruParams> => {
  checkSizes(NAME, sizes);
  const dtype = paperInitDType(NAME, options);
  const { inputSize: h, hiddenSize: n } = sizes;
  const k = T.random.split(key, 7) as [T.Key, T.Key, T.Key, T.Key, T.Key, T.Key, T.Key];
  const clampUnit = (v: number): number => Math.min(Math.max(v, EDGE), 1 - EDGE);
  // |λ|² uniform on [r_min², r_max²], computed in float64 and rounded once to `dtype`.
  const mag2 = T.random.uniform(k[0], [n], { dtype: "float64" }).data as Float64Array;
  const m2 = Array.from(mag2, (u) => clampUnit(rMin ** 2 + (rMax ** 2 - rMin ** 2) * u));
  const mag2Tensor = T.fromDataOrThrow(m2, [n], "float64");
  const normal = (kk: T.Key, shape: readonly number[], scale: number): T.Tensor =>
    fromDraws(T.random.normal(kk, shape, "float64"), shape, (v) => v * scale, dtype);
  return {
    // |λ| = exp(−exp(ν)) ⇒ ν = log(−½ log |λ|²).
    nu_log: fromDraws(mag2Tensor, [n], (v) => Math.log(-0.5 * Math.log(v)), dtype),
    theta_log: fromDraws(
      T.random.uniform(k[1], [n], { dtype: "float64" }),
      [n],
      (u) => Math.log(maxPhase * clampUnit(u)),
      dtype,
    ),
    // γ = √(1 − |λ|²) ⇒ log γ = ½ log(1 − |λ|²).
    gamma_log: fromDraws(mag2Tensor, [n], (v) => 0.5 * Math.log1p(-v), dtype),
    B_re: normal(k[2], [n, h], 1 / Math.sqrt(2 * h)),
    B_im: normal(k[3], [n, h], 1 / Math.sqrt(2 * h)),
    C_re: normal(k[4], [h, n], 1 / Math.sqrt(n)),
    C_im: normal(k[5], [h, n], 1 / Math.sqrt(n)),
    D: normal(k[6], [h], 1),
  };
};

/** Everything of lru but `init`. */
const LRU_FORMS: Omit<Cell<LruParams, LruCarry>, "init"> = {
  name: NAME,
  initialCarry: (batch, p) => {
    const n = sizesOf(`${NAME}.initialCarry`, p)[1];
    return { re: zeroState(NAME, batch, n, p.D.dtype), im: zeroState(NAME, batch, n, p.D.dtype) };
  },
  step: (p) => {
    const [h, n] = sizesOf(`${NAME}.step`, p);
    // Λ and γ depend on the parameters only: computed once, outside the loop over time.
    const { r, phi, gamma } = polar(p);
    const [lre, lim] = [mul(r, cos(phi)), mul(r, sin(phi))];
    return (carry, u) => {
      checkStepX(NAME, u, h, p.D.dtype);
      checkStep(NAME, u, carry, p.B_re, n, CARRY_KEYS); // the carry (x passed above)
      const [bre, bim] = drive(p, gamma, u);
      const re = add(sub(mul(lre, carry.re), mul(lim, carry.im)), bre);
      const im = add(add(mul(lre, carry.im), mul(lim, carry.re)), bim);
      return [{ re, im }, readout(p, re, im, u)];
    };
  },
  sequence: (p) => {
    const op = `${NAME}.sequence`;
    const [h, n] = sizesOf(op, p);
    const dtype = p.D.dtype;
    const { r, gamma } = polar(p);
    const phi = exp(astype(p.theta_log, "float64")); // float64 angles: see rotate
    return (carry, us, lengths) => {
      const batch = checkSequenceXs(op, us, h, dtype);
      const x0 = checkCarry(op, carry, batch, n, dtype);
      const time = us.shape[1]!;
      const lens = lengths === undefined ? undefined : validateLengths(op, lengths, batch, time);
      const [bre, bim] = drive(p, gamma, us); // [B, T, N] each
      // α_k = φ (k + 1) for k = 0 … T−1: [T, N], broadcast over the batch.
      const alpha = mul(reshape(T.arange(1, time + 1, 1, "float64"), [time, 1]), phi);
      const [zre, zim] = rotate(bre, bim, alpha, -1);
      // re and im side by side, [B, T, 2, N], one real decay r [N] for both.
      const z = linearRecurrence(
        r,
        concat([expandDims(zre, 2), expandDims(zim, 2)], 2),
        concat([expandDims(x0.re, 1), expandDims(x0.im, 1)], 1),
        lens === undefined ? {} : { lengths: lens },
      );
      const [ore, oim] = (split(z.outputs, 2, 2) as [Value, Value]).map((v) => squeeze(v, 2)) as [Value, Value];
      const [xre, xim] = rotate(ore, oim, alpha, 1);
      // The final carry: z_{len−1} rotated by φ·len ([B, N]; len = T without lengths).
      const steps =
        lens === undefined ? T.full([batch, 1], time, "float64") : reshape(astype(lens, "float64"), [batch, 1]);
      const [fre, fim] = (split(z.finalCarry, 2, 1) as [Value, Value]).map((v) => squeeze(v, 1)) as [Value, Value];
      const [re, im] = rotate(fre, fim, mul(steps, phi), 1);
      return [{ re, im }, readout(p, xre, xim, us)];
    };
  },
  outputSize: (p) => sizesOf(`${NAME}.outputSize`, p)[0],
  inputSize: (p) => sizesOf(`${NAME}.inputSize`, p)[0],
};

/**
 * The Linear Recurrent Unit (Orvieto et al. 2023): x_k = Λ ⊙ x_{k−1} + γ ⊙ (B u_k),
 * y_k = Re(C x_k) + D ⊙ u_k, with a diagonal complex Λ = exp(−exp(ν) + i exp(θ)). `hiddenSize`
 * is the complex state size N; the output has the input's width H. Both a `step` and a parallel
 * `sequence` form: `rnn(lru, p, xs, { mode: "parallel" })`. Init on the paper's default ring
 * (`lruCell` takes another).
 * @example
 * const p = lru.init(random.key(0), { inputSize: 16, hiddenSize: 64 }) // H = 16, N = 64
 * const { outputs } = rnn(lru, p, xs, { mode: "parallel" }) // [batch, time, 16]
 */
export const lru: TensorInitCell<LruParams, LruCarry> = lruCell();
