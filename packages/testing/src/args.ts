/**
 * @file Argument checks shared by @rewind/testing. A wrong argument to a checker fails at once
 * with an `Error` that names the function and the argument — never a `TypeError` from deep
 * inside, a fast-check internal error, or (worse) a check that silently tests nothing.
 */
import fc from "fast-check";
import { optionsProblem, showKey } from "@rewind/tensor/internal/check";
import { testingError } from "./failure.js";

const describe = (v: unknown): string => {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return `${typeof v} ${String(v)}`;
    case "symbol":
      return `symbol ${v.toString()}`;
    case "function":
      return "a function";
    default:
      return "an object";
  }
};

/**
 * A value as an argument error shows it: numbers, booleans and undefined as written, strings
 * quoted, arrays and plain objects as JSON, a function or symbol by its kind.
 * @example showValue(["rev", 3]) // '["rev",3]'
 */
export const showValue = (v: unknown): string => {
  switch (typeof v) {
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return String(v);
    case "string":
      return JSON.stringify(v);
    case "object":
      try {
        return JSON.stringify(v);
      } catch {
        return describe(v); // a cycle, or a bigint inside
      }
    default:
      return describe(v);
  }
};

/**
 * Throws the package's argument error: `fn: arg …`.
 * @example invalid("arbShape", "minRank", "must be ≤ maxRank (3 > 1)")
 */
export const invalid = (fn: string, arg: string, detail: string): never => {
  throw testingError({ _tag: "TestArgumentError", op: fn, detail: `${fn}: argument \`${arg}\` ${detail}` });
};

/**
 * Checks an options argument with the shared check of @rewind/tensor: a plain object (or
 * undefined when it has a default) whose keys are all in `known`. A misspelt option (`rtoll`)
 * would otherwise be ignored and the check run with the default; the message suggests the key
 * it most likely meant.
 * @example checkOptions("allClose", "opts", opts, ["rtol", "atol", "equalNan"])
 */
export const checkOptions = (
  fn: string,
  arg: string,
  options: unknown,
  known: readonly string[],
  optional = true,
): void => {
  const problem = optionsProblem(fn, arg, options, known, !optional);
  if (problem === undefined) return;
  if (problem.key === undefined)
    invalid(fn, arg, `must be a plain object, got ${problem.got ?? describe(options)}; ${problem.fix}`);
  invalid(fn, arg, `has the unknown key ${showKey(problem.key!)}; ${problem.fix}`);
};

/**
 * Checks an integer option in [min, max] (undefined passes: it has a default).
 * @example checkInt("arbShape", "maxRank", opts.maxRank, 0)
 */
export const checkInt = (fn: string, arg: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void => {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(
      fn,
      arg,
      `must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}], got ${describe(value)}`,
    );
  }
};

/**
 * Checks a finite number option, at least `min` (undefined passes).
 * @example checkFinite("allClose", "rtol", opts.rtol, 0)
 */
export const checkFinite = (fn: string, arg: string, value: unknown, min = -Infinity): void => {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    invalid(fn, arg, `must be a finite number${min === -Infinity ? "" : ` ≥ ${min}`}, got ${describe(value)}`);
  }
};

/**
 * Checks a boolean option (undefined passes).
 * @example checkBoolean("allClose", "equalNan", opts.equalNan)
 */
export const checkBoolean = (fn: string, arg: string, value: unknown): void => {
  if (value !== undefined && typeof value !== "boolean")
    invalid(fn, arg, `must be true or false, got ${describe(value)}`);
};

/**
 * Checks a function argument.
 * @example checkFunction("checkGrads", "f", f)
 */
export const checkFunction = (fn: string, arg: string, value: unknown): void => {
  if (typeof value !== "function") invalid(fn, arg, `must be a function, got ${describe(value)}`);
};

/**
 * Checks a fast-check arbitrary argument.
 * @example checkArbitrary("arbPyTree", "leaf", leaf)
 */
export const checkArbitrary = (fn: string, arg: string, value: unknown): void => {
  if (!(value instanceof fc.Arbitrary)) invalid(fn, arg, `must be a fast-check Arbitrary, got ${describe(value)}`);
};

/**
 * Checks a `[min, max]` pair of integer bounds (either may be undefined: defaults are used).
 * @example checkRange("arbShape", "minRank", "maxRank", 0, 3)
 */
export const checkRange = (fn: string, lo: string, hi: string, min: number, max: number): void => {
  if (min > max) invalid(fn, lo, `must be ≤ ${hi} (${min} > ${max})`);
};
