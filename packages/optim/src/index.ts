/**
 * Public surface of @rewind/optim: optimizers as pairs of pure functions over parameter
 * pytrees (Optax's shape), clipping, schedules, masks, and checkpoints. Node file I/O for
 * checkpoints lives in `@rewind/optim/node`.
 *
 * @module @rewind/optim
 */
export { optimizer } from "./types.js";
export type {
  GradientTransformation,
  Optimizer,
  LearningRate,
  Schedule,
  ScheduleFn,
  StateOf,
  AnyTransformation,
} from "./types.js";
export { learningRateAt } from "./learningRate.js";
export {
  identity,
  scale,
  scaleByLearningRate,
  chain,
  applyUpdates,
  type EmptyState,
  type CountState,
  type ChainState,
  type ScaleByLearningRateOptions,
} from "./base.js";
export {
  traceMomentum,
  scaleByRss,
  scaleByRms,
  scaleByStddev,
  scaleByAdam,
  type TraceMomentumOptions,
  type TraceState,
  type ScaleByRssOptions,
  type ScaleByRssState,
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByStddevState,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
} from "./scaling.js";
export { addDecayedWeights, type AddDecayedWeightsOptions } from "./weightDecay.js";
export { resolveMask, maskByPath, type Mask, type MaskTree } from "./mask.js";
export {
  sgd,
  adagrad,
  rmsprop,
  adam,
  adamw,
  type SgdOptions,
  type SgdState,
  type AdagradOptions,
  type AdagradState,
  type RmspropOptions,
  type RmspropState,
  type AdamOptions,
  type AdamState,
  type AdamwOptions,
  type AdamwState,
} from "./aliases.js";
export { globalNorm, clipByGlobalNorm, clipByValue } from "./clipping.js";
export {
  trainStep,
  type DeviceTrainStep,
  type TrainStep,
  type TrainStepOptions,
  type TrainStepResult,
} from "./trainStep.js";
export { skipNonFinite, allFinite, allFiniteValue, type SkipNonFiniteState } from "./skip.js";
export {
  constantSchedule,
  linearSchedule,
  exponentialDecay,
  cosineDecay,
  joinSchedules,
  linearWarmup,
  warmupCosineDecay,
  type LinearScheduleOptions,
  type ExponentialDecayOptions,
  type CosineDecayOptions,
  type LinearWarmupOptions,
  type WarmupCosineDecayOptions,
} from "./schedules.js";
export {
  encodeCheckpoint,
  restoreCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  type CheckpointTemplate,
  type JsonConfig,
} from "./checkpoint.js";
export type { TreeSpec, StaticSpec } from "./treeSpec.js";
