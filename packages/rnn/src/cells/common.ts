/**
 * @file Pieces the built-in cells share: PyTorch's parameter record, the affine map, size checks.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { checkArgs, describeKeys, keysOf, optionsProblem, positiveInt, withFix } from "@rewind/tensor/internal/check";
import { add, isValue, matmul, transpose, treeLeavesWithPaths, type Concrete, type Value } from "@rewind/autodiff";
import type { CellSizes, InitOptions } from "../Cell.js";
import { checkInitOptions, gateWeight, uniformInit, withGateBias } from "../init.js";

/**
 * PyTorch's per-layer RNN weights without biases (`nn.RNN/LSTM/GRU(..., bias=False)`): gate-stacked
 * `[G·H, in]` and `[G·H, H]`. The built-in PyTorch-layout cells step these as well as `TorchCellParams`.
 */
export interface TorchCellWeights {
  /** Input-to-hidden weights `[G·H, inputSize]`, the gates stacked in PyTorch's order. */
  readonly weight_ih: Value;
  /** Hidden-to-hidden weights `[G·H, H]`. */
  readonly weight_hh: Value;
}

/** PyTorch's per-layer RNN parameters: gate-stacked weights `[G·H, in]`, `[G·H, H]` and biases. */
export interface TorchCellParams extends TorchCellWeights {
  /** Input-side bias `[G·H]`. */
  readonly bias_ih: Value;
  /** Hidden-side bias `[G·H]` (kept apart from `bias_ih` as in PyTorch; GRU's candidate gate needs it apart). */
  readonly bias_hh: Value;
}

/** The sizes a built-in cell reads. */
const SIZE_KEYS = keysOf<CellSizes>({ inputSize: true, hiddenSize: true });

const sizeRule = withFix(positiveInt, "pass e.g. { inputSize: 8, hiddenSize: 32 }");

/**
 * Throws a clear error unless sizes are `{ inputSize, hiddenSize }` of positive integers. Other
 * keys are refused (`{ hiden: 32 }` must not leave hiddenSize undefined further down): a custom
 * cell in a stack that needs more sizes gets them through `withSizes`.
 */
export const checkSizes = (cell: string, sizes: CellSizes): void => {
  const problem = optionsProblem(`${cell}.init`, "sizes", sizes, SIZE_KEYS, true);
  if (problem !== undefined) {
    const hint =
      problem.key === undefined
        ? ""
        : "; a cell in a stack that needs other sizes gets them from withSizes(cell, { … })";
    T.fail({
      _tag: "ValueError",
      op: `${cell}.init`,
      arg: problem.arg,
      detail: problem.detail,
      fix: `${problem.fix}${hint}`,
    });
  }
  checkArgs(`${cell}.init`, {
    "sizes.inputSize": [sizes.inputSize, sizeRule],
    "sizes.hiddenSize": [sizes.hiddenSize, sizeRule],
  });
};

/**
 * PyTorch-layout parameters for a cell with `gates` stacked gates (1 Elman, 3 GRU, 4 LSTM).
 * @example initTorchCell(random.key(0), 4, { inputSize: 3, hiddenSize: 5 }).weight_ih.shape // [20, 3]
 */
export const initTorchCell = (
  name: string,
  key: Key,
  gates: number,
  sizes: CellSizes,
  options: InitOptions = {},
): Concrete<TorchCellParams> => {
  checkSizes(name, sizes);
  // Four gates are PyTorch's LSTM layout (i, f, g, o): block 1 is the forget gate.
  checkInitOptions(`${name}.init`, options, { recurrent: true, forgetGate: gates === 4 });
  const { inputSize, hiddenSize } = sizes;
  const dtype = options.dtype ?? "float32";
  const identity = options.scheme === "identity";
  const [k1, k2, k3, k4] = T.random.split(key, 4) as [Key, Key, Key, Key];
  const bias = (k: Key): T.Tensor =>
    identity ? T.zeros([gates * hiddenSize], dtype) : uniformInit(k, [gates * hiddenSize], hiddenSize, dtype);
  const [biasIh, biasHh] = [bias(k3), bias(k4)];
  const fb = options.forgetBias;
  return {
    // IRNN: only the recurrent weight is the identity; the input weight keeps PyTorch's default.
    weight_ih: gateWeight(k1, gates, hiddenSize, inputSize, identity ? { ...options, scheme: "default" } : options),
    weight_hh: gateWeight(k2, gates, hiddenSize, hiddenSize, options),
    bias_ih: fb === undefined ? biasIh : withGateBias(biasIh, 1, hiddenSize, fb),
    bias_hh: fb === undefined ? biasHh : withGateBias(biasHh, 1, hiddenSize, 0),
  };
};

/**
 * x Wᵀ + b for a batch of rows x `[B, in]`, weight `[out, in]`, bias `[out]`; x Wᵀ alone when the
 * bias is absent (PyTorch's `bias=False`: no add at all, not an add of zeros).
 * @example affine(x, params.weight_ih, params.bias_ih)
 */
export const affine = (x: Value, w: Value, b?: Value): Value => {
  const xw = matmul(x, transpose(w));
  return b === undefined ? xw : add(xw, b);
};

/** Hidden size of a PyTorch-layout cell (weight_hh is `[gates·H, H]`). */
export const hiddenOf = (p: TorchCellWeights): number => p.weight_hh.shape[1]!;

/** Input features of a PyTorch-layout cell (weight_ih is `[gates·H, inputSize]`). */
export const inputOf = (p: TorchCellWeights): number => p.weight_ih.shape[1]!;

/**
 * `p` as parameters that may lack both biases: the cells' runtime view (after `checkTorchParams`,
 * either both biases are tensors or neither is present).
 */
export const maybeBiased = (p: TorchCellWeights): TorchCellWeights & Partial<TorchCellParams> => p;

/**
 * Throws unless `p` holds the tensors `fields` (what `init` returned), naming `op`.
 * @example checkFields("lstm.step", p, ["weight_ih", "weight_hh"])
 */
export const checkFields = (op: string, p: unknown, fields: readonly string[]): void => {
  const rec = p as Record<string, unknown> | null;
  const missing = typeof rec !== "object" || rec === null ? [...fields] : fields.filter((f) => !isValue(rec[f]));
  if (missing.length > 0) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "params",
      detail:
        typeof rec !== "object" || rec === null
          ? `params must be an object of tensors, got ${String(rec)}`
          : `params lack the tensors ${missing.join(", ")}`,
      fix: `pass the parameters the cell's init returned (${fields.join(", ")})`,
    });
  }
};

const TORCH_WEIGHTS = ["weight_ih", "weight_hh"] as const;

/**
 * Throws unless the biases are both present or both absent (PyTorch's `bias=False` drops both;
 * one alone is a record that lost a field, not a layout), naming the one that is missing.
 */
const checkBiasPair = (op: string, p: TorchCellWeights): void => {
  const rec = p as unknown as Record<string, unknown>;
  const hasIh = rec["bias_ih"] !== undefined;
  const hasHh = rec["bias_hh"] !== undefined;
  if (hasIh === hasHh) {
    if (hasIh) checkFields(op, p, ["bias_ih", "bias_hh"]);
    return;
  }
  const [present, absent] = hasIh ? ["bias_ih", "bias_hh"] : ["bias_hh", "bias_ih"];
  T.fail({
    _tag: "ValueError",
    op,
    arg: `params.${absent}`,
    detail: `params have ${present} but no ${absent}; a PyTorch-layout cell has both biases or neither`,
    fix: `pass ${absent} too, or drop ${present} for a cell without bias (PyTorch's bias=False)`,
  });
};

/**
 * Throws unless `p` is PyTorch-layout parameters of a `gates`-gate cell: `weight_ih [G·H, in]`,
 * `weight_hh [G·H, H]`, and either `bias_ih` and `bias_hh` `[G·H]` or no biases at all (PyTorch's
 * `bias=False`), all of one float dtype.
 * @example checkTorchParams("gru.step", p, 3)
 */
export const checkTorchParams = <P extends TorchCellWeights>(op: string, p: P, gates: number): P => {
  checkFields(op, p, TORCH_WEIGHTS);
  checkBiasPair(op, p);
  const { weight_ih: wi, weight_hh: wh, bias_ih: bi, bias_hh: bh } = maybeBiased(p);
  const h = wh.shape[1] ?? 0;
  const rows = gates * h;
  const ok =
    wh.shape.length === 2 &&
    h > 0 &&
    wh.shape[0] === rows &&
    wi.shape.length === 2 &&
    wi.shape[0] === rows &&
    (bi === undefined || T.shapesEqual(bi.shape, [rows])) &&
    (bh === undefined || T.shapesEqual(bh.shape, [rows]));
  if (!ok) {
    const g = `${gates}·H`;
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "params",
      shapes: bi === undefined || bh === undefined ? [wi.shape, wh.shape] : [wi.shape, wh.shape, bi.shape, bh.shape],
      detail: `a ${gates}-gate cell needs weight_ih [${g}, in], weight_hh [${g}, H] and biases [${g}] (or none)`,
      fix: "pass parameters made by this cell's init (or fromTorchStateDict)",
    });
  }
  const dtypes = new Set([wi.dtype, wh.dtype, ...(bi === undefined || bh === undefined ? [] : [bi.dtype, bh.dtype])]);
  if (dtypes.size !== 1 || !T.isFloating(wh.dtype)) {
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "params",
      detail: `the parameters must share one float dtype, got ${[...dtypes].join(", ")}`,
      fix: 'cast them all with astype(p, "float32") or "float64"',
    });
  }
  return p;
};

/**
 * Checks one step's input and carry against the weights: x_t `[batch, in]` of the weights' dtype,
 * and every carry leaf `[batch, hidden]` of that dtype (with `carryKeys`, the carry must be an
 * object holding those tensors), naming the cell on failure.
 */
export const checkStep = (
  cell: string,
  x: unknown,
  carry: unknown,
  weightIh: Value,
  hidden: number,
  carryKeys?: readonly string[],
): void => {
  const op = `${cell}.step`;
  const inputSize = weightIh.shape[1]!;
  if (!isValue(x)) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "x",
      detail: `x_t must be a tensor [batch, ${inputSize}], got ${x === null ? "null" : typeof x}`,
      fix: "pass one time step as a tensor; run whole sequences with rnn(cell, params, xs)",
    });
  }
  const xv = x as Value;
  if (xv.shape.length !== 2 || xv.shape[1] !== inputSize) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "x",
      shapes: [xv.shape, weightIh.shape],
      detail: `x_t must be [batch, ${inputSize}] for weight_ih of shape [${weightIh.shape.join(", ")}]`,
      fix: "pass one time step [batch, features]; run whole sequences with rnn(cell, params, xs)",
    });
  }
  if (xv.dtype !== weightIh.dtype) {
    T.fail({
      _tag: "DTypeError",
      op,
      arg: "x",
      detail: `x_t is ${xv.dtype} but the parameters are ${weightIh.dtype}`,
      fix: `convert one of them with astype(…, "${weightIh.dtype}") (token ids go through an embedding first)`,
    });
  }
  const want = [xv.shape[0]!, hidden];
  const record = carry as Record<string, unknown> | null;
  if (
    carryKeys !== undefined &&
    (typeof record !== "object" || record === null || carryKeys.some((k) => !isValue(record[k])))
  ) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "carry",
      detail:
        `the carry must be { ${carryKeys.join(", ")} } of tensors, ` +
        `got ${describeKeys(record).replace(/^an object with /, "")}`,
      fix: "start from cell.initialCarry(batch, params)",
    });
  }
  const leaves = isValue(carry) ? ([["", carry]] as const) : treeLeavesWithPaths(carry);
  const bad = leaves.find(([, l]) => !T.shapesEqual(l.shape, want) || l.dtype !== weightIh.dtype);
  if (leaves.length === 0 || bad !== undefined) {
    T.fail({
      _tag: "ShapeError",
      op,
      arg: `carry${bad === undefined || bad[0] === "<root>" ? "" : bad[0]}`,
      shapes: bad === undefined ? [want] : [bad[1].shape, want],
      detail:
        `every carry leaf must be ${weightIh.dtype} [${want.join(", ")}] (batch × hidden), got ` +
        `${bad === undefined ? "no tensors" : `${bad[1].dtype} [${bad[1].shape.join(", ")}]`}`,
      fix: "start from cell.initialCarry(batch, params), with the batch of x_t",
    });
  }
};

/** Zeros `[batch, hidden]` of the params' dtype. */
export const zeroState = (cell: string, batch: number, hidden: number, dtype: T.DType): T.Tensor => {
  if (!Number.isSafeInteger(batch) || batch < 0) {
    T.fail({
      _tag: "ValueError",
      op: `${cell}.initialCarry`,
      arg: "batch",
      detail: `batch must be a non-negative integer, got ${batch}`,
      fix: "pass the batch size",
    });
  }
  return T.zeros([batch, hidden], dtype);
};
