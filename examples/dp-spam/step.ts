/**
 * @file dp-spam's model and both training steps (non-private and DP-SGD), in a module of its own
 * so that `--workers N` can run the steps in worker threads (they import this file, never
 * main.ts, which trains at its top level).
 */
import { logSoftmax, mean, mul, neg, oneHot, reshape, sum, take, type Concrete, type Value } from "@rewind/autodiff";
import { gru, linear, manyToOne, type EmbeddingParams, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import { adam, type StateOf } from "@rewind/optim";
import { axisSize, psum } from "@rewind/workers";
import { dataParallelStep } from "../shared/dataParallel.js";
import type { EmailBatch } from "../spam/data.js";
import { dpSgdStep } from "./dpsgd.js";

export const classify = linear(2);
export interface Params {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}

/**
 * Logits [B, 2] from each email's GRU state at its own last word.
 * @example argmax(logits(params, batch.words.xs, batch.words.lengths), { axis: -1 })
 */
export const logits = (p: Params, ids: Value, lengths: Value): Value =>
  classify.apply(p.out)(manyToOne(gru, p.cell, take(p.embed.weight, ids, 0), { lengths }).output);

/**
 * The batch's mean cross-entropy (nats per email).
 * @example loss(params, batch)
 */
export const loss = (p: Params, b: EmailBatch): Value =>
  neg(mean(sum(mul(oneHot(b.label, 2), logSoftmax(logits(p, b.words.xs, b.words.lengths), -1)), { axis: -1 })));

/**
 * One email's loss: `vmap` hands it the email without the batch axis, so it adds a batch of one.
 * @example vmap(grad(exampleLoss(128)), { inAxes: [null, 0] })(params, batch)
 */
export const exampleLoss =
  (words: number) =>
  (p: Params, b: EmailBatch): Value =>
    loss(p, {
      words: { ...b.words, xs: reshape(b.words.xs, [1, words]), lengths: reshape(b.words.lengths, [1]) },
      label: reshape(b.label, [1]),
    } as unknown as EmailBatch);

/** What the steps depend on: Adam's rate, and for DP-SGD the clip norm, σ and the words per email. */
export interface StepConfig {
  readonly learningRate: number;
  readonly clip: number;
  readonly sigma: number;
  readonly words: number;
}

/**
 * The non-private run's loss and optimizer.
 * @example trainStep(build(config).loss, build(config).optimizer)
 */
export const build = (c: StepConfig) => ({ loss, optimizer: adam({ learningRate: c.learningRate }) });

/** The non-private step a worker runs on its emails (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);

/**
 * The DP-SGD step (dpsgd.ts); with `workers`, each worker's share of the clipped sum is summed over
 * the workers (`psum`, worker order) before the noise is added.
 * @example privateStepOf(config, false)(params, optState, batch, noise)
 */
export const privateStepOf = (c: StepConfig, workers: boolean) =>
  dpSgdStep(exampleLoss(c.words), build(c).optimizer, {
    clip: c.clip,
    noiseMultiplier: c.sigma,
    ...(workers ? { across: { psum, workers: axisSize } } : {}),
  });

type State = StateOf<ReturnType<typeof build>["optimizer"]>;
const privateSteps = new Map<string, ReturnType<typeof privateStepOf>>();

/**
 * The DP-SGD step a worker runs on its emails (`--workers N`): `[params', optState', clipped fraction]`,
 * the noise (the same for every worker) passed whole.
 * @example pmap(url, "parallelPrivateStep", { workers: 2, inAxes: [null, null, null, 0, null], … })
 */
export const parallelPrivateStep = (
  c: StepConfig,
  params: Concrete<Params>,
  optState: Concrete<State>,
  batch: EmailBatch,
  noise: Concrete<Params>,
) => {
  const key = JSON.stringify(c);
  let step = privateSteps.get(key);
  if (step === undefined) {
    step = privateStepOf(c, true);
    privateSteps.set(key, step);
  }
  const r = step(params, optState, batch, noise);
  return [r.params, r.optState, r.clippedFraction] as const;
};
