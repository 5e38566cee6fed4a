/**
 * @file spam's model and training step, in a module of its own so that `--workers N` can run the
 * step in worker threads (they import this file, never main.ts, which trains at its top level).
 */
import { logSoftmax, mean, mul, neg, oneHot, sum, take, type Value } from "@rewind/autodiff";
import { gru, linear, manyToOne, type EmbeddingParams, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm } from "@rewind/optim";
import { dataParallelStep } from "../shared/dataParallel.js";
import type { EmailBatch } from "./data.js";

export const classify = linear(2);
export interface Params {
  readonly embed: EmbeddingParams;
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}

/**
 * Logits [B, 2] from each email's GRU state at its own last word (`lengths` freeze the state after it).
 * @example argmax(logits(params, batch), { axis: -1 })
 */
export const logits = (p: Params, b: EmailBatch): Value => {
  // The embedding is looked up for the whole batch before the GRU runs, not inside the loop
  // (mapInput): with a large vocabulary, an in-loop lookup makes the backward pass build a dense
  // [vocab, dim] gradient at every one of the 128 steps (3× slower here); outside, it is one scatter.
  const xs = take(p.embed.weight, b.words.xs, 0); // [B, steps, E]
  const { output } = manyToOne(gru, p.cell, xs, { lengths: b.words.lengths }); // [B, H]
  return classify.apply(p.out)(output);
};

/**
 * The batch's mean cross-entropy (nats per email).
 * @example loss(params, batch)
 */
export const loss = (p: Params, b: EmailBatch): Value =>
  neg(mean(sum(mul(oneHot(b.label, 2), logSoftmax(logits(p, b), -1)), { axis: -1 })));

/**
 * The loss and the optimizer (nothing to configure: the configuration is empty).
 * @example trainStep(build({}).loss, build({}).optimizer)
 */
export const build = (_config: Record<string, never>) => ({
  loss,
  optimizer: chain(clipByGlobalNorm(5), adam({ learningRate: 3e-3 })),
});

/** The step a worker runs on its emails (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
