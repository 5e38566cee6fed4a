/**
 * @file Reverse mode for `scan`: the forward pass that saves per-step residuals, and the VJP that
 * is a scan over the body's VJP running in the opposite direction.
 *
 * For `c_{t+1}, y_t = f(θ, c_t, x_t)`: `(θ̄_t, c̄_t, x̄_t) = f*(θ, c_t, x_t)(c̄_{t+1}, ȳ_t)` and
 * `θ̄ = Σ_t θ̄_t`, so the backward scan carries `(θ̄ accumulated, c̄)` and emits `x̄_t`.
 * Policy "all" traces a step's forward pass and pullback once and splits them by partial
 * evaluation (split.ts): the forward scan stacks exactly the values the pullback reads. Policy
 * "carries" stacks the carries and recomputes each step's forward pass in the backward scan.
 */
import * as T from "@rewind/tensor";
import { traceToGraph, type ClosedGraph, type Value } from "../core.js";
import { avalOf, Graph, type Aval } from "../Graph.js";
import type { AnyPrimitive } from "../Primitive.js";
import type { Kit } from "../kit.js";
import { vjpGraphWith } from "../vjp.js";
import { accumulate } from "../passes/accumulate.js";
import { bindScan } from "../passes/eager.js";
import { counts, unstacked, type ScanParams } from "./params.js";
import { backwardAvals, backwardOutputs, outputCts, plan, type Plan } from "./plan.js";
import { splitStep } from "./split.js";

/** Maps a step's outputs' cotangents to its inputs' cotangents, given consts and the step's residuals. */
type StepPullback = (
  consts: readonly Value[],
  res: readonly Value[],
) => (cts: ReadonlyArray<Value | null>) => ReadonlyArray<Value | null>;

/** Under "carries": each backward step recomputes the body's forward pass from the saved carry. */
const recomputePullback =
  (p: ScanParams, kit: Kit, pl: Plan): StepPullback =>
  (consts, res) =>
    vjpGraphWith(kit, p.body, [...consts, ...res], pl.needsBody).pullback;

/**
 * The backward step as a closed graph (policy "carries").
 * Before: [consts | acc θ̄ (needed consts), c̄ (float carries) | residuals_t…, ȳ_t (float ys)]
 * After:  [acc θ̄ + θ̄_t, c̄_t | x̄_t (needed xs)]
 */
const backwardBody = (
  p: ScanParams,
  pl: Plan,
  kit: Kit,
  resAvals: readonly Aval[],
  stepPullback: StepPullback,
): ClosedGraph => {
  const { nc, nk } = counts(p);
  const avals: Aval[] = [
    ...pl.consts.map(avalOf),
    ...backwardAvals(pl),
    ...resAvals,
    ...pl.yIdx.map((k) => p.body.outAvals[nk + k]!),
  ];
  return traceToGraph(
    (args) => {
      let at = 0;
      const next = (n: number) => args.slice(at, (at += n));
      const consts = next(nc);
      const acc = next(pl.constIdx.length);
      const ctCarry = next(pl.carryIdx.length);
      const res = next(resAvals.length);
      const ctY = next(pl.yIdx.length);
      const inCts = stepPullback(consts, res)(outputCts(p, pl, ctCarry, ctY));
      return backwardOutputs(pl, kit, nc, nk, acc, ctCarry, inCts);
    },
    avals,
    "scan",
  );
};

/** The forward pass of a differentiated scan: outputs plus stacked per-step residuals. */
export const scanForward = (
  scan: AnyPrimitive,
  ins: readonly Value[],
  p: ScanParams,
  kit: Kit,
  needs: readonly boolean[],
) => {
  const { nc, nk, ny } = counts(p);
  if (p.policy === "carries") {
    const carryIn = p.body.inputs.slice(nc, nc + nk);
    const body = new Graph(p.body.inputs, p.body.eqns, [...p.body.outputs, ...carryIn]);
    const outs = bindScan(scan, ins, { ...p, body });
    return { outs: outs.slice(0, nk + ny), residuals: outs.slice(nk + ny) };
  }
  const step = splitStep(p, plan(p, ins, needs), kit);
  const outs = bindScan(scan, [...step.forwardConsts, ...ins], {
    ...p,
    body: step.forward,
    numConsts: nc + step.forwardConsts.length,
  });
  return { outs: outs.slice(0, nk + ny), residuals: outs.slice(nk + ny), aux: step.backward };
};

/** The VJP of scan: a scan of the body's VJP in the opposite direction. */
export const scanVjp = (
  scan: AnyPrimitive,
  cts: readonly Value[],
  ctx: {
    ins: readonly Value[];
    params: ScanParams;
    residuals: readonly Value[];
    aux: unknown;
    needs: readonly boolean[];
  },
  kit: Kit,
): Array<Value | null> => {
  const { ins, params: p, residuals, needs } = ctx;
  const { nc, nk } = counts(p);
  const pl = plan(p, ins, needs);
  // Per-step values scanned by the backward pass: the residuals the forward scan stacked, or the
  // carries plus xs; under "all" the backward step was split off the joint step by scanForward.
  const stepRes = p.policy === "all" ? residuals : [...residuals, ...pl.xs];
  const back: ClosedGraph =
    p.policy === "all"
      ? (ctx.aux as ClosedGraph)
      : backwardBody(
          p,
          pl,
          kit,
          stepRes.map((v) => unstacked(avalOf(v))),
          recomputePullback(p, kit, pl),
        );
  const zeroLike = (v: Value) => kit.broadcastTo(T.scalar(0, v.dtype), v.shape);
  const numConsts = back.consts.length + nc;
  const numCarry = pl.constIdx.length + pl.carryIdx.length;
  const carryInits = [...pl.constIdx.map((i) => zeroLike(pl.consts[i]!)), ...pl.carryIdx.map((j) => cts[j]!)];
  const stacked = [...stepRes, ...pl.yIdx.map((k) => cts[nk + k]!)];
  // Under "all", the accumulate pass turns per-step weight-gradient updates into stacked outputs
  // reduced after the loop; the param tells it which carries are accumulators (passes/accumulate.ts).
  const reverse: ScanParams = {
    body: back.graph,
    numConsts,
    numCarry,
    length: p.length,
    reverse: !p.reverse,
    policy: p.policy,
    ...(p.policy === "all" ? { accumulators: pl.constIdx.length } : {}),
  };
  const outs = bindScan(scan, [...back.consts, ...pl.consts, ...carryInits, ...stacked], reverse, [accumulate]);
  const carries = outs.slice(0, numCarry);
  const ys = outs.slice(numCarry);
  const ctCarries = carries.slice(pl.constIdx.length);
  const result = new Array<Value | null>(ins.length).fill(null);
  pl.constIdx.forEach((i, n) => (result[i] = carries[n]!));
  pl.carryIdx.forEach((j, n) => (result[nc + j] = ctCarries[n]!));
  pl.xIdx.forEach((k, n) => (result[nc + nk + k] = ys[n]!));
  return result;
};
