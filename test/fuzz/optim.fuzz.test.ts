/**
 * @file Public-API fuzz suite of @rewind/optim: every runtime export has a spec (a new export
 * fails the first test until it is listed). Transformations and optimizers run a few steps on
 * random pytrees against textbook float64 formulas, with NaN and ±Infinity mixed into the
 * gradients; schedules are evaluated against their formulas; checkpoints round-trip. Invalid
 * hyperparameters, wrong-typed options, mismatched gradient pytrees and shapes, foreign states,
 * NaN steps and unfit templates must throw a TensorException or GraphException naming the op
 * (or, for `restoreCheckpoint`, return a Left naming it).
 *
 * Decisions this suite pins down: NaN and infinite gradients propagate (every transformation but
 * `skipNonFinite`, which skips the step and keeps the state); a gradient of another shape than
 * the state's moments or the parameters is refused rather than broadcast; a learning rate or
 * schedule value that is not finite is refused when used; a constant learning rate may be
 * negative (ascent, as in Optax); Adam's b1 and b2 lie in [0, 1).
 */
import { afterAll, expect, test } from "vitest";
import * as O from "@rewind/optim";
import { testMisspeltKeys } from "./options.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { testEachSpec, type Spec } from "./apiKit.js";
import { checkpointConstantsSpec, encodeCheckpointSpec, restoreCheckpointSpec } from "./optimSpecs/checkpoint.js";
import {
  allFiniteSpec,
  allFiniteValueSpec,
  clipByGlobalNormSpec,
  clipByValueSpec,
  globalNormSpec,
  learningRateAtSpec,
  maskByPathSpec,
  resolveMaskSpec,
  skipNonFiniteSpec,
  optimizerSpec,
} from "./optimSpecs/misc.js";
import {
  constantScheduleSpec,
  cosineDecaySpec,
  exponentialDecaySpec,
  joinSchedulesSpec,
  linearScheduleSpec,
  linearWarmupSpec,
  warmupCosineDecaySpec,
} from "./optimSpecs/schedules.js";
import {
  adagradSpec,
  adamSpec,
  adamwSpec,
  addDecayedWeightsSpec,
  applyUpdatesSpec,
  chainSpec,
  identitySpec,
  rmspropSpec,
  scaleByAdamSpec,
  scaleByLearningRateSpec,
  scaleByRmsSpec,
  scaleByRssSpec,
  scaleByStddevSpec,
  scaleSpec,
  sgdSpec,
  traceMomentumSpec,
} from "./optimSpecs/transforms.js";
import { trainStepSpec } from "./optimSpecs/trainStep.js";

const registry: Readonly<Record<string, Spec>> = {
  identity: identitySpec,
  scale: scaleSpec,
  scaleByLearningRate: scaleByLearningRateSpec,
  chain: chainSpec,
  optimizer: optimizerSpec,
  applyUpdates: applyUpdatesSpec,
  traceMomentum: traceMomentumSpec,
  scaleByRss: scaleByRssSpec,
  scaleByRms: scaleByRmsSpec,
  scaleByStddev: scaleByStddevSpec,
  scaleByAdam: scaleByAdamSpec,
  addDecayedWeights: addDecayedWeightsSpec,
  sgd: sgdSpec,
  adagrad: adagradSpec,
  rmsprop: rmspropSpec,
  adam: adamSpec,
  adamw: adamwSpec,
  globalNorm: globalNormSpec,
  clipByGlobalNorm: clipByGlobalNormSpec,
  clipByValue: clipByValueSpec,
  skipNonFinite: skipNonFiniteSpec,
  allFinite: allFiniteSpec,
  allFiniteValue: allFiniteValueSpec,
  resolveMask: resolveMaskSpec,
  maskByPath: maskByPathSpec,
  learningRateAt: learningRateAtSpec,
  constantSchedule: constantScheduleSpec,
  linearSchedule: linearScheduleSpec,
  exponentialDecay: exponentialDecaySpec,
  cosineDecay: cosineDecaySpec,
  joinSchedules: joinSchedulesSpec,
  linearWarmup: linearWarmupSpec,
  warmupCosineDecay: warmupCosineDecaySpec,
  encodeCheckpoint: encodeCheckpointSpec,
  restoreCheckpoint: restoreCheckpointSpec,
  CHECKPOINT_FORMAT: checkpointConstantsSpec("CHECKPOINT_FORMAT"),
  CHECKPOINT_VERSION: checkpointConstantsSpec("CHECKPOINT_VERSION"),
  trainStep: trainStepSpec,
};

const ledger = new FuzzLedger("@rewind/optim");
afterAll(() => ledger.write());

test("every runtime export of @rewind/optim has a fuzz spec", () => {
  expect(exportsOf(O)).toEqual(Object.keys(registry).sort());
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
