/**
 * @file The gradient-check harness: what a spec says (a generator of float64 cases, the order to
 * check, the tolerances) and how a spec is run (`runSpec`). Generators live in generators.ts.
 *
 * A case is a function of float64 tensors together with the arguments to check it at. Constants
 * that are not differentiated (int32 indices, bool masks, slice specs, permutations) are drawn by
 * the generator and closed over by the function, as JAX's LAX_GRAD_OPS does.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { jvp, mul, noGradient, registry, treeFlatten, treeUnflatten, vjp, type Value } from "@rewind/autodiff";
import { checkGrads } from "@rewind/testing";

/** One point to check: a function of the arguments and the (float64) arguments themselves. */
export interface GradCase {
  /** Short text for counterexamples (shapes and options; fast-check prints it on failure). */
  readonly label: string;
  /** Takes the arguments' pytrees (tensors, or objects of tensors for scan's parameters). */
  readonly f: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
}

interface Tolerances {
  readonly numRuns?: number;
  readonly eps?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

/**
 * How to exercise one op:
 * - `fd`: checkGrads (rev and fwd) against central differences, order 2 where the op is smooth
 *   on the generated domain; order 1 must say why.
 * - `noGradient`: the primitive is registered with `vjp: noGradient`, its output's cotangents and
 *   tangents are exactly zero, and `mul(f(...), args[0])` passes checkGrads (FD is zero too,
 *   because the generator keeps away from the op's discontinuities).
 * - `zeroGradient`: the op is the identity on values but blocks gradients (stopGradient): its
 *   output equals `args[0]` and every cotangent and tangent is exactly zero. (Central differences
 *   would disagree on purpose, so there is no FD check.)
 */
export type GradSpec =
  | (Tolerances & { readonly kind: "fd"; readonly cases: fc.Arbitrary<GradCase> } & (
        { readonly order: 2 } | { readonly order: 1; readonly why: string }
      ))
  | (Tolerances & { readonly kind: "noGradient"; readonly cases: fc.Arbitrary<GradCase> })
  | (Tolerances & { readonly kind: "zeroGradient"; readonly cases: fc.Arbitrary<GradCase> });

const call = (f: GradCase["f"], args: readonly unknown[]): unknown => (f as (...a: unknown[]) => unknown)(...args);

const floatLeaves = (tree: unknown): T.Tensor[] =>
  treeFlatten(tree)[0].filter((l): l is T.Tensor => T.isTensor(l) && T.isFloating(l.dtype));

/** Throws unless every float leaf of `tree` is exactly +0 or −0. */
const expectAllZero = (what: string, tree: unknown): void => {
  for (const leaf of floatLeaves(tree)) {
    const i = leaf.data.findIndex((x) => x !== 0);
    if (i >= 0)
      throw new Error(
        `${what}: expected exact zeros, found ${leaf.data[i]} at flat index ${i} of shape [${leaf.shape.join(", ")}]`,
      );
  }
};

/** A random normal pytree shaped like `tree`, in each leaf's float dtype (deterministic in `seed`). */
const randomLike = (tree: unknown, seed: number): unknown => {
  const [leaves, def] = treeFlatten(tree);
  const keys = T.random.split(T.random.key(seed), Math.max(1, leaves.length));
  return treeUnflatten(
    def,
    leaves.map((l, i) => T.random.normal(keys[i]!, l.shape, T.isFloating(l.dtype) ? l.dtype : "float64")),
  );
};

/** Cotangents and tangents of `c` are exactly zero for every float argument. */
const checkExactZero = (c: GradCase, seed: number): void => {
  const [out, pullback] = vjp(c.f as (...a: unknown[]) => unknown, ...c.args);
  expectAllZero(`vjp of ${c.label}`, pullback(randomLike(out, seed)));
  const [, tangent] = jvp(
    c.f,
    c.args,
    c.args.map((a, i) => randomLike(a, seed + 1 + i)),
  );
  expectAllZero(`jvp of ${c.label}`, tangent);
};

const tensorsEqual = (a: unknown, b: unknown): boolean => {
  if (!T.isTensor(a) || !T.isTensor(b)) return false;
  return a.dtype === b.dtype && T.shapesEqual(a.shape, b.shape) && a.data.every((x, i) => Object.is(x, b.data[i]));
};

/**
 * Runs one spec as a fast-check property (fast-check shrinks a failure to the smallest shape and
 * reports the case's label and seed).
 */
export const runSpec = (name: string, spec: GradSpec): void => {
  const numRuns = spec.numRuns ?? 15;
  if (spec.kind === "noGradient") {
    const prim = (registry as Readonly<Record<string, { readonly vjp: unknown }>>)[name];
    if (prim !== undefined && prim.vjp !== noGradient)
      throw new Error(`${name} must be registered with vjp: noGradient`);
  }
  fc.assert(
    fc.property(spec.cases, fc.integer({ min: 0, max: 1_000_000 }), (c, seed) => {
      // Only the tolerances a spec sets (exactOptionalPropertyTypes forbids passing undefined).
      const opts = Object.fromEntries(
        Object.entries({ eps: spec.eps, rtol: spec.rtol, atol: spec.atol }).filter(([, v]) => v !== undefined),
      );
      switch (spec.kind) {
        case "fd":
          checkGrads(c.f, c.args, { ...opts, order: spec.order, modes: ["rev", "fwd"], seed });
          return;
        case "noGradient": {
          checkExactZero(c, seed);
          // The op's (float64) output as a mask on the first argument: FD sees a piecewise-linear function.
          const masked = (...a: Value[]): unknown => mul(call(c.f, a) as Value, a[0]!);
          checkGrads(masked, c.args, { ...opts, order: 2, modes: ["rev", "fwd"], seed });
          return;
        }
        case "zeroGradient": {
          if (!tensorsEqual(call(c.f, c.args), c.args[0]))
            throw new Error(`${c.label}: value is not the identity of args[0]`);
          checkExactZero(c, seed);
          return;
        }
      }
    }),
    // The thrown message (which check failed, by how much) goes into fast-check's report.
    { numRuns, includeErrorInReport: true },
  );
};
