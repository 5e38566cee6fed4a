/**
 * @file scan's batching rule: a batched scan is a scan. Its carries and xs gain the batch axis
 * (axis 0 of a carry, axis 1 of xs and ys, after time) and its body is batched once, so the graph
 * stays one loop whatever the number of examples, and scan's VJP, checkpoint policies and the
 * passes see an ordinary scan.
 */
import type { Value } from "../core.js";
import { traceToGraph } from "../core.js";
import type { Graph } from "../Graph.js";
import type { Kit } from "../kit.js";
import type { BatchContext, BatchResult } from "../Primitive.js";
import { materialize, moveAxis } from "../primitives/batching.js";
import { batchGraph } from "../vmap/interpret.js";
import { counts, type ScanParams } from "./params.js";

/**
 * Which outputs of `graph` depend on a batched input (`batched[i]` for input i): the ones the
 * batching interpreter gives a batch axis, since a rule batches every output of an equation that
 * reads a batched value.
 */
const batchedOutputs = (graph: Graph, batched: readonly boolean[]): boolean[] => {
  const mark = new Set<number>();
  graph.inputs.forEach((v, i) => batched[i] && mark.add(v.id));
  for (const eqn of graph.eqns) {
    if (eqn.inputs.some((a) => a._tag === "Var" && mark.has(a.id))) for (const v of eqn.outputs) mark.add(v.id);
  }
  return graph.outputs.map((a) => a._tag === "Var" && mark.has(a.id));
};

/**
 * Which carries are batched: those whose initial value is, and, to a fixed point, those the body
 * makes depend on a batched value (a shared initial carry updated with a batched x).
 */
const batchedCarries = (p: ScanParams, batchedIns: readonly boolean[]): boolean[] => {
  const { nc, nk } = counts(p);
  const carries = batchedIns.slice(nc, nc + nk);
  for (;;) {
    const ins = [...batchedIns.slice(0, nc), ...carries, ...batchedIns.slice(nc + nk)];
    const outs = batchedOutputs(p.body, ins).slice(0, nk);
    const grown = outs.findIndex((b, i) => b && !carries[i]);
    if (grown < 0) return carries;
    carries[grown] = true;
  }
};

/** The batching rule of `scan` (see @file). */
export const scanBatch = (ins: readonly Value[], ctx: BatchContext<ScanParams>, k: Kit): BatchResult => {
  const { params: p, dims, size, bind } = ctx;
  const { nc, nk } = counts(p);
  const carryBatched = batchedCarries(
    p,
    dims.map((d) => d !== null),
  );
  const bodyDims = [
    ...dims.slice(0, nc).map((d) => (d === null ? null : 0)),
    ...carryBatched.map((b) => (b ? 0 : null)),
    ...dims.slice(nc + nk).map((d) => (d === null ? null : 0)),
  ];
  const args = [
    ...ins.slice(0, nc).map((x, i) => (dims[i] === null ? x : moveAxis(k, x, dims[i]!, 0))),
    ...ins.slice(nc, nc + nk).map((x, i) => (carryBatched[i] ? materialize(k, x, dims[nc + i]!, size, 0) : x)),
    // xs keep time first: their batch axis goes to 1, and each step's x has it at 0
    ...ins.slice(nc + nk).map((x, i) => (dims[nc + nk + i] === null ? x : moveAxis(k, x, dims[nc + nk + i]!, 1))),
  ];
  const avals = args.map((x, i) => (i >= nc + nk ? { shape: x.shape.slice(1), dtype: x.dtype } : x));
  let yBatched: boolean[] = [];
  const body = traceToGraph(
    (tracers) => {
      const outs = batchGraph(k, p.body, tracers, bodyDims, size);
      yBatched = outs.slice(nk).map((o) => o.dim !== null);
      return outs.map(({ value, dim }, j) =>
        j < nk
          ? carryBatched[j]
            ? materialize(k, value, dim, size, 0)
            : value
          : dim === null
            ? value
            : moveAxis(k, value, dim, 0),
      );
    },
    avals.map((a) => ({ shape: a.shape, dtype: a.dtype })),
    "vmap",
  );
  const outs = bind([...body.consts, ...args], {
    ...p,
    body: body.graph,
    numConsts: body.consts.length + nc,
  });
  return [outs, [...carryBatched.map((b) => (b ? 0 : null)), ...yBatched.map((b) => (b ? 1 : null))]];
};
