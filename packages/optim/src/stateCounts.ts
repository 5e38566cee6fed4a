/**
 * @file The static values of this package's optimizer states, checked when a checkpoint is read.
 * They are plain numbers and booleans in the tree metadata, which the tensor checks never see: a
 * tampered (or hand-written) file with an Adam count of NaN, −1 or 1.5 would restore and fail
 * only at the next update, or worse, bias-correct with a wrong count.
 *
 * The states are recognised by their exact key sets, so a user's own transformation whose state
 * happens to hold a `count` among other fields is left alone:
 * - `{ count }` (`scaleByLearningRate`, so every alias's schedule count) and
 *   `{ count, mu, nu }` (`scaleByAdam`): `count` is an update count;
 * - `{ notFiniteCount, totalNotFinite, lastFinite, inner }` (`skipNonFinite`): two counts with
 *   `notFiniteCount ≤ totalNotFinite`, and `lastFinite` a boolean true exactly when
 *   `notFiniteCount` is 0 (what `init` and `update` maintain).
 * An update count is a non-negative safe integer (what `checkCount` asks at update time).
 */
import { staticValue, type TreeSpec } from "./treeSpec.js";

const sameKeys = (keys: readonly string[], want: readonly string[]): boolean =>
  keys.length === want.length && want.every((k) => keys.includes(k));

const COUNT_STATES: ReadonlyArray<readonly string[]> = [["count"], ["count", "mu", "nu"]];
const SKIP_STATE = ["notFiniteCount", "totalNotFinite", "lastFinite", "inner"] as const;

/** A key as paths show it: cut short, so a hostile megabyte-long key makes no megabyte message. */
const cut = (key: string): string => (key.length > 40 ? `${key.slice(0, 37)}...` : key);

/** A static value as messages show it, cut short. */
const shown = (s: TreeSpec): string => {
  if (s.kind !== "static") return `a ${s.kind === "leaf" ? "tensor" : s.kind}`;
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

/** The count a node holds, or undefined (after recording why) when it is not a valid count. */
const countAt = (s: TreeSpec | undefined, path: string, problems: string[]): number | undefined => {
  const value = s?.kind === "static" && s.value.type === "number" ? (staticValue(s.value) as number) : undefined;
  if (value !== undefined && Number.isSafeInteger(value) && value >= 0) return value;
  problems.push(
    `${path}: an update count must be a non-negative integer, got ${s === undefined ? "nothing" : shown(s)}`,
  );
  return undefined;
};

/**
 * Every problem with the update counts and flags of the optimizer states in a checkpoint's tree
 * (the `optState` part of the root), each naming the field's path and the value found.
 * @example stateProblems(spec) // ["optState[1].count: an update count must be a non-negative integer, got NaN"]
 */
export const stateProblems = (root: TreeSpec): string[] => {
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
        if (COUNT_STATES.some((keys) => sameKeys(s.keys, keys))) countAt(child(s, "count"), path("count"), problems);
        if (sameKeys(s.keys, SKIP_STATE)) {
          const run = countAt(child(s, "notFiniteCount"), path("notFiniteCount"), problems);
          const total = countAt(child(s, "totalNotFinite"), path("totalNotFinite"), problems);
          const flag = child(s, "lastFinite");
          const last = flag?.kind === "static" && flag.value.type === "boolean" ? flag.value.value : undefined;
          if (last === undefined)
            problems.push(
              `${path("lastFinite")}: must be true or false, got ${flag === undefined ? "nothing" : shown(flag)}`,
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
