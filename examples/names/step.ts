/**
 * @file names' model and training step, in a module of its own so that `--workers N` can run the
 * step in worker threads (they import this file, never main.ts, which trains at its top level).
 */
import type { Value } from "@rewind/autodiff";
import {
  embedding,
  gru,
  linear,
  mapInput,
  mapOutput,
  rnn,
  sequenceCrossEntropy,
  type PaddedSequences,
  type ParamsOf,
} from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm } from "@rewind/optim";
import { dataParallelStep, validSteps } from "../shared/dataParallel.js";

/** The model's sizes: the vocabulary (characters + end token) and the embedding width. */
export interface ModelConfig {
  readonly vocab: number;
  readonly embedDim: number;
}

/**
 * ids → embedding → GRU → linear logits, composed into one cell. mapInput/mapOutput run the
 * embedding and the readout inside the scan, per step, so the same cell serves training (over
 * padded id sequences) and generation (one id in, logits out).
 * @example modelOf({ vocab: 53, embedDim: 32 }).init(key, { inputSize: 53, hiddenSize: 128 })
 */
export const modelOf = (c: ModelConfig) => mapOutput(mapInput(gru, embedding(c.vocab, c.embedDim)), linear(c.vocab));
export type Params = ParamsOf<ReturnType<typeof modelOf>>;

/** A padded batch: inputs and targets as `padSequences` gives them (ids `[B, steps]`, lengths, mask). */
export type Batch = { readonly inputs: PaddedSequences; readonly targets: PaddedSequences };

/**
 * Cross-entropy in nats per valid step: the mean over the names' characters and end tokens, never the padding.
 * @example jit(meanNll(modelOf(config)))(params, heldBatch)
 */
export const meanNll =
  (model: ReturnType<typeof modelOf>) =>
  (p: Params, b: Batch): Value => {
    const { outputs } = rnn(model, p, b.inputs.xs, { lengths: b.inputs.lengths }); // [B, steps, V] logits
    return sequenceCrossEntropy(outputs, b.targets.xs, b.targets.lengths);
  };

/**
 * The loss, the optimizer, and each batch's weight: its number of valid steps, since the loss is
 * a mean over them and the workers' shards hold different numbers of them.
 * @example trainStep(build(config).loss, build(config).optimizer)
 */
export const build = (config: ModelConfig) => ({
  loss: meanNll(modelOf(config)),
  optimizer: chain(clipByGlobalNorm(5), adam({ learningRate: 3e-3 })),
  weight: (b: Batch) => validSteps(b.targets.lengths),
});

/** The step a worker runs on its names (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
