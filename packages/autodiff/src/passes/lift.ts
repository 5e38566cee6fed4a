/**
 * @file Input-projection lifting for `scan`: the equations of a body that read only the step's
 * inputs `x_t` and loop constants — a recurrent cell's `x_t · W_ih` and its bias, an embedding
 * lookup — are computed for all T steps at once before the loop, as one `[T·B, in] · [in, out]`
 * matmul instead of T small ones, and enter the loop as extra stacked inputs.
 *
 * This is what cuDNN does for RNNs, done here as a graph rewrite, so its gradient needs no code of
 * its own: differentiating the lifted matmul outside the loop gives `dW_ih = Xᵀ · dG` as one large
 * matmul after the reverse scan (instead of T rank-B updates accumulated in its carry), and an
 * embedding's gradient becomes one scatter-add over all steps instead of a dense `[vocab, dim]`
 * table per step.
 *
 * It trades memory for speed: the lifted values are stacked over T. So only scans that already
 * store every step's residuals (policy "all") lift; "carries" and `{ every }` remat policies keep
 * the loop as written, which is what their memory bound promises. Each lifted equation computes
 * every element with the arithmetic of the per-step equation (elementwise ops element by element,
 * matmul rows as dot products in the same k order), so lifting changes no float32 result; float64
 * matmul rows may round differently in the last bit (the float64 kernel blocks rows by four).
 */
import { bind, type Value } from "../core.js";
import { Graph, type Atom, type Eqn, type Var } from "../Graph.js";
import { binaryPrimitives } from "../primitives/binary.js";
import { take } from "../primitives/indexing.js";
import { matmul } from "../primitives/linalg.js";
import { broadcastTo, convert, reshape } from "../primitives/shape.js";
import { unaryPrimitives } from "../primitives/unary.js";
import { rewriteScans, type Pass } from "./pass.js";

/** Primitives that act element by element on operands of one shape (so a leading T axis is free). */
const ELEMENTWISE: ReadonlySet<string> = new Set([
  ...Object.keys(unaryPrimitives),
  ...Object.keys(binaryPrimitives),
  convert.name,
]);

/** A body with its x-only prefix split off. */
export interface Lifted {
  /** The equations computed for all steps at once, in body order. */
  readonly eqns: readonly Eqn[];
  /** Indices (among the scan's xs) of the original inputs the loop still reads. */
  readonly keptXs: readonly number[];
  /** The lifted values the loop reads, entering it as extra xs after the kept ones. */
  readonly lifted: readonly Var[];
  /** The loop body: `(consts…, carry…, kept x_t…, lifted_t…) → (carry'…, y_t…)`. */
  readonly body: Graph;
}

const isStacked = (stacked: ReadonlySet<number>, a: Atom): boolean => a._tag === "Var" && stacked.has(a.id);

/** True when `eqn` (some operand per-step, the rest loop constants) can run over all steps at once. */
const liftable = (eqn: Eqn, stacked: ReadonlySet<number>): boolean => {
  const flags = eqn.inputs.map((a) => isStacked(stacked, a));
  if (ELEMENTWISE.has(eqn.prim.name)) return true;
  if (eqn.prim === matmul)
    return (
      flags[0] === true &&
      flags[1] === false &&
      eqn.inputs[0]!.aval.shape.length === 2 &&
      eqn.inputs[1]!.aval.shape.length === 2
    );
  if (eqn.prim === take) return flags[0] === false && flags[1] === true && (eqn.params as { axis: number }).axis === 0;
  return false;
};

/**
 * Splits off the equations of a scan body that depend only on its xs and constants, when at least
 * one of them is a matmul or an embedding lookup (lifting elementwise work alone saves nothing);
 * `undefined` when there is nothing worth lifting.
 * @example liftInputs(body, 2, 1)?.eqns.length
 */
export const liftInputs = (body: Graph, numConsts: number, numCarry: number): Lifted | undefined => {
  const consts = new Set(body.inputs.slice(0, numConsts).map((v) => v.id));
  const xs = body.inputs.slice(numConsts + numCarry);
  const stacked = new Set(xs.map((v) => v.id));
  const lifted: Eqn[] = [];
  const loop: Eqn[] = [];
  for (const eqn of body.eqns) {
    const reads = eqn.inputs.filter((a): a is Var => a._tag === "Var");
    const xOnly = reads.some((v) => stacked.has(v.id)) && reads.every((v) => stacked.has(v.id) || consts.has(v.id));
    if (xOnly && liftable(eqn, stacked)) {
      lifted.push(eqn);
      for (const v of eqn.outputs) stacked.add(v.id);
    } else {
      loop.push(eqn);
    }
  }
  if (!lifted.some((e) => e.prim === matmul || e.prim === take)) return undefined;
  const read = new Set<number>();
  for (const eqn of loop) for (const a of eqn.inputs) if (a._tag === "Var") read.add(a.id);
  for (const a of body.outputs) if (a._tag === "Var") read.add(a.id);
  const keptXs = xs.flatMap((v, i) => (read.has(v.id) ? [i] : []));
  const liftedVars = lifted.flatMap((e) => e.outputs).filter((v) => read.has(v.id));
  const newBody = new Graph(
    [...body.inputs.slice(0, numConsts + numCarry), ...keptXs.map((i) => xs[i]!), ...liftedVars],
    body.eqns.filter((e) => !lifted.includes(e)),
    body.outputs,
  );
  return { eqns: lifted, keptXs, lifted: liftedVars, body: newBody };
};

/**
 * Evaluates the lifted equations over all `length` steps (bound in the current context: computed
 * now, or recorded in the enclosing graph) and returns the stacked values the loop reads.
 * @example evalLifted(split, consts, xs, 50)
 */
export const evalLifted = (
  split: Lifted,
  constVars: readonly Var[],
  consts: readonly Value[],
  xsVars: readonly Var[],
  xs: readonly Value[],
  length: number,
): Value[] => {
  const env = new Map<number, { readonly value: Value; readonly stacked: boolean }>();
  constVars.forEach((v, i) => env.set(v.id, { value: consts[i]!, stacked: false }));
  xsVars.forEach((v, i) => env.set(v.id, { value: xs[i]!, stacked: true }));
  const read = (a: Atom) => (a._tag === "Literal" ? { value: a.value as Value, stacked: false } : env.get(a.id)!);
  const full = (a: Atom): Value => {
    const { value, stacked } = read(a);
    return stacked ? value : bind(broadcastTo, [value], { shape: [length, ...a.aval.shape] })[0]!;
  };
  for (const eqn of split.eqns) {
    let outs: readonly Value[];
    if (eqn.prim === matmul) {
      const [a, b] = eqn.inputs as [Atom, Atom];
      const [m, k] = a.aval.shape as [number, number];
      const rows = bind(reshape, [read(a).value], { shape: [length * m, k] })[0]!;
      const product = bind(matmul, [rows, read(b).value], undefined, eqn.source)[0]!;
      outs = bind(reshape, [product], { shape: [length, ...eqn.outputs[0]!.aval.shape] });
    } else if (eqn.prim === take) {
      outs = bind(take, [read(eqn.inputs[0]!).value, read(eqn.inputs[1]!).value], eqn.params, eqn.source);
    } else {
      outs = bind(eqn.prim, eqn.inputs.map(full), eqn.params, eqn.source);
    }
    eqn.outputs.forEach((v, i) => env.set(v.id, { value: outs[i]!, stacked: true }));
  }
  return split.lifted.map((v) => env.get(v.id)!.value);
};

/**
 * Input-projection lifting for every scan of a graph with policy "all" and more than one step:
 * see the file comment. Changes no float32 bits; float64 matmul rows may round differently (so
 * every entry point that evaluates a scan runs this pass, eager included).
 * @example lift.run(graph).changed // equations computed over all steps before their loop
 */
export const lift: Pass = {
  name: "lift",
  run: (g) =>
    rewriteScans(g, {
      match: (p) => (p.policy === "all" && p.length > 1 ? liftInputs(p.body, p.numConsts, p.numCarry) : undefined),
      size: (split) => split.eqns.length,
      apply: (split, ins, p, bindScan) => {
        const head = p.numConsts + p.numCarry;
        const xs = ins.slice(head);
        const consts = ins.slice(0, p.numConsts);
        const constVars = p.body.inputs.slice(0, p.numConsts);
        const lifted = evalLifted(split, constVars, consts, p.body.inputs.slice(head), xs, p.length);
        return bindScan([...ins.slice(0, head), ...split.keptXs.map((i) => xs[i]!), ...lifted], {
          ...p,
          body: split.body,
        });
      },
    }),
};
