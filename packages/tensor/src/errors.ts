/**
 * @file Rewind's errors: tagged values first, carried by one exception class, `RewindError`.
 *
 * Ops throw a `TensorException` whose `error` field is a plain tagged value, so the same value can
 * be thrown inside a computation and returned as an fp-ts `Left` at the package edges
 * (`fromArray`, `safetensors.decode`). Every message names the op, the argument, the shapes or
 * values involved, and what to change. `RewindError` lives here, in the bottom package, so that
 * every package's exception (`GraphException`, the testing package's failures) can extend it
 * without an import cycle: `instanceof RewindError` catches anything Rewind throws on purpose.
 */
import type { Shape } from "./Shape.js";

/** A mistake in how an op was called: which op, which argument, what was seen, what to do. */
export type TensorError =
  | {
      /** Shapes that do not fit together, or a shape the op cannot take. */
      readonly _tag: "ShapeError";
      /** The op that refused the call, e.g. `"matmul"`. */
      readonly op: string;
      /** The argument at fault, as the op's signature names it, e.g. `"b"`. */
      readonly arg: string;
      /** The shapes involved, in argument order. */
      readonly shapes: readonly Shape[];
      /** What is wrong with them. */
      readonly detail: string;
      /** What to change in the call. */
      readonly fix: string;
    }
  | {
      /** An axis outside `[-rank, rank)`. */
      readonly _tag: "AxisError";
      /** The op that refused the call. */
      readonly op: string;
      /** The argument holding the axis, e.g. `"axis"`. */
      readonly arg: string;
      /** The axis that was passed. */
      readonly axis: number;
      /** The rank of the tensor it was meant for. */
      readonly rank: number;
    }
  | {
      /** A dtype the op does not accept, or two dtypes that do not mix. */
      readonly _tag: "DTypeError";
      /** The op that refused the call. */
      readonly op: string;
      /** The argument at fault. */
      readonly arg: string;
      /** What is wrong with the dtype. */
      readonly detail: string;
      /** What to change in the call. */
      readonly fix: string;
    }
  | {
      /** Any other bad argument: a wrong type, a value out of range, a misspelt option. */
      readonly _tag: "ValueError";
      /** The op that refused the call. */
      readonly op: string;
      /** The argument at fault. */
      readonly arg: string;
      /** What arrived and why it is refused. */
      readonly detail: string;
      /** What to change in the call. */
      readonly fix: string;
    }
  | {
      /** Bytes or a file that cannot be read as what was asked (safetensors, JSON, a path). */
      readonly _tag: "DecodeError";
      /** The reader that refused them, e.g. `"safetensors.decode"`. */
      readonly op: string;
      /** What is wrong, with the offset or field where it was found. */
      readonly detail: string;
    };

/**
 * Shapes of at most this rank print in full in messages; longer ones keep their first and last
 * few dimensions and state the rank, so a rank-200,000 shape costs a few dozen characters.
 */
const FULL_RANK = 12;
const HEAD_DIMS = 6;
const TAIL_DIMS = 3;

/**
 * Renders a shape the way messages show it: `[2, 3]`, and `[]` for a scalar. A shape of rank
 * above 12 keeps its first six and last three dimensions: `[1, 1, 1, 1, 1, 1, …, 1, 1, 1] (rank 200000)`.
 * @example formatShape([2, 3]) // "[2, 3]"
 */
export const formatShape = (shape: Shape): string => {
  if (!Array.isArray(shape)) {
    throw new TensorException({
      _tag: "ValueError",
      op: "formatShape",
      arg: "shape",
      detail: `expected an array of dimensions, got ${typeof shape}`,
      fix: "pass a shape such as [2, 3]",
    });
  }
  const dim = (d: unknown): string => (typeof d === "number" ? String(d) : typeof d);
  if (shape.length <= FULL_RANK) return `[${shape.map(dim).join(", ")}]`;
  const head = shape.slice(0, HEAD_DIMS).map(dim);
  const tail = shape.slice(shape.length - TAIL_DIMS).map(dim);
  return `[${[...head, "…", ...tail].join(", ")}] (rank ${shape.length})`;
};

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

const tags: ReadonlySet<string> = new Set(["ShapeError", "AxisError", "DTypeError", "ValueError", "DecodeError"]);

/** Checks the parts of a hand-built error value that formatting reads, so a bad one cannot throw a TypeError. */
const checkError = (e: unknown, op: string): TensorError => {
  const v = e as {
    _tag?: unknown;
    op?: unknown;
    arg?: unknown;
    detail?: unknown;
    fix?: unknown;
    shapes?: unknown;
    axis?: unknown;
    rank?: unknown;
  } | null;
  const ok =
    typeof v === "object" &&
    v !== null &&
    typeof v._tag === "string" &&
    tags.has(v._tag) &&
    typeof v.op === "string" &&
    (v._tag === "AxisError" || typeof v.detail === "string") &&
    (v._tag === "AxisError" || v._tag === "DecodeError" || typeof v.fix === "string") &&
    (v._tag === "DecodeError" || typeof v.arg === "string") &&
    (v._tag !== "ShapeError" || (Array.isArray(v.shapes) && v.shapes.every(Array.isArray))) &&
    (v._tag !== "AxisError" || (typeof v.axis === "number" && typeof v.rank === "number"));
  if (!ok) {
    throw new TensorException({
      _tag: "ValueError",
      op,
      arg: "error",
      detail:
        "not a TensorError value (a _tag of ShapeError, AxisError, DTypeError, ValueError or DecodeError with its fields)",
      fix: "build errors as the TensorError type describes",
    });
  }
  return e as TensorError;
};

/**
 * Turns an error value into the sentence a user reads.
 * @example formatTensorError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 })
 * // "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]"
 */
export const formatTensorError = (error: TensorError): string => {
  const e = checkError(error, "formatTensorError");
  switch (e._tag) {
    case "ShapeError":
      return `${e.op}: ${e.detail} (argument \`${e.arg}\`; shapes ${e.shapes.map(formatShape).join(", ")}); ${e.fix}`;
    case "AxisError":
      return `${e.op}: axis ${e.axis} is out of range for a rank-${e.rank} tensor (argument \`${e.arg}\`); ${
        e.rank === 0 ? "a scalar has no axes" : `use an axis in [${-e.rank}, ${e.rank - 1}]`
      }`;
    case "DTypeError":
    case "ValueError":
      return `${e.op}: ${e.detail} (argument \`${e.arg}\`); ${e.fix}`;
    case "DecodeError":
      return `${e.op}: ${e.detail}`;
  }
};

/**
 * What every tagged error value of Rewind has: a `_tag` naming the kind of mistake and the `op`
 * that found it. `TensorError`, autodiff's `GraphError` and the testing package's `TestingError`
 * all satisfy it; their other fields (argument, shapes, detail, fix) depend on the tag.
 */
export interface RewindErrorValue {
  /** The kind of mistake, e.g. `"ShapeError"` or `"NonScalarOutput"`. */
  readonly _tag: string;
  /** The op, transform or check that found it, e.g. `"matmul"` or `"grad"`. */
  readonly op: string;
}

/**
 * The one exception class of Rewind: every error any package throws on purpose is an instance
 * (`TensorException`, `GraphException` and the testing package's failures are subclasses), so
 * `catch (e) { if (e instanceof RewindError) … }` covers them all. `error` holds the tagged value;
 * `message` is its sentence, capped at `MAX_MESSAGE_LENGTH` characters.
 * @example
 * try { matmul(a, b) } catch (e) { if (e instanceof RewindError) console.log(e.error._tag, e.error.op) }
 */
export class RewindError<E extends RewindErrorValue = RewindErrorValue> extends Error {
  /** The tagged error value, for code that wants to inspect rather than read the message. */
  readonly error: E;
  /**
   * @param error The tagged value.
   * @param message Its sentence; when omitted, `formatError(error)` (which knows the tensor
   *   package's tags). Subclasses of packages above pass the sentence their own formatter wrote,
   *   which is how this package shows their messages without importing them.
   * @param options `cause`: the error that led to this one, if any.
   */
  constructor(error: E, message?: string, options?: { readonly cause?: unknown }) {
    const text = capMessage(message === undefined ? formatError(error as unknown as TensorError) : message);
    // Only an explicit `cause` becomes the property: `new Error(m, {})` would not add one either.
    super(text, options !== undefined && "cause" in options ? { cause: options.cause } : undefined);
    this.name = "RewindError";
    this.error = error;
  }
}

/** The exception every op of this package throws; `error` holds the tagged value. */
export class TensorException extends RewindError<TensorError> {
  constructor(error: TensorError) {
    super(error, formatTensorError(error));
    this.name = "TensorException";
  }
}

/**
 * The sentence a user reads for any Rewind error: the message of a thrown `RewindError` (of any
 * package, as its own formatter wrote it), or the sentence for a `TensorError` value. For the
 * values of autodiff's `GraphError` use the `formatError` of @rewind/autodiff, which adds its tags.
 * @example formatError({ _tag: "AxisError", op: "sum", arg: "axis", axis: 2, rank: 2 })
 * // "sum: axis 2 is out of range for a rank-2 tensor (argument `axis`); use an axis in [-2, 1]"
 */
export const formatError = (error: RewindError | TensorError): string => {
  if (error instanceof RewindError) return error.message;
  const v = error as { _tag?: unknown } | null;
  if (typeof v === "object" && v !== null && typeof v._tag === "string" && !tags.has(v._tag)) {
    throw new TensorException({
      _tag: "ValueError",
      op: "formatError",
      arg: "error",
      detail: `the tag ${JSON.stringify(v._tag.slice(0, 40))} is not one of the tensor package's (ShapeError, AxisError, DTypeError, ValueError, DecodeError)`,
      fix: "pass a thrown RewindError, or format GraphError values with formatError from @rewind/autodiff",
    });
  }
  return formatTensorError(checkError(error, "formatError"));
};

/**
 * Throws a `TensorException` for `error`; typed `never` so it can end an expression.
 * @example const n = ok ? 1 : fail({ _tag: "ValueError", op: "f", arg: "x", detail: "bad", fix: "use 1" })
 */
export const fail = (error: TensorError): never => {
  throw new TensorException(error);
};
