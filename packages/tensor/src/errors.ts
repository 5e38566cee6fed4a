/**
 * @file Rewind's errors: tagged values first, carried by one exception class, `RewindError`.
 *
 * Every error any Rewind package throws on purpose is a `RewindError` whose `error` field is a
 * value of one tagged union, `RewindErrorValue` (`errorTypes.ts`), with the same field names
 * for every tag: `_tag`, `op`, `arg`, `shapes`, `detail`, `fix`. The same value can be thrown
 * inside a computation and returned as an fp-ts `Left` at the package edges (`fromArray`,
 * `safetensors.decode`), and one formatter (`errorText.ts`) writes the sentence of every tag.
 * `fail` throws any value; the class it picks follows the tag alone (`TensorException` for the
 * tensor tags, `GraphException` for autodiff's), so which package found a mistake never changes
 * how it is caught. All of it lives in the bottom package so every package can use it without
 * an import cycle.
 */
import { completeError, errorSentence, errorValueProblem, GRAPH_TAGS, shapeText, TENSOR_TAGS } from "./errorText.js";
import type { GraphErrorValue, RewindErrorInput, RewindErrorValue, TensorErrorValue } from "./errorTypes.js";
import type { Shape } from "./Shape.js";

export type * from "./errorTypes.js";

/** The errors of @rewind/tensor's ops and readers (the tensor tags of `RewindErrorValue`). */
export type TensorError = TensorErrorValue;

/**
 * The longest message any exception of Rewind carries, in characters. Parts of a message that
 * grow with the input (shapes, values, paths) are elided where they are written; this is the
 * final bound for everything else.
 */
export const MAX_MESSAGE_LENGTH = 2000;

/**
 * `text` when it has at most `max` characters (default `MAX_MESSAGE_LENGTH`); otherwise its
 * beginning, which names the op, and `… (N more characters)`, together at most `max` long.
 * Every exception class of Rewind passes its message through this.
 * @example capMessage("x".repeat(3000)).length // 2000
 */
export const capMessage = (text: string, max: number = MAX_MESSAGE_LENGTH): string => {
  if (typeof text !== "string") {
    throw new TensorException({
      _tag: "ValueError",
      op: "capMessage",
      arg: "text",
      detail: `expected a string, got ${typeof text}`,
      fix: "pass the message text",
    });
  }
  if (!(Number.isSafeInteger(max) && max >= 40)) {
    throw new TensorException({
      _tag: "ValueError",
      op: "capMessage",
      arg: "max",
      detail: `expected an integer of at least 40, got ${String(max)}`,
      fix: "pass a length such as 2000 (or omit it)",
    });
  }
  if (text.length <= max) return text;
  // The suffix's own length depends on the count it states; at most two tries settle it.
  let kept = max - ` … (${text.length} more characters)`.length;
  kept = max - ` … (${text.length - kept} more characters)`.length;
  // Never end on the first half of a surrogate pair.
  const last = text.charCodeAt(kept - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept--;
  return `${text.slice(0, kept)} … (${text.length - kept} more characters)`;
};

/** What any error value has, whatever its origin: the bound of `RewindError`'s type parameter. */
export interface RewindErrorLike {
  /** The kind of mistake. */
  readonly _tag: string;
  /** Who found it. */
  readonly op: string;
}

/** `e` checked and completed, or a `TensorException` naming `op` (the function that was handed it). */
const valueOf = (e: unknown, op: string): RewindErrorValue => {
  const problem = errorValueProblem(e);
  if (problem === undefined) return completeError(e as RewindErrorInput);
  // Built by hand (not through `fail`), so that a bad value here cannot recurse.
  const value: TensorErrorValue = {
    _tag: "ValueError",
    op,
    arg: "error",
    detail: `not a Rewind error value (${problem})`,
    fix: "build errors as the RewindErrorValue type describes: _tag, op, arg, shapes, detail and fix",
  };
  throw new TensorException(value);
};

/**
 * The one exception class of Rewind: every error any package throws on purpose is an instance
 * (`TensorException` and `GraphException` are its subclasses for the tensor and autodiff tags),
 * so `catch (e) { if (e instanceof RewindError) … }` covers them all. `error` holds the tagged
 * value with its uniform fields; `message` is its sentence, capped at `MAX_MESSAGE_LENGTH`.
 * @example
 * try { matmul(a, b) } catch (e) { if (e instanceof RewindError) console.log(e.error._tag, e.error.fix) }
 */
export class RewindError<E extends RewindErrorLike = RewindErrorValue> extends Error {
  /** The tagged error value, for code that wants to inspect rather than read the message. */
  readonly error: E;
  /**
   * @param error The tagged value (detail and fix may be left out where `RewindErrorInput`
   *   allows it; the stored value has them).
   * @param message Its sentence; when omitted, `formatError(error)`. A value of a tag Rewind
   *   does not know is accepted only with its sentence.
   * @param options `cause`: the error that led to this one, if any.
   */
  constructor(error: E, message?: string, options?: { readonly cause?: unknown }) {
    const known = message === undefined || errorValueProblem(error) === undefined;
    const value = known ? (valueOf(error, "formatError") as unknown as E) : error;
    const text = capMessage(message === undefined ? errorSentence(value as unknown as RewindErrorValue) : message);
    // Only an explicit `cause` becomes the property: `new Error(m, {})` would not add one either.
    super(text, options !== undefined && "cause" in options ? { cause: options.cause } : undefined);
    this.name = "RewindError";
    this.error = value;
  }
}

/**
 * The `RewindError` of the tensor tags (`ShapeError`, `AxisError`, `DTypeError`, `ValueError`,
 * `DecodeError`), whoever throws it; `fail` picks it from the tag.
 */
export class TensorException extends RewindError<TensorError> {
  constructor(error: RewindErrorInput) {
    const value = valueOf(error, "formatTensorError");
    if (!TENSOR_TAGS.has(value._tag)) notOfFamily(value._tag, "TensorException", "GraphException");
    super(value as TensorError, errorSentence(value));
    this.name = "TensorException";
  }
}

/**
 * The `RewindError` of @rewind/autodiff's tags (`CarryMismatch`, `NonScalarOutput`,
 * `TreeMismatch`, `TracerLeak`, `InvalidArgument`, `NonFinite`, `ConcretizationError`), whoever
 * throws it; `fail` picks it from the tag. Exported by @rewind/autodiff too.
 */
export class GraphException extends RewindError<GraphErrorValue> {
  constructor(error: RewindErrorInput) {
    const value = valueOf(error, "formatGraphError");
    if (!GRAPH_TAGS.has(value._tag)) notOfFamily(value._tag, "GraphException", "TensorException");
    super(value as GraphErrorValue, errorSentence(value));
    this.name = "GraphException";
  }
}

const notOfFamily = (tag: string, cls: string, other: string): never => {
  throw new TensorException({
    _tag: "ValueError",
    op: cls,
    arg: "error",
    detail: `the tag ${tag} is not one of ${cls}'s`,
    fix: `throw it with fail(error), which picks the class from the tag (here a ${other} or a RewindError)`,
  });
};

/**
 * The exception for `error`: a `TensorException` for the tensor tags, a `GraphException` for
 * autodiff's, a plain `RewindError` for the rest (the testing package's). The class follows the
 * tag alone, so the same mistake is caught the same way whichever package found it.
 * @example
 * rewindError({ _tag: "ValueError", op: "f", arg: "x", detail: "bad", fix: "use 1" }) instanceof TensorException
 * // true
 */
export const rewindError = (error: RewindErrorInput): RewindError => {
  // A malformed value is refused under the name it always was (the formatter's).
  if (errorValueProblem(error) !== undefined) valueOf(error, "formatTensorError");
  const tag = (error as { _tag?: unknown } | null)?._tag;
  if (typeof tag === "string" && TENSOR_TAGS.has(tag)) return new TensorException(error);
  if (typeof tag === "string" && GRAPH_TAGS.has(tag)) return new GraphException(error);
  return new RewindError(error as RewindErrorValue);
};

/**
 * Renders a shape the way messages show it: `[2, 3]`, and `[]` for a scalar. A shape of rank
 * above 12 keeps its first six and last three dimensions: `[1, 1, 1, 1, 1, 1, …, 1, 1, 1] (rank 200000)`.
 * @example formatShape([2, 3]) // "[2, 3]"
 */
export const formatShape = (shape: Shape): string =>
  Array.isArray(shape)
    ? shapeText(shape)
    : fail({
        _tag: "ValueError",
        op: "formatShape",
        arg: "shape",
        detail: `expected an array of dimensions, got ${typeof shape}`,
        fix: "pass a shape such as [2, 3]",
      });

/**
 * The sentence a user reads for any Rewind error: the message of a thrown `RewindError`, or the
 * sentence of an error value of any tag of any package (one formatter for all of them):
 * `op: detail (argument `arg`; shapes …); fix`.
 * @example formatError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 })
 * // "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]"
 */
export const formatError = (error: RewindError<RewindErrorLike> | RewindErrorInput): string =>
  error instanceof RewindError ? error.message : errorSentence(valueOf(error, "formatError"));

/**
 * `formatError` for an error value, under its old name.
 * @deprecated Use `formatError`, which formats the values of every package.
 * @example formatTensorError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 })
 * // "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]"
 */
export const formatTensorError = (error: RewindErrorInput): string =>
  errorSentence(valueOf(error, "formatTensorError"));

/**
 * `formatError` for an error value, under autodiff's old name (re-exported by @rewind/autodiff).
 * @deprecated Use `formatError`, which formats the values of every package.
 * @example formatGraphError({ _tag: "NonScalarOutput", op: "grad", aval: { shape: [3], dtype: "float32" } })
 */
export const formatGraphError = (error: RewindErrorInput): string => errorSentence(valueOf(error, "formatGraphError"));

/**
 * Throws the `RewindError` for `error` (see `rewindError` for its class); typed `never` so it
 * can end an expression.
 * @example const n = ok ? 1 : fail({ _tag: "ValueError", op: "f", arg: "x", detail: "bad", fix: "use 1" })
 */
export const fail = (error: RewindErrorInput): never => {
  throw rewindError(error);
};
