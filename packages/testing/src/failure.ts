/**
 * @file How @rewind/testing throws: a `RewindError` (an `Error`, so any test runner reports it as
 * a failure) whose `error` is a `TestingError` value and whose message is capped at
 * `MAX_MESSAGE_LENGTH` characters like every exception of Rewind — a law violated on a huge
 * instance must not print megabytes.
 */
import { RewindError } from "@rewind/tensor";

/** What a law, check or argument of @rewind/testing refused, as a tagged value. */
export type TestingError = {
  /** `TestFailure`: a law or check does not hold; `TestArgumentError`: a checker was called wrongly. */
  readonly _tag: "TestFailure" | "TestArgumentError";
  /** The law or function that found it (`"associativity"`, `"checkGrads"`, `"arbShape"`). */
  readonly op: string;
  /** The whole sentence a user reads, starting with what failed and ending with the evidence. */
  readonly detail: string;
};

/**
 * A `RewindError` for `error`, its message `error.detail` capped by `capMessage` (and `cause`,
 * when given).
 * @example
 * throw testingError({ _tag: "TestArgumentError", op: "checkGrads", detail: "checkGrads: `f` must be a function" })
 */
export const testingError = (error: TestingError, cause?: unknown): RewindError<TestingError> =>
  cause === undefined ? new RewindError(error, error.detail) : new RewindError(error, error.detail, { cause });
