/**
 * @file Rebuilding a pytree from a checkpoint's `TreeSpec` and tensors: either as plain
 * containers, or fitted to a template (the caller's own pytree of the expected shapes), in which
 * case every difference is listed: a missing or extra entry, a tensor of another shape or dtype,
 * a container of another kind or length. Nothing is built unless everything fits.
 *
 * One difference is not one: optimizer states used to hold their update counts and flags as
 * plain numbers and booleans, which files of that time store as static values. Where such a file
 * has a static integer (in int32 range) or boolean and the template an int32 or bool scalar
 * tensor, the value becomes that tensor. Nothing else converts.
 */
import * as A from "@rewind/autodiff";
import { treeLeafCount, type TreeDef, type Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";

import { staticValue, type StaticSpec, type TreeSpec } from "./treeSpec.js";

/**
 * A rebuilt tree, or the list of reasons it could not be built.
 * @example const r: Rebuilt = { ok: false, problems: ["params.w: missing from the checkpoint"] };
 */
export type Rebuilt =
  { readonly ok: true; readonly tree: unknown } | { readonly ok: false; readonly problems: readonly string[] };

const shown = (path: string): string => (path.startsWith(".") ? path.slice(1) : path) || "<root>";
const avalText = (v: { readonly dtype: string; readonly shape: readonly number[] }): string =>
  `${v.dtype}[${v.shape.join(", ")}]`;

/** Identity of a Map key, equal for a template key and the spec it was saved as. */
const mapKeyId = (k: unknown): string => `${typeof k}:${Object.is(k, -0) ? "-0" : String(k)}`;
const specKeyId = (k: StaticSpec): string => mapKeyId(staticValue(k));
const childPath = (kind: "object" | "record" | "map", path: string, key: unknown): string =>
  kind === "map" ? `${path}.get(${JSON.stringify(key)})` : `${path}.${String(key)}`;

/**
 * Rebuilds the tree a spec describes with plain arrays and objects (and Immutable `List`s and
 * `Map`s); an Immutable `Record` cannot be rebuilt without its class, so it needs a template.
 * @example rebuildPlain({ kind: "leaf", name: "w" }, new Map([["w", w]])) // { ok: true, tree: w }
 */
export const rebuildPlain = (spec: TreeSpec, tensors: ReadonlyMap<string, Tensor>): Rebuilt => {
  const problems: string[] = [];
  const leaves: Tensor[] = [];
  const toDef = (s: TreeSpec, path: string): TreeDef => {
    switch (s.kind) {
      case "leaf":
        leaves.push(tensors.get(s.name)!);
        return { kind: "leaf" };
      case "static":
        return { kind: "static", value: staticValue(s.value) };
      case "array":
      case "list":
        return { kind: s.kind, children: s.children.map((c, i) => toDef(c, `${path}[${i}]`)) };
      case "object":
        return { kind: "object", keys: s.keys, children: s.children.map((c, i) => toDef(c, `${path}.${s.keys[i]!}`)) };
      case "map": {
        const keys = s.keys.map(staticValue);
        return { kind: "map", keys, children: s.children.map((c, i) => toDef(c, childPath("map", path, keys[i]))) };
      }
      case "record":
        problems.push(
          `${shown(path)}: an Immutable Record was saved here; pass a template so it can be rebuilt with its class`,
        );
        return { kind: "static", value: undefined };
    }
  };
  const def = toDef(spec, "");
  return problems.length > 0 ? { ok: false, problems } : { ok: true, tree: A.treeUnflatten(def, leaves) };
};

const describeSpec = (s: TreeSpec, tensors: ReadonlyMap<string, Tensor>): string => {
  switch (s.kind) {
    case "leaf": {
      const t = tensors.get(s.name);
      return t === undefined ? "a tensor" : `a tensor ${avalText(t)}`;
    }
    case "static": {
      const v = s.value;
      // A number's text as written (`0.5`, `NaN`), a string in quotes.
      const shown =
        v.type === "number" ? v.value : v.type === "string" || v.type === "boolean" ? JSON.stringify(v.value) : "";
      return `the ${v.type} ${shown}`.trimEnd();
    }
    case "array":
    case "list":
      return `a ${s.kind} of ${s.children.length}`;
    default:
      return `a ${s.kind} with ${s.keys.length} keys`;
  }
};

const describeDef = (d: TreeDef, leaves: readonly Value[], offset: number): string => {
  switch (d.kind) {
    case "leaf":
      return `a tensor ${avalText(leaves[offset]!)}`;
    case "static":
      return `the ${d.value === null ? "null" : typeof d.value} ${JSON.stringify(d.value) ?? ""}`.trimEnd();
    case "array":
    case "list":
      return `a ${d.kind} of ${d.children.length}`;
    default:
      return `a ${d.kind} with ${d.keys.length} keys`;
  }
};

const staticType = (v: unknown): string => (v === null ? "null" : typeof v);

/**
 * The scalar tensor a static value of a file of the earlier layout stands for, where the
 * template holds an int32 scalar (an update count: an integer in int32 range) or a bool scalar
 * (a flag: a boolean); undefined otherwise.
 */
const staticAsScalar = (s: StaticSpec, want: Value): Tensor | undefined => {
  if (want.shape.length !== 0) return undefined;
  const v = staticValue(s);
  if (want.dtype === "int32" && typeof v === "number" && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)
    return T.scalar(v, "int32");
  if (want.dtype === "bool" && typeof v === "boolean") return T.scalar(v ? 1 : 0, "bool");
  return undefined;
};

/**
 * Rebuilds the tree a spec describes in the template's containers (so Immutable `Record`s keep
 * their class), with the file's tensors and static values, after checking that the two agree:
 * same containers, keys and lengths; tensors of the template's shape and dtype (or a static
 * integer or boolean for an int32 or bool scalar, see the file note); static values of the same
 * JavaScript type.
 * @example rebuildLike(spec, tensors, { params, optState }) // { ok: false, problems: ["params.w: ..."] }
 */
export const rebuildLike = (spec: TreeSpec, tensors: ReadonlyMap<string, Tensor>, template: unknown): Rebuilt => {
  const [tLeaves, tDef] = A.treeFlatten(template);
  const problems: string[] = [];
  const leaves: Tensor[] = [];
  const differ = (path: string, s: TreeSpec, t: TreeDef, offset: number): TreeDef => {
    problems.push(
      `${shown(path)}: the checkpoint has ${describeSpec(s, tensors)}, the template ${describeDef(t, tLeaves, offset)}`,
    );
    return t;
  };
  const walk = (s: TreeSpec, t: TreeDef, offset: number, path: string): TreeDef => {
    switch (t.kind) {
      case "leaf": {
        const converted = s.kind === "static" ? staticAsScalar(s.value, tLeaves[offset]!) : undefined;
        if (converted !== undefined) {
          leaves.push(converted);
          return t;
        }
        if (s.kind !== "leaf") {
          const want = tLeaves[offset]!;
          if (s.kind === "static" && s.value.type === "number" && want.dtype === "int32" && want.shape.length === 0) {
            problems.push(
              `${shown(path)}: the checkpoint has the number ${s.value.value}, the template an int32 scalar ` +
                "(an update count), and only an integer in int32 range converts to one",
            );
            return t;
          }
          return differ(path, s, t, offset);
        }
        const file = tensors.get(s.name)!;
        const want = tLeaves[offset]!;
        if (
          file.dtype !== want.dtype ||
          file.shape.length !== want.shape.length ||
          file.shape.some((d, i) => d !== want.shape[i])
        ) {
          problems.push(`${shown(path)}: the checkpoint has ${avalText(file)}, the template ${avalText(want)}`);
        }
        leaves.push(file);
        return t;
      }
      case "static": {
        if (s.kind !== "static") return differ(path, s, t, offset);
        const value = staticValue(s.value);
        if (staticType(value) !== staticType(t.value)) return differ(path, s, t, offset);
        return { kind: "static", value };
      }
      case "array":
      case "list": {
        if (s.kind !== t.kind || s.children.length !== t.children.length) return differ(path, s, t, offset);
        let at = offset;
        const children = t.children.map((c, i) => {
          const out = walk(s.children[i]!, c, at, `${path}[${i}]`);
          at += treeLeafCount(c);
          return out;
        });
        return { kind: t.kind, children };
      }
      case "object":
      case "record":
      case "map": {
        if (s.kind !== t.kind) return differ(path, s, t, offset);
        const sIds: readonly string[] = s.kind === "map" ? s.keys.map(specKeyId) : s.keys;
        const tIds: readonly string[] = t.kind === "map" ? t.keys.map(mapKeyId) : t.keys;
        let at = offset;
        const children = t.children.map((c, i) => {
          const j = sIds.indexOf(tIds[i]!);
          const p = childPath(t.kind, path, t.keys[i]);
          if (j < 0)
            problems.push(`${shown(p)}: missing from the checkpoint (the template has ${describeDef(c, tLeaves, at)})`);
          const out = j < 0 ? c : walk(s.children[j]!, c, at, p);
          at += treeLeafCount(c);
          return out;
        });
        sIds.forEach((id, j) => {
          if (!tIds.includes(id)) {
            const key = s.kind === "map" ? staticValue(s.keys[j]!) : id;
            problems.push(
              `${shown(childPath(t.kind, path, key))}: in the checkpoint but not in the template ` +
                `(${describeSpec(s.children[j]!, tensors)})`,
            );
          }
        });
        return { ...t, children };
      }
    }
  };
  const def = walk(spec, tDef, 0, "");
  return problems.length > 0 ? { ok: false, problems } : { ok: true, tree: A.treeUnflatten(def, leaves) };
};
