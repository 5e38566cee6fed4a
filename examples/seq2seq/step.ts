/**
 * @file seq2seq's models and training step, in a module of its own so that `--workers N` can run
 * the step in worker threads (they import this file, never main.ts, which trains at its top level).
 */
import { take, type Value } from "@rewind/autodiff";
import {
  additiveAttention,
  encoderDecoder,
  gru,
  linear,
  sequenceCrossEntropy,
  type AttentionContext,
  type EmbeddingParams,
  type LinearParams,
  type PaddedSequences,
  type TensorInitCell,
  type TorchCellParams,
} from "@rewind/rnn";
import { adam, chain, clipByGlobalNorm, cosineDecay } from "@rewind/optim";
import { dataParallelStep, validSteps, type StepSpec } from "../shared/dataParallel.js";

export interface Params<PD> {
  readonly embed: EmbeddingParams; // shared by source and target tokens
  readonly encoder: TorchCellParams;
  readonly decoder: PD;
  readonly out: LinearParams;
}

/** A batch: the source padded to S steps (with lengths), and the decoder's inputs and targets padded to T. */
export interface Batch {
  readonly src: PaddedSequences; //    the symbols, padded with 0
  readonly tgtIn: PaddedSequences; //  BOS, then the reversed symbols, padded with EOS
  readonly tgtOut: PaddedSequences; // the reversed symbols, then EOS, padded with EOS
}

/** The sizes the step depends on: the vocabulary (readout), and the run's length (the learning rate's decay). */
export interface StepConfig {
  readonly vocab: number;
  readonly steps: number;
  /** The decoder: the plain GRU, or the GRU wrapped in `additiveAttention`. */
  readonly attention: boolean;
}

/**
 * The learning rate anneals from 3e-3 to 3e-4 over the run: the end settles instead of jittering.
 * One optimizer for both models (it holds no state: each run's state is made from its parameters).
 * @example optimizerOf(800).init(params)
 */
export const optimizerOf = (steps: number) =>
  chain(clipByGlobalNorm(5), adam({ learningRate: cosineDecay({ initValue: 3e-3, decaySteps: steps, alpha: 0.1 }) }));

/**
 * The token embedding, shared by source and target tokens.
 * @example embedIds(params)(batch.src.xs) // [B, S, E]
 */
export const embedIds =
  <PD>(p: Params<PD>) =>
  (ids: Value): Value =>
    take(p.embed.weight, ids, 0);

/**
 * Teacher-forced cross-entropy per valid target token (the mean over symbols and EOS, never padding).
 * @example lossOf(gru, linear(10))(params, batch)
 */
export const lossOf =
  <PD, X extends AttentionContext | undefined>(
    decoder: TensorInitCell<PD, Value, X>,
    readoutLayer: ReturnType<typeof linear>,
  ) =>
  (p: Params<PD>, b: Batch): Value => {
    const { logits } = encoderDecoder(
      gru,
      decoder,
      { encoder: p.encoder, decoder: p.decoder },
      embedIds(p)(b.src.xs),
      b.tgtIn.xs,
      { srcLengths: b.src.lengths, embedTarget: embedIds(p), readout: readoutLayer.apply(p.out), teacherForcing: 1 },
    );
    return sequenceCrossEntropy(logits, b.tgtOut.xs, b.tgtOut.lengths);
  };

/**
 * The loss of the configured decoder, the optimizer, and each batch's weight: its number of valid
 * target steps, since the loss is a mean over them and the workers' shards hold different numbers.
 * @example trainStep(build(config).loss, build(config).optimizer)
 */
export const build = (c: StepConfig): StepSpec<Params<unknown>, unknown, [Batch]> => ({
  loss: (c.attention ? lossOf(additiveAttention(gru), linear(c.vocab)) : lossOf(gru, linear(c.vocab))) as (
    p: Params<unknown>,
    b: Batch,
  ) => Value,
  optimizer: optimizerOf(c.steps),
  weight: (b: Batch) => validSteps(b.tgtOut.lengths),
});

/** The step a worker runs on its strings (`--workers N`). @example pmap(url, "parallelStep", …) */
export const parallelStep = dataParallelStep(build);
