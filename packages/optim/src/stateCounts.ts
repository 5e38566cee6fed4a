/**
 * @file The update counts and flags of this package's optimizer states, checked when a checkpoint
 * is read. The template check sees only dtypes and shapes, and a file written before the counts
 * were tensors holds them as plain numbers and booleans in the tree metadata: a tampered (or
 * hand-written) file with an Adam count of NaN, −1 or 1.5 would restore and fail only at the next
 * update, or worse, bias-correct with a wrong count.
 *
 * The states are recognised by their exact key sets, so a user's own transformation whose state
 * happens to hold a `count` among other fields is left alone:
 * - `{ count }` (`scaleByLearningRate`, so every alias's schedule count) and
 *   `{ count, mu, nu }` (`scaleByAdam`): `count` is an update count;
 * - `{ notFiniteCount, totalNotFinite, lastFinite, inner }` (`skipNonFinite`): two counts with
 *   `notFiniteCount ≤ totalNotFinite`, and `lastFinite` a boolean true exactly when
 *   `notFiniteCount` is 0 (what `init` and `update` maintain).
 * A count is either an int32 scalar tensor (what `init` makes) holding a non-negative number, or,
 * in a file of the earlier layout, a static non-negative safe integer; a flag is a bool scalar
 * tensor or a static boolean.
 */
import type { Tensor } from "@rewind/tensor";
import { staticValue, type TreeSpec } from "./treeSpec.js";

const sameKeys = (keys: readonly string[], want: readonly string[]): boolean =>
  keys.length === want.length && want.every((k) => keys.includes(k));

const COUNT_STATES: ReadonlyArray<readonly string[]> = [["count"], ["count", "mu", "nu"]];
const SKIP_STATE = ["notFiniteCount", "totalNotFinite", "lastFinite", "inner"] as const;

/** A key as paths show it: cut short, so a hostile megabyte-long key makes no megabyte message. */
const cut = (key: string): string => (key.length > 40 ? `${key.slice(0, 37)}...` : key);

/** A node as messages show it: a static value (cut short), a tensor by dtype and shape, or a container's kind. */
const shown = (s: TreeSpec, tensors: ReadonlyMap<string, Tensor>): string => {
  if (s.kind === "leaf") {
    const t = tensors.get(s.name);
    return t === undefined
      ? "a missing tensor"
      : `${t.dtype === "int32" ? "an" : "a"} ${t.dtype}[${t.shape.join(", ")}] tensor`;
  }
  if (s.kind !== "static") return `a ${s.kind}`;
  const v = s.value;
  const text =
    v.type === "number"
      ? v.value
      : v.type === "string"
        ? JSON.stringify(v.value)
        : v.type === "boolean"
          ? String(v.value)
          : v.type;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

/** The scalar tensor of `dtype` a leaf node names, if it is one. */
const scalarAt = (s: TreeSpec | undefined, tensors: ReadonlyMap<string, Tensor>, dtype: string): Tensor | undefined => {
  const t = s?.kind === "leaf" ? tensors.get(s.name) : undefined;
  return t !== undefined && t.dtype === dtype && t.shape.length === 0 ? t : undefined;
};

/** The count a node holds, or undefined (after recording why) when it is not a valid count. */
const countAt = (
  s: TreeSpec | undefined,
  path: string,
  problems: string[],
  tensors: ReadonlyMap<string, Tensor>,
): number | undefined => {
  const t = scalarAt(s, tensors, "int32");
  const value =
    t !== undefined
      ? t.data[0]!
      : s?.kind === "static" && s.value.type === "number"
        ? (staticValue(s.value) as number)
        : undefined;
  if (value !== undefined && Number.isSafeInteger(value) && value >= 0) return value;
  const got = s === undefined ? "nothing" : value !== undefined && t !== undefined ? `${value}` : shown(s, tensors);
  problems.push(`${path}: an update count must be a non-negative integer, got ${got}`);
  return undefined;
};

/** The flag a node holds (a bool scalar tensor, or a static boolean), or undefined. */
const flagAt = (s: TreeSpec | undefined, tensors: ReadonlyMap<string, Tensor>): boolean | undefined => {
  const t = scalarAt(s, tensors, "bool");
  if (t !== undefined) return t.data[0] !== 0;
  return s?.kind === "static" && s.value.type === "boolean" ? s.value.value : undefined;
};

/**
 * Every problem with the update counts and flags of the optimizer states in a checkpoint's tree
 * (the `optState` part of the root), each naming the field's path and the value found; `tensors`
 * are the file's tensors, where counts and flags saved as tensors are read.
 * @example
 * stateProblems(spec, tensors)
 * // ["optState[1].count: an update count must be a non-negative integer, got -1"]
 */
export const stateProblems = (root: TreeSpec, tensors: ReadonlyMap<string, Tensor>): string[] => {
  const problems: string[] = [];
  // The path as a stack of segments, joined only for a message: a string per node would cost
  // more than the node (a tree may hold 500,000).
  const segments: string[] = ["optState"];
  const path = (field: string): string => `${segments.join("")}.${field}`;
  const child = (
    s: { readonly keys: readonly string[]; readonly children: readonly TreeSpec[] },
    key: string,
  ): TreeSpec | undefined => s.children[s.keys.indexOf(key)];
  const walk = (s: TreeSpec): void => {
    switch (s.kind) {
      case "leaf":
      case "static":
        return;
      case "array":
      case "list":
      case "map":
        s.children.forEach((c, i) => {
          if (c.kind === "leaf" || c.kind === "static") return;
          segments.push(
            s.kind === "map" ? `.get(${cut(JSON.stringify(staticValue(s.keys[i]!)) ?? "undefined")})` : `[${i}]`,
          );
          walk(c);
          segments.pop();
        });
        return;
      case "object":
      case "record":
        if (COUNT_STATES.some((keys) => sameKeys(s.keys, keys)))
          countAt(child(s, "count"), path("count"), problems, tensors);
        if (sameKeys(s.keys, SKIP_STATE)) {
          const run = countAt(child(s, "notFiniteCount"), path("notFiniteCount"), problems, tensors);
          const total = countAt(child(s, "totalNotFinite"), path("totalNotFinite"), problems, tensors);
          const flag = child(s, "lastFinite");
          const last = flagAt(flag, tensors);
          if (last === undefined)
            problems.push(
              `${path("lastFinite")}: must be true or false, got ` +
                (flag === undefined ? "nothing" : shown(flag, tensors)),
            );
          if (run !== undefined && total !== undefined && run > total) {
            problems.push(
              `${path("notFiniteCount")}: ${run} non-finite steps in a row, but only ${total} in all (totalNotFinite)`,
            );
          }
          if (run !== undefined && last !== undefined && last !== (run === 0)) {
            problems.push(
              `${path("lastFinite")}: ${last}, but notFiniteCount is ${run} (the last step was finite exactly when ` +
                `it is 0)`,
            );
          }
        }
        s.children.forEach((c, i) => {
          if (c.kind === "leaf" || c.kind === "static") return;
          segments.push(`.${cut(s.keys[i]!)}`);
          walk(c);
          segments.pop();
        });
        return;
    }
  };
  if (root.kind === "object") {
    const i = root.keys.indexOf("optState");
    if (i >= 0) walk(root.children[i]!);
  }
  return problems;
};
