/**
 * @file Dead-code elimination: equations whose outputs nothing reads are dropped, and a scan stops
 * passing constants and stacked inputs its body never reads.
 *
 * Primitives are pure (no effects), so an equation no output depends on can go. One sweep from the
 * outputs back to the inputs marks what is live. A scan's constants and xs its body does not read
 * are removed from the equation and from its body's inputs (the params' `numConsts` shrinks); its
 * carries stay, since each step's carry feeds the next. Nested bodies are not entered: `optimize`
 * runs a pass over them first.
 */
import { List } from "immutable";
import { Graph, type Atom, type Eqn } from "../Graph.js";
import type { ScanParams } from "../scan/params.js";
import type { Pass, PassResult } from "./pass.js";

/** Which inputs of `g` an equation or an output reads. */
export const readInputs = (g: Graph): boolean[] => {
  const read = new Set<number>();
  for (const eqn of g.eqns) for (const a of eqn.inputs) if (a._tag === "Var") read.add(a.id);
  for (const a of g.outputs) if (a._tag === "Var") read.add(a.id);
  return g.inputs.map((v) => read.has(v.id));
};

/** A scan equation without the consts and xs its body does not read; the equation itself when it reads all. */
const pruneScanInputs = (eqn: Eqn): Eqn => {
  const p = eqn.params as ScanParams;
  const read = readInputs(p.body);
  const head = p.numConsts + p.numCarry;
  const keep = read.map((r, i) => r || (i >= p.numConsts && i < head));
  if (keep.every(Boolean)) return eqn;
  const body = new Graph(
    p.body.inputs.filter((_, i) => keep[i]),
    p.body.eqns,
    p.body.outputs,
  );
  const numConsts = keep.slice(0, p.numConsts).filter(Boolean).length;
  const inputs: Atom[] = eqn.inputs.filter((_, i) => keep[i]);
  return Object.freeze({ ...eqn, inputs, params: { ...p, body, numConsts } });
};

/**
 * `g` without the equations no output reads; with `scans`, also without its scans' unread consts
 * and xs. Returns `g` itself and `changed: 0` when nothing is dead. Inputs are kept (callers rely
 * on a graph's signature); `readInputs` tells which of them are read.
 * @example deadCodeElimination(graph, { scans: false }).graph.eqns.size
 */
export const deadCodeElimination = (g: Graph, opts: { readonly scans: boolean }): PassResult => {
  const live = new Set<number>();
  for (const a of g.outputs) if (a._tag === "Var") live.add(a.id);
  const kept: Eqn[] = [];
  let changed = 0;
  for (const eqn of [...g.eqns].reverse()) {
    if (!eqn.outputs.some((v) => live.has(v.id))) {
      changed++;
      continue;
    }
    const next = opts.scans && eqn.prim.name === "scan" ? pruneScanInputs(eqn) : eqn;
    if (next !== eqn) changed++;
    kept.push(next);
    for (const a of next.inputs) if (a._tag === "Var") live.add(a.id);
  }
  if (changed === 0) return { graph: g, changed: 0 };
  return { graph: new Graph(g.inputs, List(kept.reverse()), g.outputs), changed };
};

/**
 * Dead-code elimination as a pass: `deadCodeElimination` with scans' unread inputs removed too.
 * @example dce.run(graph).changed // equations removed or rewritten
 */
export const dce: Pass = { name: "dce", run: (g) => deadCodeElimination(g, { scans: true }) };
