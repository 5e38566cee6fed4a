/**
 * @file Values, tracers, and `bind`: the one place where an op either computes or records.
 *
 * Ops accept concrete tensors or tracers. With no transform active, `bind` runs the primitive's
 * `impl` at once (eager). Under a transform, the innermost active trace records an equation and
 * returns tracers. A value that does not belong to the innermost trace (a concrete tensor, or a
 * tracer of an enclosing transform) is captured as a constant input of the graph being built, so
 * every traced graph is closed. Tracing is the one builder with mutable state; it never escapes
 * `traceToGraph`, whose caller sees only the finished, immutable `Graph`.
 */
import { List } from "immutable";
import { formatShape, isTensor, sizeOf, type DType, type Shape, type Tensor } from "@rewind/tensor";
import { avalOf, Graph, literal, newVar, type Atom, type Aval, type Eqn, type Var } from "./Graph.js";
import { graphFail, zipStrict } from "./errors.js";
import type { AnyPrimitive } from "./Primitive.js";
import { checkFinite, debugState } from "./debugState.js";

/** A traced stand-in for a tensor while a transform builds a graph: it has an aval, no data. */
export class Tracer {
  /** Marks a tracer, so @rewind/tensor (which knows nothing of tracers) can tell one from a tensor record. */
  readonly _tag = "Tracer" as const;
  /** @internal Tracers are made by transforms (`grad`, `jit`, `scan`…); a call by hand throws. */
  constructor(
    /** @internal The trace this tracer belongs to. */
    readonly trace: TraceState,
    /** @internal The graph variable it stands for. */
    readonly variable: Var,
  ) {
    // Tracers are made by transforms; a hand-made one would fail later with a TypeError.
    if (
      !(trace instanceof TraceState) ||
      typeof variable !== "object" ||
      variable === null ||
      variable._tag !== "Var"
    ) {
      graphFail({
        _tag: "InvalidArgument",
        op: "Tracer",
        arg: "trace, variable",
        detail: "tracers are created by transforms (grad, jit, scan, ...), not by hand",
        fix: "trace a function instead, e.g. jit(f) or makeGraph(f)",
      });
    }
    Object.freeze(this);
  }
  /** The shape of the value this tracer stands for. */
  get shape(): Shape {
    return this.variable.aval.shape;
  }
  /** The dtype of the value this tracer stands for. */
  get dtype(): DType {
    return this.variable.aval.dtype;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.variable.aval.shape);
  }
  /**
   * JavaScript's conversion to a primitive. A tracer has no numbers, so `x > 0`, `x + 1`,
   * `Number(x)` and `x == y` throw a `ConcretizationError` naming the transform and the fix
   * (`where`, `scan`, a static argument) instead of silently comparing NaN. Conversion to a
   * string (`${x}`, `String(x)`) describes the tracer: `Tracer<float32[2, 3]>`.
   */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") return `Tracer<${this.dtype}${formatShape(this.shape)}>`;
    return concretizationError(this, "toPrimitive", "used as a JavaScript number (x > 0, x + 1, Number(x), x == y)");
  }
}

/** `op` names the conversion for a tracer whose transform already returned (a leak). */
const concretizationError = (t: Tracer, op: string, use: string): never =>
  t.trace.active
    ? graphFail({ _tag: "ConcretizationError", op: t.trace.transform, aval: t.variable.aval, use })
    : graphFail({ _tag: "TracerLeak", op, aval: t.variable.aval });

// `x.data` on a tracer (e.g. `x.data[0]` inside grad) would read undefined and fail later with a
// raw TypeError. The getter is defined outside the class so that TypeScript still refuses
// `value.data` on a `Value` that was not narrowed to a tensor.
Object.defineProperty(Tracer.prototype, "data", {
  get(this: Tracer): never {
    return concretizationError(this, "data", "read through .data");
  },
});

// @rewind/tensor's functions that read numbers (`item`, `toArray`, the eager kernels) call this
// when handed a tracer, so their error names the transform being traced, as `.data` does. Not
// enumerable and not on the class, so `Value` does not offer it.
Object.defineProperty(Tracer.prototype, "refuseConcrete", {
  value(this: Tracer, use: string): never {
    return concretizationError(this, "refuseConcrete", use);
  },
});

/** What ops take and return: a concrete tensor, or a tracer under a transform. */
export type Value = Tensor | Tracer;

/**
 * True for a tracer (a value being traced by a transform).
 * @example isTracer(zeros([2])) // false
 */
export const isTracer = (v: unknown): v is Tracer => v instanceof Tracer;

/**
 * True for a tensor or a tracer.
 * @example isValue(zeros([2])) // true
 */
export const isValue = (v: unknown): v is Value => v instanceof Tracer || isTensor(v);

/** @internal The mutable builder behind one trace; lives only inside `traceToGraph`. */
export class TraceState {
  active = true;
  /** @param transform The transform tracing (`grad`, `jit`, `scan`…), named in concretization errors. */
  constructor(readonly transform: string) {}
  readonly eqns: Eqn[] = [];
  readonly constVars: Var[] = [];
  readonly constValues: Value[] = [];
  readonly #captured = new Map<Value, Var>();

  /** The atom an equation of this trace reads for `v`, capturing foreign values as constants. */
  atomOf(op: string, v: Value): Atom {
    if (v instanceof Tracer) {
      if (v.trace === this) return v.variable;
      if (!v.trace.active) graphFail({ _tag: "TracerLeak", op, aval: v.variable.aval });
    } else if (v.shape.length === 0) {
      return literal(v);
    }
    let cv = this.#captured.get(v);
    if (cv === undefined) {
      cv = newVar(avalOf(v));
      this.#captured.set(v, cv);
      this.constVars.push(cv);
      this.constValues.push(v);
    }
    return cv;
  }
}

const traceStack: TraceState[] = [];

/**
 * True while some transform is tracing (ops record instead of computing).
 * @example isTracing() // false at top level
 */
export const isTracing = (): boolean => traceStack.length > 0;

const atomAval = (a: Atom): Aval => a.aval;

/**
 * Applies a primitive: computes at once on concrete tensors, or records an equation under a
 * transform. Every op in Rewind goes through here.
 * @example bind(prims.exp, [scalar(0)], undefined) // [tensor 1]
 */
export const bind = <P>(
  prim: AnyPrimitive,
  inputs: readonly Value[],
  params: P,
  tracedAt?: string,
): readonly Value[] => {
  const top = traceStack[traceStack.length - 1];
  if (top === undefined) {
    const tensors = inputs.map((v) => {
      if (v instanceof Tracer) return graphFail({ _tag: "TracerLeak", op: prim.name, aval: v.variable.aval });
      return v;
    });
    const outs = prim.impl(tensors, params);
    if (debugState.nans) checkFinite(prim.name, tensors, outs, tracedAt ?? debugState.vjpOf ?? "");
    return outs;
  }
  const atoms = inputs.map((v) => top.atomOf(prim.name, v));
  const outAvals = prim.abstractEval(atoms.map(atomAval), params);
  const outputs = outAvals.map((aval) =>
    newVar(Object.freeze({ shape: Object.freeze([...aval.shape]), dtype: aval.dtype })),
  );
  // A replayed equation keeps the line it was first traced at; an op a VJP rule emits is
  // attributed to the op being differentiated.
  const source = debugState.nans ? (tracedAt ?? debugState.vjpOf ?? callSite()) : undefined;
  top.eqns.push(Object.freeze({ prim, inputs: atoms, params, outputs, ...(source === undefined ? {} : { source }) }));
  return outputs.map((v) => new Tracer(top, v));
};

/**
 * Whether a stack frame lies in Rewind's own code: any installed package (`@rewind/<name>/dist`,
 * npm's and pnpm's layouts), or, in this repository, the sources every op passes through
 * (`packages/autodiff|tensor/src`; the other packages' are not matched here, so that the pattern
 * stays short in every browser bundle and never takes a user's `packages/<name>/src` for ours).
 * @example isRewindFrame("at sumLeaves (/x/node_modules/@rewind/workers/dist/collective.js:9:1)") // true
 */
export const isRewindFrame = (line: string): boolean =>
  /(@rewind[\\/]\w+|packages[\\/](autodiff|tensor))[\\/](src|dist)[\\/]/.test(line);

/** The first stack frame outside Rewind's code (the user's line), for `debugNans` and export reports. */
const callSite = (): string => {
  const lines = (new Error().stack ?? "").split("\n").slice(1);
  return (lines.find((l) => !isRewindFrame(l)) ?? lines[0] ?? "").trim();
};

/** A graph together with the values it captured (its constants, passed as its first inputs). */
export interface ClosedGraph {
  readonly graph: Graph;
  /** Values of the graph's first `consts.length` inputs. */
  readonly consts: readonly Value[];
}

/**
 * Traces `f` on fresh tracers of `inAvals` into a closed graph whose inputs are
 * `[...captured constants, ...arguments]`. `transform` names the caller in errors.
 * @example traceToGraph((xs) => [exp(xs[0]!)], [{ shape: [2], dtype: "float32" }]).graph.eqns.size // 1
 */
export const traceToGraph = (
  f: (args: readonly Value[]) => readonly Value[],
  inAvals: readonly Aval[],
  transform = "makeGraph",
): ClosedGraph => {
  const state = new TraceState(transform);
  const argVars = inAvals.map((a) => newVar(a));
  traceStack.push(state);
  let outs: readonly Value[];
  try {
    outs = f(argVars.map((v) => new Tracer(state, v)));
  } finally {
    traceStack.pop();
  }
  const outAtoms = outs.map((v) => state.atomOf("output", v));
  state.active = false;
  const graph = new Graph([...state.constVars, ...argVars], List(state.eqns), outAtoms);
  return { graph, consts: state.constValues };
};

/**
 * Evaluates a graph on values with `bind`: computes on tensors, or inlines the graph into the
 * enclosing trace on tracers. `run` evaluates each equation given its inputs (the VJP driver
 * uses it to keep residuals); it must return the equation's outputs (default: `bind`).
 * @example evalGraph(g, [scalar(1)]) // the graph's outputs
 */
export const evalGraph = (
  graph: Graph,
  inputs: readonly Value[],
  run: (eqn: Eqn, ins: readonly Value[]) => readonly Value[] = (eqn, ins) =>
    bind(eqn.prim, ins, eqn.params, eqn.source),
): readonly Value[] => {
  const env = new Map<number, Value>();
  for (const [v, x] of zipStrict(graph.inputs, inputs)) env.set(v.id, x);
  const read = (a: Atom): Value => (a._tag === "Literal" ? a.value : (env.get(a.id) ?? missing(a)));
  for (const eqn of graph.eqns) {
    const outs = run(eqn, eqn.inputs.map(read));
    for (const [v, x] of zipStrict(eqn.outputs, outs)) env.set(v.id, x);
  }
  return graph.outputs.map(read);
};

const missing = (a: Var): never => {
  throw new Error(`Rewind internal error: variable ${a.id} read before it was defined`);
};
