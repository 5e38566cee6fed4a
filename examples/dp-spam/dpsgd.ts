/**
 * @file One DP-SGD step (Abadi et al. 2016, Algorithm 1) as one jitted program: per-example
 * gradients by `vmap(grad(loss))`, each clipped to L2 norm C over all parameters, summed,
 * Gaussian noise N(0, σ²C²) added, divided by the batch size, then the optimizer's update.
 */
import { random, type Key } from "@rewind/tensor";
import {
  add,
  astype,
  div,
  grad,
  jit,
  less,
  maximum,
  mean,
  minimum,
  mul,
  reshape,
  sqrt,
  square,
  sum,
  treeFlatten,
  treeMap,
  treeUnflatten,
  vmap,
  type Value,
} from "@rewind/autodiff";
import { applyUpdates, type GradientTransformation } from "@rewind/optim";

/** The privacy knobs of DP-SGD: clip norm C and noise multiplier σ (noise std σC on the sum). */
export interface DpOptions {
  readonly clip: number;
  readonly noiseMultiplier: number;
  /**
   * With `--workers N`, each worker's step sees B / N examples: `psum` (of @rewind/workers) sums the
   * clipped gradients and the clipped counts over the workers before the noise is added once, and
   * `workers` is their number (`axisSize`). Absent: one process, the batch whole.
   */
  readonly across?: { readonly psum: <T>(tree: T) => T; readonly workers: () => number };
}

/**
 * Standard normal noise shaped like `params`, one leaf per key `foldIn(key, leafIndex)`:
 * deterministic from the key, never from `Math.random`.
 * @example const noise = noiseLike(params, random.foldIn(kNoise, step));
 */
export const noiseLike = <P>(params: P, key: Key): P => {
  let i = 0;
  return treeMap<P>((leaf) => random.normal(random.foldIn(key, i++), leaf.shape, "float32"), params);
};

/**
 * Builds the jitted DP-SGD step for `exampleLoss(params, example)` (written for ONE example; the
 * batch's leaves carry the examples on axis 0). The step takes the params, the optimizer state,
 * the batch and standard normal `noise` shaped like the params (see `noiseLike`), and returns the
 * new params and state plus the fraction of examples whose gradient was clipped.
 * @example
 * const step = dpSgdStep(exampleLoss, adam({ learningRate: 1e-3 }), { clip: 1, noiseMultiplier: 1 });
 * ({ params, optState } = step(params, optState, batch, noiseLike(params, random.foldIn(k, t))));
 */
export const dpSgdStep = <P, S, B>(
  exampleLoss: (params: P, example: B) => Value,
  optimizer: GradientTransformation<S>,
  { clip, noiseMultiplier, across }: DpOptions,
) => {
  const perExample = vmap(grad(exampleLoss), { inAxes: [null, 0] });
  return jit((params: P, optState: S, batch: B, noise: P) => {
    const [gs] = treeFlatten(perExample(params, batch)); // each leaf [B, ...shape]
    const n = gs[0]!.shape[0]!;
    const flat = gs.map((g) => reshape(g, [n, g.shape.slice(1).reduce((a, b) => a * b, 1)]));
    const norms = sqrt(flat.map((g) => sum(square(g), { axis: 1 })).reduce((a, b) => add(a, b))); // [B]
    const scale = minimum(1, div(clip, maximum(norms, 1e-12))); // clip each example to norm ≤ C
    const [noises, def] = treeFlatten(noise);
    // With workers: every worker's clipped sum, summed in worker order, then the same noise in each.
    const clippedSums = flat.map((g) => sum(mul(g, reshape(scale, [n, 1])), { axis: 0 }));
    const total = across === undefined ? clippedSums : across.psum(clippedSums);
    const batchSize = across === undefined ? n : n * across.workers();
    const summed = total.map((clipped, i) => {
      const noisy = add(clipped, mul(reshape(noises[i]!, clipped.shape), noiseMultiplier * clip));
      return reshape(div(noisy, batchSize), noises[i]!.shape);
    });
    const g = treeUnflatten<P>(def, summed);
    const [updates, nextState] = optimizer.update(g, optState, params);
    const clipped = mean(astype(less(scale, 1), "float32")); // equal shards: the mean of their means
    return {
      params: applyUpdates(params, updates),
      optState: nextState,
      clippedFraction: across === undefined ? clipped : div(across.psum(clipped), across.workers()),
    };
  });
};
