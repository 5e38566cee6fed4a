/**
 * @file jit's trace accounting and its two retrace warnings: the mistakes that make a jitted
 * function trace and compile on every call while looking right.
 *
 * 1. A static value in the arguments changes. Numbers, booleans and strings in a pytree are
 *    static: part of the trace's key, compiled into the program. A step count passed as a plain
 *    number (`step(params, state, i)`) therefore traces once per step. Detected per jitted
 *    function: more than `warnRetraces` traces for one signature of leaf avals (shapes and dtypes)
 *    with different static structures; the warning names the first argument path that differs
 *    between the last two such traces (`treeDiff`) and its two values.
 * 2. A new `jit(...)` every call (made inside the loop, or over a fresh closure each step): each
 *    wrapper has its own cache, so each traces anew. Detected across wrappers: more than
 *    `warnRetraces` (default `DEFAULT_REMADE`, 10) wrappers whose functions have the same source
 *    text traced the same signature into graphs of the same operations (literal values and
 *    captured constants aside, since a fresh closure captures new ones). The operations matter
 *    because source text alone is shared by different functions: every `grad(f)` returns the
 *    same closure text, every unary op is made by one factory. Only hashes and counts are kept
 *    (never functions), in a map of bounded size.
 *
 * Each warning is printed once (per jitted function, per source text) with `console.warn`, and
 * both are silenced by `jit(f, { warnRetraces: false })`. None of this runs on a cache hit.
 */
import { graphFail } from "./errors.js";
import { formatAval, type Graph } from "./Graph.js";
import { treeDiff, type TreeDef } from "./Tree.js";

/** The default of `warnRetraces`: how many traces of one signature of avals pass silently. */
export const DEFAULT_RETRACES = 3;

/**
 * How many wrappers of one function may trace the same signature before the "made anew" warning,
 * when `warnRetraces` is not given. Higher than `DEFAULT_RETRACES` because a few wrappers are
 * legitimate (several trainers of one model in a process, a test per case); a jit made inside a
 * training loop passes ten within its first steps.
 */
export const DEFAULT_REMADE = 10;

/**
 * Returns the `warnRetraces` option as a threshold, or false to stay silent.
 * @example retraceThreshold(undefined) // 3
 */
export const retraceThreshold = (x: unknown): number | false => {
  if (x === undefined) return DEFAULT_RETRACES;
  if (x === false || (Number.isSafeInteger(x) && (x as number) >= 0)) return x as number | false;
  return graphFail({
    _tag: "InvalidArgument",
    op: "jit",
    arg: "options.warnRetraces",
    detail: `expected a non-negative integer or false, got ${typeof x === "number" ? String(x) : typeof x}`,
    fix: "pass how many retraces to allow before warning (default 3), or false to never warn",
  });
};

/** `console.warn`, looked up at each call (tests replace it); this package is typed without the DOM's globals. */
const warn = (message: string): void => (globalThis as { console?: { warn(m: string): void } }).console?.warn(message);

const nameOf = (f: (...args: never[]) => unknown): string =>
  typeof f.name === "string" && f.name !== "" ? `\`${f.name}\`` : "an anonymous function";

/** A side of a structural difference without treeDiff's "the static value" prefix: `3`, `"adam"`. */
const bare = (s: string): string => s.replace(/^the static value /, "");

/**
 * The warning for a function that keeps tracing for arguments of the same shapes and dtypes.
 * @example staticRetraceWarning("`step`", 4, { path: "[2]", expected: "the static value 3", actual: "4" })
 */
export const staticRetraceWarning = (
  name: string,
  traces: number,
  diff: { readonly path: string; readonly expected: string; readonly actual: string } | undefined,
): string => {
  const [was, now] = diff === undefined ? ["", ""] : [bare(diff.expected), bare(diff.actual)];
  const change = diff === undefined ? "" : ` The last two traces differ at args${diff.path}: ${was} → ${now}.`;
  return (
    `Rewind: jit of ${name} has traced ${traces} times for arguments of the same shapes and dtypes.${change} ` +
    "Plain numbers, booleans and strings (and functions and other objects) in a jitted function's arguments " +
    "are static: they are compiled into the program, so every new value traces and compiles the function anew. " +
    'Pass a value that changes as a tensor instead (e.g. scalar(step, "int32")); if it really is a constant, ' +
    "close over it instead of passing it. To silence this warning, pass { warnRetraces: false } to jit."
  );
};

/**
 * The warning for a jit made anew for every call.
 * @example recreatedJitWarning("step", 4)
 */
export const recreatedJitWarning = (name: string, wrappers: number): string =>
  `Rewind: ${wrappers} separate jit(...) wrappers of ${name} (the same source text) have each traced it, for ` +
  "arguments of the same shapes and structure, into the same operations: a jit is being made again for every " +
  "call, inside a loop or " +
  "over a fresh closure each step. Each jit has its own cache, so every new one traces and compiles anew. " +
  "Make the jit once, outside the loop, and call it there; pass the values that change as tensor arguments " +
  "instead of closing over them. If these really are different functions, pass { warnRetraces: false } to jit.";

/**
 * Wrappers that traced, per hash of (signature, source text); least recently used first. Hashes,
 * not the texts, so the memory kept is a few numbers per entry however large the function.
 */
const wrappersBySource = new Map<number, { wrappers: number; warned: boolean }>();
/** Source texts remembered at most (each a string, no function); the least recently used goes. */
const SOURCES_KEPT = 256;

/** A 53-bit hash of a string: two 32-bit FNV-1a passes from different offsets (collisions cost a false count). */
const hash = (s: string): number => {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x0100019d);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
};

/**
 * @internal For tests: forgets every source text counted, as in a fresh process.
 * @example resetRetraceWarnings()
 */
export const resetRetraceWarnings = (): void => wrappersBySource.clear();

/** The operations of a graph and their operand avals, nested bodies included; literal values left out. */
const operations = (graph: Graph): string => {
  const parts: string[] = [];
  const visit = (g: Graph): void => {
    for (const e of g.eqns) {
      parts.push(`${e.prim.name}(${e.inputs.map((a) => (a._tag === "Literal" ? "L" : formatAval(a.aval))).join()})`);
      for (const [, sub] of e.prim.subgraphs?.(e.params) ?? []) {
        parts.push("{");
        visit(sub);
        parts.push("}");
      }
    }
  };
  visit(graph);
  return parts.join(";");
};

/** Per signature of leaf avals: how many structures traced, and the last one. */
interface AvalRecord {
  traces: number;
  def: TreeDef;
  key: string;
}

/**
 * One jitted function's trace accounting (`traceCount`) and retrace warnings.
 * @example const w = new RetraceWatch(f, 3); w.traced(def, defKey, avalKey, closed.graph); w.count // 1
 */
export class RetraceWatch {
  /** Every trace of `f`, cached or not. */
  count = 0;
  readonly #byAvals = new Map<string, AvalRecord>();
  #warned = false;

  constructor(
    readonly f: (...args: never[]) => unknown,
    readonly threshold: number | false,
    /** Wrappers of the same source allowed before warning (`DEFAULT_REMADE` unless `warnRetraces` is given). */
    readonly remadeThreshold: number | false = threshold,
  ) {}

  /** Records a trace of arguments of structure `def` (key `defKey`) and leaf avals `avalKey` into `graph`. */
  traced(def: TreeDef, defKey: string, avalKey: string, graph: Graph): void {
    this.count++;
    if (this.threshold === false) return;
    if (this.count === 1 && this.remadeThreshold !== false)
      this.#countSource(`${defKey}|${avalKey}|${operations(graph)}`, this.remadeThreshold);
    const seen = this.#byAvals.get(avalKey);
    if (seen === undefined) {
      this.#byAvals.set(avalKey, { traces: 1, def, key: defKey });
      return;
    }
    // The same structure again: a trace not cached (it captured an enclosing transform's tracers).
    if (seen.key === defKey) return;
    const previous = seen.def;
    seen.traces++;
    seen.def = def;
    seen.key = defKey;
    if (seen.traces > this.threshold && !this.#warned) {
      this.#warned = true;
      warn(staticRetraceWarning(nameOf(this.f), seen.traces, treeDiff(previous, def)));
    }
  }

  /** Counts this wrapper's first trace against its function's source text (see the file comment). */
  #countSource(signature: string, threshold: number): void {
    let source: string;
    try {
      source = Function.prototype.toString.call(this.f);
    } catch {
      return; // a revoked proxy: nothing to count
    }
    // Bound and native functions all print alike: their text says nothing about where they came from.
    if (source.includes("[native code]")) return;
    const key = hash(`${signature}\n${source}`);
    const record = wrappersBySource.get(key) ?? { wrappers: 0, warned: false };
    wrappersBySource.delete(key);
    wrappersBySource.set(key, record);
    if (wrappersBySource.size > SOURCES_KEPT) wrappersBySource.delete(wrappersBySource.keys().next().value!);
    record.wrappers++;
    // At least two wrappers: one wrapper tracing once is every jit's first call.
    if (record.wrappers > Math.max(threshold, 1) && !record.warned) {
      record.warned = true;
      warn(recreatedJitWarning(nameOf(this.f), record.wrappers));
    }
  }
}
