/**
 * @file jit's fast path for a call with the last call's signature (jitSignature.ts): it compares
 * the structure and avals directly instead of building the cache key, so it must say "same"
 * exactly when the keys are equal — for static values that the key's text tells apart (0 and −0,
 * 1 and "1", two objects with equal contents) and ones it does not (NaN and NaN, one object
 * twice), for shapes and dtypes, for every kind of container. Checked against `treeDefKey` on
 * random pairs of trees, and through `jit` on random sequences of calls: every call returns the
 * eager result, and the cache holds one entry per distinct key.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { List, Map as IMap, Record as IRecord } from "immutable";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { sameStructure } from "../src/jitSignature.js";

const SHARED = { object: true };
const Point = IRecord<{ x: unknown; y: unknown }>({ x: null, y: null });

/** Static values whose keys are equal or not in every way that matters. */
const statics = fc.constantFrom<unknown>(0, -0, 1, "1", NaN, null, undefined, true, "a", SHARED, { object: true }, 1n);

/** Leaves of a few avals. */
const leaves = fc.constantFrom(
  T.zeros([2]),
  T.ones([2]),
  T.zeros([3]),
  T.zeros([2], "float64"),
  T.zeros([2], "int32"),
  T.zeros([1, 2]),
);

/** Pytrees of every container kind over those leaves and statics. */
const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaves,
    statics,
    fc.array(tie("node"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "c"), tie("node"), { maxKeys: 3 }),
    fc.array(tie("node"), { maxLength: 2 }).map((xs) => List(xs)),
    fc.array(fc.tuple(fc.constantFrom<unknown>(0, -0, "k", NaN), tie("node")), { maxLength: 2 }).map((kv) => IMap(kv)),
    fc.tuple(tie("node"), tie("node")).map(([x, y]) => Point({ x, y })),
  ),
})).node;

/** A tree's key as jit builds it: structure, then every leaf's aval. */
const keyOf = (t: unknown): string => {
  const [ls, def] = A.treeFlatten(t);
  return `${A.treeDefKey(def)}|${ls.map((l) => `${l.dtype}[${l.shape.join(",")}]`).join(";")}`;
};

describe("jit's last-signature fast path", () => {
  it("calls two structures the same exactly when their treeDefKeys are equal", () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        const [, da] = A.treeFlatten(a);
        const [, db] = A.treeFlatten(b);
        expect(sameStructure(da, db)).toBe(A.treeDefKey(da) === A.treeDefKey(db));
        expect(sameStructure(da, A.treeFlatten(a)[1])).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("through jit: each call gives the eager result, and the cache one entry per distinct key", () => {
    // The function's result depends on the arguments' leaves and on where they sit, so a call
    // answered by another signature's entry would return the wrong structure or values.
    const f = (t: unknown): unknown => A.treeMap((x: Value) => A.mul(x, 2), t);
    fc.assert(
      fc.property(
        fc.array(tree, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(3), { maxLength: 12 }),
        (pool, picks) => {
          const jf = A.jit(f, { warnRetraces: false });
          const keys = new Set<string>();
          for (const i of [0, ...picks]) {
            const t = pool[i % pool.length];
            keys.add(keyOf(t));
            const got = A.treeFlatten(jf(t));
            const want = A.treeFlatten(f(t));
            expect(A.treeDefKey(got[1])).toBe(A.treeDefKey(want[1]));
            const describe = (ls: readonly unknown[]) =>
              ls.map((l) => {
                const x = l as T.Tensor;
                return [x.dtype, [...x.shape], [...x.data]];
              });
            expect(describe(got[0])).toEqual(describe(want[0]));
          }
          expect(jf.cacheSize()).toBe(keys.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});
