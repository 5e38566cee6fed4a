/**
 * @file `jit`: trace once per input signature, compile once, reuse.
 *
 * The cache maps a signature (argument structure + leaf avals) to a traced graph and a runner.
 * The graph is the traced program after `JIT_PIPELINE` (passes/index.ts: hoisting scan-loop
 * invariants, lifting input projections), which tracing itself never applies.
 * The runner is the compiler's (compile/): one generated function per graph, bit-identical to
 * the interpreter. `jit(f, { compile: false })` keeps the interpreter, the reference path; so
 * do `setJitMode("interpret")` for every jitted function, and `withDebugNans`, whose
 * per-primitive checks need the interpreter. Where the engine refuses to generate JavaScript (a
 * Content-Security-Policy without 'unsafe-eval'), the interpreter runs too, after one warning
 * (the engine is probed once, at the first compile). Called on tracers (inside
 * grad, scan, another jit) the cached graph is inlined into the enclosing trace, so
 * `grad(jit(f))` differentiates the same graph; nothing is compiled until a call on tensors.
 */
import type { Tensor } from "@rewind/tensor";
import { compileGraph } from "./compile/index.js";
import { engineCompiles, jitState } from "./compile/mode.js";
import { expectFlag, expectFunction, expectOptions } from "./check.js";
import { evalGraph, isTracer, type Value } from "./core.js";
import { debugState } from "./debugState.js";
import { formatAval, avalOf, type Graph } from "./Graph.js";
import { JIT_PIPELINE, optimizeClosed } from "./passes/index.js";
import { traceTreeAs, type ClosedGraph } from "./trace.js";
import { treeDefKey, treeFlatten, treeUnflatten } from "./Tree.js";

/** Runs a graph on concrete inputs. */
export type Runner = (inputs: readonly Tensor[]) => readonly Tensor[];

/** Options of `jit`. */
export interface JitOptions {
  /**
   * Compile the graph into generated code (default true). `false` runs the interpreter: the
   * reference path, same results bit for bit, slower. `setJitMode("interpret")` does the same for
   * every jitted function; where the engine refuses to generate code, `true` interprets too.
   */
  readonly compile?: boolean;
}

/** The interpreter as a runner. */
const interpret =
  (graph: Graph): Runner =>
  (inputs) =>
    evalGraph(graph, inputs) as readonly Tensor[];

interface CacheEntry {
  readonly closed: ClosedGraph;
  /** Built on the first call on tensors (a graph only ever inlined into traces is never compiled). */
  run: Runner | undefined;
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
 * Traces `f` once per input signature (pytree structure, shapes, dtypes), compiles the graph and
 * reuses both. `f` must be pure: values it closes over are captured at trace time.
 * @param options `{ compile: false }` runs the interpreter instead of generated code (see also `setJitMode`).
 * @example const g = jit((x) => mul(x, 2)); g(tensor([1])); g(tensor([3])); g.cacheSize() // 1
 */
export const jit = <Args extends unknown[], R>(f: (...args: Args) => R, options: JitOptions = {}): Jitted<Args, R> => {
  expectFunction("jit", "f", f);
  const compile = expectFlag("jit", "options.compile", expectOptions("jit", options, ["compile"]).compile) ?? true;
  const cache = new Map<string, CacheEntry>();
  const entryFor = (args: readonly unknown[]): CacheEntry => {
    const [leaves, def] = treeFlatten(args);
    const key = `${treeDefKey(def)}|${leaves.map((l) => formatAval(avalOf(l))).join(";")}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    // Tracing records the program as written; jit's passes (hoist, lift) run once per signature.
    const { closed } = optimizeClosed(traceTreeAs("jit", f, args), JIT_PIPELINE);
    const entry: CacheEntry = { closed, run: undefined };
    // A graph that captured tracers of an enclosing transform is only valid inside it: don't cache.
    if (!closed.consts.some(isTracer)) cache.set(key, entry);
    return entry;
  };
  const jitted = (...args: Args): R => {
    const entry = entryFor(args);
    const { closed } = entry;
    const leaves = treeFlatten(args)[0];
    const inputs: Value[] = [...closed.consts, ...leaves];
    let outs: readonly Value[];
    if (inputs.some(isTracer) || debugState.nans || jitState.interpret) outs = evalGraph(closed.graph, inputs);
    else {
      // Probed at the first compile only: a strict CSP refuses `new Function` (one warning).
      entry.run ??= compile && engineCompiles() ? compileGraph(closed.graph) : interpret(closed.graph);
      outs = entry.run(inputs as Tensor[]);
    }
    return treeUnflatten<R>(closed.outTree, outs);
  };
  return Object.assign(jitted, { cacheSize: () => cache.size, graphFor: (...args: Args) => entryFor(args).closed });
};
