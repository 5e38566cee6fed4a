/**
 * @file Pytree structures as JSON, for checkpoints: a `TreeSpec` is a `TreeDef` whose leaves are
 * tensor names and whose static values (update counts, flags) are typed JSON, so a structure can
 * be written next to the tensors and read back from untrusted bytes.
 *
 * Reading validates every node (kinds, key lists, duplicate keys, nesting depth, reserved keys)
 * and reports the first problem as a string; it never throws on bad input.
 */
import * as A from "@rewind/autodiff";
import type { TreeDef, Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";

/**
 * A static value as JSON. Numbers are strings so NaN, ±Infinity and −0 survive.
 * @example const s: StaticSpec = { type: "number", value: "1e-7" };
 */
export type StaticSpec =
  | { readonly type: "number"; readonly value: string }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "boolean"; readonly value: boolean }
  | { readonly type: "null" }
  | { readonly type: "undefined" };

/**
 * A pytree structure with named leaves, as stored in a checkpoint's metadata.
 * @example const s: TreeSpec = { kind: "object", keys: ["w"], children: [{ kind: "leaf", name: "params.w" }] };
 */
export type TreeSpec =
  | { readonly kind: "leaf"; readonly name: string }
  | { readonly kind: "static"; readonly value: StaticSpec }
  | { readonly kind: "array" | "list"; readonly children: readonly TreeSpec[] }
  | { readonly kind: "object" | "record"; readonly keys: readonly string[]; readonly children: readonly TreeSpec[] }
  | { readonly kind: "map"; readonly keys: readonly StaticSpec[]; readonly children: readonly TreeSpec[] };

/** Keys that would change an object's prototype if assigned; never read from or written to files. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
/**
 * Deeper structures are refused when reading (a guard against stack exhaustion, far above real use).
 * @example parseTreeSpec(deeplyNested).ok // false beyond MAX_TREE_DEPTH levels
 */
export const MAX_TREE_DEPTH = 256;

const encodeFail = (path: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op: "encodeCheckpoint", arg: path.replace(/^\./, "") || "<root>", detail, fix });

const staticSpec = (v: unknown, path: string): StaticSpec => {
  switch (typeof v) {
    case "number":
      return { type: "number", value: Object.is(v, -0) ? "-0" : String(v) };
    case "string":
      return { type: "string", value: v };
    case "boolean":
      return { type: "boolean", value: v };
    case "undefined":
      return { type: "undefined" };
    default:
      if (v === null) return { type: "null" };
      return encodeFail(path, `the static value ${typeof v === "function" ? "(a function)" : String(v)} cannot be saved`, "keep only tensors, numbers, strings, booleans and null in checkpointed trees");
  }
};

/**
 * The spec of a pytree and its leaves with their tensor names: each leaf is named by its pytree
 * path (`params.w`, `optState[0].mu.w`), made unique with a `#n` suffix if two paths collide.
 * @throws TensorException for a traced leaf, a static value that is not JSON-like, or a reserved key.
 * @example specOf({ params: { w } }).leaves // [["params.w", w]]
 */
export const specOf = (tree: unknown): { readonly spec: TreeSpec; readonly leaves: ReadonlyArray<readonly [string, T.Tensor]> } => {
  const [, def] = A.treeFlatten(tree);
  const withPaths = A.treeLeavesWithPaths(tree);
  const leaves: Array<readonly [string, T.Tensor]> = [];
  const used = new Set<string>();
  const name = (path: string, leaf: Value): string => {
    if (A.isTracer(leaf)) return encodeFail(path, "the leaf is a traced value", "save concrete tensors, outside jit/grad/scan");
    let n = path.startsWith(".") ? path.slice(1) : path;
    if (used.has(n)) for (let i = 2; ; i++) if (!used.has(`${n}#${i}`)) { n = `${n}#${i}`; break; }
    used.add(n);
    leaves.push([n, leaf]);
    return n;
  };
  let i = 0;
  const walk = (d: TreeDef, path: string, depth = 0): TreeSpec => {
    // The root is at depth 0, so depth MAX_TREE_DEPTH is the first level too many (as when reading).
    if (depth >= MAX_TREE_DEPTH) return encodeFail(path, `the tree is nested deeper than ${MAX_TREE_DEPTH} levels`, "flatten the structure");
    switch (d.kind) {
      case "leaf": {
        const [p, leaf] = withPaths[i++]!;
        return { kind: "leaf", name: name(p, leaf) };
      }
      case "static":
        return { kind: "static", value: staticSpec(d.value, path) };
      case "array":
      case "list":
        return { kind: d.kind, children: d.children.map((c, j) => walk(c, `${path}[${j}]`, depth + 1)) };
      case "object":
      case "record":
        for (const k of d.keys) if (FORBIDDEN_KEYS.has(k)) encodeFail(`${path}.${k}`, `the key ${JSON.stringify(k)} is reserved`, "rename it");
        return { kind: d.kind, keys: d.keys, children: d.children.map((c, j) => walk(c, `${path}.${d.keys[j]!}`, depth + 1)) };
      case "map": {
        const keys = d.keys.map((k) => (typeof k === "object" && k !== null ? encodeFail(path, "an Immutable Map key is an object", "use string or number keys") : staticSpec(k, path)));
        return { kind: "map", keys, children: d.children.map((c, j) => walk(c, `${path}.get(${JSON.stringify(d.keys[j])})`, depth + 1)) };
      }
    }
  };
  return { spec: walk(def, ""), leaves };
};

/** Thrown while reading a spec and always caught in `parseTreeSpec`. */
class SpecFailure {
  constructor(readonly detail: string) {}
}
const reject = (detail: string): never => {
  throw new SpecFailure(detail);
};

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === "object" && v !== null && !Array.isArray(v);

const ownKeys = (v: Readonly<Record<string, unknown>>, where: string, allowed: readonly string[]): void => {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) reject(`${where}: unknown field ${JSON.stringify(k)}`);
};

const readStatic = (v: unknown, where: string): StaticSpec => {
  if (!isRecord(v)) return reject(`${where}: a static value must be an object { type, value }`);
  const type = v["type"];
  if (type === "null" || type === "undefined") {
    ownKeys(v, where, ["type"]);
    return { type };
  }
  ownKeys(v, where, ["type", "value"]);
  const value = v["value"];
  // Only the canonical spelling `String(n)` (or "-0") is accepted, so each number has one form.
  if (type === "number" && typeof value === "string" && (String(Number(value)) === value || value === "-0")) {
    return { type, value };
  }
  if (type === "string" && typeof value === "string") return { type, value };
  if (type === "boolean" && typeof value === "boolean") return { type, value };
  return reject(`${where}: bad static value ${JSON.stringify(v).slice(0, 80)}`);
};

/**
 * The JavaScript value of a static spec.
 * @example staticValue({ type: "number", value: "-0" }) // -0
 */
export const staticValue = (s: StaticSpec): unknown =>
  s.type === "number" ? Number(s.value) : s.type === "null" ? null : s.type === "undefined" ? undefined : s.value;

const readChildren = (v: Readonly<Record<string, unknown>>, where: string, depth: number): TreeSpec[] => {
  const children = v["children"];
  if (!Array.isArray(children)) return reject(`${where}: "children" must be an array`);
  return children.map((c: unknown, i) => readNode(c, `${where}/${i}`, depth + 1));
};

const readNode = (v: unknown, where: string, depth: number): TreeSpec => {
  if (depth >= MAX_TREE_DEPTH) return reject(`${where}: the structure is nested deeper than ${MAX_TREE_DEPTH} levels`);
  if (!isRecord(v)) return reject(`${where}: expected a node object, got ${Array.isArray(v) ? "an array" : JSON.stringify(v)}`);
  const kind = v["kind"];
  switch (kind) {
    case "leaf": {
      ownKeys(v, where, ["kind", "name"]);
      const name = v["name"];
      return typeof name === "string" ? { kind, name } : reject(`${where}: a leaf needs a string "name"`);
    }
    case "static":
      ownKeys(v, where, ["kind", "value"]);
      return { kind, value: readStatic(v["value"], where) };
    case "array":
    case "list":
      ownKeys(v, where, ["kind", "children"]);
      return { kind, children: readChildren(v, where, depth) };
    case "object":
    case "record":
    case "map": {
      ownKeys(v, where, ["kind", "keys", "children"]);
      const keys = v["keys"];
      if (!Array.isArray(keys)) return reject(`${where}: "keys" must be an array`);
      const children = readChildren(v, where, depth);
      if (children.length !== keys.length) return reject(`${where}: ${keys.length} keys but ${children.length} children`);
      const seen = new Set<string>();
      const check = (id: string): void => {
        if (seen.has(id)) reject(`${where}: duplicate key ${id}`);
        seen.add(id);
      };
      if (kind === "map") {
        const mapKeys = keys.map((k: unknown, i) => readStatic(k, `${where}/keys/${i}`));
        mapKeys.forEach((k) => check(JSON.stringify(k)));
        return { kind, keys: mapKeys, children };
      }
      for (const k of keys as unknown[]) {
        if (typeof k !== "string") return reject(`${where}: object keys must be strings`);
        if (FORBIDDEN_KEYS.has(k)) reject(`${where}: the key ${JSON.stringify(k)} is not allowed`);
        check(JSON.stringify(k));
      }
      return { kind, keys: keys as string[], children };
    }
    default:
      return reject(kind === undefined ? `${where}: a node without a "kind"` : `${where}: unknown node kind ${JSON.stringify(kind)}`);
  }
};

/**
 * Reads a spec from parsed JSON, validating every node; `Left` is a sentence naming the node.
 * @example parseTreeSpec({ kind: "leaf", name: "params" }) // { ok: true, spec: { kind: "leaf", name: "params" } }
 */
export const parseTreeSpec = (json: unknown): { readonly ok: true; readonly spec: TreeSpec } | { readonly ok: false; readonly detail: string } => {
  try {
    return { ok: true, spec: readNode(json, "tree", 0) };
  } catch (e) {
    if (e instanceof SpecFailure) return { ok: false, detail: e.detail };
    throw e;
  }
};

/**
 * The tensor names a spec refers to, in leaf order.
 * @example specLeafNames({ kind: "array", children: [{ kind: "leaf", name: "a" }] }) // ["a"]
 */
export const specLeafNames = (s: TreeSpec): string[] =>
  s.kind === "leaf" ? [s.name] : s.kind === "static" ? [] : s.children.flatMap(specLeafNames);
