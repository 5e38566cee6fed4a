/**
 * @file The toolkit handed to VJP rules: all graph ops, plus graph-level differentiation.
 *
 * Rules receive this object instead of importing ops, so primitive files never import the ops
 * that import them (no cycle), and each rule's destructuring lists exactly what it uses.
 */
import type { Value } from "./core.js";
import type { Graph } from "./Graph.js";
import * as ops from "./ops/index.js";
import { vjpGraphWith, type Linearized } from "./vjp.js";

/** The graph ops, plus `vjpGraph` for rules that differentiate a body graph (remat, scan). */
export type Kit = typeof ops & {
  /** Linearizes `graph` at `inputs`, differentiating inputs with `needs[i]`. */
  readonly vjpGraph: (graph: Graph, inputs: readonly Value[], needs: readonly boolean[]) => Linearized;
};

/** The one toolkit instance. */
export const kit: Kit = {
  ...ops,
  vjpGraph: (graph, inputs, needs) => vjpGraphWith(kit, graph, inputs, needs),
};
