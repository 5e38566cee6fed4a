/**
 * @file The contract every fuzzed call must keep, shared by the per-package fuzz suites.
 *
 * A call either returns (and the suite then checks the answer) or throws one of the library's
 * documented exceptions, whose message names the op. Anything else — an untyped `TypeError` or
 * `RangeError` escaping from inside the library, an internal-invariant error, a plain `Error` — is
 * a bug. `exportsOf` lists a module's runtime exports (namespaces expanded one level) so a suite
 * can fail when an export has no fuzz entry, and `FuzzLedger` counts entry points and cases for
 * the README's Reliability figures.
 */
import { RewindError } from "@rewind/tensor";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** What a fuzzed call did: returned a value, or threw a documented library error. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

/**
 * True for the exceptions the library documents: a `RewindError` (TensorException and
 * GraphException are subclasses; the testing package's failures are instances) carrying a tagged
 * value with a string `_tag` and `op`.
 */
export const isLibraryError = (e: unknown): e is RewindError =>
  e instanceof RewindError &&
  typeof e.error === "object" &&
  e.error !== null &&
  typeof e.error._tag === "string" &&
  typeof e.error.op === "string";

/**
 * Throws `e` as it is: a value caught earlier, put back through `callClean` to check the contract.
 * @example callClean(["sum"], () => rethrow(caught))
 */
export const rethrow = (e: unknown): never => {
  throw e;
};

/**
 * Runs `thunk` and enforces the contract: it returns, or throws a library error whose message
 * mentions one of `opNames` (the op the user called, or the op it delegates to). Any other throw
 * is rethrown with context, so fast-check shrinks to it and the test fails.
 */
export const callClean = <T>(opNames: readonly string[], thunk: () => T): Outcome<T> => {
  try {
    return { ok: true, value: thunk() };
  } catch (e) {
    if (!isLibraryError(e)) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new Error(`contract broken by ${opNames[0] ?? "?"}: threw a non-library error (${what})`, { cause: e });
    }
    if (!opNames.some((name) => e.message.includes(name))) {
      throw new Error(`contract broken: error message does not name any of [${opNames.join(", ")}]: ${e.message}`, {
        cause: e,
      });
    }
    return { ok: false, error: e };
  }
};

/** Asserts a call was rejected with a library error; returns the error for further checks. */
export const expectRejectedError = (opNames: readonly string[], thunk: () => unknown): Error => {
  const outcome = callClean(opNames, thunk);
  if (outcome.ok)
    throw new Error(`${opNames[0] ?? "?"}: expected a library error for invalid input, but the call returned`);
  return outcome.error;
};

/** Asserts a call was rejected with a library error; returns the message for further checks. */
export const expectRejected = (opNames: readonly string[], thunk: () => unknown): string =>
  expectRejectedError(opNames, thunk).message;

/**
 * A module's runtime exports as dotted names: functions, classes and values at the top level,
 * and the members of plain-object namespaces (`random.split`, `safetensors.decode`) one level down.
 */
export const exportsOf = (module: Readonly<Record<string, unknown>>): string[] =>
  Object.keys(module)
    .sort()
    .flatMap((name) => {
      const value = module[name];
      const isNamespace =
        value !== null && typeof value === "object" && Object.prototype.toString.call(value) === "[object Module]";
      return isNamespace
        ? Object.keys(value)
            .sort()
            .map((member) => `${name}.${member}`)
        : [name];
    });

/** Counts entry points and cases per package, and writes them where the README's figures come from. */
export class FuzzLedger {
  private readonly cases = new Map<string, number>();
  constructor(readonly packageName: string) {}

  /** Records `n` more cases run against `entry`. */
  record(entry: string, n = 1): void {
    this.cases.set(entry, (this.cases.get(entry) ?? 0) + n);
  }

  /** Entry points with at least one case, and the total number of cases. */
  totals(): { entryPoints: number; cases: number } {
    let cases = 0;
    for (const n of this.cases.values()) cases += n;
    return { entryPoints: this.cases.size, cases };
  }

  /** Writes `node_modules/.cache/fuzz/<package>.json` so a report can sum the suites. */
  write(): void {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    const file = join(root, "node_modules", ".cache", "fuzz", `${this.packageName.replace(/[^a-z0-9-]/gi, "_")}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        { package: this.packageName, ...this.totals(), perEntry: Object.fromEntries(this.cases) },
        null,
        2,
      ),
    );
  }
}
