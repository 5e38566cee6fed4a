/**
 * @file Accumulators out of the reverse scan: BPTT's weight gradient `Σ_t h_tᵀ · dG_t` as one
 * matmul after the loop.
 *
 * The VJP of a scan carries `θ̄ += θ̄_t` for every constant. For a recurrent weight, `θ̄_t` is the
 * outer product `r_tᵀ · q_t` of a saved per-step value and the step's gate cotangent, so the loop
 * spends a full `[H, 4H]` read-modify-write per step on it. Since `Σ_t r_tᵀ q_t = Rᵀ Q` for the
 * stacked `R = [r_0; …; r_{T−1}]`, `Q = [q_0; …]`, emitting `q_t` as a stacked output and doing one
 * `[H, T·B] · [T·B, 4H]` matmul afterwards computes the same sum (in another order of addition)
 * with no per-step accumulator. Likewise a bias accumulator `θ̄ += q_t` becomes one sum over T.
 *
 * This stacks `q_t` over all steps, so scanVjp marks its reverse scan's accumulators (the
 * `accumulators` param) only under policy "all", which already stores per-step values of that
 * size; when `q_t` is already an output (the cotangent of a lifted input projection, see lift.ts)
 * it costs nothing. The pass reads that param and nothing else: a user's scan that adds `x_t` to
 * its carry looks like an accumulator too, and rewriting it would change the order of its sums.
 */
import type { Value } from "../core.js";
import { Graph, type Atom, type Eqn, type Var } from "../Graph.js";
import { matmul, reshape, sum, transpose } from "../ops/index.js";
import type { ScanParams } from "../scan/params.js";
import { rewriteScans, type Pass } from "./pass.js";

/** How the final value of one accumulator is obtained once the loop has run. */
export type AccumulatorPlan =
  | { readonly kind: "carry"; readonly carry: number }
  | { readonly kind: "unchanged" }
  | { readonly kind: "sum"; readonly y: number }
  | { readonly kind: "outer"; readonly x: number; readonly y: number };

/** A reverse-scan body with some accumulators turned into stacked outputs. */
export interface Factored {
  /** The new body: the kept carries, then the original ys, then the added ys. */
  readonly body: Graph;
  readonly numCarry: number;
  /** Per original carry: kept (its index among the new carries) or a post-loop reduction. */
  readonly plans: readonly AccumulatorPlan[];
  /** Indices (among the original carries) that remain carries, in order. */
  readonly keptCarries: readonly number[];
}

const sizeOf = (v: Var): number => v.aval.shape.reduce((a, b) => a * b, 1);

/**
 * Rewrites the accumulators (the first `numAcc` carries) of a reverse-scan body whose per-step
 * increment is an outer product `transpose(x_t) · q_t` of a stacked input, or a per-step value no
 * larger than the stacked inputs, into stacked outputs; accumulators the body passes through
 * unchanged are dropped. `undefined` when no accumulator qualifies.
 * @example factorAccumulators(back.graph, nConsts, nAcc, nCarry)?.plans
 */
export const factorAccumulators = (
  body: Graph,
  numConsts: number,
  numAcc: number,
  numCarry: number,
): Factored | undefined => {
  const producer = new Map<number, Eqn>();
  const uses = new Map<number, number>();
  const use = (a: Atom) => void (a._tag === "Var" && uses.set(a.id, (uses.get(a.id) ?? 0) + 1));
  for (const eqn of body.eqns) {
    eqn.outputs.forEach((v) => producer.set(v.id, eqn));
    eqn.inputs.forEach(use);
  }
  body.outputs.forEach(use);
  const xsStart = numConsts + numCarry;
  const xIndex = new Map(body.inputs.slice(xsStart).map((v, i) => [v.id, i] as const));
  const largestX = Math.max(0, ...body.inputs.slice(xsStart).map(sizeOf));
  const ys: Atom[] = body.outputs.slice(numCarry);
  const yIndex = (q: Var): number => {
    const at = ys.findIndex((a) => a._tag === "Var" && a.id === q.id);
    return at >= 0 ? at : ys.push(q) - 1;
  };
  const dropped = new Set<Eqn>();
  const plans: AccumulatorPlan[] = [];
  for (let n = 0; n < numAcc; n++) {
    const acc = body.inputs[numConsts + n]!;
    const out = body.outputs[n]!;
    const alone = uses.get(acc.id) === 1;
    if (alone && out._tag === "Var" && out.id === acc.id) {
      plans.push({ kind: "unchanged" });
      continue;
    }
    const add = out._tag === "Var" ? producer.get(out.id) : undefined;
    const [a, b] = add?.inputs ?? [];
    const inc = a?._tag === "Var" && a.id === acc.id ? b : b?._tag === "Var" && b.id === acc.id ? a : undefined;
    if (!alone || out._tag !== "Var" || add?.prim.name !== "add" || inc?._tag !== "Var" || uses.get(out.id) !== 1) {
      plans.push({ kind: "carry", carry: -1 });
      continue;
    }
    const mm = producer.get(inc.id);
    const tr = mm?.prim.name === "matmul" && mm.inputs[0]!._tag === "Var" ? producer.get(mm.inputs[0]!.id) : undefined;
    const swaps = tr?.prim.name === "transpose" && (tr.params as { perm: readonly number[] }).perm.join() === "1,0";
    const r = swaps ? tr.inputs[0]! : undefined;
    const q = mm?.inputs[1];
    if (
      r?._tag === "Var" &&
      xIndex.has(r.id) &&
      r.aval.shape.length === 2 &&
      q?._tag === "Var" &&
      q.aval.shape.length === 2 &&
      uses.get(inc.id) === 1
    ) {
      dropped.add(add).add(mm!);
      plans.push({ kind: "outer", x: xIndex.get(r.id)!, y: yIndex(q) });
    } else if (sizeOf(inc) <= largestX || ys.some((y) => y._tag === "Var" && y.id === inc.id)) {
      dropped.add(add);
      plans.push({ kind: "sum", y: yIndex(inc) });
    } else {
      plans.push({ kind: "carry", carry: -1 });
    }
  }
  if (plans.every((p) => p.kind === "carry")) return undefined;
  for (let n = numAcc; n < numCarry; n++) plans.push({ kind: "carry", carry: -1 });
  const keptCarries = plans.flatMap((p, i) => (p.kind === "carry" ? [i] : []));
  let next = 0;
  const numbered = plans.map((p) => (p.kind === "carry" ? { kind: "carry" as const, carry: next++ } : p));
  const outputs = [...keptCarries.map((i) => body.outputs[i]!), ...ys];
  const inputs = [
    ...body.inputs.slice(0, numConsts),
    ...keptCarries.map((i) => body.inputs[numConsts + i]!),
    ...body.inputs.slice(xsStart),
  ];
  return {
    body: new Graph(inputs, pruneDead(body, dropped, outputs), outputs),
    numCarry: keptCarries.length,
    plans: numbered,
    keptCarries,
  };
};

/** The body's equations minus `dropped` and everything only they (transitively) read. */
const pruneDead = (body: Graph, dropped: ReadonlySet<Eqn>, outputs: readonly Atom[]) => {
  const live = new Set<number>();
  for (const a of outputs) if (a._tag === "Var") live.add(a.id);
  const kept: Eqn[] = [];
  for (const eqn of body.eqns.reverse()) {
    if (dropped.has(eqn) || !eqn.outputs.some((v) => live.has(v.id))) continue;
    kept.push(eqn);
    for (const a of eqn.inputs) if (a._tag === "Var") live.add(a.id);
  }
  return body.eqns.clear().concat(kept.reverse());
};

/**
 * Binds the factored scan and the reductions after it; returns the original scan's outputs (each
 * accumulator's final value, the other carries, the original ys).
 */
const applyFactored = (
  factored: Factored | null,
  ins: readonly Value[],
  p: ScanParams,
  bindScan: (ins: readonly Value[], p: ScanParams) => readonly Value[],
): readonly Value[] => {
  const { accumulators: _, ...unmarked } = p;
  // Nothing qualified: the scan stays as it is, minus the param (it has been read).
  if (factored === null) return bindScan(ins, unmarked);
  const f = factored;
  const head = p.numConsts + p.numCarry;
  const inits = ins.slice(p.numConsts, head);
  const stacked = ins.slice(head);
  const outs = bindScan([...ins.slice(0, p.numConsts), ...f.keptCarries.map((i) => inits[i]!), ...stacked], {
    ...unmarked,
    body: f.body,
    numCarry: f.keptCarries.length,
  });
  const ys = outs.slice(f.keptCarries.length);
  // Two biases added to the same pre-activation (PyTorch's b_ih and b_hh) share one sum.
  const sums = new Map<number, Value>();
  const sumOver = (y: number): Value => sums.get(y) ?? sums.set(y, sum(ys[y]!, { axis: 0 })).get(y)!;
  const carries = inits.map((init, i): Value => {
    const plan = f.plans[i]!;
    switch (plan.kind) {
      case "carry":
        return outs[plan.carry]!;
      case "unchanged":
        return init;
      case "sum":
        return sumOver(plan.y);
      case "outer": {
        // Σ_t x_tᵀ y_t over [T, B, m] and [T, B, n] stacks = (T·B rows)ᵀ · (T·B rows).
        const [x, y] = [stacked[plan.x]!, ys[plan.y]!];
        const rows = (v: Value) => reshape(v, [v.shape[0]! * v.shape[1]!, v.shape[2]!]);
        return matmul(transpose(rows(x)), rows(y));
      }
    }
  });
  return [...carries, ...ys.slice(0, p.body.outputs.length - p.numCarry)];
};

/**
 * Accumulators out of reverse scans: for a scan whose `accumulators` param is set (scan's VJP sets
 * it under policy "all"), per-step weight-gradient updates become stacked outputs reduced after
 * the loop (see the file comment). Changes the order of addition, so every mode runs it: scan's
 * VJP applies it to the reverse scan it binds, eager or traced.
 * @example accumulate.run(graph).changed // accumulator updates moved after their loop
 */
export const accumulate: Pass = {
  name: "accumulate",
  run: (g) =>
    rewriteScans(g, {
      match: (p) =>
        p.accumulators === undefined || p.accumulators === 0
          ? undefined
          : (factorAccumulators(p.body, p.numConsts, p.accumulators, p.numCarry) ?? null),
      size: (f) => (f === null ? 0 : f.plans.filter((plan) => plan.kind !== "carry").length),
      apply: applyFactored,
    }),
};
