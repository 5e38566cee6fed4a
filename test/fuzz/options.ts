/**
 * @file The options rule of the fuzz contract: every options object of the public API refuses a
 * misspelt key with the library's error, naming the key and suggesting the one it stands for.
 *
 * `misspell` builds a realistic typo of a real key (two adjacent letters swapped). A misspelt-key
 * case passes an options object with one key misspelt and checks the error: its class (the
 * package's own), a message naming the op, the typo and `did you mean "<key>"`, and — through
 * the library's check watcher — that the keys the library knows for that slot are exactly the
 * keys the suite states. The watcher also lists every options slot the library checked while a
 * suite ran; `missingMisspeltCases` names those of the suite's own ops that no misspelt-key case
 * reached, so a suite whose spec has an options slot without such a case fails.
 */
import { showKey, watchOptionChecks, type OptionsProblem } from "@rewind/tensor/internal/check";
import { expect, test } from "vitest";
import { callClean, rethrow } from "./contract.js";

/** An error class a package throws (`Error` stands for @rewind/testing's plain errors). */
export type ErrorClass = abstract new (...args: never[]) => Error;

interface Check {
  readonly op: string;
  readonly arg: string;
  readonly known: readonly string[];
  readonly problem: OptionsProblem | undefined;
}

/**
 * One id per options slot: axis indices in the argument folded (`specs[i]`), and the arguments
 * in an op's name folded (`linear(…).init`, `defineCell(…)`), which name the instance, not the slot.
 */
const idOf = (op: string, arg: string): string =>
  `${op.replace(/\([^)]*\)/g, "(…)")} ${arg.replace(/\[\d+\]/g, "[i]")}`;

const seen = new Map<string, Check>();
const covered = new Set<string>();
let last: Check | undefined;

// Installed for the whole suite file (each file runs in its own module context).
watchOptionChecks((op, arg, known, problem) => {
  const check = { op, arg, known, problem };
  if (!seen.has(idOf(op, arg))) seen.set(idOf(op, arg), check);
  if (problem !== undefined) last = check;
});

/** Forgets the last reported problem; call before each misspelt-key call so a stale report cannot pass for its own. */
export const beginMisspelt = (): void => {
  last = undefined;
};

/** Optimal string alignment distance, written out here so the suite does not trust the library's. */
const distance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
};

/**
 * A typo of `key` that no other known key is as close to: two adjacent different letters swapped
 * (`lengths` → `lenghts`), trying positions from the end; for a key of one or two letters, its
 * first letter's case flipped (`k` → `K`) or, when that is ambiguous, its last letter doubled
 * (`b1` → `b11`, since `B1` is as close to `b2`).
 * @example misspell("lengths", ["lengths", "reverse"]) // "lenghts"
 */
export const misspell = (key: string, known: readonly string[]): string => {
  const clear = (typo: string): boolean =>
    typo !== key &&
    !known.includes(typo) &&
    known.every((k) => k === key || distance(typo.toLowerCase(), k.toLowerCase()) >= 2);
  if (key.length > 2) {
    for (let i = key.length - 2; i >= 1; i--) {
      if (key[i] === key[i + 1]) continue;
      const typo = key.slice(0, i) + key[i + 1]! + key[i]! + key.slice(i + 2);
      if (clear(typo)) return typo;
    }
  }
  const flipped = (key[0] === key[0]!.toUpperCase() ? key[0].toLowerCase() : key[0]!.toUpperCase()) + key.slice(1);
  if (flipped !== key && clear(flipped)) return flipped;
  const doubled = key + key[key.length - 1]!;
  if (clear(doubled)) return doubled;
  throw new Error(`misspell: no unambiguous typo of ${JSON.stringify(key)} among ${known.join(", ")}`);
};

const sameKeys = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((k, i) => k === [...b].sort()[i]);

/**
 * Checks what a call with `typo` in place of `key` did: threw `error` (the package's class; for
 * `Error`, a plain Error) whose message names one of `names`, the typo and the suggestion, after
 * the library's check reported exactly that typo with `key` as its suggestion and the keys
 * `known` for the slot. Marks the slot covered.
 */
export const verifyMisspelt = (
  e: unknown,
  error: ErrorClass,
  names: readonly string[],
  typo: string,
  key: string,
  known: readonly string[],
): void => {
  const plain = error === Error;
  if (!(e instanceof error) || (plain && Object.getPrototypeOf(e) !== Error.prototype)) {
    throw new Error(
      `a misspelt key ${typo} must throw ${plain ? "a plain Error" : error.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      { cause: e },
    );
  }
  const text = e.message;
  if (!names.some((n) => text.includes(n)))
    throw new Error(`the error for the misspelt key ${typo} names none of [${names.join(", ")}]: ${text}`);
  if (!text.includes(showKey(typo)) || !text.includes(`did you mean ${JSON.stringify(key)}`)) {
    throw new Error(`the error for the misspelt key ${typo} must name it and suggest ${JSON.stringify(key)}: ${text}`);
  }
  const check = last;
  if (check?.problem?.key !== typo || check.problem.suggestion !== key)
    throw new Error(`the library's last options check did not report ${typo} → ${key}`);
  if (!sameKeys(check.known, known)) {
    throw new Error(
      `${check.op} ${check.arg}: the library knows the keys [${[...check.known].sort().join(", ")}] but the suite states [${[...known].sort().join(", ")}]`,
    );
  }
  covered.add(idOf(check.op, check.problem.arg.slice(0, check.problem.arg.length - typo.length - 1)));
};

/** One options slot of one entry point, as a misspelt-key case needs it. */
export interface OptionsSlot {
  /** Op names the message may use (the entry point, or the op it delegates to). */
  readonly names: readonly string[];
  /** The package's exception class (`Error` for @rewind/testing's plain errors). */
  readonly error: ErrorClass;
  /** Every key the slot knows, stated by the suite. */
  readonly known: readonly string[];
  /** A valid options object whose keys are misspelt one at a time (default `{}`); values of absent keys are 1. */
  readonly base?: Readonly<Record<string, unknown>>;
  /** Calls the entry point with `options` in the slot. */
  readonly call: (options: Record<string, unknown>) => unknown;
  /** For an entry point that returns an fp-ts Either: the Left as the package's exception (undefined for a Right); the typo must give a Left. */
  readonly either?: (result: unknown) => Error | undefined;
}

/** `base` with `key` renamed to `typo` (keeping its value, or 1 when `base` lacks it). */
export const withTypo = (
  base: Readonly<Record<string, unknown>>,
  key: string,
  typo: string,
): Record<string, unknown> => {
  const { [key]: value, ...rest } = base;
  return { ...rest, [typo]: value ?? 1 };
};

/**
 * Runs one misspelt-key case per known key of `slot`; returns the number of cases.
 * @example misspeltCases({ names: ["rnn"], error: TensorException, known: RNN_KEYS, call: (o) => rnn(lstm, p, xs, o) })
 */
export const misspeltCases = (slot: OptionsSlot): number => {
  for (const key of slot.known) {
    const typo = misspell(key, slot.known);
    const options = withTypo(slot.base ?? {}, key, typo);
    try {
      let thrown: unknown;
      let result: unknown;
      beginMisspelt();
      try {
        result = slot.call(options);
      } catch (e) {
        thrown = e;
      }
      if (slot.either !== undefined && thrown === undefined) thrown = slot.either(result);
      if (thrown === undefined) throw new Error("the call accepted it");
      // The general contract first (a library error naming the op; no TypeError), then the options rule.
      if (slot.error !== Error) callClean(slot.names, () => rethrow(thrown));
      verifyMisspelt(thrown, slot.error, slot.names, typo, key, slot.known);
    } catch (e) {
      throw new Error(
        `${slot.names[0] ?? "?"}: options ${JSON.stringify(options, (_k, v: unknown) => (typeof v === "function" ? "<function>" : v))} (${typo} for ${key}): ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }
  return slot.known.length;
};

/** True when `op` (e.g. `lstm.init`, `linear(3).init`, `laws.bptt`) is one of `entries` or a member of one. */
export const ownedBy = (entries: readonly string[]) => {
  const names = new Set(entries.flatMap((e) => [e, e.split("/").pop()!, e.split(".").pop()!]));
  return (op: string): boolean => names.has(op) || names.has(op.split(/[.(]/)[0]!);
};

/**
 * The options slots (`op argument`) the library checked during this suite whose op the suite owns
 * and that no misspelt-key case reached, sorted. Empty means every checked slot has one.
 */
export const missingMisspeltCases = (owns: (op: string) => boolean): string[] =>
  [...seen.entries()]
    .filter(([id, c]) => owns(c.op) && !covered.has(id))
    .map(([id]) => id)
    .sort();

/** How many distinct options slots the suite's own ops checked (to show the check is not vacuous). */
export const checkedSlots = (owns: (op: string) => boolean): number =>
  [...seen.values()].filter((c) => owns(c.op)).length;

/**
 * Registers a suite's last test, the options rule: every options slot the library checked while the
 * specs of `entries` ran met a misspelt key. Call it after the specs' tests are registered.
 * @example testMisspeltKeys(Object.keys(registry))
 */
export const testMisspeltKeys = (entries: readonly string[]): void => {
  test("every options slot checked during the suite has a misspelt-key case", () => {
    const owns = ownedBy(entries);
    expect(checkedSlots(owns), "the watcher saw the package's options checks").toBeGreaterThan(0);
    expect(missingMisspeltCases(owns)).toEqual([]);
  });
};
