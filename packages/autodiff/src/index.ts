/**
 * Public surface of @rewind/autodiff: graph ops, transforms, scan, pytrees, graph tools.
 *
 * @module @rewind/autodiff
 */
export * from "./ops/index.js";
export {
  grad,
  valueAndGrad,
  vjp,
  jvp,
  type GradOptions,
  type GradsOf,
  type GradResult,
  type AuxOf,
  type GradFn,
  type ValueAndGradFn,
} from "./api.js";
export type { Concrete, Transformed } from "./types.js";
export {
  jacrev,
  jacfwd,
  hessian,
  type JacobianOptions,
  type JacobianSpec,
  type JacobianOf,
  type JacobianResult,
} from "./jacobian.js";
export { vmap, type VmapOptions } from "./vmap/api.js";
export * as random from "./random.js";
export type { AxisSpec } from "./vmap/axes.js";
export { scan, type Scan, type ScanOptions, type ScanFn, type RematPolicy } from "./scan/api.js";
export { associativeScan, type AssociativeScanOptions } from "./scan/associative.js";
export { remat, checkpoint, customVjp } from "./control.js";
export { jit, setJitBackend, type Jitted, type Runner } from "./jit.js";
export type { DeviceArray, DeviceInputs, DeviceJitted, JitBackend, OnDevice } from "./backend.js";
export { setJitMode, getJitMode, type JitMode } from "./compile/mode.js";
export { makeGraph, traceTree, type ClosedGraph, type MakeGraphOptions } from "./trace.js";
// The pass pipeline's types (a `makeGraph(f, { optimize: true })` graph lists its passes);
// `optimize` and the pipelines themselves stay internal (src/passes/index.ts).
export type { Pass, PassName, PassRecord, PassResult } from "./passes/index.js";
export { printGraph, toDot, graphKey } from "./print.js";
export { withDebugNans } from "./debugState.js";
export {
  treeFlatten,
  treeUnflatten,
  treeMap,
  treeLeaves,
  treeStructure,
  treeDefKey,
  treeLeavesWithPaths,
  treeLeafCount,
  treeDiff,
  type PyTree,
  type TreeDef,
  type RecordTemplate,
} from "./Tree.js";
export { isTracer, isValue, isTracing, Tracer, type Value } from "./core.js";
export { GraphException, formatGraphError, formatError, type GraphError } from "./errors.js";
// The one exception class of Rewind, so `import { RewindError } from "@rewind/autodiff"` works too.
export { RewindError, type RewindErrorValue } from "@rewind/tensor";
export { Graph, type Aval, type Atom, type Eqn, type Var, type Literal } from "./Graph.js";
export { registry, type PrimitiveName } from "./primitives/index.js";
export { applyPrimitive } from "./applyPrimitive.js";
export {
  definePrimitive,
  noGradient,
  batchByLoop,
  type BatchRule,
  type BatchContext,
  type BatchDim,
  type BatchResult,
  type BatchedPrimitive,
  type HasBatchRule,
  type Primitive,
  type VjpRule,
  type VjpContext,
  type AnyPrimitive,
  type ForwardResult,
} from "./Primitive.js";
export type { Kit } from "./kit.js";
export type { Linearized } from "./vjp.js";
export type { ScanPolicy, ScanParams } from "./scan/params.js";
// The params of the built-in primitives: `registry`'s type and printed equations refer to them.
export type {
  ShapeParams,
  PermParams,
  WindowParams,
  UnsliceParams,
  AxesListParams,
  PadParams,
  AxisParam,
  DTypeParams,
} from "./primitives/shape.js";
export type { AxesParams, AxisParams } from "./primitives/reduce.js";
export type { CumulativeParams } from "./primitives/cumulative.js";
export type { IndexAxisParams } from "./primitives/indexing.js";
export type { SampleParams, SplitParams } from "./primitives/random.js";
export type { RematParams, CheckpointParams } from "./primitives/special.js";
export type { CustomVjpParams } from "./primitives/customVjp.js";
export { estimateResiduals, estimateScanResiduals, type ResidualEstimate } from "./memory.js";
export type { JitOptions } from "./jit.js";
export { compileGraph, type CompiledGraph } from "./compile/index.js";
