/**
 * @file Float64 references for `lru` and `selectiveSsm`, in plain JavaScript numbers (no Rewind
 * op), written from the papers' equations: one sample's step, and `rnn`'s meaning over one
 * sample (its valid prefix, read backward when reversed; zero outputs past it; the state after
 * the last step read). Used by test/lru-ssm.test.ts and the rnn fuzz spec.
 */
import type * as T from "@rewind/tensor";

type Params = Readonly<Record<string, T.Tensor>>;

/** One sample's state (flat numbers) and output after a step. */
export interface RefOut {
  readonly state: number[];
  readonly y: number[];
}

/** A reference step of one sample: `(params, state, x) → { state', y }`. */
export type RefCellStep = (p: Params, state: readonly number[], x: readonly number[]) => RefOut;

/** `W v` for a `[rows, cols]` weight. */
const matvec = (w: T.Tensor, v: readonly number[]): number[] => {
  const [rows, cols] = w.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => {
    let acc = 0;
    for (let k = 0; k < cols; k++) acc += w.data[r * cols + k]! * v[k]!;
    return acc;
  });
};

const softplus = (v: number): number => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));

/**
 * Orvieto et al. 2023: x' = λ x + γ (B u), y = Re(C x') + D u, complex arithmetic by hand. The
 * state is `[re_0 … re_{N−1}, im_0 … im_{N−1}]` (the carry's `re` then `im`).
 */
export const lruRefStep: RefCellStep = (p, state, u) => {
  const n = p["nu_log"]!.shape[0]!;
  const [bre, bim] = [matvec(p["B_re"]!, u), matvec(p["B_im"]!, u)];
  const re: number[] = [];
  const im: number[] = [];
  for (let j = 0; j < n; j++) {
    const modulus = Math.exp(-Math.exp(p["nu_log"]!.data[j]!));
    const phase = Math.exp(p["theta_log"]!.data[j]!);
    const [lre, lim] = [modulus * Math.cos(phase), modulus * Math.sin(phase)];
    const gamma = Math.exp(p["gamma_log"]!.data[j]!);
    const [xre, xim] = [state[j]!, state[n + j]!];
    // (lre + i lim)(xre + i xim) = (lre xre − lim xim) + i (lre xim + lim xre)
    re.push(lre * xre - lim * xim + gamma * bre[j]!);
    im.push(lre * xim + lim * xre + gamma * bim[j]!);
  }
  const [cre, cim] = [matvec(p["C_re"]!, re), matvec(p["C_im"]!, im)];
  // Re((C_re + i C_im)(re + i im)) = C_re re − C_im im
  const y = cre.map((v, i) => v - cim[i]! + p["D"]!.data[i]! * u[i]!);
  return { state: [...re, ...im], y };
};

/**
 * Gu & Dao 2023, S6: Δ = softplus(W_Δ x + b_Δ), B = W_B x, C = W_C x, A = −exp(A_log),
 * h'[d, n] = exp(Δ_d A[d, n]) h[d, n] + Δ_d B_n x_d, y_d = Σ_n C_n h'[d, n] + D_d x_d. The state
 * is h row-major `[D, N]` (the carry's layout).
 */
export const ssmRefStep: RefCellStep = (p, state, x) => {
  const [d, n] = p["A_log"]!.shape as [number, number];
  const dtPre = matvec(p["weight_dt"]!, x);
  const delta = dtPre.map((v, i) => softplus(v + p["bias_dt"]!.data[i]!));
  const [b, c] = [matvec(p["weight_B"]!, x), matvec(p["weight_C"]!, x)];
  const next = new Array<number>(d * n);
  const y = new Array<number>(d);
  for (let i = 0; i < d; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) {
      const a = -Math.exp(p["A_log"]!.data[i * n + j]!);
      const h = Math.exp(delta[i]! * a) * state[i * n + j]! + delta[i]! * b[j]! * x[i]!;
      next[i * n + j] = h;
      acc += c[j]! * h;
    }
    y[i] = acc + p["D"]!.data[i]! * x[i]!;
  }
  return { state: next, y };
};

/**
 * What `rnn` computes for one sample: its first `length` steps of `xs` (`[T][F]`), read backward
 * when `reverse`, outputs where they were read and zero elsewhere, and the state after the last.
 */
export const refSequence = (
  step: RefCellStep,
  p: Params,
  init: readonly number[],
  xs: readonly (readonly number[])[],
  outSize: number,
  length: number,
  reverse: boolean,
): { outputs: number[][]; final: number[] } => {
  const outputs = xs.map(() => new Array<number>(outSize).fill(0));
  let s: readonly number[] = init;
  for (let k = 0; k < length; k++) {
    const t = reverse ? length - 1 - k : k;
    const r = step(p, s, xs[t]!);
    s = r.state;
    outputs[t] = r.y;
  }
  return { outputs, final: [...s] };
};
