/**
 * @file The fuzz contract for calls that answer with a promise (`pmap`'s calls, `useKernelThreads`):
 * a hostile value must reject — or throw at once — with a library error naming the op, within a
 * bound, so a hang fails the suite instead of stalling it. Misspelt keys of an async options slot
 * are checked as `options.ts` checks synchronous ones.
 */
import { callClean, rethrow } from "../contract.js";
import { beginMisspelt, misspell, verifyMisspelt, withTypo, type OptionsSlot } from "../options.js";

/** How long a refusal may take: far more than any refusal needs, far less than the test's timeout. */
const BOUND_MS = 20_000;

/** What `thunk` threw or rejected with, or "returned" / "hung" (after `ms`). */
const settle = async (thunk: () => unknown, ms: number): Promise<{ error: unknown } | "returned" | "hung"> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), ms);
  });
  try {
    const outcome = await Promise.race([
      (async () => {
        await thunk();
        return "returned" as const;
      })(),
      hung,
    ]);
    return outcome;
  } catch (error) {
    return { error };
  } finally {
    clearTimeout(timer);
  }
};

/**
 * `thunk` must throw or reject within `ms` with a library error naming one of `names`; returns
 * the error.
 * @example (await expectRejectedAsync(["pmap"], () => step(T.zeros([3])))).message
 */
export const expectRejectedAsync = async (
  names: readonly string[],
  thunk: () => unknown,
  ms = BOUND_MS,
): Promise<Error> => {
  const outcome = await settle(thunk, ms);
  if (outcome === "returned") throw new Error(`${names[0] ?? "?"}: expected a library error, but the call resolved`);
  if (outcome === "hung") throw new Error(`${names[0] ?? "?"}: neither resolved nor rejected within ${ms} ms`);
  const result = callClean(names, () => rethrow(outcome.error));
  if (result.ok) throw new Error("unreachable: rethrow returned");
  return result.error;
};

/**
 * Every thunk must be refused as `expectRejectedAsync` says, and its error pass `check` (when
 * given: e.g. that the main thread refused it, not a worker); returns the number of thunks.
 */
export const rejectEachAsync = async (
  names: readonly string[],
  cases: Readonly<Record<string, () => unknown>>,
  check?: (e: Error) => void,
): Promise<number> => {
  for (const [label, thunk] of Object.entries(cases)) {
    try {
      check?.(await expectRejectedAsync(names, thunk));
    } catch (e) {
      throw new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return Object.keys(cases).length;
};

/**
 * `misspeltCases` for an entry point that checks its options before its first await and rejects:
 * one case per known key. Returns the number of cases.
 */
export const misspeltCasesAsync = async (slot: OptionsSlot): Promise<number> => {
  for (const key of slot.known) {
    const typo = misspell(key, slot.known);
    const options = withTypo(slot.base ?? {}, key, typo);
    beginMisspelt();
    const outcome = await settle(() => slot.call(options), BOUND_MS);
    if (typeof outcome === "string")
      throw new Error(`${slot.names[0] ?? "?"}: ${typo} for ${key}: the call ${outcome}`);
    callClean(slot.names, () => rethrow(outcome.error));
    verifyMisspelt(outcome.error, slot.error, slot.names, typo, key, slot.known);
  }
  return slot.known.length;
};
