/**
 * @file Public-API fuzz suite of @rewind/rnn: every runtime export has a spec (a new export fails
 * the first test until it is listed). Valid calls are compared with float64 references written
 * in plain JavaScript (the cell equations, a per-sample loop for `rnn` and everything built on
 * it); invalid ones — wrong ranks, shapes, dtypes, sizes 0 / negative / fractional / NaN,
 * out-of-range lengths and token ids, wrong-typed options, non-cells — must throw a
 * TensorException or GraphException naming the op (the contract of `contract.ts`).
 *
 * Decisions this suite pins down: a step never mixes dtypes (float32 inputs to float64
 * parameters are refused, as are int32 inputs: token ids go through an embedding); size-0 batch
 * and time axes give correct empty results; a `null` options object is refused, while a `null`
 * field inside one means "the default" (as `??` reads it). Ids are range-checked when concrete;
 * inside `rnn` they are traced and `take` wraps negative ones, as documented on `embedding`.
 */
import { afterAll, expect, test } from "vitest";
import * as R from "@rewind/rnn";
import { testMisspeltKeys } from "./options.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { testEachSpec, type Spec } from "./apiKit.js";
import { cellSpec } from "./rnnSpecs/cells.js";
import { lruCellSpec, ssmCellSpec } from "./rnnSpecs/ssmCells.js";
import {
  checkCellSpec,
  defineCellSpec,
  dropoutSpec,
  inputSizeOfSpec,
  mapInputSpec,
  mapOutputSpec,
  residualSpec,
  stackSpec,
  withSizesSpec,
} from "./rnnSpecs/combinators.js";
import { encoderDecoderSpec, generateSpec, teacherForcingMaskSpec, topKLogitsSpec } from "./rnnSpecs/decode.js";
import {
  embeddingSpec,
  gateWeightSpec,
  glorotInitSpec,
  layerNormEpsSpec,
  layerNormSpec,
  linearSpec,
  orthogonalInitSpec,
  uniformInitSpec,
} from "./rnnSpecs/layers.js";
import { reverseValidSpec, rnnSpec, stepMaskSpec, validateLengthsSpec } from "./rnnSpecs/sequence.js";
import { linearRecurrenceSpec, logLinearRecurrenceSpec } from "./rnnSpecs/parallel.js";
import { bidirectionalSpec, feedOnceSpec, manyToManySpec, manyToOneSpec, repeatInputSpec } from "./rnnSpecs/shapes.js";
import { chunkLengthsSpec, chunkSequenceSpec, tbpttGradsSpec, tbpttStepSpec } from "./rnnSpecs/tbptt.js";
import { fromTorchStateDictSpec, toTorchStateDictSpec, torchParamNamesSpec, torchRnnSpec } from "./rnnSpecs/torch.js";
import { withoutBiasSpec } from "./rnnSpecs/withoutBias.js";
import { additiveAttentionSpec, dotAttentionSpec, generalAttentionSpec } from "./rnnSpecs/attention.js";
import { batchesSpec, padSequencesSpec, unpadSequencesSpec } from "./rnnSpecs/dataPad.js";
import {
  maskedMeanSpec,
  maskedSumSpec,
  sequenceCrossEntropySpec,
  sequenceMaskSpec,
  sequenceMseSpec,
} from "./rnnSpecs/dataLosses.js";

const registry: Readonly<Record<string, Spec>> = {
  elmanTanh: cellSpec(R.elmanTanh),
  elmanRelu: cellSpec(R.elmanRelu),
  lstm: cellSpec(R.lstm),
  gru: cellSpec(R.gru),
  peepholeLstm: cellSpec(R.peepholeLstm),
  layerNormLstm: cellSpec(R.layerNormLstm),
  mgu: cellSpec(R.mgu),
  minGru: cellSpec(R.minGru),
  minLstm: cellSpec(R.minLstm),
  lru: ssmCellSpec(R.lru),
  lruCell: lruCellSpec,
  selectiveSsm: ssmCellSpec(R.selectiveSsm),
  rnn: rnnSpec,
  linearRecurrence: linearRecurrenceSpec,
  logLinearRecurrence: logLinearRecurrenceSpec,
  validateLengths: validateLengthsSpec,
  stepMask: stepMaskSpec,
  reverseValid: reverseValidSpec,
  manyToOne: manyToOneSpec,
  manyToMany: manyToManySpec,
  repeatInput: repeatInputSpec,
  feedOnce: feedOnceSpec,
  bidirectional: bidirectionalSpec,
  linear: linearSpec,
  embedding: embeddingSpec,
  uniformInit: uniformInitSpec,
  glorotInit: glorotInitSpec,
  orthogonalInit: orthogonalInitSpec,
  gateWeight: gateWeightSpec,
  layerNorm: layerNormSpec,
  LAYER_NORM_EPS: layerNormEpsSpec,
  stack: stackSpec,
  residual: residualSpec,
  mapInput: mapInputSpec,
  mapOutput: mapOutputSpec,
  dropout: dropoutSpec,
  withSizes: withSizesSpec,
  inputSizeOf: inputSizeOfSpec,
  checkCell: checkCellSpec,
  defineCell: defineCellSpec,
  topKLogits: topKLogitsSpec,
  generate: generateSpec,
  encoderDecoder: encoderDecoderSpec,
  teacherForcingMask: teacherForcingMaskSpec,
  chunkSequence: chunkSequenceSpec,
  chunkLengths: chunkLengthsSpec,
  tbpttStep: tbpttStepSpec,
  tbpttGrads: tbpttGradsSpec,
  torchRnn: torchRnnSpec,
  fromTorchStateDict: fromTorchStateDictSpec,
  toTorchStateDict: toTorchStateDictSpec,
  torchParamNames: torchParamNamesSpec,
  withoutBias: withoutBiasSpec,
  additiveAttention: additiveAttentionSpec,
  dotAttention: dotAttentionSpec,
  generalAttention: generalAttentionSpec,
  padSequences: padSequencesSpec,
  unpadSequences: unpadSequencesSpec,
  sequenceMask: sequenceMaskSpec,
  maskedSum: maskedSumSpec,
  maskedMean: maskedMeanSpec,
  sequenceCrossEntropy: sequenceCrossEntropySpec,
  sequenceMse: sequenceMseSpec,
  batches: batchesSpec,
};

const ledger = new FuzzLedger("@rewind/rnn");
afterAll(() => ledger.write());

test("every runtime export of @rewind/rnn has a fuzz spec", () => {
  expect(exportsOf(R)).toEqual(Object.keys(registry).sort());
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
