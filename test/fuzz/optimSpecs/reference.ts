/**
 * @file Textbook float64 references of the optimizers, elementwise on plain numbers: each keeps
 * its own per-element state and returns the update for one gradient element. They follow the
 * papers' formulas as written in the TSDoc of @rewind/optim (Optax's conventions), so a
 * difference is a bug in one of the two.
 */

/** A per-element optimizer: `step(g, p, t)` returns the update at 1-based step t. */
export type RefOpt = () => (g: number, p: number, t: number) => number;

/** Heavy-ball momentum `v' = g + μv`, Nesterov `g + μv'`. */
export const refTrace =
  (decay: number, nesterov: boolean): RefOpt =>
  () => {
    let v = 0;
    return (g) => {
      v = g + decay * v;
      return nesterov ? g + decay * v : v;
    };
  };

/** Adagrad's rescaling `s' = s + g²`, `g / √(s' + eps)`, 0 where `s' = 0`. */
export const refRss =
  (initial: number, eps: number): RefOpt =>
  () => {
    let s = initial;
    return (g) => {
      s += g * g;
      return s > 0 ? g / Math.sqrt(s + eps) : 0;
    };
  };

const rescale = (g: number, v: number, eps: number, inSqrt: boolean): number =>
  inSqrt ? g / Math.sqrt(v + eps) : g / (Math.sqrt(v) + eps);

/** RMSProp `ν' = ρν + (1 − ρ)g²` (centered: divided by `ν' − μ'²`). */
export const refRms =
  (decay: number, eps: number, initialScale: number, inSqrt: boolean, centered: boolean): RefOpt =>
  () => {
    let nu = initialScale;
    let mu = 0;
    return (g) => {
      nu = decay * nu + (1 - decay) * g * g;
      mu = decay * mu + (1 - decay) * g;
      return rescale(g, centered ? nu - mu * mu : nu, eps, inSqrt);
    };
  };

/** Adam with bias correction: `μ̂ / (√(ν̂ + epsRoot) + eps)`. */
export const refAdam =
  (b1: number, b2: number, eps: number, epsRoot: number): RefOpt =>
  () => {
    let m = 0;
    let v = 0;
    return (g, _p, t) => {
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      return m / (1 - b1 ** t) / (Math.sqrt(v / (1 - b2 ** t) + epsRoot) + eps);
    };
  };

/** Composes per-element transforms left to right, as `chain` does. */
export const refChain =
  (...parts: RefOpt[]): RefOpt =>
  () => {
    const steps = parts.map((p) => p());
    return (g, p, t) => steps.reduce((u, s) => s(u, p, t), g);
  };

/** Multiplies by a constant (or by −lr(t − 1) for a learning rate). */
export const refScale =
  (factor: (t: number) => number): RefOpt =>
  () =>
  (g, _p, t) =>
    g * factor(t);

/** Adds `λ·θ` (decoupled weight decay). */
export const refDecay =
  (lambda: number): RefOpt =>
  () =>
  (g, p) =>
    g + lambda * p;

/** Clamps to [lo, hi], keeping NaN. */
export const refClip =
  (lo: number, hi: number): RefOpt =>
  () =>
  (g) =>
    g < lo ? lo : g > hi ? hi : g;
