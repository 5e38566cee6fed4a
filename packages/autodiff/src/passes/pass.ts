/**
 * @file What a graph pass is, and the one way scan passes rewrite a graph: by re-tracing it.
 *
 * Tracing records the program as the user wrote it; passes rewrite traced graphs for speed, and
 * every entry point that evaluates a graph (jit, grad, an eager scan, remat and customVjp bodies)
 * names the passes it runs (see index.ts). A scan pass re-traces one level of a graph, binding
 * every equation again except the scans it rewrites: for those it binds what it moves out of the
 * loop (in the enclosing graph, right before the scan) and then the new scan. Re-binding only
 * re-reads existing variables and scalar literals, so the graph's inputs never grow, and the
 * moved equations land exactly where tracing placed them when it rewrote scans as it bound them.
 */
import { bind, evalGraph, traceToGraph, type Value } from "../core.js";
import { internalError } from "../errors.js";
import type { Eqn, Graph } from "../Graph.js";
import type { AnyPrimitive } from "../Primitive.js";
import type { ScanParams } from "../scan/params.js";

/** The names of the graph passes (printed by `printGraph` after `makeGraph(f, { optimize: true })`). */
export type PassName = "hoist" | "lift" | "accumulate" | "dce";

/** What one pass did to a graph: the new graph (`g` itself when nothing applied) and how many equations it changed. */
export interface PassResult {
  /** The rewritten graph, or the graph passed in when the pass did not apply. */
  readonly graph: Graph;
  /** Equations moved or removed. */
  readonly changed: number;
}

/**
 * A named, pure rewrite of the equations of one graph (not of the bodies nested in it: `optimize`
 * applies a pipeline to nested bodies first, bottom-up). Passes are idempotent: running one on its
 * own result changes nothing.
 */
export interface Pass {
  /** The pass's name, as printed in a graph's `-- passes:` header. */
  readonly name: PassName;
  /** Rewrites `g`; returns `g` itself and `changed: 0` when nothing applies. */
  readonly run: (g: Graph) => PassResult;
}

/** One line of an `optimize` log: a pass and how many equations it changed, over all nesting levels. */
export interface PassRecord {
  /** The pass. */
  readonly name: PassName;
  /** Equations it moved or removed. */
  readonly changed: number;
}

/**
 * The rewrite of one scan equation: `match` decides from the params alone (and says how many
 * equations it moves), `apply` binds the moved equations and then the rewritten scan through
 * `bindScan`, in the current trace, and returns the scan's original outputs.
 */
export interface ScanRewrite<M> {
  /** The plan for a scan with these params, or `undefined` when the rewrite does not apply. */
  readonly match: (p: ScanParams) => M | undefined;
  /** How many equations the plan moves. */
  readonly size: (m: M) => number;
  /** Binds the plan: the moved equations, then `bindScan` of the new scan; returns the old scan's outputs. */
  readonly apply: (
    m: M,
    ins: readonly Value[],
    p: ScanParams,
    bindScan: (ins: readonly Value[], p: ScanParams) => readonly Value[],
  ) => readonly Value[];
}

/**
 * Applies `rw` to every scan equation of `g` (not inside nested bodies) by re-tracing `g`.
 * Returns `g` itself, untraced, when no scan matches.
 * @example rewriteScans(g, hoistRewrite).changed
 */
export const rewriteScans = <M>(g: Graph, rw: ScanRewrite<M>): PassResult => {
  const plans = new Map<Eqn, M>();
  let changed = 0;
  for (const eqn of g.eqns) {
    if (eqn.prim.name !== "scan") continue;
    const m = rw.match(eqn.params as ScanParams);
    if (m === undefined) continue;
    plans.set(eqn, m);
    changed += rw.size(m);
  }
  if (plans.size === 0) return { graph: g, changed: 0 };
  const run = (eqn: Eqn, ins: readonly Value[]): readonly Value[] => {
    const m = plans.get(eqn);
    if (m === undefined) return bind(eqn.prim, ins, eqn.params, eqn.source);
    const scan: AnyPrimitive = eqn.prim;
    return rw.apply(m, ins, eqn.params as ScanParams, (args, p) => bind(scan, args, p, eqn.source));
  };
  const traced = traceToGraph((ins) => evalGraph(g, ins, run), g.inAvals, "optimize");
  // Re-binding reads only the graph's own variables and scalar literals; a captured constant
  // would mean a pass bound a concrete tensor, and the graph would no longer match its callers.
  if (traced.consts.length > 0) internalError("a graph pass added inputs to the graph it rewrote");
  return { graph: traced.graph, changed };
};
