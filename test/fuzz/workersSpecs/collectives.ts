/**
 * @file Specs of the collectives of @rewind/workers outside a `pmap` call (one worker):
 * `psum`, `pmean`, `axisIndex`, `axisSize`, `psumPrimitive`. The pmap spec runs them on two workers.
 *
 * Decisions pinned here: outside pmap, psum is the identity on every tensor leaf (bits kept, NaN
 * and −0 included, size-0 and scalar leaves alike) and pmean divides by 1 (int32 leaves come back
 * float32, as `div` gives); bool leaves are refused in and out of pmap alike (a single-process
 * run must fail where the pmap run would); a bare number, bigint or boolean is refused (a pytree
 * keeps numbers as static data, so `psum(1)` would never count the workers); trees without tensor
 * leaves (null, {}, strings, numbers inside containers) come back as they are.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { List, Set as ISet } from "immutable";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as W from "@rewind/workers";
import { prop, rejectEach, rejectPool } from "../apiKit.js";

type Spec = () => number;

/** True when two values are tensors of the same dtype, shape and bytes. */
export const sameBits = (a: unknown, b: unknown): boolean => {
  if (!T.isTensor(a) || !T.isTensor(b) || a.dtype !== b.dtype || !T.shapesEqual(a.shape, b.shape)) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

const NUMERIC = ["float32", "float64", "int32"] as const;

/** A tensor of a summable dtype: size-0 axes and scalars included, NaN, ±Infinity and −0 in the floats. */
export const leafArb = (dtypes: readonly T.DType[] = NUMERIC): fc.Arbitrary<T.Tensor> =>
  fc
    .record({
      dtype: fc.constantFrom(...dtypes),
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    })
    .chain(({ dtype, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const value =
        dtype === "int32"
          ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
          : dtype === "bool"
            ? fc.constantFrom(0, 1)
            : fc.double();
      return fc.array(value, { minLength: n, maxLength: n }).map((d) => T.fromDataOrThrow(d, shape, dtype));
    });

/** A pytree of tensors with static data beside them (which must come back unchanged). */
const treeArb = fc.record({
  a: leafArb(),
  b: fc.array(leafArb(), { maxLength: 3 }),
  c: fc.record({ d: leafArb(), lr: fc.double(), tag: fc.string({ maxLength: 4 }) }),
});
type Tree = { a: T.Tensor; b: T.Tensor[]; c: { d: T.Tensor; lr: number; tag: string } };

/** Each leaf of `out` against `f` of the same leaf of `tree`, the static data unchanged. */
const expectLeaves = (tree: Tree, out: unknown, f: (leaf: T.Tensor) => T.Tensor): void => {
  const o = out as Tree;
  expect(sameBits(o.a, f(tree.a)), "leaf a").toBe(true);
  expect(o.b.length).toBe(tree.b.length);
  tree.b.forEach((leaf, i) => expect(sameBits(o.b[i], f(leaf)), `leaf b[${i}]`).toBe(true));
  expect(sameBits(o.c.d, f(tree.c.d)), "leaf c.d").toBe(true);
  expect(Object.is(o.c.lr, tree.c.lr) && o.c.tag === tree.c.tag, "static data kept").toBe(true);
};

const bool = T.fromDataOrThrow([1, 0, 1], [3], "bool");
const cyclic = (): unknown => {
  const c: Record<string, unknown> = { x: T.scalar(1) };
  c["self"] = c;
  return c;
};

/** Refusals shared by psum and pmean (`names`: the op and the primitive it binds). */
const hostileTrees = (names: readonly string[], op: (t: unknown) => unknown): number =>
  rejectEach(names, {
    "a bool leaf": () => op(bool),
    "a bool leaf beside float ones": () => op({ w: T.ones([2]), mask: bool }),
    "a bool leaf under jit": () => A.jit((t: A.Value) => op(t) as A.Value)(bool),
    "a tree that contains itself": () => op(cyclic()),
    "an Immutable Set": () => op(ISet([T.scalar(1)])),
  }) + rejectPool(names, [3, 0, NaN, -Infinity, 10n, true, false], (v) => op(v));

/** psum outside pmap: the identity on every leaf; one psum equation for the whole tree under jit. */
export const psumSpec: Spec = () => {
  let n = prop(treeArb, (tree) => expectLeaves(tree, W.psum(tree), (l) => l), 40);
  n += prop(
    fc.array(leafArb(), { minLength: 1, maxLength: 4 }),
    (leaves) => {
      const out = A.jit((xs: A.Value[]) => W.psum(xs))(leaves);
      leaves.forEach((l, i) => expect(sameBits(out[i], l), `jit leaf ${i}`).toBe(true));
    },
    15,
  );
  // One collective for the whole tree (the lead's n-ary primitive): one psum equation for three leaves.
  const graph = A.makeGraph((a: A.Value, b: A.Value, c: A.Value) => W.psum([a, b, c]))(
    T.ones([2]),
    T.ones([3], "float64"),
    T.ones([1], "int32"),
  );
  expect([...graph.graph.eqns].filter((e) => e.prim.name === "psum").length).toBe(1);
  // d/dx Σ psum(x) = 1 with one worker.
  const g = A.grad((x: A.Value) => A.sum(W.psum(x)))(T.tensor([1, -2, 3]));
  expect(Array.from(g.data)).toEqual([1, 1, 1]);
  n += 2;
  // Trees without tensor leaves come back as they are (the same reference).
  for (const t of [null, undefined, {}, [], "x", { a: 1 }, [1, "b", null], List([1]), { shape: [2], dtype: "float32" }])
    expect(W.psum(t)).toBe(t);
  n += 9;
  return n + hostileTrees(["psum", "treeFlatten"], W.psum);
};

/** pmean outside pmap: each leaf divided by one worker (floats unchanged, int32 as float32). */
export const pmeanSpec: Spec = () => {
  let n = prop(treeArb, (tree) => expectLeaves(tree, W.pmean(tree), (l) => T.div(l, 1)), 40);
  const ints = T.tensor([7, -3, 0], "int32");
  const mean = W.pmean(ints);
  expect([mean.dtype, Array.from(mean.data)]).toEqual(["float32", [7, -3, 0]]);
  expect(W.pmean(null)).toBe(null);
  n += 2;
  return n + hostileTrees(["pmean", "psum", "treeFlatten"], W.pmean);
};

/** axisIndex and axisSize outside pmap: worker 0 of 1, whatever they are passed. */
export const axisSpec =
  (which: "axisIndex" | "axisSize"): Spec =>
  () => {
    const f: (...args: unknown[]) => number = W[which];
    const want = which === "axisIndex" ? 0 : 1;
    const calls: unknown[][] = [[], [3], [null], ["i"], [{}]];
    for (const args of calls) expect(f(...args)).toBe(want);
    // Under a transform too: the answer is a JavaScript number, not a traced value.
    expect(A.jit((x: A.Value) => A.add(x, f()))(T.scalar(1)).data[0]).toBe(1 + want);
    return calls.length + 1;
  };

/** psumPrimitive bound directly: n operands in, n out, the identity outside pmap; bool refused. */
export const psumPrimitiveSpec: Spec = () => {
  const p = W.psumPrimitive;
  expect([p.name, Object.isFrozen(p)]).toEqual(["psum", true]);
  let n = prop(
    fc.array(leafArb(), { maxLength: 4 }),
    (leaves) => {
      const out = A.applyPrimitive(p, leaves, undefined);
      expect(out.length).toBe(leaves.length);
      leaves.forEach((l, i) => expect(sameBits(out[i], l), `operand ${i}`).toBe(true));
    },
    20,
  );
  const [ga, gb] = A.grad((a: A.Value, b: A.Value) => A.sum(A.mul(A.applyPrimitive(p, [a, b], undefined)[1]!, a)), {
    argnums: [0, 1],
  })(T.tensor([1, 2]), T.tensor([3, 4]));
  expect([Array.from(ga.data), Array.from(gb.data)]).toEqual([
    [3, 4],
    [1, 2],
  ]);
  n += 2;
  return (
    n +
    rejectEach(["psum", "applyPrimitive"], {
      "a bool operand": () => A.applyPrimitive(p, [T.ones([2]), bool], undefined),
      "a bool operand under jit": () => A.jit((x: A.Value) => A.applyPrimitive(p, [x], undefined)[0]!)(bool),
      "operands that are not an array": () => A.applyPrimitive(p, T.ones([2]) as never, undefined),
      "an operand that is not a tensor": () => A.applyPrimitive(p, [3 as never], undefined),
      "a forged tensor": () => A.applyPrimitive(p, [{ shape: [1], dtype: "float32", data: [1] } as never], undefined),
    })
  );
};
