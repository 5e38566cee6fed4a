/**
 * Public surface of @rewind/rnn: cells as scan step functions and every shape of recurrent
 * layer. There is no backward code here: every gradient comes from differentiating `scan`.
 *
 * @module @rewind/rnn
 */
export type { Cell, CellSizes, InitOptions, InitScheme, ParamsOf, CarryOf, ContextOf } from "./Cell.js";
export { uniformInit, glorotInit, orthogonalInit, gateWeight, type FloatDType } from "./init.js";
export { elmanTanh, elmanRelu } from "./cells/elman.js";
export { lstm, type LstmCarry } from "./cells/lstm.js";
export { gru } from "./cells/gru.js";
export { minGru, minLstm, type MinimalCellParams } from "./cells/minimal.js";
export { lru, lruCell, type LruCarry, type LruParams, type LruRing } from "./cells/lru.js";
export { selectiveSsm, type SelectiveSsmParams } from "./cells/selectiveSsm.js";
export type { TorchCellParams, TorchCellWeights } from "./cells/common.js";
export { withoutBias, type WithoutBias } from "./cells/withoutBias.js";
export { rnn, type RnnCallOptions, type RnnFinal, type RnnOptions, type RnnResult } from "./rnn.js";
export { linearRecurrence, type LinearRecurrenceOptions, type LinearRecurrenceResult } from "./linearRecurrence.js";
export { logLinearRecurrence } from "./logLinearRecurrence.js";
export { validateLengths, stepMask, reverseValid } from "./lengths.js";
export {
  torchRnn,
  fromTorchStateDict,
  toTorchStateDict,
  torchParamNames,
  type TorchRnn,
  type TorchRnnMode,
  type TorchRnnSpec,
  type ResolvedTorchRnnSpec,
  type TorchRnnCarry,
  type TorchRnnParams,
  type TorchRnnApplyOptions,
  type TorchStateDictOptions,
} from "./torch.js";
export { peepholeLstm, type PeepholeLstmParams } from "./cells/peephole.js";
export { layerNormLstm, layerNorm, LAYER_NORM_EPS, type LayerNormLstmParams } from "./cells/layerNormLstm.js";
export { defineCell, checkCell, mgu, type CellSpec, type MguParams } from "./custom.js";
export type { SequenceSpec } from "./customSequence.js";
export {
  linear,
  embedding,
  type Layer,
  type LinearParams,
  type EmbeddingParams,
  type TensorInitLayer,
} from "./layers.js";
export type { TensorInitCell } from "./tensorInit.js";
export {
  stack,
  residual,
  mapInput,
  mapOutput,
  dropout,
  withSizes,
  inputSizeOf,
  type AnyCell,
  type AnyContextCell,
  type StackContext,
  type StackCell,
  type InitParamsOf,
  type MapInputParams,
  type MapOutputParams,
} from "./combinators.js";
export {
  bidirectional,
  type Bidirectional,
  type BidirectionalMerge,
  type BidirectionalOptions,
  type BidirectionalApplyOptions,
  type BidirectionalResult,
  type PerDirection,
} from "./bidirectional.js";
export {
  manyToOne,
  manyToMany,
  repeatInput,
  feedOnce,
  type ManyToOneOptions,
  type ManyToOneResult,
  type ManyToOneWithOutputs,
  type ManyToManyOptions,
} from "./shapes.js";
export { topKLogits, type Sampling } from "./decode.js";
export { additiveAttention, type AdditiveAttentionParams, type AdditiveWeights } from "./attention/additive.js";
export { dotAttention, generalAttention, type LuongAttentionParams, type LuongWeights } from "./attention/luong.js";
export type { AttentionContext, AttentionOptions, AttentionStep, LuongOptions } from "./attention/context.js";
export type { AttentionCell, AttentionSizes, TensorInitAttentionCell } from "./attention/sizes.js";
export { generate, type GenerateOptions, type GenerateOptionsOnTensors, type GenerateResult } from "./generate.js";
export {
  encoderDecoder,
  teacherForcingMask,
  type EncoderDecoderParams,
  type EncoderDecoderOptions,
  type EncoderDecoderResult,
} from "./seq2seq.js";
export {
  chunkSequence,
  chunkLengths,
  tbpttStep,
  tbpttGrads,
  type ChunkOptions,
  type ChunkLoss,
  type TbpttStepResult,
  type TbpttResult,
} from "./tbptt.js";
export {
  padSequences,
  unpadSequences,
  type PadOptions,
  type PaddedSequences,
  type UnpadOptions,
  type Side,
} from "./data/pad.js";
export type { Sequence } from "./data/ragged.js";
export {
  sequenceMask,
  maskedSum,
  maskedMean,
  type SequenceMaskOptions,
  type MaskedReduceOptions,
  type ValidSteps,
} from "./data/masks.js";
export {
  sequenceCrossEntropy,
  sequenceMse,
  type SequenceLossOptions,
  type SequenceCrossEntropyOptions,
  type SequenceReduction,
} from "./data/losses.js";
export {
  batches,
  type BatchOptions,
  type Batch,
  type BatchData,
  type Epoch,
  type PaddingSummary,
} from "./data/batches.js";
export type { Sample, SampleRecord, PerField } from "./data/dataset.js";
