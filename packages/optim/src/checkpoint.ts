/**
 * @file Checkpoints as safetensors bytes (browser-safe; the file I/O is in `node.ts`).
 *
 * Format (`"format": "rewind.checkpoint"`, `"format_version": "1"` in `__metadata__`):
 * - one tensor per leaf of `{ params, optState }`, named by its pytree path (`params.w`,
 *   `optState[0].mu.w`), so any safetensors reader (Python's `safetensors.numpy.load_file`)
 *   sees the weights by name;
 * - `"tree"`: the structure of `{ params, optState }` as JSON (containers, keys, the tensor name
 *   of each leaf, and the static values; update counts and flags are int32 and bool scalar
 *   tensors, static numbers and booleans in files written before they were tensors);
 * - `"step"`: the training step, a decimal integer;
 * - `"config"` (optional): the run's configuration as JSON;
 * - the tensor `key` (optional): the PRNG key's two uint32 words as an `int32[2]` tensor holding
 *   the same bits (JAX: `jax.random.wrap_key_data(np.asarray(key).view(np.uint32))`);
 * - `"checksum"`: `crc32:` and eight hex digits, the CRC-32 of the whole file as written with
 *   those eight digits set to `0`. It covers every byte — the length prefix, the tensor table
 *   (names, dtypes, shapes, offsets), the metadata and the tensor bytes — so every single-bit
 *   flip is refused, as is any change of up to 32 consecutive bits that spares the checksum
 *   digits and the version; other damage is refused but for a 2^-32 chance. (Version 1 files,
 *   still read, checksummed only the tensor bytes and the metadata, so a changed dtype or shape
 *   in their tensor table went unnoticed.)
 * Encoding is deterministic: the same state gives the same bytes.
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import { GraphException } from "@rewind/autodiff";
import { describeKeys } from "@rewind/tensor/internal/check";
import { formatError, safetensors, type Key, type TensorError } from "@rewind/tensor";
import { keysOf, optionsProblem } from "@rewind/tensor/internal/check";
import {
  CRC_PREFIX,
  ZERO_DIGITS,
  LEGACY_VERSION,
  checksumDigitsAt,
  dataSection,
  expectedChecksum,
  fileCrc,
  hex8,
  legacyChecksumOf,
} from "./checkpointChecksum.js";
import { bytesOf } from "@rewind/tensor/internal/untrusted";
import { configProblem, type JsonConfig } from "./checkpointMeta.js";
import {
  KEY_TENSOR,
  decodeError,
  listProblems,
  readConfigEntry,
  readKey,
  readRoot,
  readStep,
  tensorProblems,
} from "./checkpointRead.js";
import { rebuildLike, rebuildPlain } from "./restoreTree.js";
import { stateProblems } from "./stateCounts.js";
import { specOf } from "./treeSpec.js";

export type { JsonConfig } from "./checkpointMeta.js";

/**
 * Everything needed to resume training: parameters, optimizer state, step, PRNG key, config.
 * @example const ckpt: Checkpoint<Params, AdamState> = { params, optState, step: 100, key, config: { lr: 3e-3 } };
 */
export interface Checkpoint<P = unknown, S = unknown> {
  /** The model's parameter pytree. */
  readonly params: P;
  /** The optimizer's state, as its `init`/`update` return it. */
  readonly optState: S;
  /** The number of updates made so far, a non-negative integer. */
  readonly step: number;
  /** The PRNG key training continues from (dropout, sampling), if it uses one. */
  readonly key?: Key;
  /** The run's settings as JSON (learning rate, sizes…), read back with the strict JSON parser. */
  readonly config?: JsonConfig;
}

const CHECKPOINT_KEYS = keysOf<Checkpoint>({ params: true, optState: true, step: true, key: true, config: true });

/**
 * What a restored checkpoint must look like: parameters and optimizer state of the expected
 * structure, shapes and dtypes (typically freshly initialised ones). A `Checkpoint` will do.
 * @example const template: CheckpointTemplate<Params, AdamState> = { params, optState: opt.init(params) };
 */
export interface CheckpointTemplate<P, S> {
  /** Parameters with the structure, shapes and dtypes the checkpoint must hold. */
  readonly params: P;
  /** Optimizer state with the structure, shapes and dtypes the checkpoint must hold. */
  readonly optState: S;
}

/**
 * The `format` metadata value of a checkpoint.
 * @example CHECKPOINT_FORMAT // "rewind.checkpoint"
 */
export const CHECKPOINT_FORMAT = "rewind.checkpoint";
/**
 * The format version this package writes and reads.
 * @example CHECKPOINT_VERSION // "2"
 */
export const CHECKPOINT_VERSION = "2";
/** The version whose checksum skipped the tensor table; read, never written. */
/** The spec and named leaves of the state; a tree that cannot be walked (a cycle) is a ValueError, as documented. */
const treeOf = (state: Checkpoint): ReturnType<typeof specOf> => {
  try {
    return specOf({ params: state.params, optState: state.optState });
  } catch (e) {
    if (e instanceof GraphException)
      return T.fail({
        _tag: "ValueError",
        op: "encodeCheckpoint",
        arg: "params, optState",
        detail: e.message,
        fix: "save a tree of containers, tensors and JSON-like statics (no cycles)",
      });
    throw e;
  }
};

/**
 * Serialises a checkpoint as safetensors bytes (format in the file note). Deterministic.
 * @throws TensorException (`ValueError`) for a step that is not a non-negative integer, a key
 * that is not a PRNG key, a config that is not JSON, or a traced or non-JSON static leaf.
 * @example const bytes = encodeCheckpoint({ params, optState, step: 10, key: random.key(0) });
 */
export const encodeCheckpoint = (state: Checkpoint): Uint8Array => {
  const fail = (arg: string, detail: string, fix: string): never =>
    T.fail({ _tag: "ValueError", op: "encodeCheckpoint", arg, detail, fix });
  if (typeof state !== "object" || state === null)
    fail(
      "state",
      `expected { params, optState, step, key?, config? }, got ${String(state)}`,
      "pass the training state to save",
    );
  // A misspelt field (`confg`) would be left out of the file and missing at resume; `config` itself holds any JSON.
  const keys = optionsProblem("encodeCheckpoint", "state", state, CHECKPOINT_KEYS, true);
  if (keys !== undefined) fail(keys.arg, keys.detail, keys.fix);
  if (!Number.isSafeInteger(state.step) || state.step < 0)
    fail(
      "step",
      `the step must be a non-negative integer, got ${String(state.step)}`,
      "pass the number of updates made",
    );
  if (state.key !== undefined && !T.random.isKey(state.key))
    fail("key", "not a PRNG key", "pass a key made by random.key / split / foldIn");
  const problem = state.config === undefined ? undefined : configProblem(state.config);
  if (problem !== undefined)
    fail(
      "config",
      problem,
      "keep the config to JSON values (finite numbers, strings, booleans, null, arrays, plain objects)",
    );
  const { spec, leaves } = treeOf(state);
  const tensors = new Map<string, T.Tensor>(leaves);
  if (state.key !== undefined)
    tensors.set(
      KEY_TENSOR,
      T.fromBuffer(
        "int32",
        [2],
        Int32Array.from(state.key.words, (w) => w | 0),
      ),
    );
  return sealCheckpoint(tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    step: String(state.step),
    tree: JSON.stringify(spec),
    ...(state.config === undefined ? {} : { config: JSON.stringify(state.config) }),
  });
};

/**
 * Encodes tensors and metadata as safetensors with the `checksum` entry added, by the scheme of
 * `metadata.format_version` (the whole file; or, for version 1, the tensor bytes and metadata).
 * Not exported from the package: `encodeCheckpoint` is the way to write checkpoints; the tests
 * use this to write well-sealed files with bad contents.
 * @example sealCheckpoint(new Map([["params", w]]), { format: CHECKPOINT_FORMAT, ... })
 */
export const sealCheckpoint = (
  tensors: ReadonlyMap<string, T.Tensor>,
  metadata: Readonly<Record<string, string>>,
): Uint8Array => {
  if (metadata["format_version"] === LEGACY_VERSION) {
    // The tensor layout does not depend on the metadata, so the data bytes of this first
    // encoding are those of the final file.
    const checksum = legacyChecksumOf(dataSection(safetensors.encode(tensors, metadata)), metadata);
    return safetensors.encode(tensors, { ...metadata, checksum });
  }
  // The checksum value has a fixed length, so writing its digits in place moves nothing.
  const bytes = safetensors.encode(tensors, { ...metadata, checksum: `${CRC_PREFIX}${ZERO_DIGITS}` });
  const at = checksumDigitsAt(bytes, ZERO_DIGITS);
  if (at === undefined)
    throw new Error("Rewind internal error: sealCheckpoint cannot find the checksum placeholder in the header");
  const digits = hex8(fileCrc(bytes, at));
  for (let i = 0; i < 8; i++) bytes[at + i] = digits.charCodeAt(i);
  return bytes;
};

/** The bytes of `input`, or why `input` and `template` cannot be a checkpoint and its template. */
const checkedInput = (input: Uint8Array, template: unknown): E.Either<TensorError, Uint8Array> => {
  // A brand check, not `instanceof` (an object merely inheriting from Uint8Array.prototype throws
  // on every getter), and a view built from the intrinsic getters (own properties shadowing
  // `length` or `buffer` are ignored), so the checksum reads the very bytes the decoder read.
  const bytes = bytesOf(input);
  if (bytes === undefined)
    return E.left(
      decodeError(
        `expected a Uint8Array of checkpoint bytes, got ${
          input === null ? "null" : typeof input === "object" ? "an object that is not a Uint8Array" : typeof input
        }`,
      ),
    );
  if (
    template !== undefined &&
    (typeof template !== "object" || template === null || !("params" in template) || !("optState" in template))
  ) {
    return E.left({
      _tag: "ValueError",
      op: "restoreCheckpoint",
      arg: "template",
      detail: `the template must be { params, optState }, got ${describeKeys(template)}`,
      fix: "pass freshly initialised { params, optState: opt.init(params) }, or no template",
    });
  }
  return E.right(bytes);
};

/** Checks the metadata's format, its version, and the file's checksum, in that order. */
const verifyFile = (bytes: Uint8Array, metadata: ReadonlyMap<string, string>): E.Either<TensorError, void> => {
  const format = metadata.get("format");
  if (format !== CHECKPOINT_FORMAT) {
    return E.left(
      decodeError(
        `not a Rewind checkpoint: the metadata "format" is ` +
          `${format === undefined ? "missing" : JSON.stringify(format)}, expected ${JSON.stringify(CHECKPOINT_FORMAT)}`,
      ),
    );
  }
  const version = metadata.get("format_version");
  if (version !== CHECKPOINT_VERSION && version !== LEGACY_VERSION) {
    const seen =
      version === undefined
        ? 'the metadata "format_version" is missing'
        : `unsupported checkpoint format_version ${JSON.stringify(version)}`;
    return E.left(
      decodeError(`${seen}; this version of @rewind/optim reads versions ${LEGACY_VERSION} and ${CHECKPOINT_VERSION}`),
    );
  }
  const stored = metadata.get("checksum");
  if (stored === undefined)
    return E.left(decodeError('the "checksum" metadata is missing, so the file cannot be verified'));
  const expected = expectedChecksum(bytes, metadata, stored, version === LEGACY_VERSION);
  if (E.isLeft(expected)) return E.left(decodeError(`the file is damaged: ${expected.left}`));
  const computed = expected.right;
  if (stored !== computed) {
    return E.left(
      decodeError(
        `the file is damaged: its checksum is ${JSON.stringify(stored)} ` +
          `but its contents give ${JSON.stringify(computed)}`,
      ),
    );
  }
  return E.right(undefined);
};

/**
 * Reads checkpoint bytes. With a template, the file must hold exactly the template's structure
 * with tensors of its shapes and dtypes, and the result is built in the template's containers;
 * without one, plain containers are rebuilt from the file's structure. Static values always come
 * from the file; where the template has an int32 or bool scalar tensor and the file a static
 * integer or boolean (an update count or flag saved before they were tensors), it becomes that tensor.
 * @returns `Left` (`DecodeError`) naming the problem for a value that is not a `Uint8Array`,
 * bytes that are not a safetensors file, a file that is not a Rewind checkpoint or is of a newer
 * version, a checksum that does not match (a damaged file: every single-bit flip is caught, see
 * the file note), bad `step`/`tree`/`config` metadata (including JSON not as `JSON.stringify`
 * writes it, e.g. with a duplicate key, and past the limits checked while reading: a tree 256
 * levels deep or of 500,000 nodes and keys, a config of 100,000 values) or `key` tensor, an
 * optimizer state whose update count is not a non-negative integer (Adam's `count`, a schedule's,
 * `skipNonFinite`'s counts and flag; the message names the field and the value), tensors missing
 * from or not described by the structure, or every difference from the template. Never returns
 * part of a state, never throws on bad bytes.
 * @example
 * const restored = restoreCheckpoint(bytes, { params, optState: opt.init(params) });
 * if (E.isLeft(restored)) console.error(formatError(restored.left));
 */
export function restoreCheckpoint<P, S>(
  bytes: Uint8Array,
  template: CheckpointTemplate<P, S>,
): E.Either<TensorError, Checkpoint<P, S>>;
export function restoreCheckpoint(bytes: Uint8Array): E.Either<TensorError, Checkpoint>;
export function restoreCheckpoint(
  input: Uint8Array,
  template?: CheckpointTemplate<unknown, unknown>,
): E.Either<TensorError, Checkpoint> {
  const bytes = checkedInput(input, template);
  if (E.isLeft(bytes)) return bytes;
  const file = safetensors.decode(bytes.right);
  if (E.isLeft(file))
    return E.left(decodeError(`the bytes are not a valid safetensors file: ${formatError(file.left)}`));
  const { tensors, metadata } = file.right;
  const verified = verifyFile(bytes.right, metadata);
  if (E.isLeft(verified)) return verified;
  const step = readStep(metadata);
  if (E.isLeft(step)) return step;
  const key = readKey(tensors.get(KEY_TENSOR));
  if (E.isLeft(key)) return key;
  const config = readConfigEntry(metadata);
  if (E.isLeft(config)) return config;
  const spec = readRoot(metadata);
  if (E.isLeft(spec)) return spec;
  const problems = tensorProblems(spec.right, tensors);
  if (problems.length > 0) return E.left(decodeError(listProblems("the tensors do not match the structure", problems)));
  // Update counts and flags (tensors, or static values in files of the earlier layout) are
  // checked here, or a count of NaN or −1 would restore and fail only at the next update.
  const badState = stateProblems(spec.right, tensors);
  if (badState.length > 0) return E.left(decodeError(listProblems("bad optimizer state in the checkpoint", badState)));

  const rebuilt =
    template === undefined
      ? rebuildPlain(spec.right, tensors)
      : rebuildLike(spec.right, tensors, { params: template.params, optState: template.optState });
  if (!rebuilt.ok) {
    return E.left(
      decodeError(
        listProblems(
          template === undefined ? "cannot rebuild the state" : "the checkpoint does not fit the template",
          rebuilt.problems,
        ),
      ),
    );
  }
  const tree = rebuilt.tree as { readonly params: unknown; readonly optState: unknown };
  return E.right(
    Object.freeze({
      params: tree.params,
      optState: tree.optState,
      step: step.right,
      ...(key.right === undefined ? {} : { key: key.right }),
      ...(config.right === undefined ? {} : { config: config.right }),
    }),
  );
}
