/**
 * @file Masks: which parameter leaves a transformation touches (for example, no weight decay on
 * biases). A mask is a pytree of booleans shaped like the parameters, or a prefix of it (a
 * boolean standing for a whole subtree), or a function of the parameters returning one.
 */
import type { Collection } from "immutable";
import * as A from "@rewind/autodiff";
import { treeLeafCount, type PyTree, type TreeDef } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { check, rule } from "@rewind/tensor/internal/check";

/**
 * A pytree of booleans: `true` where a transformation applies. Immutable `List`s and `Map`s
 * mirror the same containers in the parameters.
 * @example const m: MaskTree = { w: true, b: false, layers: [true, { bias: false }] };
 */
export type MaskTree =
  boolean | readonly MaskTree[] | { readonly [key: string]: MaskTree } | Collection<unknown, MaskTree>;

/**
 * A mask, or a function computing one from the parameters (as Optax's `mask` argument).
 * @example const noBias: Mask = maskByPath((path) => !path.endsWith("bias"));
 */
export type Mask = MaskTree | ((params: PyTree) => MaskTree);

const MASK_FIX =
  "give the mask the parameters' containers and keys, with a boolean at each tensor (or over a whole subtree)";
const mismatch = (op: string, path: string, detail: string): never =>
  T.fail({
    _tag: "TreeMismatch",
    op,
    path: path || "<root>",
    detail,
    fix: MASK_FIX,
  });

const predicateRule = rule(
  "a function (path, leaf) => boolean",
  (x) => typeof x === "function",
  'pass e.g. (path) => !path.endsWith("bias")',
);

/** Appends one boolean per leaf of `pd`, reading them from the mask structure `md`. */
const walk = (op: string, pd: TreeDef, md: TreeDef, path: string, out: boolean[]): void => {
  if (md.kind === "static" && typeof md.value === "boolean") {
    for (let i = treeLeafCount(pd); i > 0; i--) out.push(md.value);
    return;
  }
  if (pd.kind === "static") return;
  if (pd.kind === "leaf")
    return mismatch(
      op,
      path,
      `the parameters hold a tensor here, the mask ` +
        `${md.kind === "leaf" ? "a tensor" : md.kind === "static" ? String(md.value) : `a ${md.kind}`}; mask leaves ` +
        `must be booleans`,
    );
  if (pd.kind === "array" || pd.kind === "list") {
    if ((md.kind !== "array" && md.kind !== "list") || md.children.length !== pd.children.length) {
      return mismatch(
        op,
        path,
        `the parameters hold ${pd.children.length} elements here, the mask ` +
          `${md.kind === "array" || md.kind === "list" ? `${md.children.length} elements` : `a ${md.kind}`}`,
      );
    }
    pd.children.forEach((c, i) => walk(op, c, md.children[i]!, `${path}[${i}]`, out));
    return;
  }
  if (md.kind !== "object" && md.kind !== "record" && md.kind !== "map")
    return mismatch(op, path, `the parameters hold an object here, the mask a ${md.kind}`);
  const mkeys = md.keys.map(String);
  pd.keys.forEach((k, i) => {
    const j = mkeys.indexOf(String(k));
    if (j < 0) mismatch(op, `${path}.${String(k)}`, "the mask has no entry for these parameters");
    walk(op, pd.children[i]!, md.children[j]!, `${path}.${String(k)}`, out);
  });
  const extra = mkeys.find((k) => !pd.keys.map(String).includes(k));
  if (extra !== undefined) mismatch(op, `${path}.${extra}`, "the mask has an entry the parameters lack");
};

/**
 * One boolean per tensor leaf of `params` (in `treeFlatten` order): where `mask` applies.
 * With no mask, every leaf is selected.
 * @throws GraphException (`TreeMismatch`) naming the path where the mask does not fit.
 * @example resolveMask("adamw", { w: true, b: false }, { b: tensor([0]), w: tensor([1]) }) // [false, true]
 */
export const resolveMask = (op: string, mask: Mask | undefined, params: PyTree): readonly boolean[] => {
  const pd = A.treeStructure(params);
  if (mask === undefined) return new Array<boolean>(treeLeafCount(pd)).fill(true);
  const tree = typeof mask === "function" ? mask(params) : mask;
  const out: boolean[] = [];
  walk(op, pd, A.treeStructure(tree), "", out);
  return out;
};

/**
 * A mask from a predicate on each leaf's pytree path (`.w`, `.layers[0].bias`) and value.
 * @example adamw({ learningRate: 1e-3, weightDecay: 0.01, mask: maskByPath((p) => !p.includes("bias")) })
 */
export const maskByPath = (predicate: (path: string, leaf: A.Value) => boolean): ((params: PyTree) => MaskTree) => {
  if (typeof predicate !== "function") {
    check("maskByPath", "predicate", predicate, predicateRule);
  }
  return (params) =>
    A.treeUnflatten<MaskTree>(
      A.treeStructure(params),
      A.treeLeavesWithPaths(params).map(([path, leaf]) => predicate(path, leaf)),
    );
};
