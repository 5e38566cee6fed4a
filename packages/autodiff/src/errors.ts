/**
 * @file Errors found while building or transforming graphs: tagged values carried by one exception.
 *
 * Mistakes found at trace time (a carry whose shape changes, `grad` of a non-scalar, a tracer
 * used after its transform returned) throw a `GraphException` whose `error` is a plain tagged
 * value. Shape errors inside ops come from @rewind/tensor's shape rules as `TensorException`s;
 * both carry the op, the argument or pytree path, the shapes, and what to change, and both are
 * `RewindError`s (defined in @rewind/tensor so that this package can extend it without a cycle).
 */
import { RewindError, formatError as formatTensorSideError, type TensorError } from "@rewind/tensor";
import type { Aval } from "./Graph.js";
import { describeAval } from "./Graph.js";

/** A mistake in how a transform or op was used. */
export type GraphError =
  | {
      /** A scan step returned a carry whose structure, shape or dtype differs from its input carry. */
      readonly _tag: "CarryMismatch";
      /** The transform or op that found it (`scan`, `rnn`…). */
      readonly op: string;
      /** The pytree path of the carry leaf that differs (`.h`, `[1]`). */
      readonly path: string;
      /** What the input carry has there. */
      readonly expected: Aval | string;
      /** What the step returned there. */
      readonly actual: Aval | string;
    }
  | {
      /** A function differentiated by `grad` returned something other than a float scalar. */
      readonly _tag: "NonScalarOutput";
      /** The transform (`grad`, `valueAndGrad`…). */
      readonly op: string;
      /** The shape and dtype the function returned. */
      readonly aval: Aval;
    }
  | {
      /** Two pytrees that must have one structure do not, or a pytree Rewind cannot walk. */
      readonly _tag: "TreeMismatch";
      /** The function that compared or flattened them. */
      readonly op: string;
      /** Where they differ, as a path from the root (`<root>` for the whole tree). */
      readonly path: string;
      /** What differs there. */
      readonly detail: string;
      /** What to change. */
      readonly fix: string;
    }
  | {
      /** A tracer used after the transform that created it returned (stored in an outer variable). */
      readonly _tag: "TracerLeak";
      /** The op that met the leaked tracer. */
      readonly op: string;
      /** The leaked tracer's shape and dtype. */
      readonly aval: Aval;
    }
  | {
      /** A bad argument: wrong type, wrong value, misspelt option. */
      readonly _tag: "InvalidArgument";
      /** The function that refused it. */
      readonly op: string;
      /** The argument, as the signature names it (`options.length`). */
      readonly arg: string;
      /** What arrived and why it is refused. */
      readonly detail: string;
      /** What to change. */
      readonly fix: string;
    }
  | {
      /** Under `withDebugNans`, a primitive produced a NaN or an infinity. */
      readonly _tag: "NonFinite";
      /** The primitive whose output holds it. */
      readonly op: string;
      /** Which output holds how many of them, and whether an input already did. */
      readonly detail: string;
      /** Where the equation was traced (a stack line), or `""` when eager. */
      readonly source: string;
    }
  | {
      /** A traced value used where JavaScript needs numbers (`x > 0`, `Number(x)`, `x.data`). */
      readonly _tag: "ConcretizationError";
      /** The transform tracing (`grad`, `jit`, `scan`…). */
      readonly op: string;
      /** The tracer's shape and dtype. */
      readonly aval: Aval;
      /** How it was used, as a phrase (`"used as a JavaScript number (x > 0, …)"`). */
      readonly use: string;
    };

const show = (a: Aval | string): string => (typeof a === "string" ? a : describeAval(a));

const isAval = (a: unknown): boolean =>
  typeof a === "object" && a !== null && Array.isArray((a as Aval).shape) && typeof (a as Aval).dtype === "string";

/** The fields each tag's message reads, so a hand-built error cannot make formatting throw a TypeError. */
const fieldsOf: Readonly<Record<GraphError["_tag"], readonly string[]>> = {
  CarryMismatch: ["op", "path"],
  NonScalarOutput: ["op"],
  TreeMismatch: ["op", "path", "detail", "fix"],
  TracerLeak: ["op"],
  InvalidArgument: ["op", "arg", "detail", "fix"],
  NonFinite: ["op", "detail", "source"],
  ConcretizationError: ["op", "use"],
};

const checkGraphError = (e: unknown, op: string): GraphError => {
  const v = e as Record<string, unknown> | null;
  const fields =
    typeof v === "object" && v !== null && typeof v["_tag"] === "string"
      ? fieldsOf[v["_tag"] as GraphError["_tag"]]
      : undefined;
  const ok =
    fields !== undefined &&
    Object.prototype.hasOwnProperty.call(fieldsOf, v!["_tag"] as string) &&
    fields.every((f) => typeof v![f] === "string") &&
    (v!["_tag"] !== "CarryMismatch" ||
      ["expected", "actual"].every((f) => typeof v![f] === "string" || isAval(v![f]))) &&
    (!["NonScalarOutput", "TracerLeak", "ConcretizationError"].includes(v!["_tag"] as string) || isAval(v!["aval"]));
  if (!ok) {
    throw new GraphException({
      _tag: "InvalidArgument",
      op,
      arg: "error",
      detail: "not a GraphError value (a known _tag with its fields)",
      fix: "build errors as the GraphError type describes",
    });
  }
  return e as GraphError;
};

/**
 * The sentence a user reads for a `GraphError`.
 * @example formatGraphError({ _tag: "NonScalarOutput", op: "grad", aval: { shape: [3], dtype: "float32" } })
 */
export const formatGraphError = (error: GraphError): string => {
  const e = checkGraphError(error, "formatGraphError");
  switch (e._tag) {
    case "CarryMismatch":
      return (
        `${e.op}: the carry output at ${e.path} is ${show(e.actual)} but the carry input is ${show(e.expected)}; ` +
        "make the step function return a carry with the same pytree structure, shapes and dtypes as its input carry"
      );
    case "NonScalarOutput": {
      // A scalar of the wrong dtype needs a different fix from a float of the wrong shape.
      const floating = e.aval.dtype === "float32" || e.aval.dtype === "float64";
      const keepFloat = `keep the loss in floats: convert integer or boolean inputs with astype(x, "float32") before computing it, and do not cast the result to ${e.aval.dtype}`;
      const an = e.aval.dtype === "int32" ? "an" : "a";
      const got =
        e.aval.shape.length === 0 ? `${an} ${e.aval.dtype} scalar ${describeAval(e.aval)}` : describeAval(e.aval);
      const fix = floating
        ? "reduce it first (e.g. sum or mean), or use vjp/jacrev for non-scalar outputs"
        : e.aval.shape.length === 0
          ? `${an} ${e.aval.dtype} value has no gradient; ${keepFloat}`
          : `reduce it (e.g. sum or mean) and ${keepFloat}; ${an} ${e.aval.dtype} value has no gradient`;
      const want = floating ? "a scalar (shape []) float" : "a float scalar (shape [], float32 or float64)";
      return `${e.op}: the function must return ${want} to be differentiated, got ${got}; ${fix}`;
    }
    case "TreeMismatch":
      return `${e.op}: pytree mismatch at ${e.path}: ${e.detail}; ${e.fix}`;
    case "TracerLeak":
      return (
        `${e.op}: a traced value ${describeAval(e.aval)} was used after the transform that created it returned ` +
        "(a tracer leaked, e.g. stored in an outer variable inside grad/jit/scan); return it from the function instead"
      );
    case "InvalidArgument":
      return `${e.op}: ${e.detail} (argument \`${e.arg}\`); ${e.fix}`;
    case "NonFinite":
      return `${e.op}: ${e.detail}${e.source ? `\n  traced at ${e.source}` : ""}`;
    case "ConcretizationError":
      return (
        `${e.op}: a traced value ${describeAval(e.aval)} was ${e.use}, but while ${e.op} traces the function its values have a shape and a dtype, not numbers ` +
        `(a concretization error); choose between values with where(cond, a, b) instead of ?: or if, write loops whose step count depends on values with scan, ` +
        `or compute the value outside ${e.op} and pass it in as a plain number (a static argument)`
      );
  }
};

/** The exception transforms throw; `error` holds the tagged value. A `RewindError`. */
export class GraphException extends RewindError<GraphError> {
  constructor(error: GraphError) {
    super(error, formatGraphError(error));
    this.name = "GraphException";
  }
}

const graphTags: ReadonlySet<string> = new Set(Object.keys(fieldsOf));

/**
 * The sentence a user reads for any Rewind error: the message of a thrown `RewindError` of any
 * package, or the sentence for a `GraphError` or `TensorError` value (by its `_tag`). The same
 * as @rewind/tensor's `formatError`, plus autodiff's tags.
 * @example formatError({ _tag: "NonScalarOutput", op: "grad", aval: { shape: [3], dtype: "float32" } })
 * // "grad: the function must return a scalar (shape []) float to be differentiated, got f32[3]; …"
 */
export const formatError = (error: RewindError | GraphError | TensorError): string => {
  const v = error as { _tag?: unknown } | null;
  if (
    !(error instanceof RewindError) &&
    typeof v === "object" &&
    v !== null &&
    typeof v._tag === "string" &&
    graphTags.has(v._tag)
  ) {
    return formatGraphError(checkGraphError(error, "formatError"));
  }
  return formatTensorSideError(error as RewindError | TensorError);
};

/**
 * Throws a `GraphException`; typed `never` so it can end an expression.
 * @example const x = ok ? 1 : graphFail({ _tag: "InvalidArgument", op: "scan", arg: "length", detail: "negative", fix: "pass ≥ 0" })
 */
export const graphFail = (error: GraphError): never => {
  throw new GraphException(error);
};

/**
 * Throws an internal-invariant error (a bug in Rewind, not in user code).
 * @example if (a.length !== b.length) internalError("zip: lengths differ")
 */
export const internalError = (message: string): never => {
  throw new Error(`Rewind internal error: ${message}`);
};

/**
 * Zips two arrays, throwing when their lengths differ instead of truncating (JAX's `safe_zip`).
 * @example zipStrict([1, 2], ["a", "b"]) // [[1, "a"], [2, "b"]]
 */
export const zipStrict = <A, B>(as: readonly A[], bs: readonly B[]): Array<readonly [A, B]> => {
  if (as.length !== bs.length) internalError(`zipStrict: lengths ${as.length} and ${bs.length} differ`);
  return as.map((a, i) => [a, bs[i]!] as const);
};
