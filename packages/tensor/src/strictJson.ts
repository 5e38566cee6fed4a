/**
 * @file A small strict JSON parser for untrusted headers (RFC 8259, nothing more).
 *
 * `JSON.parse` is the wrong tool for hostile input: it silently keeps the last of two duplicate
 * keys (so two readers of one file can disagree about its contents), it builds ordinary objects
 * (where a `__proto__` key needs care), and it recurses without a depth limit. This parser
 * rejects duplicate keys, returns objects as `Map`s (no prototype to pollute, insertion order
 * kept), stops at a nesting depth, never throws, and runs in one linear pass.
 */
import * as E from "fp-ts/lib/Either.js";

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
}

/**
 * True when `value` is a parsed JSON object (a `Map`).
 * @example isJsonObject(new Map()) // true
 */
export const isJsonObject = (value: JsonValue | undefined): value is JsonObject => value instanceof Map;

/** Thrown inside the parser only, and always caught by `parseStrictJson`. */
class SyntaxFailure {
  constructor(readonly message: string, readonly offset: number) {}
}

const describeChar = (text: string, i: number): string =>
  i >= text.length ? "end of input" : `${JSON.stringify(text[i])} (U+${text.charCodeAt(i).toString(16).padStart(4, "0")})`;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Parses `text` as one JSON value, strictly: no duplicate keys in an object, no nesting deeper
 * than `maxDepth`, no trailing commas, comments or other extensions, nothing but whitespace after
 * the value. Objects come back as `Map`s. Never throws; a `Left` says what is wrong and where.
 * @example
 * parseStrictJson('{"a": [1, 2]}') // Right(Map { "a" => [1, 2] })
 * parseStrictJson('{"a": 1, "a": 2}') // Left({ message: 'duplicate key "a"', offset: 9 })
 */
export const parseStrictJson = (text: string, options: StrictJsonOptions = {}): E.Either<JsonSyntaxError, JsonValue> => {
  const maxDepth = options.maxDepth ?? 64;
  let i = 0;

  const error = (message: string, at: number = i): never => {
    throw new SyntaxFailure(message, at);
  };

  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };

  const expectChar = (ch: string, what: string): void => {
    if (text[i] !== ch) error(`expected ${what} but found ${describeChar(text, i)}`);
    i++;
  };

  const parseString = (): string => {
    const start = i;
    expectChar('"', "a string");
    let out = "";
    let chunk = i;
    for (;;) {
      if (i >= text.length) return error("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c < 0x20) return error(`unescaped control character U+${c.toString(16).padStart(4, "0")} in a string`);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(chunk, i);
      const esc = text[i + 1];
      if (esc === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return error("invalid \\u escape (needs four hex digits)");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (esc !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, esc)) {
        out += ESCAPES[esc]!;
        i += 2;
      } else {
        return error(`invalid escape \\${esc ?? ""} in a string`);
      }
      chunk = i;
    }
  };

  const parseNumber = (): number => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return error(`unexpected ${describeChar(text, i)}`);
    i += m[0].length;
    return Number(m[0]);
  };

  const parseLiteral = (word: string, value: JsonValue): JsonValue => {
    if (!text.startsWith(word, i)) error(`unexpected ${describeChar(text, i)}`);
    i += word.length;
    return value;
  };

  const parseValue = (depth: number): JsonValue => {
    skipWhitespace();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (depth >= maxDepth) error(`nesting deeper than ${maxDepth} levels`);
      return c === "{" ? parseObject(depth + 1) : parseArray(depth + 1);
    }
    if (c === '"') return parseString();
    if (c === "t") return parseLiteral("true", true);
    if (c === "f") return parseLiteral("false", false);
    if (c === "n") return parseLiteral("null", null);
    return parseNumber();
  };

  const parseArray = (depth: number): JsonValue[] => {
    i++; // "["
    const out: JsonValue[] = [];
    skipWhitespace();
    if (text[i] === "]") {
      i++;
      return out;
    }
    for (;;) {
      out.push(parseValue(depth));
      skipWhitespace();
      if (text[i] === "]") {
        i++;
        return out;
      }
      expectChar(",", "',' or ']' in an array");
    }
  };

  const parseObject = (depth: number): Map<string, JsonValue> => {
    i++; // "{"
    const out = new Map<string, JsonValue>();
    skipWhitespace();
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      skipWhitespace();
      const keyAt = i;
      const k = parseString();
      if (out.has(k)) error(`duplicate key ${JSON.stringify(k)}`, keyAt);
      skipWhitespace();
      expectChar(":", "':' after an object key");
      out.set(k, parseValue(depth));
      skipWhitespace();
      if (text[i] === "}") {
        i++;
        return out;
      }
      expectChar(",", "',' or '}' in an object");
    }
  };

  try {
    const value = parseValue(0);
    skipWhitespace();
    if (i < text.length) error(`unexpected ${describeChar(text, i)} after the JSON value`);
    return E.right(value);
  } catch (e) {
    if (e instanceof SyntaxFailure) return E.left({ message: e.message, offset: e.offset });
    throw e;
  }
};
