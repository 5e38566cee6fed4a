/**
 * @file The pass pipelines and `optimize`, which runs one over a graph and its nested bodies.
 *
 * Who runs what (docs/prototypes/passes/README.md §3):
 * - `jit`: `JIT_PIPELINE` on the traced graph, once per signature, before caching;
 * - `grad`, `valueAndGrad`, `vjp`, `jacrev`…: `GRAD_PIPELINE` on the traced function, before
 *   linearising (lifting changes what the derivative program is, so it must come first);
 * - an eager scan (the user's, or one a VJP rule computes): `SCAN_PIPELINE` on its one equation;
 * - `remat` and `customVjp`: `GRAD_PIPELINE` on their bodies, so their `impl` never runs a raw scan;
 * - the memory estimates: whatever `grad` runs, through the same function (vjp.ts);
 * - scan's VJP: `accumulate` on the reverse scan it binds (gated by the scan's `accumulators`
 *   param), before the pipeline above when eager, so in the same order as traced then jitted.
 * All of them run hoist before lift, then dce, scan by scan, inner scans first. dce matters after
 * hoisting: a hoisted `transpose(W)` leaves `W` an input the body no longer reads, and scan's VJP
 * would give every such input a zero cotangent carried through the reverse loop and added to the
 * real one (under `vmap`, a zero per example). The float64 bits of an
 * eager run equal jit's because both run the same passes in the same order.
 */
import type { Value } from "../core.js";
import { Graph, type Atom, type Eqn } from "../Graph.js";
import { internalError } from "../errors.js";
import { hoist } from "./hoist.js";
import { lift } from "./lift.js";
import { dce } from "./dce.js";
import type { Pass, PassName, PassRecord } from "./pass.js";

export type { Pass, PassName, PassRecord, PassResult } from "./pass.js";
export { hoist } from "./hoist.js";
export { lift } from "./lift.js";
export { accumulate } from "./accumulate.js";

/** What `jit` runs on a traced graph. */
export const JIT_PIPELINE: readonly Pass[] = [hoist, lift, dce];
/** What the differentiation transforms run on the traced function before linearising it. */
export const GRAD_PIPELINE: readonly Pass[] = [hoist, lift, dce];
/** What an eager scan runs on its own equation before computing it. */
export const SCAN_PIPELINE: readonly Pass[] = [hoist, lift, dce];

/** `eqn` with each nested body (a param named by its `subgraphs` label) replaced by `f(body)`. */
const mapBodies = (eqn: Eqn, f: (g: Graph) => Graph): Eqn => {
  let params = eqn.params as Record<string, unknown>;
  for (const [label, sub] of eqn.prim.subgraphs?.(eqn.params) ?? []) {
    const next = f(sub);
    if (next === sub) continue;
    // Passes reach a body through the param its label names (scan, remat and customVjp: `body`).
    if (params[label] !== sub) internalError(`${eqn.prim.name}: subgraph "${label}" is not its params.${label}`);
    params = { ...params, [label]: next };
  }
  return params === eqn.params ? eqn : Object.freeze({ ...eqn, params });
};

const optimizeLevel = (g: Graph, pipeline: readonly Pass[], counts: Map<PassName, number>): Graph => {
  // Bottom-up: an inner scan is rewritten before the body holding it, as when tracing rewrote scans.
  const eqns = g.eqns.map((eqn) => mapBodies(eqn, (sub) => optimizeLevel(sub, pipeline, counts)));
  let graph = eqns.every((e, i) => e === g.eqns.get(i)) ? g : new Graph(g.inputs, eqns, g.outputs);
  for (const pass of pipeline) {
    const r = pass.run(graph);
    counts.set(pass.name, (counts.get(pass.name) ?? 0) + r.changed);
    graph = r.graph;
  }
  return graph;
};

/**
 * Runs `pipeline` over `graph`: each pass in order over the bodies nested in an equation first
 * (bottom-up), then over the graph itself. Returns the graph (`graph` itself when nothing
 * applied) and, per pass, how many equations it changed.
 * @example optimize(makeGraph(f)(x).graph, JIT_PIPELINE).log // [{ name: "hoist", changed: 2 }, …]
 */
export const optimize = (
  graph: Graph,
  pipeline: readonly Pass[],
): { readonly graph: Graph; readonly log: readonly PassRecord[] } => {
  const counts = new Map<PassName, number>();
  const out = optimizeLevel(graph, pipeline, counts);
  return { graph: out, log: pipeline.map((p) => ({ name: p.name, changed: counts.get(p.name) ?? 0 })) };
};

/**
 * `optimize` for a closed graph whose first `consts.length` inputs are captured constants. The
 * constants are put back in the order the rewritten graph first reads them, which is the order
 * tracing captures them in: so a graph rewritten by passes after tracing equals, input for input,
 * the graph tracing built when it rewrote scans as it bound them (a lifted `take(table, ids)`
 * reads `ids` before the scan reads its own constants).
 * @example optimizeClosed(traceTreeAs("jit", f, args), JIT_PIPELINE).closed.graph
 */
export const optimizeClosed = <C extends { readonly graph: Graph; readonly consts: readonly Value[] }>(
  closed: C,
  pipeline: readonly Pass[],
): { readonly closed: C; readonly log: readonly PassRecord[] } => {
  const { graph, log } = optimize(closed.graph, pipeline);
  if (graph === closed.graph) return { closed, log };
  const n = closed.consts.length;
  const constIndex = new Map(graph.inputs.slice(0, n).map((v, i) => [v.id, i] as const));
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (a: Atom): void => {
    const i = a._tag === "Var" ? constIndex.get(a.id) : undefined;
    if (i === undefined || seen.has(i)) return;
    order.push(i);
    seen.add(i);
  };
  for (const eqn of graph.eqns) eqn.inputs.forEach(visit);
  graph.outputs.forEach(visit);
  for (let i = 0; i < n; i++) if (!seen.has(i)) order.push(i);
  const inputs = [...order.map((i) => graph.inputs[i]!), ...graph.inputs.slice(n)];
  const reordered = new Graph(inputs, graph.eqns, graph.outputs);
  return { closed: { ...closed, graph: reordered, consts: order.map((i) => closed.consts[i]!) }, log };
};
