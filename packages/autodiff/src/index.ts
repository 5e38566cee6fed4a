/**
 * @file Public surface of @rewind/autodiff: graph ops, transforms, scan, pytrees, graph tools.
 */
export * from "./ops/index.js";
export { grad, valueAndGrad, vjp, jvp, jacrev, jacfwd, hessian, type GradOptions, type GradsOf, type GradResult } from "./api.js";
export { scan, type ScanOptions, type ScanFn } from "./scan.js";
export { checkpoint, customVjp } from "./control.js";
export { jit, type Jitted, type Runner } from "./jit.js";
export { setJitMode, getJitMode, type JitMode } from "./compile/mode.js";
export { makeGraph, traceTree, type ClosedGraph } from "./trace.js";
export { printGraph, toDot, graphKey } from "./print.js";
export { withDebugNans } from "./debugState.js";
export {
  treeFlatten, treeUnflatten, treeMap, treeLeaves, treeStructure, treeDefKey, treeLeavesWithPaths, treeLeafCount, treeDiff,
  type PyTree, type TreeDef,
} from "./Tree.js";
export { isTracer, isValue, isTracing, Tracer, type Value } from "./core.js";
export { GraphException, formatGraphError, type GraphError } from "./errors.js";
export { Graph, type Aval, type Atom, type Eqn, type Var, type Literal } from "./Graph.js";
export { registry, type PrimitiveName } from "./primitives/index.js";
export { definePrimitive, noGradient, type Primitive, type VjpRule, type VjpContext } from "./Primitive.js";
export type { ScanPolicy } from "./primitives/scan.js";
export { estimateResiduals, estimateScanResiduals, type ResidualEstimate } from "./memory.js";
export type { JitOptions } from "./jit.js";
export { compileGraph, type CompiledGraph } from "./compile/index.js";
