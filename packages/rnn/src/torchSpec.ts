/**
 * @file The spec of a PyTorch-compatible recurrent layer (`torchRnn`): its validation, the
 * parameter slots in PyTorch's state-dict order, and the check that parameters fit a spec.
 * Shared by torch.ts (the layer) and torchStateDict.ts (moving weights in and out).
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { TensorError } from "@rewind/tensor";
import { keysOf, optionsProblem } from "@rewind/tensor/internal/check";
import { isValue } from "@rewind/autodiff";
import type { TorchCellParams } from "./cells/common.js";

/**
 * The four recurrent modules of PyTorch: `nn.RNN` (tanh or relu), `nn.LSTM`, `nn.GRU`.
 * @example const mode: TorchRnnMode = "gru"
 */
export type TorchRnnMode = "rnn_tanh" | "rnn_relu" | "lstm" | "gru";

/**
 * The constructor arguments of a PyTorch recurrent module (dropout and proj_size aside).
 * @example
 * const spec: TorchRnnSpec = { mode: "lstm", inputSize: 64, hiddenSize: 128, numLayers: 2, bidirectional: true }
 */
export interface TorchRnnSpec {
  /** Which module: `nn.RNN` with tanh or relu, `nn.LSTM` or `nn.GRU`. */
  readonly mode: TorchRnnMode;
  /** Features per input step (PyTorch's `input_size`). */
  readonly inputSize: number;
  /** Features of the hidden state (PyTorch's `hidden_size`). */
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
 * Parameters of every layer and direction, index `layer · numDirections + direction`.
 * @example const p: TorchRnnParams = torchRnn(spec).init(random.key(0)); p[1]!.weight_ih // layer 0, reverse
 */
export type TorchRnnParams = readonly TorchCellParams[];

/** Gate blocks per mode: weight_ih has GATES · hiddenSize rows. */
const GATES: Readonly<Record<TorchRnnMode, number>> = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 };
/** The valid modes. */
export const MODES = Object.keys(GATES) as TorchRnnMode[];

const SPEC_KEYS = keysOf<TorchRnnSpec>({
  mode: true,
  inputSize: true,
  hiddenSize: true,
  numLayers: true,
  bidirectional: true,
  batchFirst: true,
});

const specError = (op: string, detail: string): TensorError => ({
  _tag: "ValueError",
  op,
  arg: "spec",
  detail,
  fix:
    'pass e.g. { mode: "lstm", inputSize: 64, hiddenSize: 128, numLayers: 1, ' +
    "bidirectional: false, batchFirst: true }",
});

/** Validates a spec (it may come from a file's metadata) and fills in the defaults. */
export const resolveSpec = (op: string, spec: TorchRnnSpec): E.Either<TensorError, ResolvedTorchRnnSpec> => {
  // Unknown fields are refused, not dropped: a PyTorch argument Rewind lacks (`proj_size`, `dropout`)
  // or a misspelt one (`num_layers`) would otherwise give a layer other than the one described.
  const keys = optionsProblem(op, "spec", spec, SPEC_KEYS, true);
  if (keys !== undefined) return E.left({ _tag: "ValueError", op, arg: keys.arg, detail: keys.detail, fix: keys.fix });
  // Field by field, so an explicit `undefined` means the default.
  const s = {
    mode: spec.mode,
    inputSize: spec.inputSize,
    hiddenSize: spec.hiddenSize,
    numLayers: spec.numLayers ?? 1,
    bidirectional: spec.bidirectional ?? false,
    batchFirst: spec.batchFirst ?? true,
  };
  if (!MODES.includes(s.mode))
    return E.left(specError(op, `mode must be one of ${MODES.join(", ")}, got ${JSON.stringify(s.mode)}`));
  for (const k of ["inputSize", "hiddenSize", "numLayers"] as const) {
    const v: unknown = s[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
      return E.left(specError(op, `${k} must be a positive integer, got ${JSON.stringify(v)}`));
  }
  for (const k of ["bidirectional", "batchFirst"] as const) {
    if (typeof s[k] !== "boolean") return E.left(specError(op, `${k} must be a boolean, got ${JSON.stringify(s[k])}`));
  }
  return E.right(Object.freeze({ ...s }));
};

/** `resolveSpec`, throwing its error. */
export const resolveOrThrow = (op: string, spec: TorchRnnSpec): ResolvedTorchRnnSpec => {
  const r = resolveSpec(op, spec);
  return E.isLeft(r) ? T.fail(r.left) : r.right;
};

/** 2 for a bidirectional spec, else 1. */
export const directions = (s: ResolvedTorchRnnSpec): number => (s.bidirectional ? 2 : 1);

/** One expected parameter: its PyTorch name, shape, and where it goes in our params. */
export interface Slot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly index: number;
  readonly field: keyof TorchCellParams;
}

/** The parameters of a spec in PyTorch's state-dict order (layer, direction, w_ih, w_hh, b_ih, b_hh). */
export const slots = (s: ResolvedTorchRnnSpec): Slot[] => {
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

/** A shape as messages print it. */
export const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;
/** A spec in one phrase, for messages. */
export const describeSpec = (s: ResolvedTorchRnnSpec): string =>
  `${s.mode} (inputSize ${s.inputSize}, hiddenSize ${s.hiddenSize}, numLayers ` +
  `${s.numLayers}${s.bidirectional ? ", bidirectional" : ""})`;

/** Throws unless `params` has one cell per layer and direction, each shaped for `s`. */
export const checkParams = (op: string, s: ResolvedTorchRnnSpec, params: TorchRnnParams): void => {
  const n = s.numLayers * directions(s);
  if (!Array.isArray(params) || params.length !== n) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "params",
      detail:
        `expected ${n} cell parameter records (numLayers × directions) for ${describeSpec(s)}, ` +
        `got ${Array.isArray(params) ? params.length : typeof params}`,
      fix: "build params with torchRnn(spec).init or fromTorchStateDict",
    });
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
    T.fail({
      _tag: "ValueError",
      op,
      arg: "params",
      detail:
        `params do not fit ${describeSpec(s)}: ` +
        `${bad.map((b) => `expected ${b.name} ${fmt(b.shape)}, found ${got(b)}`).join("; ")}`,
      fix: "build params for this spec",
    });
  }
  const dtypes = new Set(slots(s).map((slot) => params[slot.index]![slot.field].dtype));
  const [dtype] = [...dtypes];
  if (dtypes.size !== 1 || !T.isFloating(dtype!)) {
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "params",
      detail: `every parameter must have one float dtype, got ${[...dtypes].join(", ")}`,
      fix: "cast them all to float32 or float64",
    });
  }
};
