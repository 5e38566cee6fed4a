/**
 * @file Seeing graphs: jaxpr-style text (nested bodies indented) and Graphviz DOT.
 */
import { formatAval, type Atom, type Graph, type Var } from "./Graph.js";
import type { ClosedGraph } from "./trace.js";

const letters = (n: number): string => {
  let s = "";
  let k = n;
  do {
    s = String.fromCharCode(97 + (k % 26)) + s;
    k = Math.floor(k / 26) - 1;
  } while (k >= 0);
  return s;
};

const formatLiteral = (a: Atom & { _tag: "Literal" }): string => {
  const v = a.value.data[0]!;
  const text = a.value.dtype === "bool" ? String(v !== 0) : Number.isInteger(v) && a.value.dtype.startsWith("float") ? `${v}.0` : String(v);
  return `${text}:${formatAval(a.aval).replace("[]", "")}`;
};

const defaultParams = (params: unknown): string => {
  if (params === undefined || params === null) return "";
  if (typeof params !== "object") return String(params);
  return Object.entries(params as Record<string, unknown>)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(" ");
};

const printInto = (graph: Graph, lines: string[], indent: string, numConsts: number): void => {
  const names = new Map<number, string>();
  const name = (v: Var): string => {
    let n = names.get(v.id);
    if (n === undefined) names.set(v.id, (n = letters(names.size)));
    return n;
  };
  const atom = (a: Atom): string => (a._tag === "Literal" ? formatLiteral(a) : name(a));
  const binder = (v: Var): string => `${name(v)}:${formatAval(v.aval)}`;
  const consts = graph.inputs.slice(0, numConsts).map(binder).join(" ");
  const args = graph.inputs.slice(numConsts).map(binder).join(" ");
  lines.push(`${indent}{ lambda ${consts}${consts ? " " : ""}; ${args}. let`);
  for (const eqn of graph.eqns) {
    const params = eqn.prim.printParams ? eqn.prim.printParams(eqn.params) : defaultParams(eqn.params);
    const outs = eqn.outputs.map(binder).join(" ");
    lines.push(`${indent}    ${outs} = ${eqn.prim.name}${params ? `[${params}]` : ""} ${eqn.inputs.map(atom).join(" ")}`.trimEnd());
    for (const [label, sub] of eqn.prim.subgraphs?.(eqn.params) ?? []) {
      lines.push(`${indent}      ${label} =`);
      printInto(sub, lines, `${indent}        `, 0);
    }
  }
  lines.push(`${indent}  in (${graph.outputs.map(atom).join(", ")}) }`);
};

const isClosed = (g: Graph | ClosedGraph): g is ClosedGraph => "graph" in g;

/**
 * The graph as text, one equation per line, in the spirit of a jaxpr: constants before `;`,
 * arguments after it, nested bodies (scan, checkpoint) indented under their equation.
 * @example printGraph(makeGraph((x) => exp(x))(zeros([2])))
 * // { lambda ; a:f32[2]. let
 * //     b:f32[2] = exp a
 * //   in (b) }
 */
export const printGraph = (g: Graph | ClosedGraph): string => {
  const lines: string[] = [];
  printInto(isClosed(g) ? g.graph : g, lines, "", isClosed(g) ? g.consts.length : 0);
  return lines.join("\n");
};

const keys = new WeakMap<Graph, string>();

/**
 * The canonical text of a graph: equal for graphs with the same structure (variable ids do not
 * matter), so it can key caches by a graph's value.
 * @example graphKey(g1) === graphKey(g2)
 */
export const graphKey = (g: Graph): string => {
  let k = keys.get(g);
  if (k === undefined) keys.set(g, (k = printGraph(g)));
  return k;
};

/**
 * The graph in Graphviz DOT: inputs and outputs as ellipses, equations as boxes, nested bodies
 * as clusters.
 * @example toDot(makeGraph((x) => exp(x))(zeros([2]))) // 'digraph G { ... }'
 */
export const toDot = (g: Graph | ClosedGraph): string => {
  const lines = ["digraph G {", "  rankdir=TB;", '  node [fontname="monospace"];'];
  let counter = 0;
  const emit = (graph: Graph, prefix: string, indent: string): { ins: string[]; outs: Map<number, string> } => {
    const producer = new Map<number, string>();
    const inNodes = graph.inputs.map((v) => {
      const id = `${prefix}n${counter++}`;
      lines.push(`${indent}${id} [shape=ellipse, label="${formatAval(v.aval)}"];`);
      producer.set(v.id, id);
      return id;
    });
    const edgeFrom = (a: Atom, to: string): void => {
      if (a._tag === "Literal") {
        const lit = `${prefix}n${counter++}`;
        lines.push(`${indent}${lit} [shape=plaintext, label="${formatLiteral(a)}"];`);
        lines.push(`${indent}${lit} -> ${to};`);
      } else {
        const from = producer.get(a.id);
        if (from !== undefined) lines.push(`${indent}${from} -> ${to} [label="${formatAval(a.aval)}"];`);
      }
    };
    for (const eqn of graph.eqns) {
      const id = `${prefix}n${counter++}`;
      lines.push(`${indent}${id} [shape=box, label="${eqn.prim.name}"];`);
      eqn.inputs.forEach((a) => edgeFrom(a, id));
      eqn.outputs.forEach((v) => producer.set(v.id, id));
      for (const [label, sub] of eqn.prim.subgraphs?.(eqn.params) ?? []) {
        const cluster = `cluster_${counter++}`;
        lines.push(`${indent}subgraph ${cluster} {`, `${indent}  label="${eqn.prim.name} ${label}"; style=dashed;`);
        emit(sub, `${cluster}_`, `${indent}  `);
        lines.push(`${indent}}`);
      }
    }
    graph.outputs.forEach((a, i) => {
      const id = `${prefix}n${counter++}`;
      lines.push(`${indent}${id} [shape=ellipse, style=bold, label="out ${i}"];`);
      edgeFrom(a, id);
    });
    return { ins: inNodes, outs: producer };
  };
  emit(isClosed(g) ? g.graph : g, "", "  ");
  lines.push("}");
  return lines.join("\n");
};
