/**
 * @file Random edits of a safetensors header's JSON for fast-check: hostile, odd and valid values
 * planted in dtype, shape and data_offsets; fields added and dropped; tensors renamed (to
 * `__proto__`, `__metadata__`, a duplicate...) or repeated; metadata entries added; the whole
 * header replaced. Edits are written as text, so duplicate and `__proto__` keys survive.
 */
import fc from "fast-check";
import { file, parts } from "./files.js";

/** JSON texts to plant in a header: valid, odd and hostile values for every field. */
export const arbSnippet: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "-1",
    "-0",
    "0.5",
    "1e400",
    "9007199254740993",
    "18446744073709551615",
    "[]",
    "[-1]",
    "[1.5]",
    "[4294967296,4294967296,0]",
    "[0,0]",
    "[0,4]",
    "[4,0]",
    "[0,8]",
    '"F16"',
    '"BOOL"',
    '"I32"',
    '"F64"',
    '"F32"',
    "null",
    "{}",
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    "[[[[[[[[[1]]]]]]]]]",
    '"\\ud800"',
    "true",
    '"x"',
  ),
  fc.integer({ min: -10, max: 100 }).map(String),
  fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 4 }).map((a) => JSON.stringify(a)),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);
const arbKeyText = fc.oneof(
  fc
    .constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "__metadata__",
      "dtype",
      "shape",
      "data_offsets",
      "polluted",
      "\u0000",
      "w",
    )
    .map((k) => JSON.stringify(k)),
  fc.constant('"\\u005f_proto__"'),
  fc.string({ maxLength: 6 }).map((k) => JSON.stringify(k)),
);

/** One edit of the header's JSON, written as text so duplicate and `__proto__` keys survive. */
export type Edit =
  | {
      readonly kind: "set" | "drop";
      readonly tensor: number;
      readonly field: "dtype" | "shape" | "data_offsets";
      readonly value: string;
    }
  | { readonly kind: "add"; readonly tensor: number; readonly key: string; readonly value: string }
  | { readonly kind: "rename" | "duplicate"; readonly tensor: number; readonly key: string }
  | { readonly kind: "metadata"; readonly key: string; readonly value: string }
  | { readonly kind: "whole"; readonly value: string };
const field = fc.constantFrom("dtype" as const, "shape" as const, "data_offsets" as const);
export const arbEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom("set" as const, "drop" as const), tensor: fc.nat(), field, value: arbSnippet }),
  fc.record({ kind: fc.constant("add" as const), tensor: fc.nat(), key: arbKeyText, value: arbSnippet }),
  fc.record({ kind: fc.constantFrom("rename" as const, "duplicate" as const), tensor: fc.nat(), key: arbKeyText }),
  fc.record({ kind: fc.constant("metadata" as const), key: arbKeyText, value: arbSnippet }),
  fc.record({ kind: fc.constant("whole" as const), value: arbSnippet }),
);

/** The header rewritten with one edit, the data unchanged. */
export const edit = (bytes: Uint8Array, e: Edit): Uint8Array => {
  const { header, data } = parts(bytes);
  if (e.kind === "whole") return file(e.value, data);
  const json = JSON.parse(header) as Record<string, Record<string, unknown>>;
  const meta = Object.entries(json["__metadata__"] ?? {}).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  const tensors = Object.entries(json)
    .filter(([k]) => k !== "__metadata__")
    .map(
      ([k, v]) =>
        [
          JSON.stringify(k),
          Object.entries(v).map(([f, x]) => [JSON.stringify(f), JSON.stringify(x)] as [string, string]),
        ] as const,
    );
  const out: string[] = [];
  if (e.kind === "metadata") meta.push(`${e.key}:${e.value}`);
  out.push(`"__metadata__":{${meta.join(",")}}`);
  const target = "tensor" in e ? e.tensor % tensors.length : -1;
  tensors.forEach(([name, fields], i) => {
    let fs = fields;
    if (i === target && e.kind === "set") fs = fs.map(([f, x]) => [f, f === JSON.stringify(e.field) ? e.value : x]);
    if (i === target && e.kind === "drop") fs = fs.filter(([f]) => f !== JSON.stringify(e.field));
    if (i === target && e.kind === "add") fs = [...fs, [e.key, e.value]];
    const body = `{${fs.map(([f, x]) => `${f}:${x}`).join(",")}}`;
    out.push(`${i === target && e.kind === "rename" ? e.key : name}:${body}`);
    if (i === target && e.kind === "duplicate") out.push(`${e.key}:${body}`);
  });
  return file(`{${out.join(",")}}`, data);
};
