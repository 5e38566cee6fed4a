/**
 * @file Traced graphs as plain data for the page: `describeGraph` walks a `ClosedGraph` (the
 * same structure `printGraph` and `toDot` read) into a `GraphView` that can be posted from the
 * worker, with nested bodies (scan, remat) as nested views and each scan's direction kept.
 */
import { treeLeavesWithPaths, type Atom, type Aval, type ClosedGraph, type Graph, type Var } from "@rewind/autodiff";
import type { GraphView, NodeView, RefView, VarView } from "../protocol.js";

const DTYPE_SHORT = { float32: "f32", float64: "f64", int32: "i32", bool: "bool" } as const;
/** An aval as the printed graphs write it: `f32[2,3]`. */
const formatAval = (a: Aval): string => `${DTYPE_SHORT[a.dtype]}[${a.shape.join(",")}]`;

const literalText = (a: Atom & { _tag: "Literal" }): string => {
  const v = a.value.data[0]!;
  return a.value.dtype === "bool"
    ? String(v !== 0)
    : Number.isInteger(v) && a.value.dtype.startsWith("float")
      ? `${v}.0`
      : String(v);
};

const ref = (a: Atom): RefView =>
  a._tag === "Literal" ? { kind: "literal", text: literalText(a) } : { kind: "var", id: a.id };

const varView = (v: Var, name?: string): VarView =>
  name === undefined ? { id: v.id, aval: formatAval(v.aval) } : { id: v.id, aval: formatAval(v.aval), name };

/** The scan primitive's params that the view needs; other primitives have none of these. */
interface ScanLike {
  readonly reverse?: unknown;
  readonly length?: unknown;
  readonly numConsts?: unknown;
  readonly numCarry?: unknown;
}

/** Names of a scan body's inputs (constants, carry, x_t) and outputs (carry′, y_t), from the scan's params. */
const scanBodyNames = (body: Graph, p: ScanLike): { inputs: string[]; outputs: string[] } => {
  const consts = typeof p.numConsts === "number" ? p.numConsts : 0;
  const carry = typeof p.numCarry === "number" ? p.numCarry : 0;
  return {
    inputs: body.inputs.map((_, i) => (i < consts ? "const" : i < consts + carry ? "carry" : "x_t")),
    outputs: body.outputs.map((_, i) => (i < carry ? "carry′" : "y_t")),
  };
};

const viewOf = (
  graph: Graph,
  inputNames: readonly (string | undefined)[],
  outputNames: readonly string[],
): GraphView => ({
  inputs: graph.inputs.map((v, i) => varView(v, inputNames[i])),
  nodes: graph.eqns.toArray().map((eqn): NodeView => {
    const params = eqn.prim.printParams ? eqn.prim.printParams(eqn.params) : defaultParams(eqn.params);
    const subs = eqn.prim.subgraphs?.(eqn.params) ?? [];
    const p = (eqn.params ?? {}) as ScanLike;
    const names =
      subs[0] !== undefined && eqn.prim.name === "scan" ? scanBodyNames(subs[0][1], p) : { inputs: [], outputs: [] };
    return {
      op: eqn.prim.name,
      params,
      inputs: eqn.inputs.map(ref),
      outputs: eqn.outputs.map((v) => varView(v)),
      // The views show one nested body per node: scan and remat have exactly one.
      ...(subs[0] === undefined ? {} : { body: viewOf(subs[0][1], names.inputs, names.outputs) }),
      ...(typeof p.reverse === "boolean" ? { reverse: p.reverse } : {}),
      ...(typeof p.length === "number" ? { length: p.length } : {}),
    };
  }),
  outputs: graph.outputs.map(ref),
  outputNames: graph.outputs.map((_, i) => outputNames[i] ?? `out ${i}`),
});

const defaultParams = (params: unknown): string =>
  params === undefined || params === null
    ? ""
    : typeof params === "string" || typeof params === "number" || typeof params === "boolean"
      ? String(params)
      : typeof params !== "object"
        ? typeof params // a function, symbol or bigint: no primitive's params are one; show the kind
        : Object.entries(params as Record<string, unknown>)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(" ");

/**
 * The view of a traced function, its inputs named after the argument paths (`p.cell.weight_ih`,
 * `batch.x`; captured constants are `const`) and its outputs after `outputNames`.
 * @example describeGraph(makeGraph(loss)(params, batch), ["p", "batch"], [params, batch], ["loss"]).nodes.some((n) => n.op === "scan") // true
 */
export const describeGraph = (
  g: ClosedGraph,
  argNames: readonly string[],
  args: readonly unknown[],
  outputNames: readonly string[],
): GraphView => {
  const paths = treeLeavesWithPaths(args).map(([path]) => {
    const m = /^\[(\d+)\](.*)$/.exec(path);
    return m === null ? path : `${argNames[Number(m[1])] ?? `arg${m[1]}`}${m[2]}`;
  });
  return viewOf(g.graph, [...g.consts.map(() => "const"), ...paths], outputNames);
};
