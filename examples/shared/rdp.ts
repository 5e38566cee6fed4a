/**
 * @file A Rényi-DP accountant for DP-SGD: the sampled Gaussian mechanism composed over steps.
 *
 * Method (Abadi et al. 2016, "Deep Learning with Differential Privacy", the moments accountant;
 * Mironov 2017, "Rényi Differential Privacy"; Mironov, Talwar & Zhang 2019, "Rényi Differential
 * Privacy of the Sampled Gaussian Mechanism"): one step of DP-SGD — each example sampled
 * with probability q, its gradient clipped to norm C, Gaussian noise of standard deviation σC
 * added to the sum — satisfies (α, ε_α)-RDP for every integer order α ≥ 2 with
 *
 *   ε_α = log(A_α) / (α − 1),  A_α = Σ_{k=0..α} C(α,k) (1 − q)^(α−k) q^k exp((k² − k) / (2σ²)),
 *
 * the sampled Gaussian's RDP at integer orders, computed exactly by the binomial expansion. RDP
 * composes additively over the T steps, and (Mironov 2017, Proposition 3) (α, Tε_α)-RDP implies (Tε_α + log(1/δ)/(α − 1), δ)-DP;
 * ε is the minimum over the orders tried. Using integer orders only and this classic conversion
 * (not the tighter one of Balle et al. 2020) makes the reported ε a valid upper bound that is a
 * little looser than TF Privacy's, which also tries fractional orders.
 *
 * The analysis assumes Poisson sampling at rate q; examples that draw fixed-size batches uniformly
 * at random use it as the usual approximation (as TF Privacy's tutorials do), and say so.
 */

/** log(exp(a) + exp(b)) without overflow. */
const logAdd = (a: number, b: number): number => {
  if (a === -Infinity) return b;
  const hi = Math.max(a, b);
  return hi + Math.log(Math.exp(a - hi) + Math.exp(b - hi));
};

/** log C(n, k) as a sum of logs (n is a small integer order, so k terms are cheap and exact enough). */
const logBinomial = (n: number, k: number): number => {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
};

/**
 * The RDP ε_α of one step of the sampled Gaussian mechanism at integer order `alpha` ≥ 2.
 * @example rdpSampledGaussian(0.01, 1.1, 8) // ≈ 0.000584
 */
export const rdpSampledGaussian = (q: number, sigma: number, alpha: number): number => {
  if (!Number.isInteger(alpha) || alpha < 2)
    throw new Error(`rdpSampledGaussian: alpha must be an integer ≥ 2, got ${alpha}`);
  if (!(q > 0 && q <= 1)) throw new Error(`rdpSampledGaussian: q must lie in (0, 1], got ${q}`);
  if (!(sigma > 0)) throw new Error(`rdpSampledGaussian: sigma must be positive, got ${sigma}`);
  if (q === 1) return alpha / (2 * sigma * sigma); // the plain Gaussian mechanism
  let logA = -Infinity;
  for (let k = 0; k <= alpha; k++) {
    const term =
      logBinomial(alpha, k) + (alpha - k) * Math.log1p(-q) + k * Math.log(q) + (k * k - k) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA / (alpha - 1);
};

/** The integer orders tried: 2..256 (the optimum for the usual σ ≈ 0.5–4 and ε ≈ 0.1–20 lies in it). */
export const DEFAULT_ORDERS: readonly number[] = Array.from({ length: 255 }, (_, i) => i + 2);

/**
 * The ε of (ε, δ)-DP after `steps` steps of DP-SGD with sampling rate `q` and noise multiplier `sigma`,
 * by the RDP accountant above; also the order that attained it.
 * @example dpSgdEpsilon({ q: 256 / 60000, sigma: 1.12, steps: 14062, delta: 1e-5 }).epsilon // ≈ 2.9–3.0
 */
export const dpSgdEpsilon = (args: {
  readonly q: number;
  readonly sigma: number;
  readonly steps: number;
  readonly delta: number;
  readonly orders?: readonly number[];
}): { readonly epsilon: number; readonly order: number } => {
  const { q, sigma, steps, delta, orders = DEFAULT_ORDERS } = args;
  if (!(delta > 0 && delta < 1)) throw new Error(`dpSgdEpsilon: delta must lie in (0, 1), got ${delta}`);
  let best = { epsilon: Infinity, order: NaN };
  for (const alpha of orders) {
    const epsilon = steps * rdpSampledGaussian(q, sigma, alpha) + Math.log(1 / delta) / (alpha - 1);
    if (epsilon < best.epsilon) best = { epsilon, order: alpha };
  }
  return best;
};
