/**
 * @file The fuzz contract of @rewind/testing, extending `contract.ts` locally.
 *
 * @rewind/testing is a test library: its laws and checks throw a `RewindError` describing the
 * violation (documented on every law), so any runner reports it, and it refuses invalid
 * arguments the same way, with a `RewindError` whose message starts with the function's name (or
 * the documented `cell laws:` prefix). Calls that delegate to Rewind (`cellCase` running a cell)
 * may also throw the library's TensorException / GraphException (RewindErrors too) naming the op.
 * What is still a bug: a plain `Error`, a `TypeError`/`RangeError` from inside, a fast-check
 * internal error that does not name the function, a hang, or a check that silently tests nothing.
 */
import { isLibraryError } from "../contract.js";

const message = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * Runs `thunk`; returns its value, or the message of an error that keeps the testing contract
 * (a RewindError, naming one of `names`). Anything else fails.
 */
export const callTesting = (
  names: readonly string[],
  thunk: () => unknown,
): { ok: true; value: unknown } | { ok: false; message: string } => {
  try {
    return { ok: true, value: thunk() };
  } catch (e) {
    if (!isLibraryError(e)) throw new Error(`contract broken by ${names[0] ?? "?"}: threw ${message(e)}`, { cause: e });
    const text = (e as Error).message;
    if (!names.some((n) => text.includes(n)))
      throw new Error(`contract broken: the error does not name any of [${names.join(", ")}]: ${text}`, { cause: e });
    return { ok: false, message: text };
  }
};

/** The call must be refused under the testing contract; returns the message. */
export const expectRefused = (names: readonly string[], thunk: () => unknown): string => {
  const r = callTesting(names, thunk);
  if (r.ok) throw new Error(`${names[0] ?? "?"}: expected an error for invalid input, but the call returned`);
  return r.message;
};

/** Every value of `pool` must be refused; returns the number of values. */
export const refuseEach = <V>(names: readonly string[], pool: readonly V[], thunk: (v: V) => unknown): number => {
  pool.forEach((v, i) => {
    try {
      expectRefused(names, () => thunk(v));
    } catch (e) {
      throw new Error(
        `hostile value #${i} (${typeof v === "function" ? "a function" : (JSON.stringify(v) ?? String(v))}): ${message(e)}`,
        { cause: e },
      );
    }
  });
  return pool.length;
};

/** A law or check that must fail: a RewindError whose message matches `pattern`. */
export const expectViolation = (pattern: RegExp, thunk: () => unknown): string => {
  const text = expectRefused([""], thunk);
  if (!pattern.test(text)) throw new Error(`expected a violation matching ${pattern}, got: ${text}`);
  return text;
};
