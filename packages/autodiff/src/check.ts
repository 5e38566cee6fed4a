/**
 * @file Argument checks for the transforms and graph tools. Types vanish at run time, so `grad(5)`,
 * `scan(f, init, xs, { revers: true })` or `printGraph(null)` used to die with a TypeError deep
 * inside (or, for a misspelt option, silently do the default). Each check throws a
 * `GraphException` (`InvalidArgument`) naming the op, the argument and what to pass instead.
 */
import { List } from "immutable";
import { optionsProblem } from "@rewind/tensor/internal/check";
import { graphFail } from "./errors.js";
import { Graph } from "./Graph.js";
import type { ClosedGraph } from "./trace.js";

const describe = (x: unknown): string =>
  x === null
    ? "null"
    : Array.isArray(x)
      ? "an array"
      : typeof x === "object"
        ? "an object"
        : typeof x === "string"
          ? `the string ${JSON.stringify(x.slice(0, 20))}`
          : typeof x;

/**
 * Returns `f` when it is a function.
 * @example expectFunction("grad", "f", (x) => x)
 */
export const expectFunction = <F>(op: string, arg: string, f: F): F =>
  typeof f === "function"
    ? f
    : graphFail({
        _tag: "InvalidArgument",
        op,
        arg,
        detail: `expected a function, got ${describe(f)}`,
        fix: "pass a function",
      });

/**
 * `f`, refusing a result that is a promise (an async function): tracing is synchronous, so the
 * promise would pass as static data and the values it awaits would never be traced.
 * @example jit(synchronous("jit", f))
 */
export const synchronous =
  (op: string, f: (...args: never[]) => unknown) =>
  (...args: never[]): unknown => {
    const out = f(...args);
    if (typeof (out as { then?: unknown } | null)?.then === "function")
      graphFail({
        _tag: "InvalidArgument",
        op,
        arg: "f",
        detail: "f returned a promise (an async function?); tracing is synchronous",
        fix: "make f synchronous: await what it needs before calling it",
      });
    return out;
  };

/**
 * Returns an options argument as an object (`{}` for undefined), rejecting non-objects and keys
 * not in `known` with the shared check of @rewind/tensor, as a `GraphException`
 * (`InvalidArgument`): a misspelt option would otherwise be ignored, and the message suggests
 * the key it most likely meant.
 * @example expectOptions("jit", { compile: false }, ["compile"])
 */
export const expectOptions = <K extends string>(
  op: string,
  x: unknown,
  known: readonly K[],
  arg = "options",
): Readonly<Partial<Record<K, unknown>>> => {
  const problem = optionsProblem(op, arg, x, known);
  if (problem !== undefined)
    graphFail({ _tag: "InvalidArgument", op, arg: problem.arg, detail: problem.detail, fix: problem.fix });
  return (x ?? EMPTY) as Readonly<Partial<Record<K, unknown>>>;
};

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Returns `v` when it is a boolean or undefined.
 * @example expectFlag("scan", "options.reverse", true)
 */
export const expectFlag = (op: string, arg: string, v: unknown): boolean | undefined =>
  v === undefined || typeof v === "boolean"
    ? v
    : graphFail({
        _tag: "InvalidArgument",
        op,
        arg,
        detail: `expected true or false, got ${describe(v)}`,
        fix: "pass a boolean (or omit it)",
      });

/**
 * Returns `xs` when it is an array.
 * @example expectArray("concat", "xs", [a, b])
 */
export const expectArray = <A>(op: string, arg: string, xs: readonly A[]): readonly A[] =>
  isArray<A>(xs)
    ? xs
    : graphFail({
        _tag: "InvalidArgument",
        op,
        arg,
        detail: `expected an array, got ${describe(xs)}`,
        fix: "pass a list, e.g. [a, b]",
      });

/**
 * `Array.isArray` keeping the element type (the built-in narrows a readonly array to `any[]`).
 * @example isArray<number>(widths) && widths.every((w) => w >= 0)
 */
export const isArray = <A>(xs: unknown): xs is readonly A[] => Array.isArray(xs);

const isAtom = (a: unknown): boolean => {
  const t =
    typeof a === "object" && a !== null ? (a as { _tag?: unknown; aval?: { shape?: unknown } })._tag : undefined;
  return (t === "Var" || t === "Literal") && Array.isArray((a as { aval?: { shape?: unknown } }).aval?.shape);
};

/** A `Graph` built by hand (`new Graph(...)`) may hold anything; tracing always builds these parts. */
const wellFormed = (g: Graph): boolean =>
  Array.isArray(g.inputs) &&
  g.inputs.every((v: unknown) => isAtom(v) && (v as { _tag?: unknown })._tag === "Var") &&
  Array.isArray(g.outputs) &&
  g.outputs.every(isAtom) &&
  List.isList(g.eqns) &&
  g.eqns.every(
    (e) =>
      typeof e === "object" &&
      e !== null &&
      typeof e.prim?.name === "string" &&
      Array.isArray(e.inputs) &&
      e.inputs.every(isAtom) &&
      Array.isArray(e.outputs) &&
      e.outputs.every(isAtom),
  );

/**
 * Returns the graph of a `Graph` or of a `ClosedGraph` (what makeGraph/traceTree return).
 * @example expectGraph("printGraph", "g", makeGraph(f)(x))
 */
export const expectGraph = (op: string, arg: string, g: unknown): Graph => {
  const graph =
    g instanceof Graph
      ? g
      : typeof g === "object" && g !== null && Array.isArray((g as ClosedGraph).consts)
        ? (g as ClosedGraph).graph
        : undefined;
  if (graph instanceof Graph && wellFormed(graph)) return graph;
  return graphFail({
    _tag: "InvalidArgument",
    op,
    arg,
    detail: `expected a Graph or a closed graph from makeGraph/traceTree, got ${describe(g)}`,
    fix: "trace one with makeGraph(f)(...args)",
  });
};

const KINDS: ReadonlySet<string> = new Set(["leaf", "static", "array", "object", "list", "map", "record"]);

/**
 * What is wrong with a tree definition, after the path to the bad node (`[0][2] has no …`; at the
 * root the text starts with its space), or undefined. The path is built only on the way back
 * from a problem: a well-formed definition, checked on every `treeUnflatten` (every jitted call's
 * result), costs no strings.
 */
const treeDefProblem = (def: unknown, seen: Set<unknown>): string | undefined => {
  const d = def as { kind?: unknown; children?: unknown; keys?: unknown; template?: unknown } | null;
  if (typeof d !== "object" || d === null || typeof d.kind !== "string" || !KINDS.has(d.kind))
    return ' is not a tree node ({ kind: "leaf" | "static" | "array" | … })';
  if (d.kind === "leaf" || d.kind === "static") return undefined;
  if (seen.has(d)) return " contains itself";
  if (!Array.isArray(d.children)) return " has no children array";
  const keyed = d.kind === "object" || d.kind === "map" || d.kind === "record";
  if (keyed && (!Array.isArray(d.keys) || d.keys.length !== d.children.length)) return " needs one key per child";
  if (
    d.kind === "record" &&
    typeof (d.template as { withMutations?: unknown } | undefined)?.withMutations !== "function"
  )
    return " has no Record template";
  seen.add(d);
  try {
    for (let i = 0; i < d.children.length; i++) {
      const p = treeDefProblem(d.children[i], seen);
      if (p !== undefined) return `[${i}]${p}`;
    }
  } finally {
    seen.delete(d);
  }
  return undefined;
};

/**
 * Returns `def` when it is a well-formed tree definition (as `treeStructure` returns).
 * @example expectTreeDef("treeUnflatten", "def", treeStructure([x]))
 */
export const expectTreeDef = <D>(op: string, arg: string, def: D): D => {
  const problem = treeDefProblem(def, new Set());
  return problem === undefined
    ? def
    : graphFail({
        _tag: "InvalidArgument",
        op,
        arg,
        detail: `not a tree definition: ${problem.startsWith(" ") ? "<root>" : ""}${problem}`,
        fix: "pass a structure from treeFlatten or treeStructure",
      });
};
