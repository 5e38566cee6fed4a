/**
 * @file Seeing graphs: jaxpr-style text (nested bodies indented) and Graphviz DOT.
 */
import { expectGraph } from "./check.js";
import { formatAval, Graph, type Atom, type Var } from "./Graph.js";
import type { PassRecord } from "./passes/pass.js";
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
  const text =
    a.value.dtype === "bool"
      ? String(v !== 0)
      : Number.isInteger(v) && a.value.dtype.startsWith("float")
        ? `${v}.0`
        : String(v);
  return `${text}:${formatAval(a.aval).replace("[]", "")}`;
};

/** Characters a printed line or a DOT label cannot hold as themselves: controls, line separators, lone surrogates. */
const UNPRINTABLE = new RegExp(
  "[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\u2028\\u2029]" +
    "|[\\ud800-\\udbff](?![\\udc00-\\udfff])" +
    "|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]",
  "g",
);
const hex4 = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Text with line breaks and unprintable characters shown as `\uXXXX`, so it stays on its line. */
const oneLine = (text: string): string => text.replace(/[\r\n]/g, hex4).replace(UNPRINTABLE, hex4);

/** JSON text with U+2028/U+2029 escaped too, so it is one line in every reader. */
const json = (v: unknown): string => String(JSON.stringify(v)).replace(/[\u2028\u2029]/g, hex4);

/**
 * A primitive name, param key or body label as the text form shows it: bare when it is a plain
 * identifier (every built-in one), else as a JSON string, so a user primitive's name can neither
 * break the one-equation-per-line layout nor pass for other text.
 */
const showName = (name: string): string => (/^[A-Za-z_$][\w$.]*$/.test(name) ? name : json(name));

const defaultParams = (params: unknown): string => {
  if (params === undefined || params === null) return "";
  if (typeof params === "string") return oneLine(params);
  if (typeof params === "function" || typeof params === "symbol") return oneLine(params.toString());
  if (typeof params === "number" || typeof params === "bigint" || typeof params === "boolean") return String(params);
  return Object.entries(params as Record<string, unknown>)
    .map(([k, v]) => `${showName(k)}=${json(v)}`)
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
    // printParams may show user text (customVjp shows function names), so it is kept to one line.
    const params = eqn.prim.printParams ? oneLine(eqn.prim.printParams(eqn.params)) : defaultParams(eqn.params);
    const outs = eqn.outputs.map(binder).join(" ");
    lines.push(
      `${indent}    ${outs} = ${showName(eqn.prim.name)}${params ? `[${params}]` : ""} ${eqn.inputs
        .map(atom)
        .join(" ")}`.trimEnd(),
    );
    for (const [label, sub] of eqn.prim.subgraphs?.(eqn.params) ?? []) {
      lines.push(`${indent}      ${showName(label)} =`);
      printInto(sub, lines, `${indent}        `, 0);
    }
  }
  lines.push(`${indent}  in (${graph.outputs.map(atom).join(", ")}) }`);
};

const isClosed = (g: Graph | ClosedGraph): g is ClosedGraph => "graph" in g;

/**
 * The line naming the passes an optimized graph went through and how many equations each changed.
 * @example passHeader([{ name: "hoist", changed: 2 }, { name: "lift", changed: 2 }])
 * // "-- passes: hoist (2 eqns), lift (2)"
 */
export const passHeader = (log: readonly PassRecord[]): string => {
  const passes = log.map((r, i) => `${r.name} (${r.changed}${i === 0 ? " eqns" : ""})`);
  return `-- passes: ${passes.length === 0 ? "none" : passes.join(", ")}`;
};

/** The pass header of a graph `makeGraph(f, { optimize: true })` returned, if it is one. */
const headerOf = (g: Graph | ClosedGraph): string | undefined =>
  isClosed(g) && g.passes !== undefined ? passHeader(g.passes) : undefined;

/**
 * The graph as text, one equation per line, in the spirit of a jaxpr: constants before `;`,
 * arguments after it, nested bodies (scan, remat) indented under their equation. A graph from
 * `makeGraph(f, { optimize: true })` starts with a `-- passes: …` line naming the passes it went
 * through (`graphKey` never includes it: it takes a bare `Graph`).
 * @example printGraph(makeGraph((x) => exp(x))(zeros([2])))
 * // { lambda ; a:f32[2]. let
 * //     b:f32[2] = exp a
 * //   in (b) }
 */
export const printGraph = (g: Graph | ClosedGraph): string => {
  expectGraph("printGraph", "g", g);
  const header = headerOf(g);
  const lines: string[] = header === undefined ? [] : [header];
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
  if (!(g instanceof Graph)) expectGraph("graphKey", "g", null);
  let k = keys.get(g);
  if (k === undefined) {
    expectGraph("graphKey", "g", g);
    keys.set(g, (k = printGraph(g)));
  }
  return k;
};

/**
 * A DOT quoted string showing `text` as it is: `"` and `\` escaped (in DOT only `\"` is an escape
 * and labels read `\\` as a backslash), line breaks as DOT's `\n` / `\r`, and characters a DOT
 * file cannot hold as themselves shown as `\uXXXX` text.
 */
const dotString = (text: string): string =>
  `"${text
    .replace(/[\\"]/g, "\\$&")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(UNPRINTABLE, (c) => `\\${hex4(c)}`)}"`;

/**
 * The graph in Graphviz DOT: inputs and outputs as ellipses, equations as boxes, nested bodies
 * as clusters. Every label is a quoted, escaped string, so any primitive name keeps the DOT valid.
 * @example toDot(makeGraph((x) => exp(x))(zeros([2]))) // 'digraph G { ... }'
 */
export const toDot = (g: Graph | ClosedGraph): string => {
  expectGraph("toDot", "g", g);
  const lines = ["digraph G {", "  rankdir=TB;", '  node [fontname="monospace"];'];
  const header = headerOf(g);
  if (header !== undefined) lines.push(`  label=${dotString(header)}; labelloc=t;`);
  let counter = 0;
  const emit = (graph: Graph, prefix: string, indent: string): { ins: string[]; outs: Map<number, string> } => {
    const producer = new Map<number, string>();
    const inNodes = graph.inputs.map((v) => {
      const id = `${prefix}n${counter++}`;
      lines.push(`${indent}${id} [shape=ellipse, label=${dotString(formatAval(v.aval))}];`);
      producer.set(v.id, id);
      return id;
    });
    const edgeFrom = (a: Atom, to: string): void => {
      if (a._tag === "Literal") {
        const lit = `${prefix}n${counter++}`;
        lines.push(`${indent}${lit} [shape=plaintext, label=${dotString(formatLiteral(a))}];`);
        lines.push(`${indent}${lit} -> ${to};`);
      } else {
        const from = producer.get(a.id);
        if (from !== undefined) lines.push(`${indent}${from} -> ${to} [label=${dotString(formatAval(a.aval))}];`);
      }
    };
    for (const eqn of graph.eqns) {
      const id = `${prefix}n${counter++}`;
      lines.push(`${indent}${id} [shape=box, label=${dotString(eqn.prim.name)}];`);
      eqn.inputs.forEach((a) => edgeFrom(a, id));
      eqn.outputs.forEach((v) => producer.set(v.id, id));
      for (const [label, sub] of eqn.prim.subgraphs?.(eqn.params) ?? []) {
        const cluster = `cluster_${counter++}`;
        lines.push(
          `${indent}subgraph ${cluster} {`,
          `${indent}  label=${dotString(`${eqn.prim.name} ${label}`)}; style=dashed;`,
        );
        emit(sub, `${cluster}_`, `${indent}  `);
        lines.push(`${indent}}`);
      }
    }
    graph.outputs.forEach((a, i) => {
      const id = `${prefix}n${counter++}`;
      lines.push(`${indent}${id} [shape=ellipse, style=bold, label=${dotString(`out ${i}`)}];`);
      edgeFrom(a, id);
    });
    return { ins: inNodes, outs: producer };
  };
  emit(isClosed(g) ? g.graph : g, "", "  ");
  lines.push("}");
  return lines.join("\n");
};
