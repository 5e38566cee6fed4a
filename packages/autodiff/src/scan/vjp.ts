/**
 * @file Reverse mode for `scan`: the forward pass that saves per-step residuals, and the VJP that
 * is a scan over the body's VJP running in the opposite direction.
 *
 * For `c_{t+1}, y_t = f(θ, c_t, x_t)`: `(θ̄_t, c̄_t, x̄_t) = f*(θ, c_t, x_t)(c̄_{t+1}, ȳ_t)` and
 * `θ̄ = Σ_t θ̄_t`, so the backward scan carries `(θ̄ accumulated, c̄)` and emits `x̄_t`.
 * Policy "all" stacks the body's tape (only the values the backward body actually reads, found by
 * tracing it once); policy "carries" stacks the carries and recomputes each step's forward pass.
 */
import * as T from "@rewind/tensor";
import { isTracer, traceToGraph, type ClosedGraph, type Value } from "../core.js";
import { avalOf, Graph, type Aval } from "../Graph.js";
import type { AnyPrimitive } from "../Primitive.js";
import type { Kit } from "../kit.js";
import { backwardPass, forwardPass, mapTape, tapeValues, vjpGraphWith, type Tape } from "../vjp.js";
import { accumulate } from "../passes/accumulate.js";
import { bindScan } from "../passes/eager.js";
import { counts, unstacked, type ScanParams } from "./params.js";

/** Which inputs of the scan get cotangents, as index lists. */
interface Plan {
  readonly consts: readonly Value[];
  readonly init: readonly Value[];
  readonly xs: readonly Value[];
  /** Body inputs differentiated: needed float consts, float carries, needed float xs. */
  readonly needsBody: readonly boolean[];
  readonly constIdx: readonly number[];
  readonly carryIdx: readonly number[];
  readonly xIdx: readonly number[];
  readonly yIdx: readonly number[];
}

const plan = (p: ScanParams, ins: readonly Value[], needs: readonly boolean[]): Plan => {
  const { nc, nk, ny } = counts(p);
  const needsBody = ins.map((v, i) => T.isFloating(v.dtype) && (i < nc || i >= nc + nk ? needs[i]! : true));
  const pick = (from: number, n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => needsBody[from + i]);
  return {
    consts: ins.slice(0, nc),
    init: ins.slice(nc, nc + nk),
    xs: ins.slice(nc + nk),
    needsBody,
    constIdx: pick(0, nc),
    carryIdx: pick(nc, nk),
    xIdx: pick(nc + nk, ins.length - nc - nk),
    yIdx: Array.from({ length: ny }, (_, k) => k).filter((k) => T.isFloating(p.body.outputs[nk + k]!.aval.dtype)),
  };
};

/** Maps a step's outputs' cotangents to its inputs' cotangents, given consts and the step's residuals. */
type StepPullback = (
  consts: readonly Value[],
  res: readonly Value[],
) => (cts: ReadonlyArray<Value | null>) => ReadonlyArray<Value | null>;

/** What the "all" policy keeps between the forward and backward scans. */
interface SavedTape {
  readonly tape: Tape;
  /** The forward body's const tracers, replaced by the backward body's consts. */
  readonly constTracers: readonly Value[];
  /** The forward body's per-step tape values, in the order they are stacked. */
  readonly saved: readonly Value[];
}

const tapePullback =
  (p: ScanParams, kit: Kit, saved: SavedTape): StepPullback =>
  (consts, res) => {
    const replace = new Map<Value, Value>();
    saved.constTracers.forEach((v, i) => replace.set(v, consts[i]!));
    saved.saved.forEach((v, i) => replace.set(v, res[i]!));
    const tape = mapTape(saved.tape, (v) => replace.get(v) ?? v);
    return (cts) => backwardPass(kit, p.body, tape, cts);
  };

const recomputePullback =
  (p: ScanParams, kit: Kit, pl: Plan): StepPullback =>
  (consts, res) =>
    vjpGraphWith(kit, p.body, [...consts, ...res], pl.needsBody).pullback;

/**
 * The backward step as a closed graph.
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
  const { nc, nk, ny } = counts(p);
  const outAvals = p.body.outAvals;
  const avals: Aval[] = [
    ...pl.consts.map(avalOf),
    ...pl.constIdx.map((i) => avalOf(pl.consts[i]!)),
    ...pl.carryIdx.map((j) => avalOf(pl.init[j]!)),
    ...resAvals,
    ...pl.yIdx.map((k) => outAvals[nk + k]!),
  ];
  const zero = (a: Aval) => kit.broadcastTo(T.scalar(0, a.dtype), a.shape);
  return traceToGraph(
    (args) => {
      let at = 0;
      const next = (n: number) => args.slice(at, (at += n));
      const consts = next(nc);
      const acc = next(pl.constIdx.length);
      const ctCarry = next(pl.carryIdx.length);
      const res = next(resAvals.length);
      const ctY = next(pl.yIdx.length);
      const outCts = new Array<Value | null>(nk + ny).fill(null);
      pl.carryIdx.forEach((j, n) => (outCts[j] = ctCarry[n]!));
      pl.yIdx.forEach((k, n) => (outCts[nk + k] = ctY[n]!));
      const inCts = stepPullback(consts, res)(outCts);
      return [
        ...pl.constIdx.map((i, n) => (inCts[i] ? kit.add(acc[n]!, inCts[i]) : acc[n]!)),
        ...pl.carryIdx.map((j, n) => inCts[nc + j] ?? zero(avalOf(ctCarry[n]!))),
        ...pl.xIdx.map((k) => inCts[nc + nk + k] ?? zero(unstacked(avalOf(pl.xs[k]!)))),
      ];
    },
    avals,
    "scan",
  );
};

/** Which inputs of a graph any equation or output reads. */
const usedInputs = (g: Graph): boolean[] => {
  const read = new Set<number>();
  for (const eqn of g.eqns) for (const a of eqn.inputs) if (a._tag === "Var") read.add(a.id);
  for (const a of g.outputs) if (a._tag === "Var") read.add(a.id);
  return g.inputs.map((v) => read.has(v.id));
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
  const pl = plan(p, ins, needs);
  let full: SavedTape | undefined;
  const traced = traceToGraph(
    (args) => {
      const run = forwardPass(kit, p.body, args, pl.needsBody);
      const constTracers = args.slice(0, nc);
      const saved = tapeValues(run.tape).filter((v) => isTracer(v) && !constTracers.includes(v));
      full = { tape: run.tape, constTracers, saved };
      return [...run.outs, ...saved];
    },
    p.body.inAvals,
    "scan",
  );
  // Trace the backward step once to see which saved values it reads; stack only those.
  const probe = backwardBody(p, pl, kit, full!.saved.map(avalOf), tapePullback(p, kit, full!));
  const resStart = probe.consts.length + nc + pl.constIdx.length + pl.carryIdx.length;
  const keep = usedInputs(probe.graph).slice(resStart, resStart + full!.saved.length);
  const kept: SavedTape = { ...full!, saved: full!.saved.filter((_, i) => keep[i]) };
  const outputs = traced.graph.outputs;
  const body = new Graph(traced.graph.inputs, traced.graph.eqns, [
    ...outputs.slice(0, nk + ny),
    ...outputs.slice(nk + ny).filter((_, i) => keep[i]),
  ]);
  const outs = bindScan(scan, [...traced.consts, ...ins], { ...p, body, numConsts: nc + traced.consts.length });
  return { outs: outs.slice(0, nk + ny), residuals: outs.slice(nk + ny), aux: kept };
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
  // Per-step values scanned by the backward pass: the saved tape, or the carries plus xs.
  const stepRes = p.policy === "all" ? residuals : [...residuals, ...pl.xs];
  const stepPullback = p.policy === "all" ? tapePullback(p, kit, ctx.aux as SavedTape) : recomputePullback(p, kit, pl);
  const back = backwardBody(
    p,
    pl,
    kit,
    stepRes.map((v) => unstacked(avalOf(v))),
    stepPullback,
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
