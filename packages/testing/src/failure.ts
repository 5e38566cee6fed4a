/**
 * @file How @rewind/testing throws: a plain `Error` (its documented contract, so any test runner
 * reports it as a failure) whose message is capped at `MAX_MESSAGE_LENGTH` characters like every
 * exception of Rewind — a law violated on a huge instance must not print megabytes.
 */
import { capMessage } from "@rewind/tensor";

/**
 * A plain `Error` with `message` capped by `capMessage` (and `cause`, when given).
 * @example throw testingError("checkGrads: inner product of pytrees with 2 and 3 float leaves")
 */
export const testingError = (message: string, cause?: unknown): Error =>
  cause === undefined ? new Error(capMessage(message)) : new Error(capMessage(message), { cause });
