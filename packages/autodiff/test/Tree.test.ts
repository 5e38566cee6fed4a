/**
 * @file Pytrees: flatten/unflatten round trips over every container kind, deterministic leaf
 * order, static data kept in the structure, and treeMap's structure-mismatch error.
 */
import { describe, expect, it } from "vitest";
import { List, Map as IMap, Record as IRecord, is } from "immutable";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";

const t = (n: number): T.Tensor => T.tensor([n], "float64");
const values = (leaves: readonly A.Value[]): number[] => leaves.map((l) => (l as T.Tensor).data[0]!);

describe("treeFlatten / treeUnflatten", () => {
  it("round-trips nested objects and arrays with statics, leaves in sorted-key order", () => {
    const tree = { z: [t(1), { b: t(2), a: t(3) }], a: t(4), meta: { name: "x", n: 3, none: null } };
    const [leaves, def] = A.treeFlatten(tree);
    expect(values(leaves)).toEqual([4, 1, 3, 2]);
    const back = A.treeUnflatten<typeof tree>(def, leaves);
    expect(back).toEqual(tree);
    expect(A.treeLeavesWithPaths(tree).map(([p]) => p)).toEqual([".a", ".z[0]", ".z[1].a", ".z[1].b"]);
  });

  it("round-trips Immutable List, Map and Record into the same kinds", () => {
    const Layer = IRecord({ w: t(0), b: t(0), act: "tanh" });
    const tree = List([IMap({ y: t(1), x: t(2) }), Layer({ w: t(3), b: t(4) })]);
    const [leaves, def] = A.treeFlatten(tree);
    expect(values(leaves)).toEqual([2, 1, 4, 3]);
    const back = A.treeUnflatten<typeof tree>(
      def,
      leaves.map((l) => A.mul(l, 10)),
    );
    expect(List.isList(back)).toBe(true);
    const map = back.get(0) as IMap<string, T.Tensor>;
    const layer = back.get(1) as ReturnType<typeof Layer>;
    expect(IMap.isMap(map) && IRecord.isRecord(layer)).toBe(true);
    expect(values([map.get("x")!, map.get("y")!, layer.w, layer.b])).toEqual([20, 10, 30, 40]);
    expect(layer.act).toBe("tanh");
    expect(is(A.treeUnflatten(def, leaves), tree)).toBe(true);
  });

  it("treats a bare tensor as a one-leaf tree and non-tensors as statics", () => {
    expect(A.treeFlatten(t(5))[1].kind).toBe("leaf");
    const [leaves, def] = A.treeFlatten([1, "a", true, undefined]);
    expect(leaves).toEqual([]);
    expect(A.treeUnflatten(def, [])).toEqual([1, "a", true, undefined]);
  });

  it("refuses the wrong number of leaves", () => {
    const [, def] = A.treeFlatten({ a: t(1), b: t(2) });
    expect(() => A.treeUnflatten(def, [t(1)])).toThrow(/holds 2 leaves but 1 were given/);
  });
});

describe("malformed tree definitions", () => {
  it("are refused naming the path to the bad node, or the root", () => {
    const leaf = { kind: "leaf" } as const;
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ kind: "tree" }, '<root> is not a tree node ({ kind: "leaf" | "static" | "array" | … })'],
      [{ kind: "array" }, "<root> has no children array"],
      [
        { kind: "array", children: [leaf, { kind: "object", keys: [], children: [leaf] }] },
        "[1] needs one key per child",
      ],
      [{ kind: "array", children: [{ kind: "list", children: [leaf, null] }] }, "[0][1] is not a tree node"],
      [{ kind: "array", children: [{ kind: "record", keys: ["a"], children: [leaf] }] }, "[0] has no Record template"],
    ];
    for (const [def, where] of cases)
      expect(() => A.treeUnflatten(def as A.TreeDef, [])).toThrow(`not a tree definition: ${where}`);
    const cyclic: { kind: "array"; children: unknown[] } = { kind: "array", children: [] };
    cyclic.children.push(leaf, cyclic);
    expect(() => A.treeUnflatten(cyclic as A.TreeDef, [])).toThrow("not a tree definition: [1] contains itself");
  });
});

describe("treeMap", () => {
  it("maps corresponding leaves of several trees", () => {
    const out = A.treeMap<{ a: A.Value; b: A.Value[] }>(
      (x, y) => A.add(x, y),
      { a: t(1), b: [t(2)] },
      { a: t(10), b: [t(20)] },
    );
    expect(values([out.a, out.b[0]!])).toEqual([11, 22]);
  });

  it("throws TreeMismatch naming the tree and both structures when they differ", () => {
    const run = () => A.treeMap((x, y) => A.add(x, y), { a: t(1), b: [t(2)] }, { a: t(1), b: t(2) });
    expect(run).toThrow(A.GraphException);
    expect(run).toThrow(
      /treeMap: pytree mismatch at tree 1: structure \{"a":\*,"b":\*\} differs from the first tree's \{"a":\*,"b":\[\*\]\}/,
    );
  });

  it("treats different static values as different structures", () => {
    expect(() => A.treeMap((x) => x, { a: t(1), k: 1 }, { a: t(1), k: 2 })).toThrow(/mismatch/);
  });
});
