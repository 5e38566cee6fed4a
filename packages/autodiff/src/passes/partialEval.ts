/**
 * @file Partial evaluation: split a graph, given which of its inputs are known now, into the
 * equations computable now (the known half) and the rest (the unknown half), joined by residuals.
 *
 * This is JAX's `partial_eval_jaxpr_nounits` (with the remat policy of `partial_eval_jaxpr_custom`
 * as the `saveable` predicate): one pass over the equations in order. An equation is known when
 * it reads only known values and the caller does not stage it out; every other equation is
 * unknown. The residuals are the known variables the unknown half reads. A residual that is not
 * saveable (and not an input) is recomputed instead: the known equations it needs are replayed in
 * the unknown half, in their original order, back to saveable values or inputs. Scan's VJP splits
 * its joint step (forward and pullback in one trace) this way: the known half is the forward
 * scan's body, the unknown half the reverse scan's, the residuals what the forward scan stacks.
 */
import { List } from "immutable";
import { Graph, type Atom, type Eqn, type Var } from "../Graph.js";

/** What `partialEval` returns. */
export interface PartialEval {
  /** `(known inputs, in order) → (the known outputs of the graph, in order, then the residuals)`. */
  readonly known: Graph;
  /** `(unknown inputs, in order, then the residuals) → (the unknown outputs of the graph, in order)`. */
  readonly unknown: Graph;
  /** The variables the known half hands to the unknown half, in definition order (inputs first). */
  readonly residuals: readonly Var[];
  /** Per graph output: whether the known half computes it (a literal output counts as known). */
  readonly outputKnown: readonly boolean[];
}

/** Options of `partialEval`. */
export interface PartialEvalOptions {
  /**
   * Known values the unknown half may read as residuals (default: all). A known variable that is
   * neither saveable nor an input is recomputed in the unknown half from what is.
   */
  readonly saveable?: (v: Var) => boolean;
  /** Equations to put in the unknown half even when all they read is known (default: none). */
  readonly staged?: (eqn: Eqn, index: number) => boolean;
}

/**
 * Splits `graph` into the half computable from the inputs flagged in `knownInputs` and the rest
 * (see the file comment). Evaluating `known` on the known inputs and then `unknown` on the
 * unknown inputs and the residuals gives the graph's outputs, with the same arithmetic.
 * @example partialEval(g, [true, false]).residuals // the known values the unknown half reads
 */
export const partialEval = (
  graph: Graph,
  knownInputs: readonly boolean[],
  opts: PartialEvalOptions = {},
): PartialEval => {
  const saveable = opts.saveable ?? (() => true);
  const known = new Set<number>();
  const inputIds = new Set<number>();
  graph.inputs.forEach((v, i) => {
    inputIds.add(v.id);
    if (knownInputs[i] === true) known.add(v.id);
  });
  const isKnown = (a: Atom): boolean => a._tag === "Literal" || known.has(a.id);
  const eqns = [...graph.eqns];
  const eqnKnown = eqns.map((eqn, i) => {
    const k = eqn.inputs.every(isKnown) && !(opts.staged?.(eqn, i) ?? false);
    if (k) for (const v of eqn.outputs) known.add(v.id);
    return k;
  });
  const producer = new Map<number, number>();
  eqns.forEach((eqn, i) => eqn.outputs.forEach((v) => producer.set(v.id, i)));
  // Known equations replayed in the unknown half, because a value they define is not saveable.
  const recompute = new Set<number>();
  const residualIds = new Set<number>();
  const need = (a: Atom): void => {
    if (a._tag === "Literal" || !known.has(a.id) || residualIds.has(a.id)) return;
    const at = producer.get(a.id);
    if (inputIds.has(a.id) || at === undefined || saveable(a)) {
      residualIds.add(a.id);
      return;
    }
    if (recompute.has(at)) return;
    recompute.add(at);
    eqns[at]!.inputs.forEach(need);
  };
  eqns.forEach((eqn, i) => {
    if (!eqnKnown[i]) eqn.inputs.forEach(need);
  });
  const outputKnown = graph.outputs.map(isKnown);
  graph.outputs.forEach((a, i) => {
    if (!outputKnown[i]) need(a);
  });
  const order = [...graph.inputs, ...eqns.flatMap((e) => e.outputs)];
  const residuals = order.filter((v) => residualIds.has(v.id));
  return {
    known: new Graph(
      graph.inputs.filter((v) => known.has(v.id)),
      List(eqns.filter((_, i) => eqnKnown[i])),
      [...graph.outputs.filter((_, i) => outputKnown[i]), ...residuals],
    ),
    unknown: new Graph(
      [...graph.inputs.filter((v) => !known.has(v.id)), ...residuals],
      List(eqns.filter((_, i) => !eqnKnown[i] || recompute.has(i))),
      graph.outputs.filter((_, i) => !outputKnown[i]),
    ),
    residuals,
    outputKnown,
  };
};
