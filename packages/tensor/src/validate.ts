/**
 * @file A small declarative checker for arguments: a `Rule` says what an argument must be
 * (`"an integer ≥ 1"`), how to test it, and what to change; `check` applies one rule to one
 * argument and `checkArgs` a table of them. Every refusal reads the same way, whatever the
 * package: `op: arg must be <want>, got <what arrived> (argument `arg`); <fix>`.
 *
 * Before this, rnn and optim each had their own copies of "must be a boolean", "must be a
 * function" and "a number in [0, 1)", each a hand-written `fail({ _tag, op, arg, detail, fix })`
 * with its own way of showing the value that arrived. Rules are plain constant objects, so
 * `check` allocates nothing and costs one predicate call when the argument is fine (it may sit
 * on a hot path); only a refusal builds a message. Special cases whose message needs more than
 * "must be … got …" (shapes that disagree, a carry that differs) stay hand-written `fail` calls.
 *
 * Reached through `@rewind/tensor/internal/check`, like the options check.
 */
import { fail } from "./errors.js";

/** What an argument must be: a test, the phrase for the message, and what to change. */
export interface Rule {
  /** True when the argument is acceptable. */
  readonly ok: (x: unknown) => boolean;
  /** What it must be, as the words after "must be": `"a number in [0, 1)"`. */
  readonly want: string;
  /** What to change: a sentence, or one built from the argument's name. */
  readonly fix: string | ((arg: string) => string);
  /** The tag of the refusal; `ValueError` unless the rule is about dtypes. */
  readonly tag?: "ValueError" | "DTypeError";
}

/**
 * What arrived, for a message: `null`, `an array`, `an object`, `a function`, a primitive as
 * written (`1.5`, `NaN`, `true`, `undefined`), or a string in quotes clipped to 40 characters.
 * @example describeArg(1.5) // "1.5"
 */
export const describeArg = (v: unknown): string => {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "object":
      return "an object";
    case "function":
      return "a function";
    case "string":
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    case "number":
    case "boolean":
    case "bigint":
      return String(v);
    case "symbol":
      return v.toString();
    default:
      return "undefined";
  }
};

/**
 * What arrived where an object was expected, by its keys: `null`, `an object with keys a, b`
 * (or `(none)`), a tensor by its dtype and shape, or the type of anything else.
 * @example describeKeys({ w: 1 }) // "an object with keys w"
 */
export const describeKeys = (v: unknown): string => {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  // A tensor or a tracer is described as the user wrote it, never by its internal fields
  // (a tracer's keys are trace, variable and _tag).
  const { dtype, shape } = v as { dtype?: unknown; shape?: unknown };
  if (typeof dtype === "string" && Array.isArray(shape)) return `a tensor ${dtype} [${shape.join(", ")}]`;
  return `an object with keys ${Object.keys(v).join(", ") || "(none)"}`;
};

/**
 * Throws the refusal of `rule` for argument `arg` of `op` (the cold path of `check`).
 * @example refuse("dropout", "rate", 2, numberIn(0, 1, "[)"))
 */
export const refuse = (op: string, arg: string, x: unknown, rule: Rule): never =>
  fail({
    _tag: rule.tag ?? "ValueError",
    op,
    arg,
    detail: `${arg} must be ${rule.want}, got ${describeArg(x)}`,
    fix: typeof rule.fix === "string" ? rule.fix : rule.fix(arg),
  });

/**
 * Returns `x` when `rule` accepts it; throws a `RewindError` naming `op`, `arg`, what arrived,
 * what it must be and the fix otherwise. Allocation-free when `x` is fine.
 * @example const rate = check("dropout", "rate", r, numberIn(0, 1, "[)"))
 */
export const check = <T>(op: string, arg: string, x: T, rule: Rule): T => (rule.ok(x) ? x : refuse(op, arg, x, rule));

/**
 * Checks a table of arguments, in order: `{ name: [value, rule] }`. For entry points that are
 * not hot (constructors, options bags): the table itself is an allocation.
 * @example checkArgs("generate", { maxLength: [n, intAtLeast(1)], temperature: [t, positive] })
 */
export const checkArgs = (op: string, args: Readonly<Record<string, readonly [unknown, Rule]>>): void => {
  for (const arg in args) {
    const [x, rule] = args[arg]!;
    if (!rule.ok(x)) refuse(op, arg, x, rule);
  }
};

/**
 * A rule from its parts.
 * @example
 * const even = rule("an even integer", (x) => Number.isInteger(x) && (x as number) % 2 === 0, "pass 2, 4, …")
 */
export const rule = (want: string, ok: (x: unknown) => boolean, fix: Rule["fix"]): Rule => ({ ok, want, fix });

/**
 * The same rule with another fix (the test and the words stay).
 * @example withFix(flag, "pass true to reverse the sequence")
 */
export const withFix = (r: Rule, fix: Rule["fix"]): Rule => ({ ...r, fix });

/**
 * The rule, or `undefined` (an optional argument left out).
 * @example optional(func) // a function or nothing
 */
export const optional = (r: Rule): Rule => ({
  ok: (x) => x === undefined || r.ok(x),
  want: `${r.want} (or left out)`,
  fix: r.fix,
  ...(r.tag === undefined ? {} : { tag: r.tag }),
});

const isNumber = (x: unknown): x is number => typeof x === "number";

/** A finite number. */
export const finite: Rule = rule("a finite number", (x) => isNumber(x) && Number.isFinite(x), "pass a finite number");

/** A number > 0 (finite). */
export const positive: Rule = rule(
  "a finite number > 0",
  (x) => isNumber(x) && Number.isFinite(x) && x > 0,
  "pass a positive number",
);

/**
 * A number in an interval; `ends` says which ends belong to it (`"[]"`, `"[)"`, `"(]"`, `"()"`).
 * @example numberIn(0, 1, "[)").want // "a number in [0, 1)"
 */
export const numberIn = (lo: number, hi: number, ends: "[]" | "[)" | "(]" | "()" = "[]"): Rule => {
  const range = `${ends[0]}${lo}, ${hi}${ends[1]}`;
  return rule(
    `a number in ${range}`,
    (x) => isNumber(x) && (ends[0] === "[" ? x >= lo : x > lo) && (ends[1] === "]" ? x <= hi : x < hi),
    `pass a number in ${range}`,
  );
};

/**
 * An integer ≥ `min` (a safe integer: no NaN, no 1e300).
 * @example intAtLeast(1).want // "an integer ≥ 1"
 */
export const intAtLeast = (min: number): Rule =>
  rule(`an integer ≥ ${min}`, (x) => Number.isSafeInteger(x) && (x as number) >= min, `pass an integer ≥ ${min}`);

/** An integer ≥ 0. */
export const nonNegativeInt: Rule = rule(
  "a non-negative integer",
  (x) => Number.isSafeInteger(x) && (x as number) >= 0,
  "pass an integer ≥ 0",
);

/** An integer ≥ 1 (a size, a count of layers). */
export const positiveInt: Rule = rule(
  "a positive integer",
  (x) => Number.isSafeInteger(x) && (x as number) > 0,
  "pass an integer ≥ 1",
);

/** `true`, `false` or left out: a truthy string must not switch an option on. */
export const flag: Rule = rule(
  "true or false",
  (x) => x === undefined || typeof x === "boolean",
  (arg) => `pass a boolean or leave ${arg} out`,
);

/** A function. */
export const func: Rule = rule(
  "a function",
  (x) => typeof x === "function",
  (arg) => `pass ${arg} as a function`,
);

/**
 * One of a few strings.
 * @example oneOf(["sum", "concat"]).want // 'one of "sum", "concat"'
 */
export const oneOf = (choices: readonly string[]): Rule => {
  const list = choices.map((c) => JSON.stringify(c)).join(", ");
  return rule(`one of ${list}`, (x) => typeof x === "string" && choices.includes(x), `pass one of ${list}`);
};
