/**
 * @file Pytrees: nested readonly arrays, plain objects and Immutable `List`/`Map`/`Record`s whose
 * leaves are tensors or tracers. Everything else (numbers, strings, booleans, null, functions,
 * PRNG keys' numbers…) is static structure: kept in the tree definition, never differentiated.
 * Transforms flatten arguments to leaves, work on the leaves, and rebuild the same structure.
 */
import { isImmutable, List, Map as IMap, Record as IRecord } from "immutable";
import { DETACHED_FIX, detachedTensorProblem } from "@rewind/tensor/internal/check";
import { isValue, type Value } from "./core.js";
import { expectFunction, expectTreeDef } from "./check.js";
import { graphFail } from "./errors.js";

/** A pytree of values: a value, or containers of pytrees, or static data. */
export type PyTree =
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the members document what is walked
  Value | readonly PyTree[] | { readonly [key: string]: PyTree } | List<PyTree> | IMap<unknown, PyTree> | unknown;

/** The structure of a pytree without its leaves. */
export type TreeDef =
  | {
      /** A tensor or tracer: one leaf. */
      readonly kind: "leaf";
    }
  | {
      /** Static data (a number, string, boolean, null, function…), kept as it is. */
      readonly kind: "static";
      /** The static value itself. */
      readonly value: unknown;
    }
  | {
      /** A JavaScript array. */
      readonly kind: "array";
      /** The structure of each element, in order. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** A plain object. */
      readonly kind: "object";
      /** Its keys, sorted, so objects with the same keys in another order have one structure. */
      readonly keys: readonly string[];
      /** The structure under each key, in the order of `keys`. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** An Immutable `List`. */
      readonly kind: "list";
      /** The structure of each element, in order. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** An Immutable `Map`. */
      readonly kind: "map";
      /** Its keys, sorted by their text, so insertion order does not change the structure. */
      readonly keys: readonly unknown[];
      /** The structure under each key, in the order of `keys`. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** An Immutable `Record` instance. */
      readonly kind: "record";
      /** The record itself, used to rebuild one of the same class with new leaves. */
      readonly template: RecordTemplate;
      /** Its field names, sorted. */
      readonly keys: readonly string[];
      /** The structure of each field, in the order of `keys`. */
      readonly children: readonly TreeDef[];
    };

/** The part of an Immutable `Record` instance used to rebuild it with new leaves. */
export interface RecordTemplate {
  /** Immutable's batch update: calls `mutator` with a mutable copy and returns the new record. */
  withMutations(mutator: (r: { set(key: string, value: unknown): unknown }) => unknown): unknown;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
};

const sortKeys = (keys: unknown[]): unknown[] =>
  [...keys].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));

/** Containers on the path from the root being flattened: a container seen again is a cycle. */
const ancestors = new Set<unknown>();

const flattenInto = (tree: unknown, leaves: Value[], paths: string[], path: string): TreeDef => {
  if (typeof tree === "object" && tree !== null && !isValue(tree)) {
    // A cyclic object would otherwise recurse until the stack overflows.
    if (ancestors.has(tree))
      return graphFail({
        _tag: "TreeMismatch",
        op: "treeFlatten",
        path: path || "<root>",
        detail: "the pytree contains itself (a cycle)",
        fix: "pass a tree of containers that does not refer back to its ancestors",
      });
    ancestors.add(tree);
    try {
      return flattenContainer(tree, leaves, paths, path);
    } finally {
      ancestors.delete(tree);
    }
  }
  return flattenContainer(tree, leaves, paths, path);
};

const flattenContainer = (tree: unknown, leaves: Value[], paths: string[], path: string): TreeDef => {
  if (isValue(tree)) {
    leaves.push(tree);
    paths.push(path || "<root>");
    return { kind: "leaf" };
  }
  if (Array.isArray(tree)) {
    return { kind: "array", children: tree.map((c, i) => flattenInto(c, leaves, paths, `${path}[${i}]`)) };
  }
  if (IRecord.isRecord(tree)) {
    const keys = Object.keys(tree.toObject()).sort();
    return {
      kind: "record",
      template: tree as unknown as RecordTemplate,
      keys,
      children: keys.map((k) => flattenInto(tree.get(k), leaves, paths, `${path}.${k}`)),
    };
  }
  if (List.isList(tree)) {
    return { kind: "list", children: tree.toArray().map((c, i) => flattenInto(c, leaves, paths, `${path}[${i}]`)) };
  }
  if (IMap.isMap(tree)) {
    const keys = sortKeys(tree.keySeq().toArray());
    return {
      kind: "map",
      keys,
      children: keys.map((k) => flattenInto(tree.get(k), leaves, paths, `${path}.get(${JSON.stringify(k)})`)),
    };
  }
  if (isImmutable(tree)) {
    return graphFail({
      _tag: "TreeMismatch",
      op: "treeFlatten",
      path: path || "<root>",
      detail: "unsupported Immutable collection",
      fix: "use List, Map or Record",
    });
  }
  if (isPlainObject(tree)) {
    const keys = Object.keys(tree).sort();
    return { kind: "object", keys, children: keys.map((k) => flattenInto(tree[k], leaves, paths, `${path}.${k}`)) };
  }
  // A tensor whose buffer was donated is no tensor any more: fail, not pass it as static data.
  const gone = typeof tree === "object" && tree !== null ? detachedTensorProblem(tree) : undefined;
  if (gone === undefined) return { kind: "static", value: tree };
  return graphFail({
    _tag: "InvalidArgument",
    op: "treeFlatten",
    arg: path || "<root>",
    detail: gone,
    fix: DETACHED_FIX,
  });
};

/**
 * Splits a pytree into its leaves (in a deterministic order: object keys sorted) and its structure.
 * @throws GraphException (`TreeMismatch`) for a tree that contains itself, or an unsupported Immutable collection.
 * @example treeFlatten({ b: x, a: [y] }) // [[y, x], def]
 */
export const treeFlatten = (tree: unknown): [Value[], TreeDef] => {
  const leaves: Value[] = [];
  const def = flattenInto(tree, leaves, [], "");
  return [leaves, def];
};

/**
 * The leaves of a pytree with their paths (`.h[0]`), for error messages.
 * @example treeLeavesWithPaths({ h: [x] }) // [[".h[0]", x]]
 */
export const treeLeavesWithPaths = (tree: unknown): Array<readonly [string, Value]> => {
  const leaves: Value[] = [];
  const paths: string[] = [];
  flattenInto(tree, leaves, paths, "");
  return leaves.map((l, i) => [paths[i]!, l] as const);
};

/**
 * The leaves of a pytree, in flatten order.
 * @example treeLeaves([x, { w: y }]) // [x, y]
 */
export const treeLeaves = (tree: unknown): Value[] => treeFlatten(tree)[0];

/**
 * The structure of a pytree (its definition without leaves).
 * @example treeStructure({ a: x }).kind // "object"
 */
export const treeStructure = (tree: unknown): TreeDef => treeFlatten(tree)[1];

/**
 * Number of leaves a structure holds.
 * @example treeLeafCount(treeStructure([x, y])) // 2
 */
export const treeLeafCount = (def: TreeDef): number => leafCount(expectTreeDef("treeLeafCount", "def", def));

const leafCount = (def: TreeDef): number =>
  def.kind === "leaf" ? 1 : def.kind === "static" ? 0 : def.children.reduce((n, c) => n + leafCount(c), 0);

/**
 * Rebuilds a pytree of `def` from leaves (the inverse of `treeFlatten`).
 * @example treeUnflatten(treeStructure({ a: x }), [y]) // { a: y }
 */
export const treeUnflatten = <A = unknown>(def: TreeDef, leaves: readonly unknown[]): A => {
  expectTreeDef("treeUnflatten", "def", def);
  if (!Array.isArray(leaves) || leaves.length !== leafCount(def)) {
    graphFail({
      _tag: "TreeMismatch",
      op: "treeUnflatten",
      path: "<root>",
      detail:
        `the structure holds ${leafCount(def)} leaves but ` +
        `${Array.isArray(leaves) ? leaves.length : "no array of them"} were given`,
      fix: "pass exactly one leaf per leaf of the structure",
    });
  }
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return leaves[i++];
      case "static":
        return d.value;
      case "array":
        return d.children.map(build);
      case "object":
        // fromEntries defines own properties: a "__proto__" key stays a key instead of setting the prototype.
        return Object.fromEntries(d.keys.map((k, j) => [k, build(d.children[j]!)]));
      case "list":
        return List(d.children.map(build));
      case "map":
        return IMap(d.keys.map((k, j) => [k, build(d.children[j]!)] as [unknown, unknown]));
      case "record": {
        const values = d.children.map(build);
        return d.template.withMutations((r) => d.keys.forEach((k, j) => r.set(k, values[j])));
      }
    }
  };
  return build(def) as A;
};

const staticIds = new WeakMap<object, number>();
let nextStaticId = 0;
const symbolIds = new Map<symbol, number>();
const staticKey = (v: unknown): string => {
  if (v === undefined) return "undefined";
  // Numbers by exact value: JSON prints NaN, ±Infinity (and null) all as "null" and -0 as "0",
  // which let jit reuse a trace made for another static value.
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string" || typeof v === "boolean" || v === null) return JSON.stringify(v);
  if (typeof v === "object" || typeof v === "function") {
    let id = staticIds.get(v);
    if (id === undefined) staticIds.set(v, (id = nextStaticId++));
    return `#${id}`;
  }
  // Symbols by identity: two symbols with one description are different values.
  const sym = v as symbol;
  let id = symbolIds.get(sym);
  if (id === undefined) symbolIds.set(sym, (id = symbolIds.size));
  return `@${id}`;
};

/**
 * A string that is equal for equal structures (static values compared by value or identity).
 * @example treeDefKey(treeStructure([x])) === treeDefKey(treeStructure([y])) // true
 */
export const treeDefKey = (def: TreeDef): string => defKey(expectTreeDef("treeDefKey", "def", def));

const defKey = (def: TreeDef): string => {
  switch (def.kind) {
    case "leaf":
      return "*";
    case "static":
      return staticKey(def.value);
    case "array":
    case "list":
      return `${def.kind === "array" ? "" : "List"}[${def.children.map(defKey).join(",")}]`;
    case "object":
    case "record": {
      const fields = def.keys.map((k, j) => `${JSON.stringify(k)}:${defKey(def.children[j]!)}`);
      return `${def.kind === "record" ? "Record" : ""}{${fields.join(",")}}`;
    }
    case "map":
      return `Map{${def.keys.map((k, j) => `${staticKey(k)}:${defKey(def.children[j]!)}`).join(",")}}`;
  }
};

/**
 * Applies `f` to corresponding leaves of trees of one structure and rebuilds that structure.
 * @throws GraphException (`TreeMismatch`) naming the first path where the structures differ.
 * @example treeMap((a, b) => add(a, b), { w: x }, { w: y }) // { w: x + y }
 */
export const treeMap = <A = unknown>(
  f: (...leaves: Value[]) => unknown,
  tree: unknown,
  ...rest: readonly unknown[]
): A => {
  expectFunction("treeMap", "f", f);
  const [leaves, def] = treeFlatten(tree);
  const others = rest.map((r, n) => {
    const [l, d] = treeFlatten(r);
    if (treeDefKey(d) !== treeDefKey(def)) {
      graphFail({
        _tag: "TreeMismatch",
        op: "treeMap",
        path: `tree ${n + 1}`,
        detail: `structure ${treeDefKey(d)} differs from the first tree's ${treeDefKey(def)}`,
        fix: "pass trees with the same containers, keys and leaf positions",
      });
    }
    return l;
  });
  return treeUnflatten<A>(
    def,
    leaves.map((l, i) => f(l, ...others.map((o) => o[i]!))),
  );
};

/** A structure in words; a static function by its name too, as its identity (`#3`) says little. */
const describe = (d: TreeDef): string =>
  d.kind === "leaf"
    ? "a tensor"
    : d.kind !== "static"
      ? `${d.kind === "object" ? "an object" : `a ${d.kind}`} ${treeDefKey(d)}`
      : typeof d.value === "function"
        ? `the function ${d.value.name === "" ? "(anonymous)" : d.value.name} ${staticKey(d.value)}`
        : `the static value ${staticKey(d.value)}`;

/**
 * The first place where two structures differ: its path (`.h`, `[1]`) and what each side has
 * there, or `undefined` when they are equal.
 * @example
 * treeDiff(treeStructure({ h: x }), treeStructure({ h: x, c: y }))
 * // { path: ".c", expected: "missing", actual: "a tensor" }
 */
export const treeDiff = (
  expected: TreeDef,
  actual: TreeDef,
  path = "",
):
  | {
      /** Where the structures part, as a path from the root (`.h`, `[1]`; `""` at the root). */
      readonly path: string;
      /** What `expected` has there, in words: `"a tensor"`, `"missing"`, `"an object …"`, a static value. */
      readonly expected: string;
      /** What `actual` has there, in the same words. */
      readonly actual: string;
    }
  | undefined => {
  expectTreeDef("treeDiff", "expected", expected);
  expectTreeDef("treeDiff", "actual", actual);
  if (treeDefKey(expected) === treeDefKey(actual)) return undefined;
  const here = { path: path || "", expected: describe(expected), actual: describe(actual) };
  if (
    expected.kind !== actual.kind ||
    expected.kind === "leaf" ||
    expected.kind === "static" ||
    actual.kind === "leaf" ||
    actual.kind === "static"
  ) {
    return here;
  }
  if (
    (expected.kind === "object" || expected.kind === "record" || expected.kind === "map") &&
    (actual.kind === "object" || actual.kind === "record" || actual.kind === "map")
  ) {
    const ek = expected.keys.map(String);
    const ak = actual.keys.map(String);
    const missing = ek.find((k) => !ak.includes(k));
    if (missing !== undefined)
      return {
        path: `${path}.${missing}`,
        expected: describe(expected.children[ek.indexOf(missing)]!),
        actual: "missing",
      };
    const extra = ak.find((k) => !ek.includes(k));
    if (extra !== undefined)
      return { path: `${path}.${extra}`, expected: "missing", actual: describe(actual.children[ak.indexOf(extra)]!) };
    for (let i = 0; i < ek.length; i++) {
      const d = treeDiff(expected.children[i]!, actual.children[ak.indexOf(ek[i]!)]!, `${path}.${ek[i]}`);
      if (d !== undefined) return d;
    }
    return here;
  }
  const ec = expected.children;
  const ac = (actual as { children: readonly TreeDef[] }).children;
  if (ec.length !== ac.length) return { ...here, expected: `${ec.length} elements`, actual: `${ac.length} elements` };
  for (let i = 0; i < ec.length; i++) {
    const d = treeDiff(ec[i]!, ac[i]!, `${path}[${i}]`);
    if (d !== undefined) return d;
  }
  return here;
};
