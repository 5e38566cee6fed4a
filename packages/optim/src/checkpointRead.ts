/**
 * @file Reading a checkpoint's parts once its bytes are a verified safetensors file: the step, the
 * PRNG key, the config and the tree metadata, and the match between the tree and the tensors.
 * Each reader returns `Left` with a `DecodeError` naming the problem; none throws.
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { Key, TensorError } from "@rewind/tensor";
import { readConfig, readTree, type JsonConfig } from "./checkpointMeta.js";
import { specLeafNames, type TreeSpec } from "./treeSpec.js";

/** The name of the tensor that holds the PRNG key's two words. */
export const KEY_TENSOR = "key";

/** A `DecodeError` of `restoreCheckpoint` with `detail`. */
export const decodeError = (detail: string): TensorError => ({
  _tag: "DecodeError",
  op: "restoreCheckpoint",
  detail,
  fix: "",
});
const MAX_LISTED = 12;

/** `what: ` and the first problems, with how many more there are. */
export const listProblems = (what: string, problems: readonly string[]): string => {
  const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : "";
  return `${what}: ${problems.slice(0, MAX_LISTED).join("; ")}${more}`;
};

/** The optional `key` tensor as a PRNG key. */
export const readKey = (t: T.Tensor | undefined): E.Either<TensorError, Key | undefined> => {
  if (t === undefined) return E.right(undefined);
  if (t.dtype !== "int32" || t.shape.length !== 1 || t.shape[0] !== 2) {
    return E.left(
      decodeError(`the tensor "key" must be int32[2] (a PRNG key's two words), got ${t.dtype}[${t.shape.join(", ")}]`),
    );
  }
  const [hi, lo] = [t.data[0]! >>> 0, t.data[1]! >>> 0];
  return E.right(T.random.key((BigInt(hi) << 32n) | BigInt(lo)));
};

/** The `step` metadata: a non-negative integer written without sign, leading zeros or exponent. */
export const readStep = (metadata: ReadonlyMap<string, string>): E.Either<TensorError, number> => {
  const stepText = metadata.get("step") ?? "";
  const step = Number(stepText);
  if (!/^(0|[1-9][0-9]*)$/.test(stepText) || !Number.isSafeInteger(step)) {
    return E.left(
      decodeError(
        `the "step" metadata must be a non-negative integer, got ${JSON.stringify(metadata.get("step") ?? null)}`,
      ),
    );
  }
  return E.right(step);
};

/** The optional `config` metadata, read as strict JSON. */
export const readConfigEntry = (
  metadata: ReadonlyMap<string, string>,
): E.Either<TensorError, JsonConfig | undefined> => {
  const configText = metadata.get("config");
  return configText === undefined ? E.right(undefined) : readConfig(configText);
};

/** The `tree` metadata: an object of exactly `params` and `optState`. */
export const readRoot = (metadata: ReadonlyMap<string, string>): E.Either<TensorError, TreeSpec> => {
  const treeText = metadata.get("tree");
  if (treeText === undefined)
    return E.left(decodeError('the "tree" metadata (the structure of params and optimizer state) is missing'));
  const parsedSpec = readTree(treeText);
  if (E.isLeft(parsedSpec)) return parsedSpec;
  const spec = parsedSpec.right;
  if (
    spec.kind !== "object" ||
    spec.keys.length !== 2 ||
    !spec.keys.includes("params") ||
    !spec.keys.includes("optState")
  ) {
    return E.left(
      decodeError('bad "tree" metadata: the root must be an object with exactly the keys "optState" and "params"'),
    );
  }
  return E.right(spec);
};

/** Every tensor is described once by the structure, and every described tensor is present. */
export const tensorProblems = (spec: TreeSpec, tensors: ReadonlyMap<string, T.Tensor>): string[] => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const n of specLeafNames(spec)) {
    if (seen.has(n)) problems.push(`the structure names the tensor ${JSON.stringify(n)} twice`);
    else if (!tensors.has(n)) problems.push(`the tensor ${JSON.stringify(n)} is missing from the file`);
    seen.add(n);
  }
  for (const n of tensors.keys())
    if (n !== KEY_TENSOR && !seen.has(n)) problems.push(`the tensor ${JSON.stringify(n)} is not part of the structure`);
  return problems;
};
