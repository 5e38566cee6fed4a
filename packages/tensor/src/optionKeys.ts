/**
 * @file Internal entry point `@rewind/tensor/internal/check`: the one check that every package
 * of Rewind runs on its options objects (options bags, a cell's `init` sizes, optimizer
 * hyper-parameters, schedule configs, layer specs). TypeScript's excess-property check vanishes
 * at run time and never sees spread or JSON-built objects, so a misspelt key (`{ lenghts }`,
 * `{ beta1 }`, `{ weight_decay }`) used to be ignored silently and the call ran with the default.
 *
 * The check only finds the problem; each package turns it into a `RewindError` with its own
 * tag (`ValueError` in tensor, rnn and optim, `InvalidArgument` in autodiff's transforms). The
 * entry point also carries the declarative argument checker (`validate.ts`). It is not part of
 * the public API (test/architecture.test.ts keeps its importers to the packages' sources): it
 * makes no stability promise.
 *
 * The rules, decided once here:
 * - an options argument is a plain object (its prototype is `Object.prototype`, `null`, or
 *   another realm's root object); arrays, functions, class instances, `null` and primitives are
 *   refused; `undefined` means "all defaults" unless the argument is required;
 * - every own enumerable string key must be known; inherited keys are not looked at (only
 *   `Object.prototype` can supply them, and then to every object alike). Symbol keys are allowed:
 *   no option is named by a symbol, so a symbol cannot be a misspelt option, and reading them
 *   would need `Object.getOwnPropertySymbols`, which allocates on every call of a hot op;
 * - an unknown key gets the closest known key as a suggestion, when one is close (see
 *   `closestKey`), and the message always lists every known key.
 * The happy path is allocation-free and O(keys × known); it runs on every reduction.
 */

import { describeArg } from "./validate.js";

/** What is wrong with an options argument, as the pieces of a tagged error. */
export interface OptionsProblem {
  /** The argument to name: `options` for a non-object, `options.lenghts` for an unknown key. */
  readonly arg: string;
  /** What arrived: `unknown key "lenghts" in options`, or `expected an options object, got null`. */
  readonly detail: string;
  /** What to change: the suggestion, if any, and the known keys. */
  readonly fix: string;
  /** What arrived instead of a plain object (`null`, `an array of length 2`); undefined for an unknown key. */
  readonly got?: string;
  /** The unknown key, when the problem is one (undefined when the value is not an object). */
  readonly key?: string;
  /** The closest known key to `key`, when one is close enough to be a likely typo. */
  readonly suggestion?: string;
}

/** Called with every check and its outcome; see `watchOptionChecks`. */
export type OptionCheckWatcher = (
  op: string,
  arg: string,
  known: readonly string[],
  problem: OptionsProblem | undefined,
) => void;

let watcher: OptionCheckWatcher | undefined;

/**
 * Installs `w` to be told of every options check (op, argument, known keys, outcome) until the
 * returned function is called. The fuzz suites use it to list every options slot the library
 * checks, so that a slot without a misspelt-key case fails the suite. Costs one comparison per
 * check when nothing is installed.
 * @example const stop = watchOptionChecks((op, arg) => seen.add(`${op} ${arg}`)); try { run() } finally { stop() }
 */
export const watchOptionChecks = (w: OptionCheckWatcher): (() => void) => {
  const before = watcher;
  watcher = w;
  return () => {
    watcher = before;
  };
};

const MAX_SHOWN = 40;

/**
 * A key as messages show it: quoted, and cut short (a hostile key may be megabytes long).
 * @example showKey("lenghts") // '"lenghts"'
 */
export const showKey = (key: string): string =>
  JSON.stringify(key.length > MAX_SHOWN ? `${key.slice(0, MAX_SHOWN)}…` : key);

/** True for a plain object: prototype `Object.prototype`, `null`, or a root object of another realm. */
const isPlainObject = (x: unknown): x is object => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x) as object | null;
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
};

/** What a non-options value is, for the message (never throws: it may be a hostile proxy). */
const describe = (x: unknown): string => {
  if (x === undefined) return "undefined";
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === "function") return "a function";
  if (typeof x === "string") return `the string ${showKey(x)}`;
  if (typeof x !== "object") return `the ${typeof x} ${describeArg(x)}`;
  try {
    const name: unknown = (Object.getPrototypeOf(x) as { constructor?: { name?: unknown } }).constructor?.name;
    if (name === "Object") return "an object that inherits from another object (Object.create)";
    return typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object that is not a plain object";
  } catch {
    return "an object that is not a plain object";
  }
};

/** Lower case without `_`, `-` and spaces: `weight_decay`, `Weight-Decay` and `weightDecay` agree. */
const normalise = (s: string): string => s.toLowerCase().replace(/[_\-\s]/g, "");

/**
 * Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions, each
 * substring edited once): `lenghts` → `lengths` is 1, `revers` → `reverse` is 1.
 */
const editDistance = (a: string, b: string): number => {
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(n + 1).fill(0);
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n]!;
};

/** The most edits two keys may differ by and still be a likely typo: 1 up to 4 letters, 2 up to 8, else 3. */
const allowedEdits = (a: string, b: string): number => {
  const longer = Math.max(a.length, b.length);
  return longer <= 4 ? 1 : longer <= 8 ? 2 : 3;
};

/** True when `short` is `long` with letters left out, starting alike and with the same digits (`b1` in `beta1`). */
const isAbbreviation = (short: string, long: string): boolean => {
  if (short.length < 2 || short[0] !== long[0] || short.replace(/\D/g, "") !== long.replace(/\D/g, "")) return false;
  let i = 0;
  for (let j = 0; j < long.length && i < short.length; j++) if (long[j] === short[i]) i++;
  return i === short.length;
};

/**
 * The known key `key` most likely stands for, or undefined when none is close. In order:
 * 1. the same key up to case, `_` and `-` (`weight_decay` → `weightDecay`, `keepdims` → `keepDims`);
 * 2. the fewest edits (substitutions, insertions, deletions, adjacent transpositions, compared
 *    without case), if within 1 edit for keys up to 4 letters, 2 up to 8, 3 beyond, and fewer
 *    than the shorter key's length (`lenghts` → `lengths`, `momentun` → `momentum`, `dtyp` → `dtype`);
 * 3. an abbreviation either way: one key is the other with letters left out, both start with the
 *    same letter and hold the same digits (`beta1` → `b1`, `lr` → `learningRate`,
 *    `hiden` → `hiddenSize`, `epsilon` → `eps`); the closest in length wins.
 * Ties go to the key listed first. Nothing is suggested for a key that fits none of these
 * (`bogus`), so a suggestion is never nonsense; the message lists the known keys instead.
 * @example closestKey("lenghts", ["lengths", "reverse"]) // "lengths"
 * @example closestKey("beta1", ["learningRate", "b1", "b2"]) // "b1"
 * @example closestKey("bogus", ["axis", "keepDims"]) // undefined
 */
export const closestKey = (key: string, known: readonly string[]): string | undefined => {
  const k = normalise(key);
  if (k.length === 0) return undefined;
  const exact = known.find((c) => normalise(c) === k);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of known) {
    const n = normalise(c);
    // Keys far longer than every known one cannot be within the allowed edits: skip the quadratic work.
    if (Math.abs(n.length - k.length) > 3) continue;
    const d = editDistance(k, n);
    if (d <= allowedEdits(k, n) && d < Math.min(k.length, n.length) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  let bestGap = Infinity;
  for (const c of known) {
    const n = normalise(c);
    const gap = Math.abs(n.length - k.length);
    if ((isAbbreviation(k, n) || isAbbreviation(n, k)) && gap < bestGap) {
      best = c;
      bestGap = gap;
    }
  }
  return best;
};

/**
 * The keys of an options type, written once as an object so that the compiler checks the list
 * both ways: a key the type has but the list lacks, or one the list has but the type lacks, does
 * not compile. A check's known keys then cannot drift from the type callers see.
 * @example const REDUCE_KEYS = keysOf<ReduceOptions>({ axis: true, keepDims: true }) // ["axis", "keepDims"]
 */
export const keysOf = <O>(keys: { readonly [K in keyof O]-?: true }): readonly (keyof O & string)[] =>
  Object.freeze(Object.keys(keys)) as readonly (keyof O & string)[];

const listOf = (known: readonly string[]): string =>
  known.length === 0 ? "(none)" : known.map((k) => JSON.stringify(k)).join(", ");

/**
 * The problem with options argument `x` of `op`, or undefined when it is fine: a plain object
 * whose own enumerable string keys are all in `known` (or `undefined`, unless `required`).
 * `arg` names the argument (`options`, `sizes`, `o.features`); an unknown key is reported as
 * `arg.key`. See the file note for the rules.
 * @example
 * optionsProblem("rnn", "options", { lenghts: [3] }, ["lengths", "reverse"])?.fix // 'did you mean "lengths"? …'
 */
export const optionsProblem = (
  op: string,
  arg: string,
  x: unknown,
  known: readonly string[],
  required = false,
): OptionsProblem | undefined => {
  const problem = findProblem(op, arg, x, known, required);
  if (watcher !== undefined) watcher(op, arg, known, problem);
  return problem;
};

const findProblem = (
  op: string,
  arg: string,
  x: unknown,
  known: readonly string[],
  required: boolean,
): OptionsProblem | undefined => {
  if (x === undefined && !required) return undefined;
  if (!isPlainObject(x)) {
    const example = known.length === 0 ? "{}" : `{ ${known[0]}: … }`;
    const got = describe(x);
    return {
      arg,
      detail: `expected an options object, got ${got}`,
      fix: `pass a plain object such as ${example}${required ? "" : " (or leave it out)"}`,
      got,
    };
  }
  // A for-in loop: it allocates nothing, and options are checked on every reduction.
  for (const key in x) {
    if (!Object.prototype.hasOwnProperty.call(x, key) || known.includes(key)) continue;
    const suggestion = closestKey(key, known);
    const keys = `the keys ${op} reads from ${arg} are ${listOf(known)}`;
    return {
      arg: `${arg}.${key.length > MAX_SHOWN ? `${key.slice(0, MAX_SHOWN)}…` : key}`,
      detail: `unknown key ${showKey(key)} in ${arg}`,
      fix:
        suggestion === undefined
          ? `remove it or use a known key: ${keys}`
          : `did you mean ${JSON.stringify(suggestion)}? (${keys})`,
      key,
      ...(suggestion === undefined ? {} : { suggestion }),
    };
  }
  return undefined;
};

/**
 * True when `list` is an array whose every element, holes included, passes `ok` (for list
 * options: `Array.prototype.every` skips holes, so `new Array(2)` would pass any check and its
 * missing entries would read as defaults).
 * @example everyEntry([0, null], (a) => a === 0 || a === null) // true; everyEntry(new Array(1), () => true) // false
 */
export const everyEntry = (list: unknown, ok: (x: unknown, k: number) => boolean): list is unknown[] => {
  if (!Array.isArray(list)) return false;
  for (let k = 0; k < list.length; k++) if (!(k in list) || !ok(list[k], k)) return false;
  return true;
};

// The declarative argument checker shares this internal entry point (`validate.ts`), and so do
// the class and formatter of autodiff's tags, which @rewind/autodiff exports under its own name.
export { GraphException, formatGraphError, rewindError } from "./errors.js";
// How messages show an aval (`f32[2,3]`, long shapes elided), so autodiff's messages show it alike.
export { avalText } from "./errorText.js";
// Why a record is no tensor any more (its buffer donated to a jitted call), for autodiff's checks.
export { DETACHED_FIX, detachedTensorProblem } from "./detached.js";
export { BUFFER_CLASS } from "./bufferClass.js";
export {
  check,
  checkArgs,
  describeArg,
  describeKeys,
  flag,
  finite,
  func,
  intAtLeast,
  nonNegativeInt,
  numberIn,
} from "./validate.js";
export { oneOf, optional, positive, positiveInt, refuse, rule, withFix, type Rule } from "./validate.js";
