/**
 * @file The JSON metadata of a checkpoint — `config` (the run's configuration) and `tree` (the
 * structure of params and optimizer state) — checked when written and read with limits applied
 * while reading: `config` by the strict parser (no duplicate keys, at most MAX_TREE_DEPTH levels
 * and MAX_CONFIG_VALUES values), `tree` by its schema (treeSpecRead.ts). Both must be exactly as
 * `JSON.stringify` writes them, so a file has one reading and is never guessed at.
 */
import * as E from "fp-ts/lib/Either.js";
import type { TensorError } from "@rewind/tensor";
import { isJsonObject, parseStrictJson, type JsonValue } from "@rewind/tensor/internal/untrusted";
import { FORBIDDEN_KEYS, MAX_TREE_DEPTH, type TreeSpec } from "./treeSpec.js";
import { readTreeSpec } from "./treeSpecRead.js";

/**
 * A JSON value, for a run's configuration.
 * @example const c: JsonConfig = { hidden: 128, cell: "lstm", lr: 3e-3 };
 */
export type JsonConfig =
  null | boolean | number | string | readonly JsonConfig[] | { readonly [key: string]: JsonConfig };

/**
 * Configurations of more values (scalars, arrays and objects together) are refused when written
 * and read: a run's configuration holds dozens; 100,000 leaves room for a vocabulary.
 * @example MAX_CONFIG_VALUES // 100000
 */
export const MAX_CONFIG_VALUES = 100_000;

/**
 * Why `value` is not a JSON configuration, or undefined when it is one: only JSON values (finite
 * numbers, plain objects without reserved keys), nested at most MAX_TREE_DEPTH deep, at most
 * MAX_CONFIG_VALUES values.
 * @example configProblem({ lr: NaN }) // "config.lr: NaN is not a JSON number"
 */
export const configProblem = (config: unknown): string | undefined => {
  let values = 0;
  const problem = (value: unknown, path: string, depth: number): string | undefined => {
    // The top-level value is at depth 0, so depth MAX_TREE_DEPTH is the first level too many.
    if (depth >= MAX_TREE_DEPTH) return `${path}: nested deeper than ${MAX_TREE_DEPTH} levels (or circular)`;
    if (++values > MAX_CONFIG_VALUES)
      return `${path}: the configuration holds more than ${MAX_CONFIG_VALUES} values (the limit)`;
    if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
    if (typeof value === "number") return Number.isFinite(value) ? undefined : `${path}: ${value} is not a JSON number`;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = problem(value[i], `${path}[${i}]`, depth + 1);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)) {
      for (const [k, v] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.has(k)) return `${path}: the key ${JSON.stringify(k)} is not allowed`;
        // Keys cut short, so a hostile megabyte-long key makes no megabyte message.
        const p = problem(v, `${path}.${k.length > 40 ? `${k.slice(0, 37)}...` : k}`, depth + 1);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    return `${path}: ${typeof value === "object" ? "a class instance" : `a ${typeof value}`} is not JSON`;
  };
  const found = problem(config, "config", 0);
  // A path 256 levels deep is cut in the middle.
  const colon = found?.indexOf(": ") ?? -1;
  return found !== undefined && colon > 120 ? `${found.slice(0, 60)}…${found.slice(colon - 50)}` : found;
};

const decodeError = (detail: string): TensorError => ({
  _tag: "DecodeError",
  op: "restoreCheckpoint",
  detail,
  fix: "",
});
const notAsWritten = (what: string, detail: string): TensorError =>
  decodeError(
    `the ${what} metadata is not written as JSON.stringify writes it (a duplicate key, spaces or unusual escapes), ` +
      `so it is refused rather than guessed at: ${detail}`,
  );

/**
 * A parsed value with plain objects for maps (`Object.fromEntries` defines `__proto__` as an own
 * key, polluting nothing).
 */
const plain = (v: JsonValue): JsonConfig =>
  isJsonObject(v)
    ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]))
    : Array.isArray(v)
      ? v.map(plain)
      : (v as JsonConfig);

/**
 * Reads the `config` metadata: strict JSON within the limits, a valid configuration, written as
 * `JSON.stringify` writes it.
 * @example readConfig('{"lr":0.1}') // Right({ lr: 0.1 })
 */
export const readConfig = (text: string): E.Either<TensorError, JsonConfig> => {
  const parsed = parseStrictJson(text, { maxDepth: MAX_TREE_DEPTH, maxValues: MAX_CONFIG_VALUES });
  if (E.isLeft(parsed)) {
    const { message, offset } = parsed.left;
    const where = `${message} at character ${offset}`;
    if (message.startsWith("duplicate key")) return E.left(notAsWritten('"config"', where));
    if (message.startsWith("nesting deeper") || message.startsWith("more than"))
      return E.left(decodeError(`bad "config" metadata: ${where}`));
    return E.left(decodeError(`the "config" metadata is not valid JSON (${where})`));
  }
  const config = plain(parsed.right);
  const problem = configProblem(config);
  if (problem !== undefined) return E.left(decodeError(`bad "config" metadata: ${problem}`));
  // Depth and size are bounded above, so this recursion is too.
  if (JSON.stringify(config) !== text)
    return E.left(notAsWritten('"config"', "spaces, unusual escapes or number forms"));
  return E.right(config);
};

/**
 * Reads the `tree` metadata into a spec (see treeSpecRead.ts).
 * @example readTree('{"kind":"leaf","name":"w"}') // Right({ kind: "leaf", name: "w" })
 */
export const readTree = (text: string): E.Either<TensorError, TreeSpec> => {
  const r = readTreeSpec(text);
  if (r.ok) return E.right(r.spec);
  if (r.why === "form") return E.left(notAsWritten('"tree"', r.detail));
  return E.left(
    decodeError(
      r.why === "syntax" ? `the "tree" metadata is not valid JSON (${r.detail})` : `bad "tree" metadata: ${r.detail}`,
    ),
  );
};
