/**
 * @file What a primitive is: one object holding its shape rule, its numeric impl, its VJP and its
 * batching rule (`vmap`).
 *
 * A primitive's semantics (shape rule, impl, VJP) live in one value (`definePrimitive`), and the
 * registry type (see primitives/index.ts) refuses a primitive without a VJP rule. Adding one also
 * touches its tensor kernel, its public op, the compiler's tables (`compile/ewOps.ts` or
 * `compile/lower.ts`) and the tests: CONTRIBUTING.md, "Adding a primitive", lists every file, and
 * the tables and the gradient-check specs are keyed by `PrimitiveName`, so the type checker names
 * each one a new primitive is missing from. VJP rules are written with graph ops handed in as
 * `kit` (never imported, so there is no import cycle): the backward pass is itself made of
 * primitives and can be differentiated again. Forward mode needs no rules of its own: a VJP is
 * linear in its cotangent, so differentiating the pullback gives the JVP (see `jvp` in api.ts).
 */
import type { Tensor } from "@rewind/tensor";
import { optionsProblem } from "@rewind/tensor/internal/check";
import type { Aval, Graph } from "./Graph.js";
import type { Value } from "./core.js";
import type { Kit } from "./kit.js";
import { graphFail } from "./errors.js";

/** What a VJP rule may read: the primal inputs and outputs, params, residuals, and which inputs need a cotangent. */
export interface VjpContext<P> {
  /** The primal inputs, in argument order. */
  readonly ins: readonly Value[];
  /** The primal outputs. */
  readonly outs: readonly Value[];
  /** The equation's static parameters. */
  readonly params: P;
  /** Extra values saved by the primitive's `forward` hook (empty without one). */
  readonly residuals: readonly Value[];
  /** Non-tensor data saved by the `forward` hook (customVjp keeps its residual pytree structure here). */
  readonly aux: unknown;
  /** `needs[i]` is false when input i needs no cotangent; a rule may return `null` there to save work. */
  readonly needs: readonly boolean[];
}

/**
 * Pulls output cotangents back to input cotangents, using only graph ops from `kit`.
 * `cts` has one (never null) entry per output; the result has one entry per input, `null` for
 * "no cotangent flows here".
 */
export type VjpRule<P> = (cts: readonly Value[], ctx: VjpContext<P>, kit: Kit) => ReadonlyArray<Value | null>;

/** What a `forward` hook returns: the outputs, extra residual values, and optional non-tensor data. */
export interface ForwardResult {
  /** The primitive's outputs, as `impl` would give them. */
  readonly outs: readonly Value[];
  /** Values the VJP rule will read as `ctx.residuals`. */
  readonly residuals: readonly Value[];
  /** Non-tensor data the VJP rule will read as `ctx.aux`. */
  readonly aux?: unknown;
}

/** Marks a primitive whose outputs carry no gradient (comparisons, argmax, integer casts). */
export const noGradient = "noGradient" as const;

/** The axis of a value that indexes the examples under `vmap`, or `null` for a value shared by all of them. */
export type BatchDim = number | null;

/** What a batching rule may read besides its inputs. */
export interface BatchContext<P> {
  /** The equation's static parameters, for one example. */
  readonly params: P;
  /** The batch axis of each input (`null`: not batched); at least one is a number. */
  readonly dims: readonly BatchDim[];
  /** The number of examples. */
  readonly size: number;
  /** Applies this same primitive to new inputs and params (recording or computing, like every op). */
  readonly bind: (ins: readonly Value[], params: P) => readonly Value[];
}

/**
 * Runs a primitive on inputs that carry a batch axis, with graph ops only (so it computes eagerly
 * and records under an enclosing transform): returns the outputs and the batch axis of each. It
 * moves the batch axis instead of looping over the examples.
 */
export type BatchRule<P> = (ins: readonly Value[], ctx: BatchContext<P>, kit: Kit) => BatchResult;

/** What a batching rule returns: the outputs and the batch axis of each. */
export type BatchResult = readonly [outs: readonly Value[], dims: readonly BatchDim[]];

/**
 * Marks a primitive that `vmap` batches by looping over the examples (slice, apply, stack): a
 * generic fallback, correct but slow, for primitives that have no batching rule yet (issue #16).
 */
export const batchByLoop = "batchByLoop" as const;

/** A primitive: name, shape rule, impl, VJP rule, and optional forward hook and printing. */
export interface Primitive<Name extends string, P> {
  /** The name printed graphs show and the registry keys it by; unique among primitives. */
  readonly name: Name;
  /** Output avals from input avals; runs at trace time, never reads data. Throws on bad shapes. */
  readonly abstractEval: (ins: readonly Aval[], params: P) => readonly Aval[];
  /** Numeric evaluation on concrete tensors. Must not write its inputs. */
  readonly impl: (ins: readonly Tensor[], params: P) => readonly Tensor[];
  /** The VJP rule, or `noGradient`. */
  readonly vjp: VjpRule<P> | typeof noGradient;
  /**
   * The batching rule `vmap` uses, or `batchByLoop`. Optional here so that primitives defined
   * outside Rewind keep compiling (vmap loops over the examples for them); the registry's type
   * requires it of every built-in primitive.
   */
  readonly batch?: BatchRule<P> | typeof batchByLoop;
  /**
   * Optional: how to run the primitive when it will be differentiated, returning extra residuals
   * for `vjp` (scan saves its per-step carries this way instead of recomputing them).
   */
  readonly forward?: (ins: readonly Value[], params: P, kit: Kit, needs: readonly boolean[]) => ForwardResult;
  /** Params as text for printed graphs (default: JSON of the params). */
  readonly printParams?: (params: P) => string;
  /** Graphs held in params, printed nested under the equation (scan's body). */
  readonly subgraphs?: (params: P) => ReadonlyArray<readonly [string, Graph]>;
}

/** A primitive of any name and params, as stored in equations. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPrimitive = Primitive<string, any>;

/** A primitive that says how `vmap` batches it (every primitive of the registry is one). */
export interface BatchedPrimitive {
  /** The batching rule, or `batchByLoop`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any params, as AnyPrimitive
  readonly batch: BatchRule<any> | typeof batchByLoop;
}

/** The fields of a `Primitive`, in the order of its type. */
const PRIMITIVE_KEYS: readonly string[] = [
  "name",
  "abstractEval",
  "impl",
  "vjp",
  "batch",
  "forward",
  "printParams",
  "subgraphs",
];

/** A primitive's batching rule made required (what the registry asks of every built-in primitive). */
export interface HasBatchRule<P> {
  /** The batching rule `vmap` uses, or `batchByLoop` (the generic loop over the examples). */
  readonly batch: BatchRule<P> | typeof batchByLoop;
}

/**
 * Declares a primitive; the identity at run time, it exists so the type checker sees every field.
 * With a `batch` rule the result's type says so (the registry requires it).
 * @example
 * const neg = definePrimitive<"neg", void>({
 *   name: "neg", abstractEval: ([x]) => [x!], impl: ..., vjp: ([g], _, k) => [k.neg(g)],
 *   batch: (ins, { dims, params, bind }) => [bind(ins, params), dims] })
 */
export function definePrimitive<Name extends string, P>(
  prim: Primitive<Name, P> & HasBatchRule<P>,
): Primitive<Name, P> & HasBatchRule<P>;
export function definePrimitive<Name extends string, P>(prim: Primitive<Name, P>): Primitive<Name, P>;
export function definePrimitive<Name extends string, P>(prim: Primitive<Name, P>): Primitive<Name, P> {
  const p = prim as unknown as Partial<Record<string, unknown>> | null;
  // A misspelt optional rule (`fowrard`) would silently leave the default in place.
  const keysProblem =
    typeof p === "object" && p !== null ? optionsProblem("definePrimitive", "prim", p, PRIMITIVE_KEYS) : undefined;
  if (keysProblem !== undefined)
    graphFail({
      _tag: "InvalidArgument",
      op: "definePrimitive",
      arg: keysProblem.arg,
      detail: keysProblem.detail,
      fix: keysProblem.fix,
    });
  const problem =
    typeof p !== "object" || p === null
      ? "expected a primitive object"
      : typeof p["name"] !== "string" || p["name"] === ""
        ? "name must be a non-empty string"
        : typeof p["abstractEval"] !== "function" || typeof p["impl"] !== "function"
          ? "abstractEval and impl must be functions"
          : typeof p["vjp"] !== "function" && p["vjp"] !== noGradient
            ? 'vjp must be a function or "noGradient"'
            : p["batch"] !== undefined && typeof p["batch"] !== "function" && p["batch"] !== batchByLoop
              ? 'batch must be a function or "batchByLoop"'
              : ["forward", "printParams", "subgraphs"].find((k) => p[k] !== undefined && typeof p[k] !== "function");
  if (problem !== undefined) {
    graphFail({
      _tag: "InvalidArgument",
      op: "definePrimitive",
      arg: "prim",
      detail: problem.includes(" ") ? problem : `${problem} must be a function`,
      fix: "pass { name, abstractEval, impl, vjp } (see the Primitive type)",
    });
  }
  return Object.freeze(prim);
}
