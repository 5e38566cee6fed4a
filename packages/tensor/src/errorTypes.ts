/**
 * @file The one tagged union of Rewind's errors, for every package. It lives in the bottom
 * package so that autodiff, rnn, optim and testing can use it without an import cycle.
 *
 * Every variant has the same field names: `_tag` (the kind of mistake), `op` (who found it),
 * `arg` (the argument at fault, when one is), `shapes` (when shapes matter), `detail` (what is
 * wrong) and `fix` (what to change; `""` when no general advice exists, e.g. for a damaged file).
 * A few tags keep extra fields for code that inspects them (`axis` and `rank` of an `AxisError`,
 * the `aval` of a `NonScalarOutput`); the sentence a user reads comes from the uniform ones.
 */
import type { DType } from "./DType.js";
import type { Shape } from "./Shape.js";

/** The shape and dtype of a value (autodiff's `Aval`), as error values carry it. */
export interface ErrorAval {
  /** Its shape. */
  readonly shape: Shape;
  /** Its dtype. */
  readonly dtype: DType;
}

/** The fields every error value has, whatever its tag. */
export interface ErrorFields<Tag extends string> {
  /** The kind of mistake, e.g. `"ShapeError"` or `"NonScalarOutput"`. */
  readonly _tag: Tag;
  /** The op, transform or check that found it, e.g. `"matmul"` or `"grad"`. */
  readonly op: string;
  /** The argument at fault, as the signature names it (`"b"`, `"options.axis"`), when one is. */
  readonly arg?: string;
  /** The shapes involved, in argument order, when shapes are the problem. */
  readonly shapes?: readonly Shape[];
  /** What is wrong: what arrived and why it is refused. */
  readonly detail: string;
  /** What to change in the call; `""` when there is no general advice. */
  readonly fix: string;
}

/** The fields that an error about one argument must have (`arg` is optional in `ErrorFields`). */
export interface NamedArgument {
  /** The argument at fault, as the signature names it (`"b"`, `"options.axis"`). */
  readonly arg: string;
}

/** Shapes that do not fit together, or a shape the op cannot take. */
export type ShapeErrorValue = ErrorFields<"ShapeError"> &
  NamedArgument & {
    /** The shapes involved, in argument order. */
    readonly shapes: readonly Shape[];
  };
/** An axis outside `[-rank, rank)`. */
export type AxisErrorValue = ErrorFields<"AxisError"> &
  NamedArgument & {
    /** The axis that was passed. */
    readonly axis: number;
    /** The rank of the tensor it was meant for. */
    readonly rank: number;
  };
/** A dtype the op does not accept, or two dtypes that do not mix. */
export type DTypeErrorValue = ErrorFields<"DTypeError"> & NamedArgument;
/** Any other bad argument of an op: a wrong type, a value out of range, a misspelt option. */
export type ValueErrorValue = ErrorFields<"ValueError"> & NamedArgument;
/** Bytes or a file that cannot be read as what was asked (safetensors, JSON, a path). */
export type DecodeErrorValue = ErrorFields<"DecodeError">;

/** A scan step returned a carry whose structure, shape or dtype differs from its input carry. */
export type CarryMismatchValue = ErrorFields<"CarryMismatch"> & {
  /** The pytree path of the carry leaf that differs (`.h`, `[1]`). */
  readonly path: string;
  /** What the input carry has there. */
  readonly expected: ErrorAval | string;
  /** What the step returned there. */
  readonly actual: ErrorAval | string;
};
/** A function differentiated by `grad` returned something other than a float scalar. */
export type NonScalarOutputValue = ErrorFields<"NonScalarOutput"> & {
  /** The shape and dtype the function returned. */
  readonly aval: ErrorAval;
};
/** Two pytrees that must have one structure do not, or a pytree Rewind cannot walk. */
export type TreeMismatchValue = ErrorFields<"TreeMismatch"> & {
  /** Where they differ, as a path from the root (`<root>` for the whole tree). */
  readonly path: string;
};
/** A tracer used after the transform that created it returned (stored in an outer variable). */
export type TracerLeakValue = ErrorFields<"TracerLeak"> & {
  /** The leaked tracer's shape and dtype. */
  readonly aval: ErrorAval;
};
/** A bad argument of a transform (autodiff's older name for `ValueError`, kept). */
export type InvalidArgumentValue = ErrorFields<"InvalidArgument"> & NamedArgument;
/** Under `withDebugNans`, a primitive produced a NaN or an infinity. */
export type NonFiniteValue = ErrorFields<"NonFinite"> & {
  /** Where the equation was traced (a stack line), or `""` when eager. */
  readonly source: string;
};
/** A traced value used where JavaScript needs numbers (`x > 0`, `Number(x)`, `x.data`). */
export type ConcretizationErrorValue = ErrorFields<"ConcretizationError"> & {
  /** The tracer's shape and dtype. */
  readonly aval: ErrorAval;
  /** How it was used, as a phrase (`"used as a JavaScript number (x > 0, …)"`). */
  readonly use: string;
};
/**
 * A law or check of @rewind/testing that does not hold (`TestFailure`), or a checker called
 * wrongly (`TestArgumentError`). Their `detail` is the whole sentence, starting with the op.
 */
export type TestingErrorValue = ErrorFields<"TestFailure" | "TestArgumentError">;

/** The errors of @rewind/tensor's ops and readers (thrown as `TensorException`s). */
export type TensorErrorValue = ShapeErrorValue | AxisErrorValue | DTypeErrorValue | ValueErrorValue | DecodeErrorValue;

/** The errors of @rewind/autodiff's transforms and pytrees (thrown as `GraphException`s). */
export type GraphErrorValue =
  | CarryMismatchValue
  | NonScalarOutputValue
  | TreeMismatchValue
  | TracerLeakValue
  | InvalidArgumentValue
  | NonFiniteValue
  | ConcretizationErrorValue;

/** Every error value of Rewind: one tagged union with uniform fields, whatever the package. */
export type RewindErrorValue = TensorErrorValue | GraphErrorValue | TestingErrorValue;

/** Every tag of `RewindErrorValue`. */
export type RewindErrorTag = RewindErrorValue["_tag"];

/**
 * Tags whose `detail` and `fix` follow from their other fields; a hand-built value may leave
 * them out (as values did before the fields were uniform) and gets them when thrown or formatted.
 */
export type DerivedTextTag = "AxisError" | "NonScalarOutput" | "CarryMismatch" | "TracerLeak" | "ConcretizationError";
/** Tags whose `fix` defaults to `""` (no general advice: a damaged file, a failed law). */
export type NoFixTag = "DecodeError" | "NonFinite" | "TestFailure" | "TestArgumentError";

/** The text fields a hand-built value of a `DerivedTextTag` may leave out. */
export interface OptionalText {
  /** What is wrong; derived from the other fields when left out. */
  readonly detail?: string;
  /** What to change; derived from the other fields when left out. */
  readonly fix?: string;
}

/** The `fix` a hand-built value of a `NoFixTag` may leave out. */
export interface OptionalFix {
  /** What to change; `""` when left out. */
  readonly fix?: string;
}

/**
 * `V` with `detail` and `fix` optional for the tags whose sentence follows from their own fields,
 * and `fix` optional for the tags without general advice (see `RewindErrorInput`).
 */
export type LoosenErrorValue<V> =
  V extends ErrorFields<DerivedTextTag>
    ? Omit<V, "detail" | "fix"> & OptionalText
    : V extends ErrorFields<NoFixTag>
      ? Omit<V, "fix"> & OptionalFix
      : V;

/**
 * What `fail`, `new RewindError` and `formatError` accept: a `RewindErrorValue`, where the tags
 * whose sentence follows from their own fields (`AxisError`, `NonScalarOutput`, `CarryMismatch`,
 * `TracerLeak`, `ConcretizationError`) may leave `detail` and `fix` out, and `DecodeError`,
 * `NonFinite` and the testing tags may leave `fix` out. The thrown error holds the completed value.
 */
export type RewindErrorInput = LoosenErrorValue<RewindErrorValue>;
