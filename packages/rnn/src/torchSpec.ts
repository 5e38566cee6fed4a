/**
 * @file The spec of a PyTorch-compatible recurrent layer (`torchRnn`): its validation, the
 * parameter slots in PyTorch's state-dict order, and the check that parameters fit a spec.
 * Shared by torch.ts (the layer) and torchStateDict.ts (moving weights in and out).
 */
import * as E from "fp-ts/lib/Either.js";
import * as T from "@rewind/tensor";
import type { TensorError } from "@rewind/tensor";
import { keysOf, optionsProblem } from "@rewind/tensor/internal/check";
import { isValue, type Value } from "@rewind/autodiff";
import type { TorchCellParams, TorchCellWeights } from "./cells/common.js";

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
  /**
   * Whether each layer has `bias_ih` and `bias_hh` (default true, as PyTorch's `bias`). With false
   * the parameters hold no bias tensors at all, so an optimizer has nothing to update.
   */
  readonly bias?: boolean;
}

/**
 * A spec with every default filled in.
 * @example torchRnn({ mode: "gru", inputSize: 3, hiddenSize: 4 }).spec.numLayers // 1
 */
export type ResolvedTorchRnnSpec = Required<TorchRnnSpec>;

/**
 * Parameters of every layer and direction, index `layer · numDirections + direction`: with biases
 * (`TorchCellParams`) by default, weights only (`TorchCellWeights`) for a spec whose `bias` is the
 * literal `false`. A `bias` known only at run time (`B` = boolean, e.g. a spec typed `TorchRnnSpec`)
 * keeps the biased type, so code written before `bias` existed still reads `p.bias_ih`; code that
 * may meet `bias: false` from data annotates `TorchRnnParams<false>` or checks `"bias_ih" in p`.
 * @example const p: TorchRnnParams = torchRnn(spec).init(random.key(0)); p[1]!.weight_ih // layer 0, reverse
 */
export type TorchRnnParams<B extends boolean = true> = readonly ([B] extends [false]
  ? TorchCellWeights
  : TorchCellParams)[];

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
  bias: true,
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
    bias: spec.bias ?? true,
  };
  if (!MODES.includes(s.mode))
    return E.left(specError(op, `mode must be one of ${MODES.join(", ")}, got ${JSON.stringify(s.mode)}`));
  for (const k of ["inputSize", "hiddenSize", "numLayers"] as const) {
    const v: unknown = s[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
      return E.left(specError(op, `${k} must be a positive integer, got ${JSON.stringify(v)}`));
  }
  for (const k of ["bidirectional", "batchFirst", "bias"] as const) {
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

/**
 * The parameters of a spec in PyTorch's state-dict order (layer, direction, w_ih, w_hh, b_ih, b_hh);
 * no b_ih, b_hh with `bias: false`.
 */
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
      );
      if (s.bias)
        out.push(
          { name: `bias_ih${sfx}`, shape: [G], index, field: "bias_ih" },
          { name: `bias_hh${sfx}`, shape: [G], index, field: "bias_hh" },
        );
    }
  }
  return out;
};

/** PyTorch's name of field `f` of cell `i` (`layer · numDirections + direction`), e.g. `bias_hh_l1_reverse`. */
const paramName = (s: ResolvedTorchRnnSpec, i: number, f: string): string => {
  const D = directions(s);
  return `${f}_l${Math.floor(i / D)}${i % D === 1 ? "_reverse" : ""}`;
};

/** A shape as messages print it. */
export const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;
/** A spec in one phrase, for messages. */
export const describeSpec = (s: ResolvedTorchRnnSpec): string =>
  `${s.mode} (inputSize ${s.inputSize}, hiddenSize ${s.hiddenSize}, numLayers ` +
  `${s.numLayers}${s.bidirectional ? ", bidirectional" : ""}${s.bias ? "" : ", bias: false"})`;

/** Throws unless `params` has one cell per layer and direction, each shaped for `s`. */
export const checkParams = (
  op: string,
  s: ResolvedTorchRnnSpec,
  params: readonly (TorchCellParams | TorchCellWeights)[],
): void => {
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
  // Read as records: a bias-free spec's params have no bias fields, and hostile ones may have anything.
  const field = (i: number, f: string): unknown => (params[i] as Readonly<Record<string, unknown>> | undefined)?.[f];
  const bad = slots(s).filter((slot) => {
    const v = field(slot.index, slot.field);
    return !isValue(v) || !T.shapesEqual(v.shape, slot.shape);
  });
  if (bad.length > 0) {
    const got = (slot: Slot): string => {
      const v = field(slot.index, slot.field);
      return isValue(v) ? fmt(v.shape) : v === undefined ? "nothing" : typeof v;
    };
    // The bias=False hint only when no record has any bias (one missing is a damaged record).
    const biasSlots = slots(s).filter((slot) => slot.field.startsWith("bias"));
    const hint =
      biasSlots.length > 0 && biasSlots.every((b) => field(b.index, b.field) === undefined)
        ? " (the params have no biases: for PyTorch's bias=False set bias: false in the spec)"
        : "";
    T.fail({
      _tag: "ValueError",
      op,
      arg: "params",
      detail:
        `params do not fit ${describeSpec(s)}: ` +
        `${bad.map((b) => `expected ${b.name} ${fmt(b.shape)}, found ${got(b)}`).join("; ")}${hint}`,
      fix: "build params for this spec",
    });
  }
  if (!s.bias) {
    // Biases in params for a bias-free spec are refused: the cells would add them, a layer the spec does not describe.
    const extra = params.flatMap((_, i) =>
      (["bias_ih", "bias_hh"] as const).filter((f) => field(i, f) !== undefined).map((f) => paramName(s, i, f)),
    );
    if (extra.length > 0) {
      T.fail({
        _tag: "ValueError",
        op,
        arg: "params",
        detail: `params do not fit ${describeSpec(s)}: unexpected ${extra.join(", ")}`,
        fix: "drop the biases from the params, or leave bias: false out of the spec (PyTorch's bias=True)",
      });
    }
  }
  const dtypes = new Set(slots(s).map((slot) => (field(slot.index, slot.field) as Value).dtype));
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
