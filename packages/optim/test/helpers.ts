/**
 * @file Test helpers: random pytrees of float64 tensors (nested objects and arrays) as
 * fast-check arbitraries, their numbers as one flat vector for the textbook references (plain
 * JavaScript numbers, no library ops), and a closeness assertion.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { applyUpdates, type GradientTransformation } from "../src/index.js";

/** A leaf of a structure: the shape of the tensor that goes there. */
export class LeafShape {
  constructor(readonly shape: readonly number[]) {}
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** The structure of a random pytree: leaves are shapes; containers are arrays and objects. */
export type Structure = LeafShape | readonly Structure[] | { readonly [key: string]: Structure };

const shapeArb: fc.Arbitrary<LeafShape> = fc.oneof(
  fc.constant(new LeafShape([])),
  fc.integer({ min: 1, max: 4 }).map((n) => new LeafShape([n])),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([m, n]) => new LeafShape([m, n])),
);

/** Random structures, at most three levels deep, with at least one leaf. */
export const structureArb: fc.Arbitrary<Structure> = fc.letrec<{ tree: Structure; node: Structure }>((tie) => ({
  tree: fc.oneof({ maxDepth: 2, depthIdentifier: "tree" }, shapeArb, tie("node")),
  node: fc.oneof(
    fc.array(tie("tree"), { minLength: 1, maxLength: 3 }),
    fc.dictionary(fc.constantFrom("w", "b", "h", "layers", "bias", "emb"), tie("tree"), { minKeys: 1, maxKeys: 3 }),
  ),
})).tree;

/** Number of scalars a structure holds. */
export const sizeOf = (s: Structure): number =>
  s instanceof LeafShape
    ? s.size
    : Array.isArray(s)
      ? s.reduce((n: number, c: Structure) => n + sizeOf(c), 0)
      : Object.values(s).reduce((n, c) => n + sizeOf(c), 0);

/** Builds the pytree of `s` from flat values, in `treeFlatten` order (object keys sorted). */
export const build = (s: Structure, values: readonly number[]): unknown => {
  let at = 0;
  const go = (n: Structure): unknown => {
    if (n instanceof LeafShape) {
      const t = T.fromDataOrThrow(values.slice(at, at + n.size), n.shape, "float64");
      at += n.size;
      return t;
    }
    if (Array.isArray(n)) return n.map(go);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(n).sort()) out[k] = go((n as Record<string, Structure>)[k]!);
    return out;
  };
  return go(s);
};

/** Flat values for a structure: moderate magnitudes, no NaN or infinities. */
export const valuesArb = (s: Structure, min = -3, max = 3): fc.Arbitrary<number[]> => {
  const n = sizeOf(s);
  return fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
};

/** A structure with initial parameters and `steps` gradients shaped like it. */
export const problemArb = (
  steps: number,
): fc.Arbitrary<{ structure: Structure; params: number[]; grads: number[][] }> =>
  structureArb.chain((structure) =>
    fc.record({
      structure: fc.constant(structure),
      params: valuesArb(structure),
      grads: fc.array(valuesArb(structure), { minLength: steps, maxLength: steps }),
    }),
  );

/** All numbers of a pytree's leaves, in flatten order. */
export const flat = (tree: unknown): number[] => A.treeLeaves(tree).flatMap((l) => Array.from((l as T.Tensor).data));

/** Runs an optimizer over the gradients from `params` and returns the flat parameters after each step. */
export const runOptimizer = <S>(
  opt: GradientTransformation<S>,
  params: unknown,
  grads: readonly unknown[],
): number[][] => {
  let state = opt.init(params);
  let p = params;
  const out: number[][] = [];
  for (const g of grads) {
    const [u, s] = opt.update(g, state, p);
    p = applyUpdates(p, u);
    state = s;
    out.push(flat(p));
  }
  return out;
};

/** Asserts |a − b| ≤ tol·(1 + |b|) elementwise (NaN equals NaN), naming the first bad index. */
export const expectClose = (actual: readonly number[], expected: readonly number[], tol = 1e-12): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const b = expected[i]!;
    const ok = (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tol * (1 + Math.abs(b));
    if (!ok) expect.fail(`element ${i}: got ${a}, expected ${b} (tolerance ${tol})`);
  });
};

/** Bit-exact equality of two number lists (−0 ≠ 0, NaN = NaN). */
export const expectSameBits = (actual: readonly number[], expected: readonly number[]): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!Object.is(a, expected[i])) expect.fail(`element ${i}: got ${a}, expected ${expected[i]}`);
  });
};

/** A deep copy of every tensor's numbers and every static value of a tree, to detect writes. */
export const snapshot = (tree: unknown): unknown =>
  JSON.stringify([A.treeDefKey(A.treeStructure(tree)), flat(tree).map((x) => (Object.is(x, -0) ? "-0" : String(x)))]);

/**
 * Asserts the same structure, dtypes and shapes, and the same number in every element, bit for
 * bit (NaN equals NaN, −0 differs from 0), naming the first leaf and element that differ.
 */
export const expectSameTreeBits = (label: string, got: unknown, want: unknown): void => {
  const [gl, gd] = A.treeFlatten(got);
  const [wl, wd] = A.treeFlatten(want);
  expect(A.treeDefKey(gd), label).toBe(A.treeDefKey(wd));
  wl.forEach((w, i) => {
    const [g, e] = [gl[i] as T.Tensor, w as T.Tensor];
    expect(`${g.dtype}[${g.shape.join(",")}]`, `${label}: leaf ${i}`).toBe(`${e.dtype}[${e.shape.join(",")}]`);
    const j = Array.from(e.data).findIndex((x, k) => !Object.is(x, g.data[k]));
    if (j >= 0) expect.fail(`${label}: leaf ${i} differs at ${j}: ${g.data[j]} vs ${e.data[j]}`);
  });
};
