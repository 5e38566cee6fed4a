/**
 * @file `jit`: trace once per input signature, reuse the graph.
 *
 * The cache maps a signature (argument structure + leaf avals) to a traced graph and a `runner`.
 * The runner is the interpreter today; a compiler slots in by replacing `compile` (issue: speed).
 * Called on tracers (inside grad, scan, another jit) the cached graph is inlined into the
 * enclosing trace, so `grad(jit(f))` differentiates the same graph.
 */
import type { Tensor } from "@rewind/tensor";
import { evalGraph, isTracer, type Value } from "./core.js";
import { formatAval, avalOf, type Graph } from "./Graph.js";
import { traceTree, type ClosedGraph } from "./trace.js";
import { treeDefKey, treeFlatten, treeUnflatten } from "./Tree.js";

/** Runs a graph on concrete inputs. */
export type Runner = (inputs: readonly Tensor[]) => readonly Tensor[];

/** Turns a graph into a runner; the interpreter for now. */
const compile = (graph: Graph): Runner => (inputs) => evalGraph(graph, inputs) as readonly Tensor[];

interface CacheEntry {
  readonly closed: ClosedGraph;
  readonly run: Runner;
}

/** A jitted function, with a view of its cache for inspection. */
export interface Jitted<Args extends unknown[], R> {
  (...args: Args): R;
  /** Number of distinct signatures traced so far. */
  readonly cacheSize: () => number;
  /** The closed graph used for these arguments (tracing them if needed). */
  readonly graphFor: (...args: Args) => ClosedGraph;
}

/**
 * Traces `f` once per input signature (pytree structure, shapes, dtypes) and reuses the graph.
 * `f` must be pure: values it closes over are captured at trace time.
 * @example const g = jit((x) => mul(x, 2)); g(tensor([1])); g(tensor([3])); g.cacheSize() // 1
 */
export const jit = <Args extends unknown[], R>(f: (...args: Args) => R): Jitted<Args, R> => {
  const cache = new Map<string, CacheEntry>();
  const entryFor = (args: readonly unknown[]): CacheEntry => {
    const [leaves, def] = treeFlatten(args);
    const key = `${treeDefKey(def)}|${leaves.map((l) => formatAval(avalOf(l))).join(";")}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const closed = traceTree(f as (...a: never[]) => unknown, args);
    const entry = { closed, run: compile(closed.graph) };
    // A graph that captured tracers of an enclosing transform is only valid inside it: don't cache.
    if (!closed.consts.some(isTracer)) cache.set(key, entry);
    return entry;
  };
  const jitted = (...args: Args): R => {
    const { closed, run } = entryFor(args);
    const leaves = treeFlatten(args)[0];
    const inputs: Value[] = [...closed.consts, ...leaves];
    const outs = inputs.some(isTracer) ? evalGraph(closed.graph, inputs) : run(inputs as Tensor[]);
    return treeUnflatten<R>(closed.outTree, outs);
  };
  return Object.assign(jitted, { cacheSize: () => cache.size, graphFor: (...args: Args) => entryFor(args).closed });
};
