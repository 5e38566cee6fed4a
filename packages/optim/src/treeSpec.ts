/**
 * @file Pytree structures as JSON, for checkpoints: a `TreeSpec` is a `TreeDef` whose leaves are
 * tensor names and whose static values (options, and the update counts and flags of files written
 * before those were tensors) are typed JSON, so a structure can be written next to the tensors
 * and read back from untrusted bytes.
 *
 * Reading (treeSpecRead.ts) validates every node (kinds, key lists, duplicate keys, nesting depth,
 * size, reserved keys) as it reads the text and reports the first problem as a string; it never
 * throws on bad input.
 */
import * as A from "@rewind/autodiff";
import type { TreeDef, Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { describeArg } from "@rewind/tensor/internal/check";

/**
 * A static value as JSON. Numbers are strings so NaN, ±Infinity and −0 survive.
 * @example const s: StaticSpec = { type: "number", value: "1e-7" };
 */
export type StaticSpec =
  | {
      /** A number. */
      readonly type: "number";
      /** Its text as `String(n)` writes it (`"-0"` for −0), so NaN and ±Infinity survive JSON. */
      readonly value: string;
    }
  | {
      /** A string. */
      readonly type: "string";
      /** The string itself. */
      readonly value: string;
    }
  | {
      /** A boolean. */
      readonly type: "boolean";
      /** The boolean itself. */
      readonly value: boolean;
    }
  | {
      /** `null`. */
      readonly type: "null";
    }
  | {
      /** `undefined` (an optional field left out). */
      readonly type: "undefined";
    };

/**
 * A pytree structure with named leaves, as stored in a checkpoint's metadata.
 * @example const s: TreeSpec = { kind: "object", keys: ["w"], children: [{ kind: "leaf", name: "params.w" }] };
 */
export type TreeSpec =
  | {
      /** A tensor, stored in the file under `name`. */
      readonly kind: "leaf";
      /** The tensor's name in the safetensors file (its pytree path, e.g. `params.w`). */
      readonly name: string;
    }
  | {
      /** A static value kept in the structure (a setting; an update count in files of the earlier layout). */
      readonly kind: "static";
      /** The value, typed. */
      readonly value: StaticSpec;
    }
  | {
      /** A JavaScript array, or an Immutable `List`. */
      readonly kind: "array" | "list";
      /** The structure of each element, in order. */
      readonly children: readonly TreeSpec[];
    }
  | {
      /** A plain object, or an Immutable `Record`. */
      readonly kind: "object" | "record";
      /** Its keys, in the order of `TreeDef` (sorted). */
      readonly keys: readonly string[];
      /** The structure under each key, in the order of `keys`. */
      readonly children: readonly TreeSpec[];
    }
  | {
      /** An Immutable `Map`. */
      readonly kind: "map";
      /** Its keys, typed (a map's keys need not be strings). */
      readonly keys: readonly StaticSpec[];
      /** The structure under each key, in the order of `keys`. */
      readonly children: readonly TreeSpec[];
    };

/**
 * Keys that would change an object's prototype if assigned; never read from or written to files.
 * @example FORBIDDEN_KEYS.has("__proto__") // true
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
/**
 * Deeper structures are refused when writing and reading (a guard against stack exhaustion, far
 * above real use).
 * @example readTreeSpec(deeplyNested).ok // false beyond MAX_TREE_DEPTH levels
 */
export const MAX_TREE_DEPTH = 256;
/**
 * Larger structures (nodes — containers, tensors, static values — and container keys, counted
 * together) are refused when writing and reading: a checkpoint holds at most 100,000 tensors
 * (safetensors' `MAX_TENSORS`), and real optimizer trees have a few nodes per tensor.
 * @example MAX_TREE_NODES // 500000
 */
export const MAX_TREE_NODES = 500_000;

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
      return encodeFail(
        path,
        `the static value ${typeof v === "function" ? "(a function)" : describeArg(v)} ` + "cannot be saved",
        "keep only tensors, numbers, strings, booleans and null in checkpointed trees",
      );
  }
};

/**
 * The spec of a pytree and its leaves with their tensor names: each leaf is named by its pytree
 * path (`params.w`, `optState[0].mu.w`), made unique with a `#n` suffix if two paths collide.
 * @throws TensorException for a traced leaf, a static value that is not JSON-like, or a reserved key.
 * @example specOf({ params: { w } }).leaves // [["params.w", w]]
 */
export const specOf = (
  tree: unknown,
): { readonly spec: TreeSpec; readonly leaves: ReadonlyArray<readonly [string, T.Tensor]> } => {
  const [, def] = A.treeFlatten(tree);
  const withPaths = A.treeLeavesWithPaths(tree);
  const leaves: Array<readonly [string, T.Tensor]> = [];
  const used = new Set<string>();
  const name = (path: string, leaf: Value): string => {
    if (A.isTracer(leaf))
      return encodeFail(path, "the leaf is a traced value", "save concrete tensors, outside jit/grad/scan");
    let n = path.startsWith(".") ? path.slice(1) : path;
    if (used.has(n))
      for (let i = 2; ; i++)
        if (!used.has(`${n}#${i}`)) {
          n = `${n}#${i}`;
          break;
        }
    used.add(n);
    leaves.push([n, leaf]);
    return n;
  };
  let i = 0;
  let nodes = 0;
  const walk = (d: TreeDef, path: string, depth = 0): TreeSpec => {
    // The root is at depth 0, so depth MAX_TREE_DEPTH is the first level too many (as when reading).
    if (depth >= MAX_TREE_DEPTH)
      return encodeFail(path, `the tree is nested deeper than ${MAX_TREE_DEPTH} levels`, "flatten the structure");
    // Counted as the reader counts (each node and each container key), so what is written can be read.
    nodes += 1 + (d.kind === "object" || d.kind === "record" || d.kind === "map" ? d.keys.length : 0);
    if (nodes > MAX_TREE_NODES)
      return encodeFail(
        path,
        `the tree has more than ${MAX_TREE_NODES} nodes and keys`,
        "checkpoint fewer, larger tensors",
      );
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
        for (const k of d.keys)
          if (FORBIDDEN_KEYS.has(k))
            encodeFail(`${path}.${k}`, `the key ${JSON.stringify(k)} is reserved`, "rename it");
        return {
          kind: d.kind,
          keys: d.keys,
          children: d.children.map((c, j) => walk(c, `${path}.${d.keys[j]!}`, depth + 1)),
        };
      case "map": {
        const keys = d.keys.map((k) =>
          typeof k === "object" && k !== null
            ? encodeFail(path, "an Immutable Map key is an object", "use string or number keys")
            : staticSpec(k, path),
        );
        return {
          kind: "map",
          keys,
          children: d.children.map((c, j) => walk(c, `${path}.get(${JSON.stringify(d.keys[j])})`, depth + 1)),
        };
      }
    }
  };
  return { spec: walk(def, ""), leaves };
};

/**
 * The JavaScript value of a static spec.
 * @example staticValue({ type: "number", value: "-0" }) // -0
 */
export const staticValue = (s: StaticSpec): unknown =>
  s.type === "number" ? Number(s.value) : s.type === "null" ? null : s.type === "undefined" ? undefined : s.value;

/**
 * The tensor names a spec refers to, in leaf order.
 * @example specLeafNames({ kind: "array", children: [{ kind: "leaf", name: "a" }] }) // ["a"]
 */
export const specLeafNames = (s: TreeSpec): string[] => {
  // Into one array (not an array per node): a tree may hold 500,000 nodes.
  const out: string[] = [];
  const walk = (n: TreeSpec): void => {
    if (n.kind === "leaf") out.push(n.name);
    else if (n.kind !== "static") for (const c of n.children) walk(c);
  };
  walk(s);
  return out;
};
