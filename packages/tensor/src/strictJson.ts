/**
 * @file A small strict JSON parser for untrusted headers (RFC 8259, nothing more).
 *
 * `JSON.parse` is the wrong tool for hostile input: it silently keeps the last of two duplicate
 * keys (so two readers of one file can disagree about its contents), it builds ordinary objects
 * (where a `__proto__` key needs care), and it recurses without a depth limit. This parser
 * rejects duplicate keys, returns objects as `Map`s (no prototype to pollute, insertion order
 * kept), stops at a nesting depth and a count of values, never throws, and runs in one linear
 * pass. Readers that know the shape they expect (the safetensors header) use `JsonCursor` directly
 * and build nothing else.
 */
import * as E from "fp-ts/lib/Either.js";
import { JsonCursor, JsonFailure } from "./jsonCursor.js";

/**
 * A parsed JSON value. Objects are `ReadonlyMap`s in document order; arrays are readonly arrays.
 * @example const v: JsonValue = new Map([["a", [1, null]]]);
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/**
 * A parsed JSON object: keys in document order, each key once.
 * @example const o: JsonObject = new Map([["dtype", "F32"]]);
 */
export type JsonObject = ReadonlyMap<string, JsonValue>;

/**
 * Why the text is not (strict) JSON, and the UTF-16 offset where that was found.
 * @example const e: JsonSyntaxError = { message: 'duplicate key "a"', offset: 9 };
 */
export interface JsonSyntaxError {
  readonly message: string;
  readonly offset: number;
}

/**
 * Options of `parseStrictJson`.
 * @example parseStrictJson("[[1]]", { maxDepth: 1 }) // Left: nesting deeper than 1 levels
 */
export interface StrictJsonOptions {
  /** The deepest nesting of arrays and objects accepted (the top-level value is depth 1). Default 64. */
  readonly maxDepth?: number;
  /** The most values (scalars, arrays and objects, the top-level one included) accepted. Default: no limit. */
  readonly maxValues?: number;
}

/**
 * True when `value` is a parsed JSON object (a `Map`).
 * @example isJsonObject(new Map()) // true
 */
export const isJsonObject = (value: JsonValue | undefined): value is JsonObject => value instanceof Map;

/**
 * Parses `text` as one JSON value, strictly: no duplicate keys in an object, no nesting deeper
 * than `maxDepth`, no more than `maxValues` values, no trailing commas, comments or other
 * extensions, nothing but whitespace after the value. The limits are applied while parsing, so a
 * hostile text is refused at the first value too many, before the rest is built. Objects come
 * back as `Map`s. Never throws; a `Left` says what is wrong and where.
 * @example
 * parseStrictJson('{"a": [1, 2]}') // Right(Map { "a" => [1, 2] })
 * parseStrictJson('{"a": 1, "a": 2}') // Left({ message: 'duplicate key "a"', offset: 9 })
 */
export const parseStrictJson = (
  text: string,
  options: StrictJsonOptions = {},
): E.Either<JsonSyntaxError, JsonValue> => {
  const maxDepth = options.maxDepth ?? 64;
  const maxValues = options.maxValues ?? Infinity;
  const c = new JsonCursor(text);
  let values = 0;

  const parseValue = (depth: number): JsonValue => {
    if (++values > maxValues) c.fail(`more than ${maxValues} values`);
    const ch = c.peek();
    if (ch === "{" || ch === "[") {
      if (depth >= maxDepth) c.fail(`nesting deeper than ${maxDepth} levels`);
      c.at++;
      return ch === "{" ? parseObject(depth + 1) : parseArray(depth + 1);
    }
    if (ch === '"') return c.string();
    if (ch === "t" || ch === "f" || ch === "n") return c.literal();
    return c.number();
  };

  const parseArray = (depth: number): JsonValue[] => {
    const out: JsonValue[] = [];
    if (c.take("]")) return out;
    for (;;) {
      out.push(parseValue(depth));
      if (c.take("]")) return out;
      c.expect(",", "',' or ']' in an array");
    }
  };

  const parseObject = (depth: number): Map<string, JsonValue> => {
    const out = new Map<string, JsonValue>();
    if (c.take("}")) return out;
    for (;;) {
      const k = c.objectKey(out);
      out.set(k, parseValue(depth));
      if (c.take("}")) return out;
      c.expect(",", "',' or '}' in an object");
    }
  };

  try {
    const value = parseValue(0);
    if (!c.atEnd()) c.fail(`unexpected ${c.describeChar()} after the JSON value`);
    return E.right(value);
  } catch (e) {
    if (e instanceof JsonFailure) return E.left({ message: e.message, offset: e.offset });
    throw e;
  }
};
