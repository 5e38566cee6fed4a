/**
 * @file PyTorch interoperability: `torchRnn(spec)` is a multi-layer, optionally bidirectional
 * layer that behaves exactly like `torch.nn.RNN` / `LSTM` / `GRU` in eval mode, and
 * `fromTorchStateDict` / `toTorchStateDict` move its weights in and out under PyTorch's names.
 *
 * Every direction of every layer is one `rnn(...)` call (a scan), so the gradient is, as
 * everywhere in this package, the derivative of scan; nothing here computes a derivative.
 * Parameters are a flat array indexed `layer · numDirections + direction`, the order of PyTorch's
 * `h_n` rows and of its state dict, so index i of the params, of `h_0` and of `h_n` always agree.
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { Key, Tensor, TensorError } from "@rewind/tensor";
import { concat, isTracer, isValue, reshape, split, stack, transpose, type Value } from "@rewind/autodiff";
import type { Cell, InitOptions } from "./Cell.js";
import type { TorchCellParams } from "./cells/common.js";
import { elmanRelu, elmanTanh } from "./cells/elman.js";
import { gru } from "./cells/gru.js";
import { lstm, type LstmCarry } from "./cells/lstm.js";
import { rnn, type RnnOptions, type RnnResult } from "./rnn.js";
import { validateLengths } from "./lengths.js";
import { checkKey, checkOptions, checkValue } from "./util.js";
import { checkInitOptions } from "./init.js";

/**
 * The four recurrent modules of PyTorch: `nn.RNN` (tanh or relu), `nn.LSTM`, `nn.GRU`.
 * @example const mode: TorchRnnMode = "gru"
 */
export type TorchRnnMode = "rnn_tanh" | "rnn_relu" | "lstm" | "gru";

/**
 * The constructor arguments of a PyTorch recurrent module (dropout and proj_size aside).
 * @example const spec: TorchRnnSpec = { mode: "lstm", inputSize: 64, hiddenSize: 128, numLayers: 2, bidirectional: true }
 */
export interface TorchRnnSpec {
  readonly mode: TorchRnnMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** Stacked layers (default 1); layer k > 0 reads layer k − 1's outputs. */
  readonly numLayers?: number;
  /** Run a reverse direction too and concatenate `[forward, reverse]` features (default false). */
  readonly bidirectional?: boolean;
  /** xs and outputs are `[batch, time, features]` (default true; PyTorch's default is false). */
  readonly batchFirst?: boolean;
}

/**
 * A spec with every default filled in.
 * @example torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 }).spec.numLayers // 1
 */
export type ResolvedTorchRnnSpec = Required<TorchRnnSpec>;

/**
 * The state a mode carries, shaped like PyTorch's: h `[L·D, B, H]`, and for LSTM also c.
 * @example const h0: TorchRnnCarry<"lstm"> = { h: zeros([2, 8, 16]), c: zeros([2, 8, 16]) }
 */
export type TorchRnnCarry<M extends TorchRnnMode = TorchRnnMode> = M extends "lstm" ? LstmCarry : Value;

/**
 * Parameters of every layer and direction, index `layer · numDirections + direction`.
 * @example const p: TorchRnnParams = torchRnn(spec).init(random.key(0)); p[1]!.weight_ih // layer 0, reverse
 */
export type TorchRnnParams = readonly TorchCellParams[];

/**
 * Options of `apply`.
 * @example layer.apply(params, xs, { lengths: [5, 2], initialCarry: h0 })
 */
export interface TorchRnnApplyOptions<C> {
  /** Valid steps per sample (as `pack_padded_sequence`): outputs are zero past it, h_n is taken at it. */
  readonly lengths?: Value | readonly number[];
  /** PyTorch's `h_0` (LSTM: `{ h: h_0, c: c_0 }`), `[L·D, B, H]`; zeros by default. */
  readonly initialCarry?: C;
  /** Passed to every direction's scan (memory policy / unrolling); never changes values. */
  readonly checkpoint?: RnnOptions<unknown>["checkpoint"];
  readonly unroll?: RnnOptions<unknown>["unroll"];
}

/**
 * A PyTorch-compatible recurrent layer, built by `torchRnn(spec)`.
 * @example const layer: TorchRnn<Value> = torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 })
 */
export interface TorchRnn<C> {
  readonly spec: ResolvedTorchRnnSpec;
  /** The per-direction cell (elmanTanh, elmanRelu, lstm or gru). */
  readonly cell: Cell<TorchCellParams, unknown>;
  /** Parameters with PyTorch's default initialisation (uniform ±1/√hidden) unless `options.scheme`. */
  readonly init: (key: Key, options?: InitOptions) => TorchRnnParams;
  /** Runs the layer: outputs `[B, T, D·H]` (or time-major) and `finalCarry` as PyTorch's h_n (, c_n). */
  readonly apply: (params: TorchRnnParams, xs: Value, options?: TorchRnnApplyOptions<C>) => RnnResult<C>;
}

// The layer picks its cell at run time, so the carry type is erased here and restored by TorchRnnCarry<M>.
const erase = <C>(cell: Cell<TorchCellParams, C>): Cell<TorchCellParams, unknown> => cell as unknown as Cell<TorchCellParams, unknown>;
const CELLS: Readonly<Record<TorchRnnMode, Cell<TorchCellParams, unknown>>> = {
  rnn_tanh: erase(elmanTanh),
  rnn_relu: erase(elmanRelu),
  lstm: erase(lstm),
  gru: erase(gru),
};
const GATES: Readonly<Record<TorchRnnMode, number>> = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 };
const MODES = Object.keys(GATES) as TorchRnnMode[];

const specError = (op: string, detail: string): TensorError => ({
  _tag: "ValueError",
  op,
  arg: "spec",
  detail,
  fix: 'pass e.g. { mode: "lstm", inputSize: 64, hiddenSize: 128, numLayers: 1, bidirectional: false, batchFirst: true }',
});

/** Validates a spec (it may come from a file's metadata) and fills in the defaults. */
const resolveSpec = (op: string, spec: TorchRnnSpec): E.Either<TensorError, ResolvedTorchRnnSpec> => {
  if (typeof spec !== "object" || spec === null) return E.left(specError(op, `spec must be an object, got ${String(spec)}`));
  // Field by field, so an explicit `undefined` means the default and stray fields are dropped.
  const s = {
    mode: spec.mode,
    inputSize: spec.inputSize,
    hiddenSize: spec.hiddenSize,
    numLayers: spec.numLayers ?? 1,
    bidirectional: spec.bidirectional ?? false,
    batchFirst: spec.batchFirst ?? true,
  };
  if (!MODES.includes(s.mode)) return E.left(specError(op, `mode must be one of ${MODES.join(", ")}, got ${JSON.stringify(s.mode)}`));
  for (const k of ["inputSize", "hiddenSize", "numLayers"] as const) {
    const v: unknown = s[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) return E.left(specError(op, `${k} must be a positive integer, got ${JSON.stringify(v)}`));
  }
  for (const k of ["bidirectional", "batchFirst"] as const) {
    if (typeof s[k] !== "boolean") return E.left(specError(op, `${k} must be a boolean, got ${JSON.stringify(s[k])}`));
  }
  return E.right(Object.freeze({ ...s }));
};

const resolveOrThrow = (op: string, spec: TorchRnnSpec): ResolvedTorchRnnSpec => {
  const r = resolveSpec(op, spec);
  return E.isLeft(r) ? T.fail(r.left) : r.right;
};

const directions = (s: ResolvedTorchRnnSpec): number => (s.bidirectional ? 2 : 1);

/** One expected parameter: its PyTorch name, shape, and where it goes in our params. */
interface Slot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly index: number;
  readonly field: keyof TorchCellParams;
}

/** The parameters of a spec in PyTorch's state-dict order (layer, direction, w_ih, w_hh, b_ih, b_hh). */
const slots = (s: ResolvedTorchRnnSpec): Slot[] => {
  const D = directions(s);
  const G = GATES[s.mode] * s.hiddenSize;
  const out: Slot[] = [];
  for (let k = 0; k < s.numLayers; k++) {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${k}${d === 1 ? "_reverse" : ""}`;
      const index = k * D + d;
      const inputs = k === 0 ? s.inputSize : s.hiddenSize * D;
      out.push(
        { name: `weight_ih${sfx}`, shape: [G, inputs], index, field: "weight_ih" },
        { name: `weight_hh${sfx}`, shape: [G, s.hiddenSize], index, field: "weight_hh" },
        { name: `bias_ih${sfx}`, shape: [G], index, field: "bias_ih" },
        { name: `bias_hh${sfx}`, shape: [G], index, field: "bias_hh" },
      );
    }
  }
  return out;
};

/**
 * The PyTorch parameter names of a spec, in state-dict order.
 * @example torchParamNames({ mode: "gru", inputSize: 3, hiddenSize: 4 }) // ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
 */
export const torchParamNames = (spec: TorchRnnSpec): string[] => slots(resolveOrThrow("torchParamNames", spec)).map((s) => s.name);

/** Unexpected names listed in a message before the rest are counted. */
const MAX_LISTED = 20;
const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;
const describeSpec = (s: ResolvedTorchRnnSpec): string =>
  `${s.mode} (inputSize ${s.inputSize}, hiddenSize ${s.hiddenSize}, numLayers ${s.numLayers}${s.bidirectional ? ", bidirectional" : ""})`;

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

/** Why `options` are not valid `TorchStateDictOptions`, or undefined. */
const optionsProblem = (op: string, options: unknown): TensorError | undefined => {
  const problem = (arg: string, detail: string): TensorError => ({ _tag: "ValueError", op, arg, detail, fix: 'pass e.g. { prefix: "rnn.", dtype: "float32" } or leave it out' });
  if (typeof options !== "object" || options === null) return problem("options", `options must be an object, got ${String(options)}`);
  const { prefix, dtype } = options as Record<string, unknown>;
  if (prefix !== undefined && typeof prefix !== "string") return problem("options.prefix", `prefix must be a string, got ${typeof prefix}`);
  if (dtype !== undefined && dtype !== "float32" && dtype !== "float64") return problem("options.dtype", `dtype must be "float32" or "float64", got ${JSON.stringify(dtype) ?? String(dtype)}`);
  return undefined;
};

/**
 * Reads a PyTorch state dict (`module.state_dict()`, e.g. from a safetensors file) into
 * `torchRnn(spec)` parameters. Every name, shape and dtype is checked; on any mismatch the
 * `Left` lists everything expected and everything found that did not fit, e.g.
 * `expected weight_ih_l1 [512, 128] float32, found [512, 64] float32; unexpected: foo`.
 * @example
 * const params = fromTorchStateDict(file.tensors, { mode: "lstm", inputSize: 64, hiddenSize: 128 });
 * if (E.isRight(params)) torchRnn(spec).apply(params.right, xs);
 */
export const fromTorchStateDict = (
  named: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  spec: TorchRnnSpec,
  options: TorchStateDictOptions = {},
): E.Either<TensorError, TorchRnnParams> => {
  const op = "fromTorchStateDict";
  const resolved = resolveSpec(op, spec);
  if (E.isLeft(resolved)) return resolved;
  const s = resolved.right;
  const badOptions = optionsProblem(op, options);
  if (badOptions !== undefined) return E.left(badOptions);
  const prefix = options.prefix ?? "";
  if (typeof named !== "object" || named === null) {
    return E.left({ _tag: "ValueError", op, arg: "named", detail: `expected a Map or record of tensors, got ${String(named)}`, fix: "pass safetensors.decode(bytes).right.tensors" });
  }
  // Any Map-like (a JS Map, or e.g. an Immutable.js Map) or a plain record of tensors.
  const mapLike = named instanceof Map || (typeof (named as { entries?: unknown }).entries === "function" && typeof (named as { get?: unknown }).get === "function");
  const entries: [string, unknown][] = mapLike ? [...(named as ReadonlyMap<string, unknown>).entries()] : Object.entries(named);
  const found = new Map<string, unknown>();
  for (const [k, v] of entries) if (k.startsWith(prefix)) found.set(k.slice(prefix.length), v);

  const expected = slots(s);
  const first = found.get(expected[0]!.name) as Partial<Tensor> | undefined;
  const dtype = options.dtype ?? (first?.dtype === "float64" ? "float64" : "float32");
  const problems: string[] = [];
  const cells = Array.from({ length: s.numLayers * directions(s) }, () => ({}) as Record<keyof TorchCellParams, Tensor>);
  for (const slot of expected) {
    const want = `${prefix}${slot.name} ${fmt(slot.shape)} ${dtype}`;
    const raw = found.get(slot.name);
    if (raw === undefined) {
      problems.push(`missing ${want}`);
      continue;
    }
    const t = T.validateTensor(raw);
    if (E.isLeft(t)) {
      problems.push(`expected ${want}, found something that is not a valid tensor (${T.formatTensorError(t.left)})`);
    } else if (!T.shapesEqual(t.right.shape, slot.shape) || t.right.dtype !== dtype) {
      problems.push(`expected ${want}, found ${fmt(t.right.shape)} ${t.right.dtype}`);
    } else {
      cells[slot.index]![slot.field] = t.right;
    }
  }
  const names = new Set(expected.map((x) => x.name));
  const unexpected = [...found.keys()].filter((k) => !names.has(k));
  // Listed up to a point, each name cut short: a hostile file's 20,000 names must not make a megabyte message.
  const shown = unexpected.slice(0, MAX_LISTED).map((k) => (prefix + k).replace(/^(.{77}).{4,}$/s, "$1..."));
  if (unexpected.length > 0) problems.push(`unexpected: ${shown.join(", ")}${unexpected.length > MAX_LISTED ? ` and ${unexpected.length - MAX_LISTED} more` : ""}`);
  if (problems.length === 0) return E.right(Object.freeze(cells as TorchCellParams[]));

  const hints: string[] = [];
  if (unexpected.some((k) => k.startsWith("weight_hr_"))) hints.push("LSTM proj_size is not supported");
  if (!s.bidirectional && unexpected.some((k) => k.endsWith("_reverse"))) hints.push("the names say bidirectional: true");
  const layerOf = (k: string): number => Number(/_l(\d+)/.exec(k)?.[1] ?? -1);
  if (unexpected.some((k) => layerOf(k) >= s.numLayers)) hints.push(`the names have more layers than numLayers: ${s.numLayers}`);
  if (prefix === "" && unexpected.length > 0 && unexpected.every((k) => k.includes("."))) hints.push("the names have a module prefix: pass { prefix }");
  return E.left({
    _tag: "ValueError",
    op,
    arg: "named",
    detail: `the state dict does not fit ${describeSpec(s)}: ${problems.join("; ")}`,
    fix: `${hints.length > 0 ? `${hints.join("; ")}; ` : ""}build the spec from the PyTorch module's arguments and pass its state_dict() unchanged`,
  });
};

/**
 * The inverse of `fromTorchStateDict`: PyTorch's names (with an optional prefix) for concrete
 * parameters, in state-dict order. `fromTorchStateDict(toTorchStateDict(p, spec), spec)` gives `p`.
 * @throws TensorException when `params` does not fit `spec` or holds traced values.
 * @example safetensors.encode(toTorchStateDict(params, spec)) // loadable with safetensors.torch.load_file
 */
export const toTorchStateDict = (params: TorchRnnParams, spec: TorchRnnSpec, options: Pick<TorchStateDictOptions, "prefix"> = {}): Record<string, Tensor> => {
  const s = resolveOrThrow("toTorchStateDict", spec);
  const badOptions = optionsProblem("toTorchStateDict", options);
  if (badOptions !== undefined) T.fail(badOptions);
  checkParams("toTorchStateDict", s, params);
  const out: Record<string, Tensor> = {};
  for (const slot of slots(s)) {
    const v = params[slot.index]![slot.field];
    if (isTracer(v) || !T.isTensor(v)) {
      T.fail({ _tag: "ValueError", op: "toTorchStateDict", arg: "params", detail: `${slot.name} is not a concrete tensor`, fix: "call it outside grad/jit, on trained parameters" });
    }
    out[(options.prefix ?? "") + slot.name] = v as Tensor;
  }
  return out;
};

/** Throws unless `params` has one cell per layer and direction, each shaped for `s`. */
const checkParams = (op: string, s: ResolvedTorchRnnSpec, params: TorchRnnParams): void => {
  const n = s.numLayers * directions(s);
  if (!Array.isArray(params) || params.length !== n) {
    T.fail({ _tag: "ValueError", op, arg: "params", detail: `expected ${n} cell parameter records (numLayers × directions) for ${describeSpec(s)}, got ${Array.isArray(params) ? params.length : typeof params}`, fix: "build params with torchRnn(spec).init or fromTorchStateDict" });
  }
  const bad = slots(s).filter((slot) => {
    const v: unknown = params[slot.index]?.[slot.field];
    return !isValue(v) || !T.shapesEqual(v.shape, slot.shape);
  });
  if (bad.length > 0) {
    const got = (slot: Slot): string => {
      const v: unknown = params[slot.index]?.[slot.field];
      return isValue(v) ? fmt(v.shape) : v === undefined ? "nothing" : typeof v;
    };
    T.fail({ _tag: "ValueError", op, arg: "params", detail: `params do not fit ${describeSpec(s)}: ${bad.map((b) => `expected ${b.name} ${fmt(b.shape)}, found ${got(b)}`).join("; ")}`, fix: "build params for this spec" });
  }
  const dtypes = new Set(slots(s).map((slot) => (params[slot.index]![slot.field] as Value).dtype));
  const [dtype] = [...dtypes];
  if (dtypes.size !== 1 || !T.isFloating(dtype!)) {
    T.fail({ _tag: "DTypeError", op, arg: "params", detail: `every parameter must have one float dtype, got ${[...dtypes].join(", ")}`, fix: "cast them all to float32 or float64" });
  }
};

/** Checks a `[L·D, B, H]` state and splits it into one `[B, H]` per layer and direction. */
const splitState = (s: ResolvedTorchRnnSpec, name: string, v: unknown, batch: number, dtype: T.DType): Value[] => {
  const n = s.numLayers * directions(s);
  const want = [n, batch, s.hiddenSize];
  if ((!T.isTensor(v) && !isTracer(v)) || !T.shapesEqual(v.shape, want)) {
    const got = T.isTensor(v) || isTracer(v) ? fmt(v.shape) : typeof v;
    return T.fail({ _tag: "ShapeError", op: "torchRnn.apply", arg: `initialCarry${name}`, shapes: T.isTensor(v) || isTracer(v) ? [v.shape, want] : [want], detail: `expected ${fmt(want)} (numLayers·numDirections, batch, hiddenSize), got ${got}`, fix: "pass PyTorch's h_0 (and c_0) layout" });
  }
  if (v.dtype !== dtype) {
    T.fail({ _tag: "DTypeError", op: "torchRnn.apply", arg: `initialCarry${name}`, detail: `the initial state is ${v.dtype} but the parameters are ${dtype}`, fix: `convert it with astype(h0, "${dtype}")` });
  }
  return split(v, n, 0).map((x) => reshape(x, [batch, s.hiddenSize]));
};

/**
 * A layer that behaves like `torch.nn.RNN` / `LSTM` / `GRU` (eval mode, no inter-layer dropout):
 * layer k > 0 reads the concatenation of both directions' outputs, the reverse direction reads
 * each sample's valid prefix backward, and `finalCarry` is PyTorch's `h_n` (LSTM: `{ h: h_n, c: c_n }`)
 * with rows ordered `layer · numDirections + direction`.
 * @throws TensorException for an invalid spec (at construction), or mismatched params, xs,
 * initialCarry or lengths (at apply).
 * @example
 * const layer = torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
 * const { outputs, finalCarry } = layer.apply(layer.init(random.key(0)), xs, { lengths: [5, 2] });
 * // outputs [B, T, 8], finalCarry [4, B, 4]
 */
export const torchRnn = <M extends TorchRnnMode>(spec: TorchRnnSpec & { readonly mode: M }): TorchRnn<TorchRnnCarry<M>> => {
  const s = resolveOrThrow("torchRnn", spec);
  const cell = CELLS[s.mode];
  const D = directions(s);
  const isLstm = s.mode === "lstm";

  const init = (key: Key, options?: InitOptions): TorchRnnParams => {
    checkKey("torchRnn.init", "key", key);
    checkInitOptions("torchRnn.init", options);
    const keys = T.random.split(key, s.numLayers * D);
    return Object.freeze(
      keys.map((k, i) => cell.init(k, { inputSize: i < D ? s.inputSize : s.hiddenSize * D, hiddenSize: s.hiddenSize }, options) as TorchCellParams),
    );
  };

  const apply = (params: TorchRnnParams, xs: Value, options: TorchRnnApplyOptions<TorchRnnCarry<M>> = {}): RnnResult<TorchRnnCarry<M>> => {
    checkParams("torchRnn.apply", s, params);
    checkValue("torchRnn.apply", "xs", xs);
    checkOptions("torchRnn.apply", "options", options);
    const layout = s.batchFirst ? "[batch, time, inputSize]" : "[time, batch, inputSize]";
    if (xs.shape.length !== 3 || xs.shape[2] !== s.inputSize) {
      T.fail({ _tag: "ShapeError", op: "torchRnn.apply", arg: "xs", shapes: [xs.shape], detail: `xs must be ${layout} with inputSize ${s.inputSize}`, fix: s.batchFirst ? "set batchFirst: false for time-major input" : "set batchFirst: true for batch-major input" });
    }
    const dtype = params[0]!.weight_ih.dtype;
    if (xs.dtype !== dtype) {
      T.fail({ _tag: "DTypeError", op: "torchRnn.apply", arg: "xs", detail: `xs is ${xs.dtype} but the parameters are ${dtype}`, fix: `convert one of them with astype(x, "${dtype}")` });
    }
    // Run every layer time-major so stacking layers costs no transposes.
    const seq = s.batchFirst ? transpose(xs, [1, 0, 2]) : xs;
    const [time, batch] = seq.shape as [number, number];
    const lengths = options.lengths === undefined ? undefined : validateLengths("torchRnn.apply", options.lengths, batch, time);
    let initial: unknown[] | undefined;
    if (options.initialCarry !== undefined) {
      const c = options.initialCarry as unknown;
      if (isLstm) {
        const { h, c: cell0 } = (c ?? {}) as Partial<LstmCarry>;
        const hs = splitState(s, ".h", h, batch, dtype);
        const cs = splitState(s, ".c", cell0, batch, dtype);
        initial = hs.map((hi, i) => ({ h: hi, c: cs[i]! }));
      } else {
        initial = splitState(s, "", c, batch, dtype);
      }
    }
    const finals: unknown[] = [];
    let input = seq;
    for (let k = 0; k < s.numLayers; k++) {
      const outs: Value[] = [];
      for (let d = 0; d < D; d++) {
        const i = k * D + d;
        const r = rnn(cell, params[i]!, input, {
          timeMajor: true,
          reverse: d === 1,
          ...(lengths === undefined ? {} : { lengths }),
          ...(initial === undefined ? {} : { initialCarry: initial[i] }),
          ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
          ...(options.unroll === undefined ? {} : { unroll: options.unroll }),
        });
        outs.push(r.outputs);
        finals.push(r.finalCarry);
      }
      input = D === 1 ? outs[0]! : concat(outs, 2);
    }
    const finalCarry = isLstm
      ? { h: stack((finals as LstmCarry[]).map((f) => f.h)), c: stack((finals as LstmCarry[]).map((f) => f.c)) }
      : stack(finals as Value[]);
    return { outputs: s.batchFirst ? transpose(input, [1, 0, 2]) : input, finalCarry: finalCarry as TorchRnnCarry<M> };
  };

  return Object.freeze({ spec: s, cell, init, apply });
};
