/**
 * @file PyTorch state dicts in and out of `torchRnn` parameters: `fromTorchStateDict` checks
 * every name, shape and dtype against the spec, `toTorchStateDict` writes PyTorch's names.
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { Tensor, TensorError } from "@rewind/tensor";
import { describeArg, keysOf, optionsProblem } from "@rewind/tensor/internal/check";
import { isTracer } from "@rewind/autodiff";
import type { TorchCellParams, TorchCellWeights } from "./cells/common.js";
import {
  checkParams,
  describeSpec,
  directions,
  fmt,
  resolveOrThrow,
  resolveSpec,
  slots,
  type ResolvedTorchRnnSpec,
  type Slot,
  type TorchRnnParams,
  type TorchRnnSpec,
} from "./torchSpec.js";

/**
 * The PyTorch parameter names of a spec, in state-dict order.
 * @example
 * torchParamNames({ mode: "gru", inputSize: 3, hiddenSize: 4 })
 * // ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
 */
export const torchParamNames = (spec: TorchRnnSpec): string[] =>
  slots(resolveOrThrow("torchParamNames", spec)).map((s) => s.name);

/** A Map key that is not a string, for a message (short whatever it is). */
const describeKey = (k: unknown): string => {
  if (typeof k === "number" || typeof k === "bigint" || typeof k === "boolean")
    return `the ${typeof k} ${String(k)}`.slice(0, 60);
  if (typeof k === "symbol") return "a symbol";
  if (k === null || k === undefined) return String(k);
  return `${typeof k === "function" ? "a function" : Array.isArray(k) ? "an array" : "an object"}`;
};

/** Unexpected names listed in a message before the rest are counted. */
const MAX_LISTED = 20;

/**
 * Options of `fromTorchStateDict` / `toTorchStateDict`.
 * @example fromTorchStateDict(model.tensors, spec, { prefix: "encoder.rnn.", dtype: "float32" })
 */
export interface TorchStateDictOptions {
  /** A name prefix such as `"encoder.rnn."` (a submodule inside a model's state dict). Names without it are ignored. */
  readonly prefix?: string;
  /** The dtype every parameter must have (default: whatever float dtype `weight_ih_l0` has). */
  readonly dtype?: "float32" | "float64";
}

/** The keys of `TorchStateDictOptions`; `toTorchStateDict` reads only the prefix. */
const FROM_KEYS = keysOf<TorchStateDictOptions>({ prefix: true, dtype: true });
const TO_KEYS: readonly string[] = ["prefix"];

/**
 * Why `options` are not valid options of `fromTorchStateDict` (or, with `TO_KEYS`, of
 * `toTorchStateDict`), or undefined: an unknown key, a non-string prefix, a dtype that is not a float dtype.
 * @example
 * stateDictOptionsProblem("loadTorchSafetensors", { prefx: "rnn." })
 * // unknown key "prefx"; did you mean "prefix"?
 */
export const stateDictOptionsProblem = (
  op: string,
  options: unknown,
  known: readonly string[] = FROM_KEYS,
): TensorError | undefined => {
  const problem = (arg: string, detail: string): TensorError => ({
    _tag: "ValueError",
    op,
    arg,
    detail,
    fix: 'pass e.g. { prefix: "rnn.", dtype: "float32" } or leave it out',
  });
  const keys = optionsProblem(op, "options", options, known);
  if (keys !== undefined) return { _tag: "ValueError", op, arg: keys.arg, detail: keys.detail, fix: keys.fix };
  const { prefix, dtype } = (options ?? {}) as Record<string, unknown>;
  if (prefix !== undefined && typeof prefix !== "string")
    return problem("options.prefix", `prefix must be a string, got ${typeof prefix}`);
  if (dtype !== undefined && dtype !== "float32" && dtype !== "float64")
    return problem("options.dtype", `dtype must be "float32" or "float64", got ${describeArg(dtype)}`);
  return undefined;
};

const FROM = "fromTorchStateDict";

/** A `Left` for a `named` argument that is not tensors keyed by PyTorch names. */
const notNames = (detail: string): E.Either<TensorError, never> =>
  E.left({
    _tag: "ValueError",
    op: FROM,
    arg: "named",
    detail,
    fix: "key the tensors by their PyTorch names (strings), as state_dict() and safetensors.decode do",
  });

/**
 * The entries of `named` whose names start with `prefix`, keyed by the rest of the name; refuses
 * anything but a Map-like or a record keyed by strings.
 */
const namedEntries = (named: unknown, prefix: string): E.Either<TensorError, Map<string, unknown>> => {
  if (typeof named !== "object" || named === null) {
    return E.left({
      _tag: "ValueError",
      op: FROM,
      arg: "named",
      detail: `expected a Map or record of tensors, got ${String(named)}`,
      fix: "pass safetensors.decode(bytes).right.tensors",
    });
  }
  // Any Map-like (a JS Map, or e.g. an Immutable.js Map) or a plain record of tensors.
  const mapLike =
    named instanceof Map ||
    (typeof (named as { entries?: unknown }).entries === "function" &&
      typeof (named as { get?: unknown }).get === "function");
  let entries: unknown[];
  try {
    entries = mapLike ? [...(named as ReadonlyMap<unknown, unknown>).entries()] : Object.entries(named);
  } catch (e) {
    // A Map-like of the caller's own making whose entries() throws or returns no iterable.
    return notNames(
      `its entries() could not be read (${e instanceof Error ? e.message.slice(0, 100) : "a non-Error was thrown"})`,
    );
  }
  const found = new Map<string, unknown>();
  for (const entry of entries) {
    if (!Array.isArray(entry)) return notNames("an entry is not a [name, tensor] pair");
    const [k, v] = entry as [unknown, unknown];
    // A Map may have keys of any type; PyTorch's names are strings.
    if (typeof k !== "string") return notNames(`a key is ${describeKey(k)}, not a parameter name`);
    if (k.startsWith(prefix)) found.set(k.slice(prefix.length), v);
  }
  return E.right(found);
};

/**
 * Each cell's parameters from the found tensors, and a problem per expected slot that is missing
 * or not a tensor of its shape and `dtype`.
 */
const fillSlots = (
  expected: readonly Slot[],
  found: ReadonlyMap<string, unknown>,
  cellCount: number,
  where: { readonly prefix: string; readonly dtype: string },
): { cells: Array<Record<keyof TorchCellParams, Tensor>>; problems: string[]; missing: Slot[] } => {
  const problems: string[] = [];
  const missing: Slot[] = [];
  const cells = Array.from({ length: cellCount }, () => ({}) as Record<keyof TorchCellParams, Tensor>);
  for (const slot of expected) {
    const want = `${where.prefix}${slot.name} ${fmt(slot.shape)} ${where.dtype}`;
    const raw = found.get(slot.name);
    if (raw === undefined) {
      problems.push(`missing ${want}`);
      missing.push(slot);
      continue;
    }
    const t = T.validateTensor(raw);
    if (E.isLeft(t)) {
      problems.push(`expected ${want}, found something that is not a valid tensor (${T.formatError(t.left)})`);
    } else if (!T.shapesEqual(t.right.shape, slot.shape) || t.right.dtype !== where.dtype) {
      problems.push(`expected ${want}, found ${fmt(t.right.shape)} ${t.right.dtype}`);
    } else {
      cells[slot.index]![slot.field] = t.right;
    }
  }
  return { cells, problems, missing };
};

/** Hints from the unexpected names at what the spec or the call should say instead. */
const fitHints = (s: ResolvedTorchRnnSpec, unexpected: readonly string[], prefix: string): string[] => {
  const hints: string[] = [];
  if (unexpected.some((k) => k.startsWith("weight_hr_"))) hints.push("LSTM proj_size is not supported");
  if (!s.bidirectional && unexpected.some((k) => k.endsWith("_reverse")))
    hints.push("the names say bidirectional: true");
  const layerOf = (k: string): number => Number(/_l(\d+)/.exec(k)?.[1] ?? -1);
  if (unexpected.some((k) => layerOf(k) >= s.numLayers))
    hints.push(`the names have more layers than numLayers: ${s.numLayers}`);
  if (prefix === "" && unexpected.length > 0 && unexpected.every((k) => k.includes(".")))
    hints.push("the names have a module prefix: pass { prefix }");
  if (!s.bias && unexpected.some((k) => /^bias_(ih|hh)_l\d/.test(k)))
    hints.push("the names have biases: leave bias: false out of the spec (PyTorch's bias=True)");
  return hints;
};

/**
 * A hint when the missing names are exactly every bias of the spec: the state dict is PyTorch's
 * bias=False (one bias missing is a damaged dict, not that layout).
 */
const biasFreeHint = (s: ResolvedTorchRnnSpec, expected: readonly Slot[], missing: readonly Slot[]): string[] =>
  s.bias &&
  missing.length === expected.filter((e) => e.field.startsWith("bias")).length &&
  missing.every((m) => m.field.startsWith("bias"))
    ? ["the state dict has no biases (a module built with bias=False): set bias: false in the spec"]
    : [];

/**
 * Reads a PyTorch state dict (`module.state_dict()`, e.g. from a safetensors file) into
 * `torchRnn(spec)` parameters. Every name, shape and dtype is checked; on any mismatch the
 * `Left` lists everything expected and everything found that did not fit, e.g.
 * `expected weight_ih_l1 [512, 128] float32, found [512, 64] float32; unexpected: foo`.
 * @example
 * const params = fromTorchStateDict(file.tensors, { mode: "lstm", inputSize: 64, hiddenSize: 128 });
 * if (E.isRight(params)) torchRnn(spec).apply(params.right, xs);
 */
export const fromTorchStateDict = <B extends boolean = true>(
  named: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  spec: TorchRnnSpec & { readonly bias?: B },
  options: TorchStateDictOptions = {},
): E.Either<TensorError, TorchRnnParams<B>> => {
  const op = FROM;
  const resolved = resolveSpec(op, spec);
  if (E.isLeft(resolved)) return resolved;
  const s = resolved.right;
  const badOptions = stateDictOptionsProblem(op, options);
  if (badOptions !== undefined) return E.left(badOptions);
  const prefix = options.prefix ?? "";
  const read = namedEntries(named, prefix);
  if (E.isLeft(read)) return read;
  const found = read.right;

  const expected = slots(s);
  const first = found.get(expected[0]!.name) as Partial<Tensor> | undefined;
  const dtype = options.dtype ?? (first?.dtype === "float64" ? "float64" : "float32");
  const { cells, problems, missing } = fillSlots(expected, found, s.numLayers * directions(s), { prefix, dtype });
  const names = new Set(expected.map((x) => x.name));
  const unexpected = [...found.keys()].filter((k) => !names.has(k));
  // Listed up to a point, each name cut short: a hostile file's 20,000 names must not make a megabyte message.
  const shown = unexpected.slice(0, MAX_LISTED).map((k) => (prefix + k).replace(/^(.{77}).{4,}$/s, "$1..."));
  if (unexpected.length > 0)
    problems.push(
      `unexpected: ${shown.join(", ")}` +
        (unexpected.length > MAX_LISTED ? ` and ${unexpected.length - MAX_LISTED} more` : ""),
    );
  // A bias-free spec's slots hold no biases, so its cells have the weights only, as B says.
  if (problems.length === 0) return E.right(Object.freeze(cells));

  const hints = [...fitHints(s, unexpected, prefix), ...biasFreeHint(s, expected, missing)];
  return E.left({
    _tag: "ValueError",
    op,
    arg: "named",
    detail: `the state dict does not fit ${describeSpec(s)}: ${problems.join("; ")}`,
    fix:
      `${hints.length > 0 ? `${hints.join("; ")}; ` : ""}build the spec from the PyTorch module's arguments and ` +
      `pass its state_dict() unchanged`,
  });
};

/**
 * The inverse of `fromTorchStateDict`: PyTorch's names (with an optional prefix) for concrete
 * parameters, in state-dict order. `fromTorchStateDict(toTorchStateDict(p, spec), spec)` gives `p`.
 * @throws TensorException when `params` does not fit `spec` or holds traced values.
 * @example safetensors.encode(toTorchStateDict(params, spec)) // loadable with safetensors.torch.load_file
 */
export const toTorchStateDict = (
  params: readonly (TorchCellParams | TorchCellWeights)[],
  spec: TorchRnnSpec,
  options: Pick<TorchStateDictOptions, "prefix"> = {},
): Record<string, Tensor> => {
  const s = resolveOrThrow("toTorchStateDict", spec);
  const badOptions = stateDictOptionsProblem("toTorchStateDict", options, TO_KEYS);
  if (badOptions !== undefined) T.fail(badOptions);
  checkParams("toTorchStateDict", s, params);
  const out: Record<string, Tensor> = {};
  for (const slot of slots(s)) {
    const v = (params[slot.index] as unknown as Readonly<Record<string, unknown>>)[slot.field];
    if (isTracer(v) || !T.isTensor(v)) {
      T.fail({
        _tag: "ValueError",
        op: "toTorchStateDict",
        arg: "params",
        detail: `${slot.name} is not a concrete tensor`,
        fix: "call it outside grad/jit, on trained parameters",
      });
    }
    out[(options.prefix ?? "") + slot.name] = v as Tensor;
  }
  return out;
};
