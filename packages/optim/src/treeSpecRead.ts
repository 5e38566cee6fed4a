/**
 * @file Reading a checkpoint's `tree` metadata — the JSON text of a `TreeSpec` — straight into a
 * `TreeSpec`, by its schema. Nothing but spec nodes is ever built: a node that is not an object
 * with the fields of its kind is refused at its first wrong character, nesting is refused at
 * level MAX_TREE_DEPTH and size at MAX_TREE_NODES, both while reading. (`JSON.parse` first and
 * checks after built 300k-deep hostile trees in full: 19–48× the file in process memory.)
 * Field names, kinds and static types are matched in the text without allocating, so a node
 * costs about its own object and nothing more.
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
class SpecProblem extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}
const reject = (detail: string): never => {
  throw new SpecProblem(detail);
};

// Field names and values as they appear in the text (quotes included), matched without allocating.
const FIELDS = ['"kind"', '"name"', '"value"', '"keys"', '"children"'] as const;
const [KIND, NAME, VALUE, KEYS, CHILDREN] = [0, 1, 2, 3, 4];
const KINDS = ['"leaf"', '"static"', '"array"', '"list"', '"object"', '"record"', '"map"'] as const;
type Kind = TreeSpec["kind"];
/** The fields each kind has (bit i: FIELDS[i]). */
const ALLOWED: Readonly<Record<Kind, number>> = {
  leaf: (1 << KIND) | (1 << NAME),
  static: (1 << KIND) | (1 << VALUE),
  array: (1 << KIND) | (1 << CHILDREN),
  list: (1 << KIND) | (1 << CHILDREN),
  object: (1 << KIND) | (1 << KEYS) | (1 << CHILDREN),
  record: (1 << KIND) | (1 << KEYS) | (1 << CHILDREN),
  map: (1 << KIND) | (1 << KEYS) | (1 << CHILDREN),
};
const STATIC_FIELDS = ['"type"', '"value"'] as const;
const TYPES = ['"number"', '"string"', '"boolean"', '"null"', '"undefined"'] as const;
// The statics without a payload are shared (specs are never written to).
const NULL: StaticSpec = Object.freeze({ type: "null" });
const UNDEFINED: StaticSpec = Object.freeze({ type: "undefined" });

/**
 * A node's path for messages (`tree/0/3`, `tree/2/keys/1`), built only when a message needs it
 * (a string per node would cost more than the node), and cut in the middle past 80 characters (a
 * 256-deep path would be 500).
 */
const pathOf = (parent: string, index: number, suffix = ""): string => {
  const where = `${index < 0 ? parent : `${parent}/${index}`}${suffix}`;
  return where.length > 80 ? `${where.slice(0, 40)}…${where.slice(-36)}` : where;
};

/** Reads a tree of at most MAX_TREE_NODES nodes (keys count too) from `c`. */
const reader = (c: JsonCursor) => {
  let nodes = 0;
  const count = (): void => {
    if (++nodes > MAX_TREE_NODES) reject(`the structure has more than ${MAX_TREE_NODES} nodes and keys (the limit)`);
  };
  /** What the value at the cursor is, for a message (not read further). */
  const got = (): string => (c.peek() === "[" ? "an array" : c.snippet(c.at));

  /**
   * Reads the next key of an object (after `{` or `,`), one of `fields`, as its index; refuses an
   * unknown key (schema) and a repeated one (form). `seen` holds a bit per field read so far.
   */
  const field = (fields: readonly string[], seen: number, parent: string, index: number, suffix: string): number => {
    const keyAt = c.at;
    const f = c.known(fields);
    if (f < 0) {
      const k = c.canonicalString();
      // A known field spelled with escapes is a form problem, which canonicalString reported.
      return reject(`${pathOf(parent, index, suffix)}: unknown field ${quoteKey(k)}`);
    }
    if (seen & (1 << f)) c.fail(`duplicate key ${fields[f]!}`, keyAt, true);
    c.expect(":", "':' after an object key");
    return f;
  };

  const badStatic = (parent: string, index: number, suffix: string, start: number): never =>
    reject(`${pathOf(parent, index, suffix)}: bad static value ${c.snippet(start)}`);

  const staticOf = (parent: string, index: number, suffix: string): StaticSpec => {
    const start = c.at;
    if (!c.take("{"))
      return reject(`${pathOf(parent, index, suffix)}: a static value must be an object { type, value }, got ${got()}`);
    let seen = 0;
    let type = -1;
    let value: string | boolean | undefined;
    if (!c.take("}")) {
      for (;;) {
        const f = field(STATIC_FIELDS, seen, parent, index, suffix);
        seen |= 1 << f;
        if (f === 0) {
          type = c.known(TYPES);
          if (type < 0) return badStatic(parent, index, suffix, start);
        } else {
          const ch = c.peek();
          value =
            ch === '"'
              ? c.canonicalString()
              : ch === "t" || ch === "f"
                ? (c.literal() as boolean)
                : badStatic(parent, index, suffix, start);
        }
        if (c.take("}")) break;
        c.expect(",", "',' or '}' in an object");
      }
    }
    switch (type) {
      case 0:
        // Only the canonical spelling `String(n)` (or "-0") is accepted, so each number has one form.
        return typeof value === "string" && (String(Number(value)) === value || value === "-0")
          ? { type: "number", value }
          : badStatic(parent, index, suffix, start);
      case 1:
        return typeof value === "string" ? { type: "string", value } : badStatic(parent, index, suffix, start);
      case 2:
        return typeof value === "boolean" ? { type: "boolean", value } : badStatic(parent, index, suffix, start);
      case 3:
      case 4:
        return value === undefined
          ? type === 3
            ? NULL
            : UNDEFINED
          : reject(`${pathOf(parent, index, suffix)}: unknown field "value"`);
      default:
        return badStatic(parent, index, suffix, start);
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

  const node = (parent: string, index: number, depth: number): TreeSpec => {
    if (depth >= MAX_TREE_DEPTH)
      reject(`${pathOf(parent, index)}: the structure is nested deeper than ${MAX_TREE_DEPTH} levels`);
    count();
    if (!c.take("{")) return reject(`${pathOf(parent, index)}: expected a node object, got ${got()}`);
    let seen = 0;
    let kind: Kind | undefined;
    let name: string | undefined;
    let value: StaticSpec | undefined;
    let keys: Array<string | StaticSpec> | undefined;
    let children: TreeSpec[] | undefined;
    if (!c.take("}")) {
      for (;;) {
        const f = field(FIELDS, seen, parent, index, "");
        seen |= 1 << f;
        // Fields are checked against the kind as soon as it is known (a writer puts it first).
        if (kind !== undefined && !(ALLOWED[kind] & (1 << f)))
          reject(`${pathOf(parent, index)}: unknown field ${FIELDS[f]!}`);
        if (f === KIND) {
          const k = c.known(KINDS);
          if (k < 0)
            return reject(
              `${pathOf(parent, index)}: unknown node kind ${c.peek() === '"' ? quoteKey(c.canonicalString()) : got()}`,
            );
          kind = KINDS[k]!.slice(1, -1) as Kind;
          if (seen & ~ALLOWED[kind])
            reject(`${pathOf(parent, index)}: unknown field ${FIELDS[31 - Math.clz32(seen & ~ALLOWED[kind])]!}`);
        } else if (f === NAME) {
          name =
            c.peek() === '"' ? c.canonicalString() : reject(`${pathOf(parent, index)}: a leaf needs a string "name"`);
        } else if (f === VALUE) {
          value = staticOf(parent, index, "");
        } else if (f === KEYS) {
          if (!c.take("[")) reject(`${pathOf(parent, index)}: "keys" must be an array`);
          keys = items((i) => {
            count();
            return c.peek() === '"' ? c.canonicalString() : staticOf(parent, index, `/keys/${i}`);
          });
        } else {
          if (!c.take("[")) reject(`${pathOf(parent, index)}: "children" must be an array`);
          // This node's path, once for all its children.
          const here = index < 0 ? parent : `${parent}/${index}`;
          children = items((i) => node(here, i, depth + 1));
        }
        if (c.take("}")) break;
        c.expect(",", "',' or '}' in an object");
      }
    }
    return build(parent, index, kind, name, value, keys, children);
  };

  /** The node a finished object describes, once every field it has is known. */
  const build = (
    parent: string,
    index: number,
    kind: Kind | undefined,
    name: string | undefined,
    value: StaticSpec | undefined,
    keys: Array<string | StaticSpec> | undefined,
    children: TreeSpec[] | undefined,
  ): TreeSpec => {
    switch (kind) {
      case undefined:
        return reject(`${pathOf(parent, index)}: a node without a "kind"`);
      case "leaf":
        return name !== undefined ? { kind, name } : reject(`${pathOf(parent, index)}: a leaf needs a string "name"`);
      case "static":
        return value !== undefined
          ? { kind, value }
          : reject(`${pathOf(parent, index)}: a static value must be an object { type, value }, got nothing`);
      case "array":
      case "list":
        return { kind, children: children ?? reject(`${pathOf(parent, index)}: "children" must be an array`) };
      default: {
        const kids = children ?? reject(`${pathOf(parent, index)}: "children" must be an array`);
        const ks = keys ?? reject(`${pathOf(parent, index)}: "keys" must be an array`);
        if (kids.length !== ks.length)
          reject(`${pathOf(parent, index)}: ${ks.length} keys but ${kids.length} children`);
        const ids = new Set<string>();
        const check = (id: string): void => {
          if (ids.has(id))
            reject(`${pathOf(parent, index)}: duplicate key ${id.length > 60 ? `${id.slice(0, 57)}...` : id}`);
          ids.add(id);
        };
        if (kind === "map") {
          const mapKeys = ks.map((k, i) =>
            typeof k === "string"
              ? reject(`${pathOf(parent, index)}/keys/${i}: a static value must be an object { type, value }`)
              : k,
          );
          mapKeys.forEach((k) => check(JSON.stringify(k)));
          return { kind, keys: mapKeys, children: kids };
        }
        const names = ks.map((k) =>
          typeof k === "string" ? k : reject(`${pathOf(parent, index)}: object keys must be strings`),
        );
        for (const k of names) {
          if (FORBIDDEN_KEYS.has(k)) reject(`${pathOf(parent, index)}: the key ${quoteKey(k)} is not allowed`);
          check(JSON.stringify(k));
        }
        return { kind, keys: names, children: kids };
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
    const spec = reader(c)("tree", -1, 0);
    if (!c.atEnd()) c.fail(`unexpected ${c.describeChar()} after the JSON value`);
    return { ok: true, spec };
  } catch (e) {
    if (e instanceof SpecProblem) return { ok: false, why: "schema", detail: e.detail };
    if (e instanceof JsonFailure)
      return { ok: false, why: e.form ? "form" : "syntax", detail: `${e.message} at character ${e.offset}` };
    throw e;
  }
};
