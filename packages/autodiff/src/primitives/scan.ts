/**
 * @file `scan`: a loop primitive whose params hold a closed body graph, and whose VJP is a scan
 * running the other way — backpropagation through time as graph differentiation.
 *
 * Semantics are JAX's `lax.scan`: `scan :: (c -> a -> (c, b)) -> c -> [a] -> (c, [b])`.
 * The body maps `(consts…, carry…, x_t…) → (carry'…, y_t…)`; xs and ys are stacked on axis 0.
 *
 * Reverse mode: for `c_{t+1}, y_t = f(θ, c_t, x_t)` the cotangents obey
 * `(θ̄_t, c̄_t, x̄_t) = f*(θ, c_t, x_t)(c̄_{t+1}, ȳ_t)` with `θ̄ = Σ_t θ̄_t`, which is itself a scan
 * in the opposite direction. The forward pass saves per-step residuals as extra stacked outputs:
 * - policy "all": everything the body's VJP reads (its tape), so the backward scan only pulls back;
 * - policy "carries": only the carry entering each step, and the backward scan recomputes the
 *   step's forward pass before pulling back (less memory, one more forward pass).
 * The graph's size never depends on the sequence length.
 */
import * as T from "@rewind/tensor";
import { bind, evalGraph, isTracer, traceToGraph, type Value } from "../core.js";
import { avalOf, avalsEqual, Graph, type Aval } from "../Graph.js";
import { internalError } from "../errors.js";
import { definePrimitive, type AnyPrimitive } from "../Primitive.js";
import { backwardPass, forwardPass, mapTape, tapeValues, vjpGraphWith, type Tape } from "../vjp.js";
import type { Kit } from "../kit.js";

/** What the forward pass of a differentiated scan stores per step. */
export type ScanPolicy = "all" | "carries";

/** Params of `scan`. */
export interface ScanParams {
  /** `(consts…, carry…, x_t…) → (carry'…, y_t…)`, closed. */
  readonly body: Graph;
  readonly numConsts: number;
  readonly numCarry: number;
  readonly length: number;
  readonly reverse: boolean;
  readonly policy: ScanPolicy;
}

const counts = (p: ScanParams) => {
  const nc = p.numConsts;
  const nk = p.numCarry;
  return { nc, nk, nx: p.body.inputs.length - nc - nk, ny: p.body.outputs.length - nk };
};

const stacked = (a: Aval, length: number): Aval => ({ shape: [length, ...a.shape], dtype: a.dtype });
const unstacked = (a: Aval): Aval => ({ shape: a.shape.slice(1), dtype: a.dtype });

/** Row t of a stacked tensor, sharing its (immutable) buffer. */
const row = (x: T.Tensor, t: number): T.Tensor => {
  const shape = x.shape.slice(1);
  const n = T.sizeOf(shape);
  return T.fromBuffer(x.dtype, shape, x.data.subarray(t * n, (t + 1) * n));
};

const scanAbstractEval = (ins: readonly Aval[], p: ScanParams): Aval[] => {
  const { nc, nk } = counts(p);
  const bodyIns = p.body.inAvals;
  const ok =
    ins.length === bodyIns.length &&
    ins.every((a, i) => (i < nc + nk ? avalsEqual(a, bodyIns[i]!) : a.shape[0] === p.length && avalsEqual(unstacked(a), bodyIns[i]!))) &&
    p.body.outAvals.slice(0, nk).every((a, i) => avalsEqual(a, bodyIns[nc + i]!));
  if (!ok) internalError("scan: operands do not match the body (the scan wrapper should have reported this)");
  return [...p.body.outAvals.slice(0, nk), ...p.body.outAvals.slice(nk).map((a) => stacked(a, p.length))];
};

const scanImpl = (ins: readonly T.Tensor[], p: ScanParams): T.Tensor[] => {
  const { nc, nk } = counts(p);
  const consts = ins.slice(0, nc);
  const xs = ins.slice(nc + nk);
  let carry = ins.slice(nc, nc + nk);
  const yAvals = p.body.outAvals.slice(nk);
  const yBufs = yAvals.map((a) => T.allocate(a.dtype, p.length * T.sizeOf(a.shape)));
  for (let step = 0; step < p.length; step++) {
    const t = p.reverse ? p.length - 1 - step : step;
    const outs = evalGraph(p.body, [...consts, ...carry, ...xs.map((x) => row(x, t))]) as readonly T.Tensor[];
    carry = outs.slice(0, nk);
    outs.slice(nk).forEach((y, j) => yBufs[j]!.set(y.data, t * y.data.length));
  }
  return [...carry, ...yBufs.map((b, j) => T.fromBuffer(yAvals[j]!.dtype, stacked(yAvals[j]!, p.length).shape, b))];
};

/** Which body inputs the VJP differentiates: needed consts, float carries, needed xs. */
const bodyNeeds = (p: ScanParams, ins: readonly Value[], needs: readonly boolean[]): boolean[] => {
  const { nc, nk } = counts(p);
  return ins.map((v, i) => T.isFloating(v.dtype) && (i < nc || i >= nc + nk ? needs[i]! : true));
};

/** What the "all" policy keeps between the forward and backward scans. */
interface AllResiduals {
  readonly tape: Tape;
  /** The forward body's const tracers, replaced by the backward body's consts. */
  readonly constTracers: readonly Value[];
  /** The forward body's per-step tape values, in the order they are stacked. */
  readonly saved: readonly Value[];
}

const forwardWithResiduals = (ins: readonly Value[], p: ScanParams, kit: Kit, needs: readonly boolean[]) => {
  const { nc, nk, ny } = counts(p);
  if (p.policy === "carries") {
    const carryIn = p.body.inputs.slice(nc, nc + nk);
    const body = new Graph(p.body.inputs, p.body.eqns, [...p.body.outputs, ...carryIn]);
    const outs = bind(scan, ins, { ...p, body });
    return { outs: outs.slice(0, nk + ny), residuals: outs.slice(nk + ny) };
  }
  const needsBody = bodyNeeds(p, ins, needs);
  let residuals: AllResiduals | undefined;
  const traced = traceToGraph((args) => {
    const run = forwardPass(kit, p.body, args, needsBody);
    const constTracers = args.slice(0, nc);
    const saved = tapeValues(run.tape).filter((v) => isTracer(v) && !constTracers.includes(v));
    residuals = { tape: run.tape, constTracers, saved };
    return [...run.outs, ...saved];
  }, p.body.inAvals);
  const outs = bind(scan, [...traced.consts, ...ins], { ...p, body: traced.graph, numConsts: nc + traced.consts.length });
  return { outs: outs.slice(0, nk + ny), residuals: outs.slice(nk + ny), aux: residuals };
};

const scanVjp = (
  cts: readonly Value[],
  ctx: { ins: readonly Value[]; params: ScanParams; residuals: readonly Value[]; aux: unknown; needs: readonly boolean[] },
  kit: Kit,
): Array<Value | null> => {
  const { ins, params: p, residuals, needs } = ctx;
  const { nc, nk, ny } = counts(p);
  const consts = ins.slice(0, nc);
  const init = ins.slice(nc, nc + nk);
  const xs = ins.slice(nc + nk);
  const needsBody = bodyNeeds(p, ins, needs);
  const constIdx = consts.flatMap((_, i) => (needsBody[i] ? [i] : []));
  const carryIdx = init.flatMap((_, j) => (needsBody[nc + j] ? [j] : []));
  const xIdx = xs.flatMap((_, k) => (needsBody[nc + nk + k] ? [k] : []));
  const yIdx = Array.from({ length: ny }, (_, k) => k).filter((k) => T.isFloating(p.body.outputs[nk + k]!.aval.dtype));
  // Per-step residuals scanned by the backward pass: saved tape values, or carries plus xs.
  const stepRes = p.policy === "all" ? residuals : [...residuals, ...xs];

  const stepPullback = (constsT: readonly Value[], res: readonly Value[]) => {
    if (p.policy === "carries") return vjpGraphWith(kit, p.body, [...constsT, ...res], needsBody).pullback;
    const saved = ctx.aux as AllResiduals;
    const replace = new Map<Value, Value>();
    saved.constTracers.forEach((v, i) => replace.set(v, constsT[i]!));
    saved.saved.forEach((v, i) => replace.set(v, res[i]!));
    const tape = mapTape(saved.tape, (v) => replace.get(v) ?? v);
    return (outCts: ReadonlyArray<Value | null>) => backwardPass(kit, p.body, tape, outCts);
  };

  // Before: [consts | acc θ̄ (needed consts), c̄ (float carries) | residuals_t…, ȳ_t (float ys)]
  // After:  [acc θ̄ + θ̄_t, c̄_t | x̄_t (needed xs)]
  const avals: Aval[] = [
    ...consts.map(avalOf),
    ...constIdx.map((i) => avalOf(consts[i]!)),
    ...carryIdx.map((j) => avalOf(init[j]!)),
    ...stepRes.map((v) => unstacked(v)),
    ...yIdx.map((k) => unstacked(cts[nk + k]!)),
  ];
  const back = traceToGraph((args) => {
    let at = 0;
    const next = (n: number) => args.slice(at, (at += n));
    const constsT = next(nc);
    const acc = next(constIdx.length);
    const ctCarry = next(carryIdx.length);
    const res = next(stepRes.length);
    const ctY = next(yIdx.length);
    const outCts: Array<Value | null> = new Array<Value | null>(nk + ny).fill(null);
    carryIdx.forEach((j, n) => (outCts[j] = ctCarry[n]!));
    yIdx.forEach((k, n) => (outCts[nk + k] = ctY[n]!));
    const inCts = stepPullback(constsT, res)(outCts);
    const zero = (a: Aval) => kit.broadcastTo(T.scalar(0, a.dtype), a.shape);
    return [
      ...constIdx.map((i, n) => (inCts[i] ? kit.add(acc[n]!, inCts[i]!) : acc[n]!)),
      ...carryIdx.map((j, n) => inCts[nc + j] ?? zero(ctCarry[n]!)),
      ...xIdx.map((k) => inCts[nc + nk + k] ?? zero(unstacked(xs[k]!))),
    ];
  }, avals);
  const zeroLike = (v: Value) => kit.broadcastTo(T.scalar(0, v.dtype), v.shape);
  const outs = bind(
    scan,
    [...back.consts, ...consts, ...constIdx.map((i) => zeroLike(consts[i]!)), ...carryIdx.map((j) => cts[j]!), ...stepRes, ...yIdx.map((k) => cts[nk + k]!)],
    {
      body: back.graph,
      numConsts: back.consts.length + nc,
      numCarry: constIdx.length + carryIdx.length,
      length: p.length,
      reverse: !p.reverse,
      policy: p.policy,
    } satisfies ScanParams,
  );
  const result: Array<Value | null> = new Array<Value | null>(ins.length).fill(null);
  constIdx.forEach((i, n) => (result[i] = outs[n]!));
  carryIdx.forEach((j, n) => (result[nc + j] = outs[constIdx.length + n]!));
  xIdx.forEach((k, n) => (result[nc + nk + k] = outs[constIdx.length + carryIdx.length + n]!));
  return result;
};

/** The loop primitive. */
export const scan: AnyPrimitive = definePrimitive<"scan", ScanParams>({
  name: "scan",
  abstractEval: scanAbstractEval,
  impl: scanImpl,
  forward: forwardWithResiduals,
  vjp: (cts, ctx, kit) => scanVjp(cts, ctx, kit),
  printParams: (p) => `length=${p.length} reverse=${p.reverse} consts=${p.numConsts} carry=${p.numCarry} policy=${p.policy}`,
  subgraphs: (p) => [["body", p.body]],
});
