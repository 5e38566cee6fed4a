/**
 * @file Reading a checkpoint's `tree` metadata — the JSON text of a `TreeSpec` — straight into a
 * `TreeSpec`, by its schema. Nothing but spec nodes is ever built: a node that is not an object
 * with the fields of its kind is refused at its first wrong character, nesting is refused at
 * level MAX_TREE_DEPTH and size at MAX_TREE_NODES, both while reading. (`JSON.parse` first and
 * checks after built 300k-deep hostile trees in full: 19–48× the file in process memory.)
 *
 * The text must be exactly as `JSON.stringify` writes it: no whitespace, no duplicate keys,
 * strings escaped the way `JSON.stringify` escapes them, so one structure has one spelling and a
 * file is never guessed at. Field order is free (it is the writer's insertion order).
 */
import { JsonCursor, JsonFailure, quoteKey } from "@rewind/tensor/internal/untrusted";
import { FORBIDDEN_KEYS, MAX_TREE_DEPTH, MAX_TREE_NODES, type StaticSpec, type TreeSpec } from "./treeSpec.js";

/**
 * What reading a tree gave: the spec, or why not — `syntax` (not JSON), `form` (JSON not as
 * `JSON.stringify` writes it), or `schema` (JSON, but not a tree spec) — as a sentence.
 * @example const r: TreeSpecRead = { ok: false, why: "schema", detail: 'tree: unknown node kind "x"' };
 */
export type TreeSpecRead =
  | { readonly ok: true; readonly spec: TreeSpec }
  | { readonly ok: false; readonly why: "syntax" | "form" | "schema"; readonly detail: string };

/** A schema problem (the JSON is fine so far); caught in `readTreeSpec`. */
class SpecProblem {
  constructor(readonly detail: string) {}
}
const reject = (detail: string): never => {
  throw new SpecProblem(detail);
};

/** The fields each node kind may have. */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  leaf: ["kind", "name"],
  static: ["kind", "value"],
  array: ["kind", "children"],
  list: ["kind", "children"],
  object: ["kind", "keys", "children"],
  record: ["kind", "keys", "children"],
  map: ["kind", "keys", "children"],
};

/** Reads a tree of at most MAX_TREE_NODES nodes (keys count too) from `c`. */
const reader = (c: JsonCursor) => {
  let nodes = 0;
  const count = (): void => {
    if (++nodes > MAX_TREE_NODES) reject(`the structure has more than ${MAX_TREE_NODES} nodes and keys (the limit)`);
  };

  /** A string token, refused unless spelled as `JSON.stringify` spells it. */
  const string = (): string => {
    const start = c.at;
    const s = c.string();
    if (JSON.stringify(s) !== c.text.slice(start, c.at)) c.fail("a string escaped otherwise than JSON.stringify escapes it", start, true);
    return s;
  };

  /** Reads the members of an object, calling `field` after each key's colon; refuses duplicate keys. */
  const members = (field: (key: string) => void): void => {
    if (c.take("}")) return;
    const seen: string[] = [];
    for (;;) {
      const keyAt = c.at;
      const k = string();
      if (seen.includes(k)) c.fail(`duplicate key ${quoteKey(k)}`, keyAt, true);
      seen.push(k);
      c.expect(":", "':' after an object key");
      field(k);
      if (c.take("}")) return;
      c.expect(",", "',' or '}' in an object");
    }
  };

  const items = <A>(read: (i: number) => A): A[] => {
    const out: A[] = [];
    if (c.take("]")) return out;
    for (;;) {
      out.push(read(out.length));
      if (c.take("]")) return out;
      c.expect(",", "',' or ']' in an array");
    }
  };

  /** What the value at the cursor is, for a message (not read further). */
  const got = (): string => (c.peek() === "[" ? "an array" : c.snippet(c.at));

  const staticOf = (where: string): StaticSpec => {
    const start = c.at;
    if (!c.take("{")) return reject(`${where}: a static value must be an object { type, value }, got ${got()}`);
    let type: unknown;
    let value: unknown;
    let hasValue = false;
    members((k) => {
      if (k === "type") type = c.peek() === '"' ? string() : reject(`${where}: bad static value type ${got()}`);
      else if (k === "value") {
        hasValue = true;
        value = c.peek() === '"' ? string() : c.peek() === "t" || c.peek() === "f" ? c.literal() : reject(`${where}: bad static value ${got()}`);
      } else reject(`${where}: unknown field ${quoteKey(k)}`);
    });
    const bad = (): never => reject(`${where}: bad static value ${c.snippet(start)}`);
    if (type === "null" || type === "undefined") return hasValue ? reject(`${where}: unknown field "value"`) : { type };
    // Only the canonical spelling `String(n)` (or "-0") is accepted, so each number has one form.
    if (type === "number" && typeof value === "string" && (String(Number(value)) === value || value === "-0")) return { type, value };
    if (type === "string" && typeof value === "string") return { type, value };
    if (type === "boolean" && typeof value === "boolean") return { type, value };
    return bad();
  };

  const node = (where: string, depth: number): TreeSpec => {
    if (depth >= MAX_TREE_DEPTH) reject(`${where}: the structure is nested deeper than ${MAX_TREE_DEPTH} levels`);
    count();
    if (!c.take("{")) return reject(`${where}: expected a node object, got ${got()}`);
    let kind: string | undefined;
    let name: unknown;
    let value: StaticSpec | undefined;
    let keys: Array<string | StaticSpec> | undefined;
    let children: TreeSpec[] | undefined;
    members((k) => {
      // Fields are checked against the kind as soon as it is known (a writer puts it first).
      if (kind !== undefined && !FIELDS[kind]!.includes(k)) reject(`${where}: unknown field ${quoteKey(k)}`);
      switch (k) {
        case "kind": {
          const s = c.peek() === '"' ? string() : reject(`${where}: unknown node kind ${got()}`);
          if (!Object.prototype.hasOwnProperty.call(FIELDS, s)) reject(`${where}: unknown node kind ${quoteKey(s)}`);
          kind = s;
          return;
        }
        case "name":
          name = c.peek() === '"' ? string() : reject(`${where}: a leaf needs a string "name"`);
          return;
        case "value":
          value = staticOf(where);
          return;
        case "keys":
          if (!c.take("[")) reject(`${where}: "keys" must be an array`);
          keys = items((i) => {
            count();
            return c.peek() === '"' ? string() : staticOf(`${where}/keys/${i}`);
          });
          return;
        case "children":
          if (!c.take("[")) reject(`${where}: "children" must be an array`);
          children = items((i) => node(`${where}/${i}`, depth + 1));
          return;
        default:
          reject(`${where}: unknown field ${quoteKey(k)}`);
      }
    });
    if (kind === undefined) return reject(`${where}: a node without a "kind"`);
    for (const [field, v] of [["name", name], ["value", value], ["keys", keys], ["children", children]] as const) {
      if (v !== undefined && !FIELDS[kind]!.includes(field)) reject(`${where}: unknown field ${quoteKey(field)}`);
    }
    switch (kind) {
      case "leaf":
        return typeof name === "string" ? { kind, name } : reject(`${where}: a leaf needs a string "name"`);
      case "static":
        return value !== undefined ? { kind, value } : reject(`${where}: a static value must be an object { type, value }, got nothing`);
      case "array":
      case "list":
        return { kind, children: children ?? reject(`${where}: "children" must be an array`) };
      default: {
        const kids = children ?? reject(`${where}: "children" must be an array`);
        const ks = keys ?? reject(`${where}: "keys" must be an array`);
        if (kids.length !== ks.length) reject(`${where}: ${ks.length} keys but ${kids.length} children`);
        const seen = new Set<string>();
        const check = (id: string): void => {
          if (seen.has(id)) reject(`${where}: duplicate key ${id.length > 60 ? `${id.slice(0, 57)}...` : id}`);
          seen.add(id);
        };
        if (kind === "map") {
          const mapKeys = ks.map((k, i) => (typeof k === "string" ? reject(`${where}/keys/${i}: a static value must be an object { type, value }`) : k));
          mapKeys.forEach((k) => check(JSON.stringify(k)));
          return { kind, keys: mapKeys, children: kids };
        }
        const names = ks.map((k) => (typeof k === "string" ? k : reject(`${where}: object keys must be strings`)));
        for (const k of names) {
          if (FORBIDDEN_KEYS.has(k)) reject(`${where}: the key ${quoteKey(k)} is not allowed`);
          check(JSON.stringify(k));
        }
        return { kind: kind as "object" | "record", keys: names, children: kids };
      }
    }
  };
  return node;
};

/**
 * Reads the `tree` metadata text into a `TreeSpec`, validating every node as it is read (kinds,
 * fields, key lists, duplicate keys, nesting depth, node count, reserved keys). Never throws.
 * @example readTreeSpec('{"kind":"leaf","name":"params"}') // { ok: true, spec: { kind: "leaf", name: "params" } }
 */
export const readTreeSpec = (text: string): TreeSpecRead => {
  const c = new JsonCursor(text, true);
  try {
    const spec = reader(c)("tree", 0);
    if (!c.atEnd()) c.fail(`unexpected ${c.describeChar()} after the JSON value`);
    return { ok: true, spec };
  } catch (e) {
    if (e instanceof SpecProblem) return { ok: false, why: "schema", detail: e.detail };
    if (e instanceof JsonFailure) return { ok: false, why: e.form ? "form" : "syntax", detail: `${e.message} at character ${e.offset}` };
    throw e;
  }
};
