/**
 * @file `inAxes`/`outAxes`: a pytree prefix of numbers and nulls, matched against the arguments
 * (or the result) to give each leaf its batch axis, with errors that name the path.
 */
import type { Value } from "../core.js";
import { graphFail } from "../errors.js";
import { treeLeavesWithPaths } from "../Tree.js";

/**
 * Where the batch axis of a pytree's leaves is: a number (that axis; negative counts from the
 * end), `null` (not batched), or an array or object that matches the tree's own arrays and
 * objects down to where a number or null applies to the whole subtree (a pytree prefix).
 */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

/** A leaf with its path (for messages) and its axis as given (not yet checked against its rank). */
export interface LeafAxis {
  /** The leaf's path, e.g. `args[0].w`. */
  readonly path: string;
  /** The leaf. */
  readonly leaf: Value;
  /** Its axis from the spec, or null. */
  readonly axis: number | null;
}

const isPlainObject = (x: unknown): x is Readonly<Record<string, unknown>> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
};

const describe = (x: unknown): string =>
  Array.isArray(x)
    ? `an array of ${x.length}`
    : isPlainObject(x)
      ? `an object with keys [${Object.keys(x).sort().join(", ")}]`
      : x === null
        ? "null"
        : typeof x === "object"
          ? "a tensor or collection"
          : typeof x;

/**
 * Gives each leaf of `tree` its axis from `spec` (a prefix of `tree`), in `treeFlatten` order.
 * `what` names the option (`inAxes`, `outAxes`) and `root` the tree (`args`, `out`) in errors.
 * @example leafAxes("inAxes", [0, null], [xs, w], "args") // xs → 0, w → null
 */
export const leafAxes = (what: string, spec: unknown, tree: unknown, root: string): LeafAxis[] => {
  const out: LeafAxis[] = [];
  const walk = (s: unknown, t: unknown, specPath: string, path: string): void => {
    if (s === null || typeof s === "number") {
      for (const [p, leaf] of treeLeavesWithPaths(t))
        out.push({ path: p === "<root>" ? path : path + p, leaf, axis: s });
      return;
    }
    const mismatch = (detail: string): never =>
      graphFail({
        _tag: "InvalidArgument",
        op: "vmap",
        arg: `${what}${specPath}`,
        detail,
        fix:
          `give ${what} the structure of ${root} down to where one axis (a number, or null) applies ` +
          "to a whole subtree, e.g. inAxes: [0, null] for vmap(f)(xs, w)",
      });
    if (Array.isArray(s)) {
      if (!Array.isArray(t) || t.length !== s.length) {
        mismatch(`${what}${specPath} is an array of ${s.length} but ${path} is ${describe(t)}`);
      }
      s.forEach((c, i) => walk(c, (t as unknown[])[i], `${specPath}[${i}]`, `${path}[${i}]`));
      return;
    }
    if (isPlainObject(s)) {
      const keys = Object.keys(s).sort();
      const same = isPlainObject(t) && Object.keys(t).sort().join("\u0000") === keys.join("\u0000");
      if (!same) mismatch(`${what}${specPath} is ${describe(s)} but ${path} is ${describe(t)}`);
      for (const k of keys) walk(s[k], (t as Record<string, unknown>)[k], `${specPath}.${k}`, `${path}.${k}`);
      return;
    }
    mismatch(`${what}${specPath} must be a number, null, an array or a plain object, got ${describe(s)}`);
  };
  walk(spec, tree, "", root);
  return out;
};

/**
 * A checked axis of a leaf of rank `rank` (negative counts from the end), as a non-negative axis.
 * @example normalizeBatchAxis("inAxes", "args[0]", -1, 2, "f32[2,3]") // 1
 */
export const normalizeBatchAxis = (what: string, path: string, axis: number, rank: number, got: string): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    graphFail({
      _tag: "InvalidArgument",
      op: "vmap",
      arg: `${what} of ${path}`,
      detail:
        rank === 0
          ? `axis ${axis} given for ${path}, a ${got} with no axis to batch over`
          : `axis ${axis} is out of range for ${path}, ${got} ` +
            `(rank ${rank}: use an integer in [${-rank}, ${rank - 1}])`,
      fix: rank === 0 ? `give ${path} a batch axis, or use null for it in ${what}` : `pick an axis of ${path}`,
    });
  }
  return axis < 0 ? axis + rank : axis;
};
