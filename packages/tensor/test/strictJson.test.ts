/**
 * @file The strict JSON parser of untrusted headers: agreement with JSON.parse on valid JSON,
 * refusal of duplicates and of everything outside RFC 8259, and its limits (depth, value count)
 * applied while parsing.
 */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../src/strictJson.js";

describe("parseStrictJson", () => {
  const plain = (v: unknown): unknown =>
    v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])) : Array.isArray(v) ? v.map(plain) : v;

  test.prop([fc.jsonValue({ maxDepth: 6 })], { numRuns: 100 })(
    "agrees with JSON.parse on JSON without duplicate keys",
    (value) => {
      const text = JSON.stringify(value, null, 1);
      const parsed = parseStrictJson(text);
      expect(E.isRight(parsed) && plain(parsed.right)).toEqual(JSON.parse(text));
    },
  );

  it("rejects duplicates and everything outside RFC 8259, with the offset", () => {
    expect(parseStrictJson('{"a":1,"a":2}')).toEqual(E.left({ message: 'duplicate key "a"', offset: 7 }));
    for (const bad of [
      "",
      "01",
      "1.",
      "+1",
      "[1,]",
      "{'a':1}",
      '"\\x"',
      '"a\nb"',
      "nul",
      "[1] 2",
      "\ufeff{}",
      "NaN",
      '{"a" 1}',
    ]) {
      expect(E.isLeft(parseStrictJson(bad))).toBe(true);
    }
    expect(parseStrictJson('"\\ud800\\u00e9"')).toEqual(E.right("\ud800\u00e9"));
    expect(E.isLeft(parseStrictJson("[[[1]]]", { maxDepth: 2 }))).toBe(true);
    expect(E.isRight(parseStrictJson("[[[1]]]", { maxDepth: 3 }))).toBe(true);
  });

  it("stops at the first value past maxValues, before building the rest", () => {
    expect(parseStrictJson("[{},{},{}]", { maxValues: 4 })).toEqual(E.right([new Map(), new Map(), new Map()]));
    expect(parseStrictJson(`[${"{},".repeat(1_000_000)}{}]`, { maxValues: 4 })).toEqual(
      E.left({ message: "more than 4 values", offset: 10 }),
    );
  });

  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.constantFrom('"', "\\", "\n", "\u0000", "\ud800", "é"),
          fc.string({ minLength: 5000, maxLength: 9000 }),
        ),
        { maxLength: 12 },
      ),
    ],
    { numRuns: 60 },
  )("reads every string JSON.stringify writes, escapes across its 4096-unit chunks included", (pieces) => {
    const value = pieces.join("");
    expect(parseStrictJson(JSON.stringify(value))).toEqual(E.right(value));
  });

  it("joins a string of many escapes into its value", () => {
    expect(parseStrictJson(`"${"\\u0041\\n".repeat(5000)}"`)).toEqual(E.right("A\n".repeat(5000)));
  });
});
