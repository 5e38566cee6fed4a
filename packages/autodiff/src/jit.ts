/**
 * @file `jit`: trace once per input signature, compile once, reuse.
 *
 * The cache maps a signature (argument structure + leaf avals) to a traced graph and a runner.
 * The graph is the traced program after `JIT_PIPELINE` (passes/index.ts: hoisting scan-loop
 * invariants, lifting input projections), which tracing itself never applies.
 * The runner is the compiler's (compile/): one generated function per graph, bit-identical to
 * the interpreter. `jit(f, { compile: false })` keeps the interpreter, the reference path; so
 * do `setJitMode("interpret")` for every jitted function, and `withDebugNans`, whose
 * per-primitive checks need the interpreter. Where the engine refuses to generate JavaScript (a
 * Content-Security-Policy without 'unsafe-eval'), the interpreter runs too, after one warning
 * (the engine is probed once, at the first compile). Called on tracers (inside
 * grad, scan, another jit) the cached graph is inlined into the enclosing trace, so
 * `grad(jit(f))` differentiates the same graph; nothing is compiled until a call on tensors.
 *
 * Every trace is counted (`traceCount`); retracing for arguments of the same shapes, or a jit
 * made anew for every call, warns once (jitRetrace.ts, option `warnRetraces`). With `donate`,
 * the donated arguments' buffers are given up after each call on tensors and become the next
 * call's outputs (jitDonate.ts). A cache hit costs one flatten of the arguments and the key, or
 * for the same signature as the last call's, a comparison with it instead of the key (jitSignature.ts).
 */
import type { Concrete } from "./types.js";
import type { DeviceJitted, JitBackend } from "./backend.js";
import type { Tensor } from "@rewind/tensor";
import { compileGraph, type CompiledGraph } from "./compile/index.js";
import { engineCompiles, jitState } from "./compile/mode.js";
import { expectFlag, expectFunction, expectOptions, synchronous } from "./check.js";
import { evalGraph, isTracer, type Value } from "./core.js";
import { debugState } from "./debugState.js";
import { graphFail } from "./errors.js";
import { formatAval, avalOf } from "./Graph.js";
import { checkDonatedPositions, DonationPlan, donateOption, holdCaptured } from "./jitDonate.js";
import { DEFAULT_REMADE, retraceThreshold, RetraceWatch } from "./jitRetrace.js";
import { SignatureMemo } from "./jitSignature.js";
import { JIT_PIPELINE, optimizeClosed } from "./passes/index.js";
import { traceTreeAs, type ClosedGraph } from "./trace.js";
import { treeDefKey, treeFlatten, treeUnflatten, type TreeDef } from "./Tree.js";

/** Runs a graph on concrete inputs. */
export type Runner = (inputs: readonly Tensor[]) => readonly Tensor[];

/** Options of `jit`. */
export interface JitOptions {
  /**
   * Compile the graph into generated code (default true). `false` runs the interpreter: the
   * reference path, same results bit for bit, slower. `setJitMode("interpret")` does the same for
   * every jitted function; where the engine refuses to generate code, `true` interprets too.
   */
  readonly compile?: boolean;
  /**
   * Positions of the arguments the caller gives up (JAX's `donate_argnums`): after a call on
   * tensors, every tensor in these arguments is invalid, its memory taken over by the jitted
   * function, which writes later results into it, so a training loop
   * `[params, state] = step(params, state, batch)` with `donate: [0, 1]` allocates no output
   * arrays in steady state. Using a donated tensor afterwards throws an error saying it was
   * donated; so does using another tensor sharing its memory (a `reshape` of it). A tensor also
   * passed in a non-donated argument, returned by the call, or captured as a constant by `f` or by
   * any other jitted function, stays valid. Ignored when the call is traced (inside grad, scan or
   * another jit). Results are the same bit for bit with or without it.
   */
  readonly donate?: readonly number[];
  /**
   * Warn (once, with `console.warn`) when `f` has traced more than this many times for arguments
   * of the same shapes and dtypes (a plain number in the arguments that changes every call), or
   * when more than this many separate `jit` wrappers of one function's source text traced the same
   * arguments (a jit made anew inside a loop). Default 3 retraces and 10 wrappers; a number sets
   * both; `false` never warns.
   */
  readonly warnRetraces?: number | false;
  /**
   * A device back end (`await webgpu()` from `@rewind/webgpu`), or the name a back end registered
   * with `setJitBackend` (`"webgpu"` after a successful `webgpu()`): the jitted function then
   * runs there and resolves to device arrays (`DeviceJitted`). Default: the CPU.
   */
  readonly backend?: JitBackend | string;
}

/** The named back ends (`setJitBackend`); a Map, so a name like "__proto__" or "toString" is only a name. */
const backends = new Map<string, JitBackend>();

/**
 * Registers `backend` under `name` for `jit(f, { backend: name })`; `undefined` removes it.
 * `await webgpu()` registers itself as `"webgpu"`; register it as `"default"` too to choose the
 * device in code that jits with `{ backend: "default" }`.
 * @example setJitBackend("default", await webgpu()); jit(f, { backend: "default" })
 */
export const setJitBackend = (name: string, backend: JitBackend | undefined): void => {
  if (typeof name !== "string" || name === "")
    graphFail({
      _tag: "InvalidArgument",
      op: "setJitBackend",
      arg: "name",
      detail: `expected a non-empty string, got ${name === "" ? "an empty string" : typeof name}`,
      fix: 'name the back end, e.g. setJitBackend("default", backend)',
    });
  if (backend !== undefined && typeof (backend as Partial<JitBackend> | null)?.jit !== "function")
    graphFail({
      _tag: "InvalidArgument",
      op: "setJitBackend",
      arg: "backend",
      detail:
        "expected a back end (an object with a jit method) or undefined, " +
        `got ${backend === null ? "null" : typeof backend}`,
      fix: "pass what await webgpu() from @rewind/webgpu returns, or undefined to remove the name",
    });
  if (backend === undefined) backends.delete(name);
  else backends.set(name, backend);
};

/** The interpreter as a runner. */
const interpret =
  (graph: ClosedGraph["graph"]): Runner =>
  (inputs) =>
    evalGraph(graph, inputs) as readonly Tensor[];

interface CacheEntry {
  readonly closed: ClosedGraph;
  /** Built on the first call on tensors (a graph only ever inlined into traces is never compiled). */
  run: CompiledGraph | Runner | undefined;
  /** With `donate`: which leaves are given up, and the pool of output arrays. */
  readonly donation: DonationPlan | undefined;
  /** Whether the cache holds it (not a graph that captured an enclosing transform's tracers). */
  readonly cached: boolean;
}

/** A jitted function, with a view of its cache for inspection. */
export interface Jitted<Args extends unknown[], R> {
  /** A call on tensors returns tensors. */
  (...args: Concrete<Args>): Concrete<R>;
  /** A call on traced values (inside another transform) returns traced values. */
  (...args: Args): R;
  /** Number of distinct signatures traced so far. */
  readonly cacheSize: () => number;
  /**
   * Number of times `f` was traced (completed traces): every one, including those `cacheSize`
   * does not keep (a trace inside another transform that captured its tracers) and `graphFor`'s.
   * @example const step = jit(update); for (let i = 0; i < 100; i++) [p, s] = step(p, s); step.traceCount() // 1
   */
  readonly traceCount: () => number;
  /** The closed graph used for these arguments (tracing them if needed). */
  readonly graphFor: (...args: Args) => ClosedGraph;
}

/**
 * Traces `f` once per input signature (pytree structure, shapes, dtypes), compiles the graph and
 * reuses both. `f` must be pure: values it closes over are captured at trace time. Plain numbers,
 * booleans and strings in the arguments are static (part of the signature): pass values that
 * change from call to call as tensors.
 * @param options `{ compile: false }` runs the interpreter (see also `setJitMode`); `donate`
 * lists arguments the caller gives up, whose memory the call reuses; `warnRetraces` sets when
 * retracing warns.
 * @example const g = jit((x) => mul(x, 2)); g(tensor([1])); g(tensor([3])); g.cacheSize() // 1
 * @example
 * const step = jit(trainStep, { donate: [0, 1] });
 * for (const batch of batches) [params, optState] = step(params, optState, batch);
 */
export function jit<Args extends unknown[], R>(
  f: (...args: Args) => R,
  options: JitOptions & { readonly backend: JitBackend | string },
): DeviceJitted<Args, R>;
export function jit<Args extends unknown[], R>(f: (...args: Args) => R, options?: JitOptions): Jitted<Args, R>;
export function jit<Args extends unknown[], R>(f: (...args: Args) => R, options: JitOptions = {}): Jitted<Args, R> {
  expectFunction("jit", "f", f);
  const opts = expectOptions("jit", options, ["compile", "donate", "warnRetraces", "backend"]);
  const b = opts.backend as JitBackend | string | undefined;
  if (b !== undefined) {
    const backend = typeof b === "string" ? backends.get(b) : b;
    if (typeof backend?.jit !== "function")
      graphFail({
        _tag: "InvalidArgument",
        op: "jit",
        arg: "options.backend",
        detail:
          typeof b === "string"
            ? `no back end is registered as "${b}"`
            : "expected a back end (an object with a jit method) or a registered name, " +
              `got ${b === null ? "null" : typeof b}`,
        fix:
          'pass the back end itself, or register it first: await webgpu() from @rewind/webgpu registers "webgpu", ' +
          'setJitBackend("default", backend) registers "default"',
      });
    return backend.jit(f, opts) as never;
  }
  const compile = expectFlag("jit", "options.compile", opts.compile) ?? true;
  const donate = donateOption(opts.donate);
  const threshold = retraceThreshold(opts.warnRetraces);
  const watch = new RetraceWatch(f, threshold, opts.warnRetraces === undefined ? DEFAULT_REMADE : threshold);
  const cache = new Map<string, CacheEntry>();
  const entryFor = (args: readonly unknown[], leaves: readonly Value[], def: TreeDef): CacheEntry => {
    const defKey = treeDefKey(def);
    const avalKey = leaves.map((l) => formatAval(avalOf(l))).join(";");
    const key = `${defKey}|${avalKey}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    if (donate !== undefined) checkDonatedPositions(donate, args.length);
    // Tracing records the program as written; jit's passes (hoist, lift, dce) run once per signature.
    const { closed } = optimizeClosed(traceTreeAs("jit", synchronous("jit", f), args), JIT_PIPELINE);
    watch.traced(def, defKey, avalKey, closed.graph);
    // What the graph captured is never donated, here or by another jitted function.
    holdCaptured(closed);
    const donation = donate === undefined ? undefined : new DonationPlan(closed, def, donate);
    // A graph that captured tracers of an enclosing transform is only valid inside it: don't cache.
    const entry: CacheEntry = { closed, run: undefined, donation, cached: !closed.consts.some(isTracer) };
    if (entry.cached) cache.set(key, entry);
    return entry;
  };
  // The last cached signature, compared directly with the next call's (jitSignature.ts).
  const last = new SignatureMemo<CacheEntry>();
  const jitted = (...args: Args): R => {
    const [leaves, def] = treeFlatten(args);
    let entry = last.find(def, leaves);
    if (entry === undefined) {
      entry = entryFor(args, leaves, def);
      if (entry.cached) last.remember(def, leaves, entry);
    }
    const { closed, donation } = entry;
    const inputs: Value[] = [...closed.consts, ...leaves];
    let outs: readonly Value[];
    if (inputs.some(isTracer)) outs = evalGraph(closed.graph, inputs);
    else if (debugState.nans || jitState.interpret) {
      outs = evalGraph(closed.graph, inputs);
      donation?.giveUp(leaves as Tensor[], outs as Tensor[]);
    } else {
      // Probed at the first compile only: a strict CSP refuses `new Function` (one warning).
      entry.run ??= compile && engineCompiles() ? compileGraph(closed.graph) : interpret(closed.graph);
      if (donation === undefined) outs = entry.run(inputs as Tensor[]);
      else {
        outs = donation.call(entry.run, inputs as Tensor[]);
        donation.giveUp(leaves as Tensor[], outs as Tensor[]);
      }
    }
    return treeUnflatten<R>(closed.outTree, outs);
  };
  const graphFor = (...args: Args): ClosedGraph => {
    const [leaves, def] = treeFlatten(args);
    return entryFor(args, leaves, def).closed;
  };
  // One function serves both call signatures: on tensors it returns tensors (`Concrete<R>`).
  const members = { cacheSize: () => cache.size, traceCount: () => watch.count, graphFor };
  return Object.assign(jitted, members) as unknown as Jitted<Args, R>;
}
