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

/** The fields of a node object read so far (`build` checks them against its kind at its `}`). */
interface NodeDraft {
  kind: Kind | undefined;
  name: string | undefined;
  value: StaticSpec | undefined;
  keys: Array<string | StaticSpec> | undefined;
  children: TreeSpec[] | undefined;
}

/** Reads a tree of at most MAX_TREE_NODES nodes (keys count too) from its cursor. */
class TreeReader {
  #nodes = 0;
  constructor(private readonly c: JsonCursor) {}

  /** Counts one more node or key, refusing the one past MAX_TREE_NODES. */
  #count(): void {
    if (++this.#nodes > MAX_TREE_NODES)
      reject(`the structure has more than ${MAX_TREE_NODES} nodes and keys (the limit)`);
  }

  /** What the value at the cursor is, for a message (not read further). */
  #got(): string {
    const { c } = this;
    return c.peek() === "[" ? "an array" : c.snippet(c.at);
  }

  /**
   * Reads the next key of an object (after `{` or `,`), one of `fields`, as its index; refuses an
   * unknown key (schema) and a repeated one (form). `seen` holds a bit per field read so far.
   */
  #field(fields: readonly string[], seen: number, parent: string, index: number, suffix: string): number {
    const { c } = this;
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
  }

  /** Refuses the static value that began at `start`, quoting it. */
  #badStatic(parent: string, index: number, suffix: string, start: number): never {
    return reject(`${pathOf(parent, index, suffix)}: bad static value ${this.c.snippet(start)}`);
  }

  /** Reads a static value `{ type, value }` (a node's `value`, or a map key) at the cursor. */
  staticOf(parent: string, index: number, suffix: string): StaticSpec {
    const { c } = this;
    const start = c.at;
    if (!c.take("{"))
      return reject(
        `${pathOf(parent, index, suffix)}: a static value must be an object { type, value }, got ${this.#got()}`,
      );
    let seen = 0;
    let type = -1;
    let value: string | boolean | undefined;
    if (!c.take("}")) {
      for (;;) {
        const f = this.#field(STATIC_FIELDS, seen, parent, index, suffix);
        seen |= 1 << f;
        if (f === 0) {
          type = c.known(TYPES);
          if (type < 0) return this.#badStatic(parent, index, suffix, start);
        } else {
          const ch = c.peek();
          value =
            ch === '"'
              ? c.canonicalString()
              : ch === "t" || ch === "f"
                ? (c.literal() as boolean)
                : this.#badStatic(parent, index, suffix, start);
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
          : this.#badStatic(parent, index, suffix, start);
      case 1:
        return typeof value === "string" ? { type: "string", value } : this.#badStatic(parent, index, suffix, start);
      case 2:
        return typeof value === "boolean" ? { type: "boolean", value } : this.#badStatic(parent, index, suffix, start);
      case 3:
      case 4:
        return value === undefined
          ? type === 3
            ? NULL
            : UNDEFINED
          : reject(`${pathOf(parent, index, suffix)}: unknown field "value"`);
      default:
        return this.#badStatic(parent, index, suffix, start);
    }
  }

  /** Reads the items of an array whose `[` was taken, through its `]`. */
  #items<A>(read: (i: number) => A): A[] {
    const { c } = this;
    const out: A[] = [];
    if (c.take("]")) return out;
    for (;;) {
      out.push(read(out.length));
      if (c.take("]")) return out;
      c.expect(",", "',' or ']' in an array");
    }
  }

  /** Reads a node object at the cursor: item `index` of the node at path `parent` (−1: the root). */
  node(parent: string, index: number, depth: number): TreeSpec {
    const { c } = this;
    if (depth >= MAX_TREE_DEPTH)
      reject(`${pathOf(parent, index)}: the structure is nested deeper than ${MAX_TREE_DEPTH} levels`);
    this.#count();
    if (!c.take("{")) return reject(`${pathOf(parent, index)}: expected a node object, got ${this.#got()}`);
    let seen = 0;
    const draft: NodeDraft = {
      kind: undefined,
      name: undefined,
      value: undefined,
      keys: undefined,
      children: undefined,
    };
    if (!c.take("}")) {
      for (;;) {
        const f = this.#field(FIELDS, seen, parent, index, "");
        seen |= 1 << f;
        this.#nodeField(f, seen, draft, parent, index, depth);
        if (c.take("}")) break;
        c.expect(",", "',' or '}' in an object");
      }
    }
    return build(parent, index, draft);
  }

  /**
   * Reads the value of field `f` (FIELDS index; `seen` includes it) of a node into `draft`,
   * refusing a field its kind does not have as soon as the kind is known (a writer puts it first).
   */
  #nodeField(f: number, seen: number, draft: NodeDraft, parent: string, index: number, depth: number): void {
    const { c } = this;
    const { kind } = draft;
    if (kind !== undefined && !(ALLOWED[kind] & (1 << f)))
      reject(`${pathOf(parent, index)}: unknown field ${FIELDS[f]!}`);
    if (f === KIND) {
      const k = c.known(KINDS);
      if (k < 0) {
        const what = c.peek() === '"' ? quoteKey(c.canonicalString()) : this.#got();
        return reject(`${pathOf(parent, index)}: unknown node kind ${what}`);
      }
      const known = KINDS[k]!.slice(1, -1) as Kind;
      draft.kind = known;
      if (seen & ~ALLOWED[known])
        reject(`${pathOf(parent, index)}: unknown field ${FIELDS[31 - Math.clz32(seen & ~ALLOWED[known])]!}`);
    } else if (f === NAME) {
      draft.name =
        c.peek() === '"' ? c.canonicalString() : reject(`${pathOf(parent, index)}: a leaf needs a string "name"`);
    } else if (f === VALUE) {
      draft.value = this.staticOf(parent, index, "");
    } else if (f === KEYS) {
      if (!c.take("[")) reject(`${pathOf(parent, index)}: "keys" must be an array`);
      draft.keys = this.#items((i) => {
        this.#count();
        return c.peek() === '"' ? c.canonicalString() : this.staticOf(parent, index, `/keys/${i}`);
      });
    } else {
      if (!c.take("[")) reject(`${pathOf(parent, index)}: "children" must be an array`);
      // This node's path, once for all its children.
      const here = index < 0 ? parent : `${parent}/${index}`;
      draft.children = this.#items((i) => this.node(here, i, depth + 1));
    }
  }
}

/** The node a finished object describes, once every field it has is known. */
const build = (parent: string, index: number, draft: NodeDraft): TreeSpec => {
  const { kind, name, value, children } = draft;
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
    default:
      return keyed(parent, index, kind, draft);
  }
};

/**
 * An object, record or map node (item `index` of the node at `parent`): as many keys as children,
 * no key twice, map keys static values, object and record keys strings and none of FORBIDDEN_KEYS.
 */
const keyed = (parent: string, index: number, kind: "object" | "record" | "map", draft: NodeDraft): TreeSpec => {
  // The path only when a message needs it (see pathOf).
  const where = (): string => pathOf(parent, index);
  const kids = draft.children ?? reject(`${where()}: "children" must be an array`);
  const ks = draft.keys ?? reject(`${where()}: "keys" must be an array`);
  if (kids.length !== ks.length) reject(`${where()}: ${ks.length} keys but ${kids.length} children`);
  const ids = new Set<string>();
  const check = (id: string): void => {
    if (ids.has(id)) reject(`${where()}: duplicate key ${id.length > 60 ? `${id.slice(0, 57)}...` : id}`);
    ids.add(id);
  };
  if (kind === "map") {
    const mapKeys = ks.map((k, i) =>
      typeof k === "string" ? reject(`${where()}/keys/${i}: a static value must be an object { type, value }`) : k,
    );
    mapKeys.forEach((k) => check(JSON.stringify(k)));
    return { kind, keys: mapKeys, children: kids };
  }
  const names = ks.map((k) => (typeof k === "string" ? k : reject(`${where()}: object keys must be strings`)));
  for (const k of names) {
    if (FORBIDDEN_KEYS.has(k)) reject(`${where()}: the key ${quoteKey(k)} is not allowed`);
    check(JSON.stringify(k));
  }
  return { kind, keys: names, children: kids };
};

/**
 * Reads the `tree` metadata text into a `TreeSpec`, validating every node as it is read (kinds,
 * fields, key lists, duplicate keys, nesting depth, node count, reserved keys). Never throws.
 * @example readTreeSpec('{"kind":"leaf","name":"params"}') // { ok: true, spec: { kind: "leaf", name: "params" } }
 */
export const readTreeSpec = (text: string): TreeSpecRead => {
  const c = new JsonCursor(text, true);
  try {
    const spec = new TreeReader(c).node("tree", -1, 0);
    if (!c.atEnd()) c.fail(`unexpected ${c.describeChar()} after the JSON value`);
    return { ok: true, spec };
  } catch (e) {
    if (e instanceof SpecProblem) return { ok: false, why: "schema", detail: e.detail };
    if (e instanceof JsonFailure)
      return { ok: false, why: e.form ? "form" : "syntax", detail: `${e.message} at character ${e.offset}` };
    throw e;
  }
};
