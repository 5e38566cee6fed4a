/**
 * @file The hand-made hostile safetensors files: one row per attack on each region of the format
 * (length prefix, header text, header JSON, tensor entries, metadata, data), each with the
 * message the reader must give. Rows that are legal but odd list what they decode to instead.
 */
import { file } from "./files.js";

/** A file that must be refused, with a pattern its message must match. */
export interface Refused {
  readonly label: string;
  readonly bytes: Uint8Array;
  readonly message: RegExp;
}

const entry = (dtype: unknown, shape: unknown, offsets: unknown): string =>
  `{"dtype":${JSON.stringify(dtype)},"shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(offsets)}}`;
const one = (name: string, e: string, data: Uint8Array = new Uint8Array(4)): Uint8Array =>
  file(`{${JSON.stringify(name)}:${e}}`, data);
const raw = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...xs: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(xs.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
};
const f32 = entry("F32", [], [0, 4]);
const bigName = "n".repeat(1 << 20);

/** Refused files, by region. */
export const refused: readonly Refused[] = [
  // The length prefix.
  {
    label: "an empty file",
    bytes: new Uint8Array(0),
    message: /the file is 0 bytes, shorter than the 8-byte header length/,
  },
  { label: "7 bytes", bytes: raw(2, 0, 0, 0, 0, 0, 0), message: /the file is 7 bytes/ },
  { label: "a zero header length", bytes: file(""), message: /the header is not valid JSON/ },
  {
    label: "a header length past the end",
    bytes: file("{}", new Uint8Array(0), 1000n),
    message: /header length 1000 is larger than the 2 bytes after the length field/,
  },
  {
    label: "a header length of 2^32 + 2 (high word set)",
    bytes: file("{}", new Uint8Array(0), 2n ** 32n + 2n),
    message: /header length 4294967298 exceeds the limit/,
  },
  {
    label: "a header length of 2^53",
    bytes: file("{}", new Uint8Array(0), 2n ** 53n),
    message: /header length 9007199254740992 exceeds the limit of 100000000 bytes/,
  },
  {
    label: "a header length of 2^53 + 1 (not a double)",
    bytes: file("{}", new Uint8Array(0), 2n ** 53n + 1n),
    message: /header length 9007199254740993 exceeds/,
  },
  {
    label: "a header length of 2^64 - 1",
    bytes: file("{}", new Uint8Array(0), 2n ** 64n - 1n),
    message: /header length 18446744073709551615 exceeds/,
  },
  {
    label: "a header length one past the limit",
    bytes: file("{}", new Uint8Array(0), 100_000_001n),
    message: /header length 100000001 exceeds/,
  },
  // The header text.
  {
    label: "a truncated header",
    bytes: file('{"a":{"dtype":"F32"'),
    message: /not valid JSON: expected ',' or '}' in an object but found end of input/,
  },
  {
    label: "invalid UTF-8 (0xFF)",
    bytes: file(cat(text('{"a'), raw(0xff), text('":1}'))),
    message: /the header is not valid UTF-8/,
  },
  {
    label: "an overlong UTF-8 '/' (C0 AF)",
    bytes: file(cat(text('{"'), raw(0xc0, 0xaf), text('":1}'))),
    message: /not valid UTF-8/,
  },
  {
    label: "a UTF-8-encoded surrogate (ED A0 80)",
    bytes: file(cat(text('{"'), raw(0xed, 0xa0, 0x80), text('":1}'))),
    message: /not valid UTF-8/,
  },
  {
    label: "a multi-byte character cut by the header end",
    bytes: file(cat(text('{"a":"'), raw(0xe2, 0x82))),
    message: /not valid UTF-8/,
  },
  { label: "a byte-order mark", bytes: file("\ufeff{}"), message: /unexpected "\ufeff" \(U\+feff\) at character 0/ },
  {
    label: "a NUL byte outside a string",
    bytes: file("{}\u0000"),
    message: /unexpected "\\u0000" \(U\+0000\) after the JSON value/,
  },
  {
    label: "a raw control character in a name",
    bytes: file('{"a\nb":1}'),
    message: /unescaped control character U\+000a/,
  },
  // The header JSON.
  { label: "100k nested arrays", bytes: file("[".repeat(100_000)), message: /nesting deeper than 8 levels/ },
  {
    label: "100k nested arrays in a metadata value",
    bytes: file(`{"__metadata__":{"a":${"[".repeat(100_000)}`),
    message: /nesting deeper than 8 levels/,
  },
  // Read by the schema: an entry's first key that is not a field is refused before its value is read.
  { label: "100k nested objects", bytes: file('{"a":'.repeat(100_000)), message: /tensor "a": unknown field "a"/ },
  {
    label: "a nested shape",
    bytes: one("a", entry("F32", [[[[[[[[[1]]]]]]]]], [0, 4])),
    message: /nesting deeper than 8 levels/,
  },
  {
    label: "a shape of nested arrays",
    bytes: one("a", entry("F32", [[[1]]], [0, 4])),
    message: /"shape" must be an array of non-negative integers, got \[\[\[1\]\]\]/,
  },
  { label: "an array header", bytes: file("[]"), message: /the header must be a JSON object, got \[\]/ },
  { label: "a string header", bytes: file('"x"'), message: /must be a JSON object, got "x"/ },
  { label: "a null header", bytes: file("null"), message: /must be a JSON object, got null/ },
  { label: "trailing garbage", bytes: file("{}x"), message: /unexpected "x" \(U\+0078\) after the JSON value/ },
  {
    label: "a trailing comma",
    bytes: file(`{"a":${f32},}`, new Uint8Array(4)),
    message: /expected a string but found "}"/,
  },
  { label: "a comment", bytes: file("{/**/}"), message: /not valid JSON/ },
  { label: "single quotes", bytes: file("{'a':1}"), message: /not valid JSON/ },
  {
    label: "a NaN literal",
    bytes: one("a", '{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}'),
    message: /not valid JSON: unexpected "N"/,
  },
  {
    label: "a leading zero",
    bytes: one("a", '{"dtype":"F32","shape":[01],"data_offsets":[0,4]}'),
    message: /not valid JSON/,
  },
  {
    label: "a plus sign",
    bytes: one("a", '{"dtype":"F32","shape":[+1],"data_offsets":[0,4]}'),
    message: /not valid JSON/,
  },
  {
    label: "a hex number",
    bytes: one("a", '{"dtype":"F32","shape":[0x1],"data_offsets":[0,4]}'),
    message: /not valid JSON/,
  },
  { label: "a bad escape", bytes: file('{"\\x41":1}'), message: /invalid escape \\x/ },
  { label: "a short \\u escape", bytes: file('{"\\u12":1}'), message: /invalid \\u escape/ },
  // Duplicate keys.
  {
    label: "a duplicate tensor name",
    bytes: file(`{"a":${f32},"a":${f32}}`, new Uint8Array(8)),
    message: /duplicate key "a"/,
  },
  {
    label: "a duplicate written as an escape",
    bytes: file(`{"a":${f32},"\\u0061":${f32}}`, new Uint8Array(8)),
    message: /duplicate key "a"/,
  },
  {
    label: "two __metadata__ entries",
    bytes: file('{"__metadata__":{},"__metadata__":{"x":"y"}}'),
    message: /duplicate key "__metadata__"/,
  },
  {
    label: "a duplicate field",
    bytes: one("a", '{"dtype":"F32","dtype":"I32","shape":[],"data_offsets":[0,4]}'),
    message: /duplicate key "dtype"/,
  },
  {
    label: "a duplicate metadata key",
    bytes: file('{"__metadata__":{"k":"a","k":"b"}}'),
    message: /duplicate key "k"/,
  },
  // Keys that would pollute a prototype if copied into a plain object.
  {
    label: "a tensor named __proto__",
    bytes: one("__proto__", f32),
    message: /tensor "__proto__": the name is not allowed/,
  },
  {
    label: "a __proto__ entry of junk",
    bytes: file('{"__proto__":{"polluted":"yes"}}'),
    message: /tensor "__proto__": the name is not allowed/,
  },
  {
    label: "__proto__ spelled with escapes",
    bytes: file(`{"\\u005f\\u005fproto\\u005f\\u005f":${f32}}`, new Uint8Array(4)),
    message: /tensor "__proto__": the name is not allowed/,
  },
  {
    label: "a tensor named constructor",
    bytes: one("constructor", f32),
    message: /tensor "constructor": the name is not allowed/,
  },
  {
    label: "a tensor named prototype",
    bytes: one("prototype", f32),
    message: /tensor "prototype": the name is not allowed/,
  },
  {
    label: "a metadata key __proto__",
    bytes: file('{"__metadata__":{"__proto__":"x"}}'),
    message: /"__metadata__": the key "__proto__" is not allowed/,
  },
  {
    label: "a metadata key constructor",
    bytes: file('{"__metadata__":{"constructor":"x"}}'),
    message: /the key "constructor" is not allowed/,
  },
  {
    label: "a metadata key prototype",
    bytes: file('{"__metadata__":{"prototype":"x"}}'),
    message: /the key "prototype" is not allowed/,
  },
  {
    label: "a nested __proto__ in metadata",
    bytes: file('{"__metadata__":{"a":{"__proto__":{"polluted":"yes"}}}}'),
    message: /the value of "a" must be a string, got an object/,
  },
  {
    label: "constructor.prototype in metadata",
    bytes: file('{"__metadata__":{"x":{"constructor":{"prototype":{"polluted":"1"}}}}}'),
    message: /the value of "x" must be a string, got an object/,
  },
  {
    label: "a __proto__ field in an entry",
    bytes: one("a", '{"__proto__":{"polluted":1},"dtype":"F32","shape":[],"data_offsets":[0,4]}'),
    message: /tensor "a": unknown field "__proto__"/,
  },
  {
    label: "a constructor field in an entry",
    bytes: one("a", '{"dtype":"F32","shape":[],"data_offsets":[0,4],"constructor":1}'),
    message: /unknown field "constructor"/,
  },
  // Metadata.
  {
    label: "a numeric metadata value",
    bytes: file('{"__metadata__":{"a":1}}'),
    message: /the value of "a" must be a string, got 1/,
  },
  { label: "a null metadata value", bytes: file('{"__metadata__":{"a":null}}'), message: /must be a string, got null/ },
  {
    label: "a boolean metadata value",
    bytes: file('{"__metadata__":{"a":true}}'),
    message: /must be a string, got true/,
  },
  {
    label: "an array metadata value",
    bytes: file('{"__metadata__":{"a":["x"]}}'),
    message: /must be a string, got \["x"\]/,
  },
  {
    label: "string metadata",
    bytes: file('{"__metadata__":"x"}'),
    message: /"__metadata__" must be an object of strings, got "x"/,
  },
  {
    label: "array metadata",
    bytes: file('{"__metadata__":[]}'),
    message: /"__metadata__" must be an object of strings, got \[\]/,
  },
  {
    label: "a tensor entry as __metadata__",
    bytes: file(`{"__metadata__":${f32}}`, new Uint8Array(4)),
    message: /the value of "dtype" must be a string|the value of "shape" must be a string/,
  },
  // Entries: dtype.
  {
    label: "an unknown dtype",
    bytes: one("a", entry("F33", [], [0, 4])),
    message: /unknown dtype "F33" \(supported: F32, F64, I32, BOOL\)/,
  },
  { label: "a lowercase dtype", bytes: one("a", entry("f32", [], [0, 4])), message: /unknown dtype "f32"/ },
  {
    label: "F16",
    bytes: one("a", entry("F16", [2], [0, 4])),
    message: /dtype F16 is not supported \(supported: F32, F64, I32, BOOL\); convert it before saving/,
  },
  { label: "I64", bytes: one("a", entry("I64", [], [0, 8]), new Uint8Array(8)), message: /dtype I64 is not supported/ },
  { label: "a numeric dtype", bytes: one("a", entry(1, [], [0, 4])), message: /"dtype" must be a string, got 1/ },
  {
    label: "a missing dtype",
    bytes: one("a", '{"shape":[],"data_offsets":[0,4]}'),
    message: /"dtype" must be a string, got nothing/,
  },
  {
    label: "an entry that is a number",
    bytes: file('{"a":1}'),
    message: /tensor "a": expected an object \{ dtype, shape, data_offsets \}, got 1/,
  },
  // Entries: shape.
  {
    label: "a negative dim",
    bytes: one("a", entry("F32", [-1], [0, 4])),
    message: /"shape" must be an array of non-negative integers, got \[-1\]/,
  },
  {
    label: "a fractional dim",
    bytes: one("a", entry("F32", [0.5, 2], [0, 4])),
    message: /non-negative integers, got \[0.5,2\]/,
  },
  {
    label: "a string dim",
    bytes: one("a", entry("F32", ["1"], [0, 4])),
    message: /non-negative integers, got \["1"\]/,
  },
  {
    label: "a null dim",
    bytes: one("a", entry("F32", [null], [0, 4])),
    message: /non-negative integers, got \[null\]/,
  },
  {
    label: "an infinite dim (1e400)",
    bytes: one("a", '{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}'),
    message: /non-negative integers, got \[1e400\]/,
  },
  {
    label: "a dim of 2^53",
    bytes: one("a", entry("F32", [2 ** 53], [0, 4])),
    message: /non-negative integers, got \[9007199254740992\]/,
  },
  {
    label: "a shape that is a number",
    bytes: one("a", entry("F32", 1, [0, 4])),
    message: /"shape" must be an array of non-negative integers, got 1/,
  },
  { label: "a shape that is an object", bytes: one("a", entry("F32", {}, [0, 4])), message: /got an object/ },
  {
    label: "dims whose product passes 2^53 beside a zero",
    bytes: one("a", entry("F32", [2 ** 32, 2 ** 32, 0], [0, 0]), new Uint8Array(0)),
    message: /shape \[4294967296, 4294967296, 0\] has dimensions whose product passes 2\^53/,
  },
  {
    label: "dims whose product overflows a double",
    bytes: one("a", entry("F32", [1e15, 1e15, 1e15], [0, 4])),
    message: /needs more bytes than the 4-byte data buffer holds/,
  },
  {
    label: "a product of 2^53 - 1 elements",
    bytes: one("a", entry("BOOL", [2 ** 53 - 1], [0, 4])),
    message: /needs more bytes than the 4-byte data buffer/,
  },
  {
    label: "a shape the bytes do not fill",
    bytes: one("a", entry("F64", [3], [0, 16]), new Uint8Array(16)),
    message: /shape \[3\] of F64 needs more bytes than the 16-byte data buffer holds/,
  },
  {
    label: "a shape smaller than its bytes",
    bytes: one("a", entry("F32", [2], [0, 12]), new Uint8Array(12)),
    message: /shape \[2\] of F32 needs 8 bytes but data_offsets \[0, 12\] span 12/,
  },
  {
    label: "an element size the bytes do not divide",
    bytes: one("a", entry("F32", [1], [0, 3]), new Uint8Array(4)),
    message: /needs 4 bytes but data_offsets \[0, 3\] span 3/,
  },
  // Entries: offsets.
  {
    label: "negative offsets",
    bytes: one("a", entry("F32", [], [-4, 0])),
    message: /"data_offsets" must be two non-negative integers \[begin, end\], got \[-4,0\]/,
  },
  { label: "fractional offsets", bytes: one("a", entry("F32", [], [0, 4.5])), message: /got \[0,4.5\]/ },
  { label: "string offsets", bytes: one("a", entry("F32", [], ["0", "4"])), message: /got \["0","4"\]/ },
  { label: "one offset", bytes: one("a", entry("F32", [], [4])), message: /got \[4\]/ },
  { label: "three offsets", bytes: one("a", entry("F32", [], [0, 2, 4])), message: /got \[0,2,4\]/ },
  {
    label: "an offset past 2^53",
    bytes: one("a", '{"dtype":"F32","shape":[],"data_offsets":[0,9007199254740995]}'),
    message: /two non-negative integers/,
  },
  {
    label: "reversed offsets",
    bytes: one("a", entry("F32", [], [4, 0])),
    message: /data_offsets \[4, 0\] are reversed/,
  },
  {
    label: "offsets past the data",
    bytes: one("a", entry("F32", [], [4, 8])),
    message: /data_offsets \[4, 8\] run past the end of the 4-byte data buffer/,
  },
  {
    label: "overlapping tensors",
    bytes: file(`{"a":${entry("F32", [2], [0, 8])},"b":${entry("F32", [2], [4, 12])}}`, new Uint8Array(12)),
    message: /tensor "b": data_offsets \[4, 12\] overlap another tensor's bytes \(which end at 8\)/,
  },
  {
    label: "two tensors on the same bytes",
    bytes: file(`{"a":${f32},"b":${f32}}`, new Uint8Array(4)),
    message: /overlap another tensor's bytes/,
  },
  {
    label: "an empty tensor inside another",
    bytes: file(`{"a":${entry("F32", [2], [0, 8])},"b":${entry("F32", [0], [4, 4])}}`, new Uint8Array(8)),
    message: /tensor "b": data_offsets \[4, 4\] overlap/,
  },
  {
    label: "a hole between tensors",
    bytes: file(`{"a":${f32},"b":${entry("F32", [], [8, 12])}}`, new Uint8Array(12)),
    message: /leave a hole: bytes \[4, 8\) belong to no tensor/,
  },
  {
    label: "trailing bytes",
    bytes: one("a", f32, new Uint8Array(6)),
    message: /the data buffer has 6 bytes but the tensors cover only \[0, 4\): 2 trailing bytes/,
  },
  {
    label: "data but no tensors",
    bytes: file("{}", new Uint8Array(3)),
    message: /3 trailing bytes belong to no tensor/,
  },
  {
    label: "an unknown field",
    bytes: one("a", '{"dtype":"F32","shape":[],"data_offsets":[0,4],"offset":0}'),
    message: /tensor "a": unknown field "offset"/,
  },
  // The data.
  {
    label: "a BOOL byte of 2",
    bytes: one("b", entry("BOOL", [2], [0, 2]), raw(1, 2)),
    message: /tensor "b": BOOL element 1 is the byte 2, not 0 or 1/,
  },
  {
    label: "a BOOL byte of 255",
    bytes: one("b", entry("BOOL", [], [0, 1]), raw(255)),
    message: /BOOL element 0 is the byte 255/,
  },
  // Limits, checked while the header is read (the attacks that grew the process to 13–75× the file).
  {
    label: "a shape of 100k empty objects",
    bytes: one(
      "a",
      entry(
        "F32",
        Array.from({ length: 100_000 }, () => ({})),
        [0, 4],
      ),
    ),
    message: /"shape" must be an array of non-negative integers, got \[\{\},\{\},.{40,}\.\.\./,
  },
  {
    label: "a shape of 100k empty arrays",
    bytes: one(
      "a",
      entry(
        "F32",
        Array.from({ length: 100_000 }, () => []),
        [0, 4],
      ),
    ),
    message: /"shape" must be an array of non-negative integers, got \[\[\],\[\],/,
  },
  {
    label: "rank 65",
    bytes: one("a", entry("F32", Array<number>(65).fill(1), [0, 4])),
    message: /tensor "a": "shape" has more than 64 dimensions \(the limit is 64\)$/,
  },
  {
    label: "rank 1,000,000",
    bytes: one("a", entry("F32", Array<number>(1_000_000).fill(1), [0, 4])),
    message: /"shape" has more than 64 dimensions/,
  },
  {
    label: "100,001 tensors",
    bytes: file(`{${Array.from({ length: 100_001 }, (_, i) => `"t${i}":${entry("F32", [0], [0, 0])}`).join(",")}}`),
    message: /the header lists more than 100000 tensors \(the limit\)/,
  },
  {
    label: "10,001 metadata entries",
    bytes: file(`{"__metadata__":{${Array.from({ length: 10_001 }, (_, i) => `"k${i}":""`).join(",")}}}`),
    message: /"__metadata__" has more than 10000 entries \(the limit\)/,
  },
  {
    label: "100k keys in one entry",
    bytes: one("a", `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":{}`).join(",")}}`),
    message: /tensor "a": unknown field "k0"/,
  },
  // Size: a megabyte-long name must not make a megabyte-long message.
  {
    label: "a 1 MiB name with a bad entry",
    bytes: file(`{"${bigName}":1}`),
    message: /tensor "n{57}\.\.\.": expected an object/,
  },
];

/** Odd but legal files, with the one thing about the result the row is for. */
export interface Accepted {
  readonly label: string;
  readonly bytes: Uint8Array;
  readonly names: readonly string[];
}

export const accepted: readonly Accepted[] = [
  { label: "an empty header", bytes: file("{}"), names: [] },
  { label: "whitespace around the JSON", bytes: file(` \t\r\n{"a":${f32}}\n   `, new Uint8Array(4)), names: ["a"] },
  {
    label: "a -0 dim (decoded as 0)",
    bytes: one("z", '{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}', new Uint8Array(0)),
    names: ["z"],
  },
  {
    label: "integral dims written 1.0 and 1e0",
    bytes: one("a", '{"dtype":"F32","shape":[1.0,1e0],"data_offsets":[0,4]}'),
    names: ["a"],
  },
  { label: "a null __metadata__", bytes: file('{"__metadata__":null}'), names: [] },
  {
    label: "a metadata value polluted",
    bytes: file('{"__metadata__":{"polluted":"yes","toString":"x","hasOwnProperty":"y"}}'),
    names: [],
  },
  {
    label: "a metadata string of 100k brackets",
    bytes: file(`{"__metadata__":{"x":"${"[".repeat(100_000)}"}}`),
    names: [],
  },
  {
    label: "tensors named like Object.prototype members",
    bytes: file(
      `{"toString":${f32},"hasOwnProperty":${entry("F32", [], [4, 8])},"valueOf":${entry("F32", [0], [8, 8])}}`,
      new Uint8Array(8),
    ),
    names: ["toString", "hasOwnProperty", "valueOf"],
  },
  {
    label: "a lone surrogate escape in a name (kept as the bytes say)",
    bytes: file(`{"\\ud800":${f32}}`, new Uint8Array(4)),
    names: ["\ud800"],
  },
  { label: "rank 64 (the limit)", bytes: one("a", entry("F32", Array<number>(64).fill(1), [0, 4])), names: ["a"] },
  {
    label: "empty tensors sharing an offset",
    bytes: file(`{"a":${entry("F32", [0], [0, 0])},"b":${entry("I32", [0, 3], [0, 0])},"c":${f32}}`, new Uint8Array(4)),
    names: ["a", "b", "c"],
  },
];
