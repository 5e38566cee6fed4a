/**
 * Public surface of @rewind/testing: property-based checks users run on their own code.
 *
 * @module @rewind/testing
 */
export { allClose, type CloseOptions, type CloseResult } from "./allClose.js";
export { checkGrads, type CheckGradsOptions, type CheckedFunction } from "./checkGrads.js";
export {
  arbShape,
  arbBroadcastShapes,
  arbTensor,
  arbPyTree,
  arbKey,
  arbRaggedBatch,
  type ShapeOptions,
  type TensorOptions,
  type TensorTree,
  type RaggedBatch,
  type RaggedBatchOptions,
} from "./arbitraries.js";
export {
  arbScanProblem,
  scanProblem,
  scanFamilies,
  readout,
  type ScanFamily,
  type ScanImpl,
  type AnyScanFn,
  type ScanProblem,
  type ScanProblemOptions,
} from "./scanProblems.js";
export { scanUnrolled, type UnrolledOptions } from "./unrolled.js";
export { LAW_TOLERANCES } from "./lawKit.js";
export {
  laws,
  lawProperties,
  scanCase,
  type LawOptions,
  type ScanLawOptions,
  type SegmentLawOptions,
  type TruncationLawOptions,
  type JitLawOptions,
  type StopGradientLawOptions,
  type AdjointLawOptions,
  type JvpImpl,
  type VjpImpl,
  type VmapLawOptions,
  type VmapImpl,
  type FunctionCase,
} from "./laws.js";
export { arbVmapCase, type VmapCaseOptions } from "./vmapCases.js";
export { toBeAllClose, closeWithPaths, assertAllClose, type MatcherResult } from "./matchers.js";
export {
  cellCase,
  arbCellCase,
  describeCase,
  defaultLengths,
  type CellCase,
  type CellCaseOptions,
  type ArbCellCaseOptions,
} from "./cellCase.js";
export { rnnUnrolled, type RnnUnrolledOptions } from "./rnnUnrolled.js";
export type { CellLawCheckOptions, RnnImpl, StackImpl, BidirectionalImpl, JitImpl } from "./cellLawSetup.js";
export {
  cellLaws,
  cellLawsReport,
  cellLawChecks,
  cellLawNames,
  cellLawConfigs,
  bpttLawForCell,
  reverseLawForCell,
  invarianceLawForCell,
  paddingLaw,
  bidirectionalPaddingLaw,
  stackingLaw,
  parallelLawForCell,
  type CellLawName,
  type CellLawConfig,
  type CellLawsOptions,
  type CellLawsReport,
  type SkippedLaw,
} from "./cellLaws.js";
export { cellLawProperties, type CellLawPropertyOptions } from "./cellLawProperties.js";
// Laws, checks and argument errors throw a RewindError (from @rewind/tensor) carrying this value.
export type { TestingError } from "./failure.js";
export {
  sequenceLawChecks,
  sequenceLawProperties,
  type SequenceLawOptions,
  type SequenceLawPropertyOptions,
} from "./sequenceLaws.js";
export type { MaskedLossCase, UnpadPadCase, BatchCoverageCase, PaddedRnnCase, LawDType } from "./sequenceCases.js";
