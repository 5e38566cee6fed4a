/**
 * @file Tracing pytree functions: flatten arguments, trace on leaf tracers, flatten results.
 */
import { traceToGraph, type Value } from "./core.js";
import { avalOf, type Graph } from "./Graph.js";
import { expectArray, expectFlag, expectFunction, expectOptions, synchronous } from "./check.js";
import { JIT_PIPELINE, optimizeClosed, type PassRecord } from "./passes/index.js";
import { treeFlatten, treeUnflatten, type TreeDef } from "./Tree.js";

/** A traced pytree function: its closed graph, captured constants, and argument/result structures. */
export interface ClosedGraph {
  /** The traced graph: its inputs are the captured constants, then the arguments' leaves. */
  readonly graph: Graph;
  /** Values of the graph's first `consts.length` inputs (captured concrete tensors or outer tracers). */
  readonly consts: readonly Value[];
  /** The structure of the arguments (an array pytree, one child per argument). */
  readonly inTree: TreeDef;
  /** The structure of the function's result. */
  readonly outTree: TreeDef;
  /**
   * Present when the graph was rewritten by passes (`makeGraph(f, { optimize: true })`): each
   * pass and how many equations it changed. `printGraph` shows it as a header line.
   */
  readonly passes?: readonly PassRecord[];
}

/**
 * Traces `f(...args)` into a closed graph; the graph's inputs are `[...consts, ...leaves of args]`.
 * @example traceTree((x) => exp(x), [zeros([2])]).graph.eqns.size // 1
 */
export const traceTree = (f: (...args: never[]) => unknown, args: readonly unknown[]): ClosedGraph =>
  traceTreeAs("traceTree", f, args);

/**
 * `traceTree` for a transform: `transform` (`jit`, `grad`…) is the name errors raised while
 * tracing give (a tracer used as a number says which transform was tracing it).
 * @internal Not re-exported from the package index.
 * @example traceTreeAs("jit", (x) => exp(x), [zeros([2])]).graph.eqns.size // 1
 */
export const traceTreeAs = (
  transform: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
): ClosedGraph => {
  expectFunction(transform, "f", f);
  expectArray(transform, "args", args);
  const [leaves, inTree] = treeFlatten(args);
  let outTree: TreeDef | undefined;
  const { graph, consts } = traceToGraph(
    (tracers) => {
      const out = (f as (...a: unknown[]) => unknown)(...treeUnflatten<unknown[]>(inTree, tracers));
      const [outLeaves, def] = treeFlatten(out);
      outTree = def;
      return outLeaves;
    },
    leaves.map(avalOf),
    transform,
  );
  return { graph, consts, inTree, outTree: outTree! };
};

/** Options of `makeGraph`. */
export interface MakeGraphOptions {
  /**
   * Show the graph after the passes `jit` runs (hoisting loop invariants out of scan bodies,
   * lifting input projections out of the loop), with a header naming each pass. Default false:
   * the program as written.
   */
  readonly optimize?: boolean;
}

/**
 * Traces `f` on example arguments and returns its closed graph, to print (`printGraph`), export
 * (`toDot`) or inspect. Only the arguments' shapes and dtypes matter. The graph is the program as
 * written; `{ optimize: true }` shows it after the passes `jit` runs, and `printGraph` then starts
 * with a line naming each pass and how many equations it changed.
 * @example printGraph(makeGraph((x) => mul(x, 2))(zeros([3])))
 * @example
 * // "-- passes: hoist (2 eqns), lift (2)\n{ lambda …"
 * printGraph(makeGraph(loss, { optimize: true })(params))
 */
export const makeGraph = (f: (...args: never[]) => unknown, options: MakeGraphOptions = {}) => {
  expectFunction("makeGraph", "f", f);
  const opts = expectOptions("makeGraph", options, ["optimize"]) as MakeGraphOptions;
  const optimized = expectFlag("makeGraph", "options.optimize", opts.optimize) ?? false;
  return (...exampleArgs: readonly unknown[]): ClosedGraph => {
    const closed = traceTreeAs("makeGraph", synchronous("makeGraph", f), exampleArgs);
    if (!optimized) return closed;
    const { closed: optimizedGraph, log } = optimizeClosed(closed, JIT_PIPELINE);
    return { ...optimizedGraph, passes: log };
  };
};
