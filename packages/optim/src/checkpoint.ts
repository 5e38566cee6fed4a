/**
 * @file Checkpoints as safetensors bytes (browser-safe; the file I/O is in `node.ts`).
 *
 * Format (`"format": "rewind.checkpoint"`, `"format_version": "1"` in `__metadata__`):
 * - one tensor per leaf of `{ params, optState }`, named by its pytree path (`params.w`,
 *   `optState[0].mu.w`), so any safetensors reader (Python's `safetensors.numpy.load_file`)
 *   sees the weights by name;
 * - `"tree"`: the structure of `{ params, optState }` as JSON (containers, keys, the tensor name
 *   of each leaf, and the static values such as update counts);
 * - `"step"`: the training step, a decimal integer;
 * - `"config"` (optional): the run's configuration as JSON;
 * - the tensor `key` (optional): the PRNG key's two uint32 words as an `int32[2]` tensor holding
 *   the same bits (JAX: `jax.random.wrap_key_data(np.asarray(key).view(np.uint32))`);
 * - `"checksum"`: `crc32:` and eight hex digits, the CRC-32 of the tensor bytes followed by the
 *   other metadata entries (sorted, as JSON), so a damaged file is refused rather than loaded
 *   with wrong numbers.
 * Encoding is deterministic: the same state gives the same bytes.
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import { formatTensorError, safetensors, type Key, type TensorError } from "@rewind/tensor";
import { crc32, crc32Text } from "./crc32.js";
import { rebuildLike, rebuildPlain } from "./restoreTree.js";
import { MAX_TREE_DEPTH, parseTreeSpec, specLeafNames, specOf } from "./treeSpec.js";

/**
 * A JSON value, for a run's configuration.
 * @example const c: JsonConfig = { hidden: 128, cell: "lstm", lr: 3e-3 };
 */
export type JsonConfig = null | boolean | number | string | readonly JsonConfig[] | { readonly [key: string]: JsonConfig };

/**
 * Everything needed to resume training: parameters, optimizer state, step, PRNG key, config.
 * @example const ckpt: Checkpoint<Params, AdamState> = { params, optState, step: 100, key, config: { lr: 3e-3 } };
 */
export interface Checkpoint<P = unknown, S = unknown> {
  readonly params: P;
  readonly optState: S;
  readonly step: number;
  readonly key?: Key;
  readonly config?: JsonConfig;
}

/**
 * What a restored checkpoint must look like: parameters and optimizer state of the expected
 * structure, shapes and dtypes (typically freshly initialised ones). A `Checkpoint` will do.
 * @example const template: CheckpointTemplate<Params, AdamState> = { params, optState: opt.init(params) };
 */
export interface CheckpointTemplate<P, S> {
  readonly params: P;
  readonly optState: S;
}

/**
 * The `format` metadata value of a checkpoint.
 * @example CHECKPOINT_FORMAT // "rewind.checkpoint"
 */
export const CHECKPOINT_FORMAT = "rewind.checkpoint";
/**
 * The format version this package writes and reads.
 * @example CHECKPOINT_VERSION // "1"
 */
export const CHECKPOINT_VERSION = "1";
const KEY_TENSOR = "key";
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Why `value` is not a JSON configuration, or undefined when it is one. */
const configProblem = (value: unknown, path: string, depth: number): string | undefined => {
  if (depth > MAX_TREE_DEPTH) return `${path}: nested deeper than ${MAX_TREE_DEPTH} levels (or circular)`;
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${path}: ${value} is not a JSON number`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = configProblem(value[i], `${path}[${i}]`, depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)) {
    for (const [k, v] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(k)) return `${path}: the key ${JSON.stringify(k)} is not allowed`;
      const p = configProblem(v, `${path}.${k}`, depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  return `${path}: ${typeof value === "object" ? "a class instance" : `a ${typeof value}`} is not JSON`;
};

/**
 * Serialises a checkpoint as safetensors bytes (format in the file note). Deterministic.
 * @throws TensorException (`ValueError`) for a step that is not a non-negative integer, a key
 * that is not a PRNG key, a config that is not JSON, or a traced or non-JSON static leaf.
 * @example const bytes = encodeCheckpoint({ params, optState, step: 10, key: random.key(0) });
 */
export const encodeCheckpoint = (state: Checkpoint): Uint8Array => {
  const fail = (arg: string, detail: string, fix: string): never => T.fail({ _tag: "ValueError", op: "encodeCheckpoint", arg, detail, fix });
  if (!Number.isSafeInteger(state.step) || state.step < 0) fail("step", `the step must be a non-negative integer, got ${String(state.step)}`, "pass the number of updates made");
  if (state.key !== undefined && !T.random.isKey(state.key)) fail("key", "not a PRNG key", "pass a key made by random.key / split / foldIn");
  const problem = state.config === undefined ? undefined : configProblem(state.config, "config", 0);
  if (problem !== undefined) fail("config", problem, "keep the config to JSON values (finite numbers, strings, booleans, null, arrays, plain objects)");
  const { spec, leaves } = specOf({ params: state.params, optState: state.optState });
  const tensors = new Map<string, T.Tensor>(leaves);
  if (state.key !== undefined) tensors.set(KEY_TENSOR, T.fromBuffer("int32", [2], Int32Array.from(state.key.words, (w) => w | 0)));
  return sealCheckpoint(tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    step: String(state.step),
    tree: JSON.stringify(spec),
    ...(state.config === undefined ? {} : { config: JSON.stringify(state.config) }),
  });
};

/**
 * Encodes tensors and metadata as safetensors with the `checksum` entry added. Not exported
 * from the package: `encodeCheckpoint` is the way to write checkpoints; the tests use this to
 * write well-sealed files with bad contents.
 * @example sealCheckpoint(new Map([["params", w]]), { format: CHECKPOINT_FORMAT, ... })
 */
export const sealCheckpoint = (tensors: ReadonlyMap<string, T.Tensor>, metadata: Readonly<Record<string, string>>): Uint8Array => {
  // The tensor layout does not depend on the metadata, so the data bytes of this first encoding
  // are those of the final file.
  const checksum = checksumOf(dataSection(safetensors.encode(tensors, metadata)), metadata);
  return safetensors.encode(tensors, { ...metadata, checksum });
};

/** The tensor bytes of a (valid) safetensors file: everything after the header. */
const dataSection = (bytes: Uint8Array): Uint8Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return bytes.subarray(8 + view.getUint32(0, true) + view.getUint32(4, true) * 0x100000000);
};

/** `crc32:xxxxxxxx` of the tensor bytes and then every metadata entry but the checksum itself. */
const checksumOf = (data: Uint8Array, metadata: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string => {
  const entries = (metadata instanceof Map ? [...metadata.entries()] : Object.entries(metadata)).filter(([k]) => k !== "checksum");
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `crc32:${crc32Text(JSON.stringify(entries), crc32(data)).toString(16).padStart(8, "0")}`;
};

const decodeError = (detail: string): TensorError => ({ _tag: "DecodeError", op: "restoreCheckpoint", detail });
const MAX_LISTED = 12;
const listProblems = (what: string, problems: readonly string[]): string =>
  `${what}: ${problems.slice(0, MAX_LISTED).join("; ")}${problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : ""}`;

const parseJson = (text: string, what: string): E.Either<TensorError, unknown> => {
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (e) {
    return E.left(decodeError(`the ${what} metadata is not valid JSON (${e instanceof Error ? e.message : String(e)})`));
  }
};

const readKey = (t: T.Tensor | undefined): E.Either<TensorError, Key | undefined> => {
  if (t === undefined) return E.right(undefined);
  if (t.dtype !== "int32" || t.shape.length !== 1 || t.shape[0] !== 2) {
    return E.left(decodeError(`the tensor "key" must be int32[2] (a PRNG key's two words), got ${t.dtype}[${t.shape.join(", ")}]`));
  }
  const [hi, lo] = [t.data[0]! >>> 0, t.data[1]! >>> 0];
  return E.right(T.random.key((BigInt(hi) << 32n) | BigInt(lo)));
};

/**
 * Reads checkpoint bytes. With a template, the file must hold exactly the template's structure
 * with tensors of its shapes and dtypes, and the result is built in the template's containers;
 * without one, plain containers are rebuilt from the file's structure. Static values (update
 * counts) always come from the file.
 * @returns `Left` (`DecodeError`) naming the problem for bytes that are not a safetensors file,
 * a file that is not a Rewind checkpoint or is of a newer version, a checksum that does not
 * match (a damaged file), bad `step`/`tree`/`config`
 * metadata or `key` tensor, tensors missing from or not described by the structure, or every
 * difference from the template. Never returns part of a state, never throws on bad bytes.
 * @example
 * const restored = restoreCheckpoint(bytes, { params, optState: opt.init(params) });
 * if (E.isLeft(restored)) console.error(formatTensorError(restored.left));
 */
export function restoreCheckpoint<P, S>(bytes: Uint8Array, template: CheckpointTemplate<P, S>): E.Either<TensorError, Checkpoint<P, S>>;
export function restoreCheckpoint(bytes: Uint8Array): E.Either<TensorError, Checkpoint>;
export function restoreCheckpoint(bytes: Uint8Array, template?: CheckpointTemplate<unknown, unknown>): E.Either<TensorError, Checkpoint> {
  const file = safetensors.decode(bytes);
  if (E.isLeft(file)) return E.left(decodeError(`the bytes are not a valid safetensors file: ${formatTensorError(file.left)}`));
  const { tensors, metadata } = file.right;
  const format = metadata.get("format");
  if (format !== CHECKPOINT_FORMAT) {
    return E.left(decodeError(`not a Rewind checkpoint: the metadata "format" is ${format === undefined ? "missing" : JSON.stringify(format)}, expected ${JSON.stringify(CHECKPOINT_FORMAT)}`));
  }
  const version = metadata.get("format_version");
  if (version !== CHECKPOINT_VERSION) {
    return E.left(decodeError(`unsupported checkpoint format_version ${JSON.stringify(version)}; this version of @rewind/optim reads version ${CHECKPOINT_VERSION}`));
  }
  const stored = metadata.get("checksum");
  if (stored === undefined) return E.left(decodeError('the "checksum" metadata is missing, so the file cannot be verified'));
  const computed = checksumOf(dataSection(bytes), metadata);
  if (stored !== computed) {
    return E.left(decodeError(`the file is damaged: its checksum is ${JSON.stringify(stored)} but its contents give ${JSON.stringify(computed)}`));
  }
  const stepText = metadata.get("step") ?? "";
  const step = Number(stepText);
  if (!/^(0|[1-9][0-9]*)$/.test(stepText) || !Number.isSafeInteger(step)) {
    return E.left(decodeError(`the "step" metadata must be a non-negative integer, got ${JSON.stringify(metadata.get("step") ?? null)}`));
  }
  const key = readKey(tensors.get(KEY_TENSOR));
  if (E.isLeft(key)) return key;
  const configText = metadata.get("config");
  let config: JsonConfig | undefined;
  if (configText !== undefined) {
    const parsed = parseJson(configText, '"config"');
    if (E.isLeft(parsed)) return parsed;
    const problem = configProblem(parsed.right, "config", 0);
    if (problem !== undefined) return E.left(decodeError(`bad "config" metadata: ${problem}`));
    config = parsed.right as JsonConfig;
  }
  const treeText = metadata.get("tree");
  if (treeText === undefined) return E.left(decodeError('the "tree" metadata (the structure of params and optimizer state) is missing'));
  const treeJson = parseJson(treeText, '"tree"');
  if (E.isLeft(treeJson)) return treeJson;
  const parsedSpec = parseTreeSpec(treeJson.right);
  if (!parsedSpec.ok) return E.left(decodeError(`bad "tree" metadata: ${parsedSpec.detail}`));
  const spec = parsedSpec.spec;
  if (spec.kind !== "object" || spec.keys.length !== 2 || !spec.keys.includes("params") || !spec.keys.includes("optState")) {
    return E.left(decodeError('bad "tree" metadata: the root must be an object with exactly the keys "optState" and "params"'));
  }

  // Every tensor is described once by the structure, and every described tensor is present.
  const names = specLeafNames(spec);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) problems.push(`the structure names the tensor ${JSON.stringify(n)} twice`);
    else if (!tensors.has(n)) problems.push(`the tensor ${JSON.stringify(n)} is missing from the file`);
    seen.add(n);
  }
  for (const n of tensors.keys()) if (n !== KEY_TENSOR && !seen.has(n)) problems.push(`the tensor ${JSON.stringify(n)} is not part of the structure`);
  if (problems.length > 0) return E.left(decodeError(listProblems("the tensors do not match the structure", problems)));

  const rebuilt = template === undefined ? rebuildPlain(spec, tensors) : rebuildLike(spec, tensors, { params: template.params, optState: template.optState });
  if (!rebuilt.ok) {
    return E.left(decodeError(listProblems(template === undefined ? "cannot rebuild the state" : "the checkpoint does not fit the template", rebuilt.problems)));
  }
  const tree = rebuilt.tree as { readonly params: unknown; readonly optState: unknown };
  return E.right(
    Object.freeze({
      params: tree.params,
      optState: tree.optState,
      step,
      ...(key.right === undefined ? {} : { key: key.right }),
      ...(config === undefined ? {} : { config }),
    }),
  );
}
