/**
 * @file The workloads on Rewind, written as a user would: `rnn(lstm | elmanTanh, ...)` (a scan
 * over time) under `valueAndGrad` (traced and differentiated every call) or
 * `jit(valueAndGrad(...))` (traced once per signature). Rewind is eager on concrete tensors, so
 * a returned result is already computed; nothing needs forcing.
 */
import * as T from "@rewind/tensor";
import {
  add,
  jit,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  square,
  sub,
  sum,
  transpose,
  valueAndGrad,
  type Value,
} from "@rewind/autodiff";
import { elmanTanh, lstm, rnn, type TorchCellParams } from "@rewind/rnn";
import { CHAR, l2, oneHotRows, type CharData, type LstmData, type StepCheck } from "./data.js";
import type { Contestant } from "./harness.js";

/** A training-step contestant that can also report its loss and gradient norms once. */
export interface StepContestant extends Contestant {
  readonly check: () => Promise<StepCheck> | StepCheck;
}

type Float = "float32" | "float64";
const t = (data: ArrayLike<number>, shape: readonly number[], dtype: Float = "float32"): T.Tensor =>
  T.fromDataOrThrow(data, shape, dtype);
const dataOf = (v: unknown): ArrayLike<number> => (v as T.Tensor).data;

// ---- LSTM -------------------------------------------------------------------------------------

/** The LSTM workload's parameters: the cell in PyTorch's layout and the linear readout. */
export interface LstmModel {
  readonly cell: TorchCellParams;
  readonly w: Value;
  readonly b: Value;
}

/**
 * The LSTM workload's loss: MSE of a linear readout of the last h, over the batch `xs` [B, T, IN].
 * @example lstmLoss(xs, ys)(model)
 */
export const lstmLoss =
  (xs: Value, ys: Value) =>
  (m: LstmModel): Value => {
    const { finalCarry } = rnn(lstm, m.cell, xs);
    const pred = add(matmul(finalCarry.h, transpose(m.w)), m.b);
    return mean(square(sub(pred, ys)));
  };

/** The L2 norms of an LSTM gradient's six leaves, in the order every contestant reports them. */
export const lstmGradNorms = (g: LstmModel): number[] =>
  [g.cell.weight_ih, g.cell.weight_hh, g.cell.bias_ih, g.cell.bias_hh, g.w, g.b].map((v) => l2(dataOf(v)));

/**
 * The LSTM training step; `mode` picks eager `valueAndGrad` or `jit(valueAndGrad)`.
 * @example rewindLstm(makeLstmData(), "jit").run()
 */
export const rewindLstm = (d: LstmData, mode: "eager" | "jit"): StepContestant => {
  const { model, loss } = rewindLstmParts(d);
  const vg = valueAndGrad(loss);
  const step = mode === "jit" ? jit(vg) : vg;
  return {
    name: mode === "jit" ? "Rewind jit(valueAndGrad)" : "Rewind valueAndGrad (eager)",
    run: () => void step(model),
    check: () => {
      const [loss, g] = step(model) as [T.Tensor, LstmModel];
      return { loss: loss.data[0]!, gradNorms: lstmGradNorms(g) };
    },
  };
};

/**
 * The LSTM step's model, batch and loss function: for the steps here, the per-example gradients
 * and the first-call measurement (which builds its own `jit` so the call it times is the first).
 * @example const { model, loss } = rewindLstmParts(makeLstmData())
 */
export const rewindLstmParts = (d: LstmData) => {
  const { B, T: steps, IN, H } = d.sizes;
  const model: LstmModel = {
    cell: {
      weight_ih: t(d.wIh, [4 * H, IN]),
      weight_hh: t(d.wHh, [4 * H, H]),
      bias_ih: t(d.bIh, [4 * H]),
      bias_hh: t(d.bHh, [4 * H]),
    },
    w: t(d.w, [1, H]),
    b: t(d.b, [1]),
  };
  const xs = t(d.xs, [B, steps, IN]);
  const ys = t(d.ys, [B, 1]);
  return { model, xs, ys, loss: lstmLoss(xs, ys) };
};

// ---- min-char-rnn -----------------------------------------------------------------------------

interface CharModel {
  readonly cell: TorchCellParams;
  readonly why: Value;
  readonly by: Value;
}

const charLoss =
  (inputs: Value, targets: Value) =>
  (m: CharModel): Value => {
    const { outputs } = rnn(elmanTanh, m.cell, inputs); // [1, T, H]
    const logits = add(matmul(outputs, transpose(m.why)), m.by); // [1, T, V]
    return neg(sum(mul(targets, logSoftmax(logits, -1))));
  };

/**
 * min-char-rnn's training step. Rewind's Elman cell is PyTorch's (two biases): Karpathy's bh goes
 * in bias_ih and bias_hh is zero, which computes the same function (one extra add per step).
 * @example rewindChar(makeCharData(), "jit", "float64").run()
 */
export const rewindChar = (d: CharData, mode: "eager" | "jit", dtype: Float): StepContestant => {
  const { V, H, T: steps } = CHAR;
  const model: CharModel = {
    cell: {
      weight_ih: t(d.wxh, [H, V], dtype),
      weight_hh: t(d.whh, [H, H], dtype),
      bias_ih: t(d.bh, [H], dtype),
      bias_hh: T.zeros([H], dtype),
    },
    why: t(d.why, [V, H], dtype),
    by: t(d.by, [V], dtype),
  };
  const vg = valueAndGrad(
    charLoss(t(oneHotRows(d.inputs, V), [1, steps, V], dtype), t(oneHotRows(d.targets, V), [1, steps, V], dtype)),
  );
  const step = mode === "jit" ? jit(vg) : vg;
  const bits = dtype === "float64" ? "f64" : "f32";
  return {
    name: mode === "jit" ? `Rewind jit(valueAndGrad) ${bits}` : `Rewind valueAndGrad (eager) ${bits}`,
    run: () => void step(model),
    check: () => {
      const [loss, g] = step(model) as [T.Tensor, CharModel];
      return {
        loss: loss.data[0]!,
        gradNorms: [g.cell.weight_ih, g.cell.weight_hh, g.why, g.cell.bias_ih, g.by].map((v) => l2(dataOf(v))),
      };
    },
  };
};

// ---- matmul and tiny ops ----------------------------------------------------------------------

/**
 * One float32 n × n matmul through the graph op users call (eager on tensors).
 * @example rewindMatmul(a, b, 128).run()
 */
export const rewindMatmul = (a: Float32Array, b: Float32Array, n: number): Contestant => {
  const ta = t(a, [n, n]);
  const tb = t(b, [n, n]);
  return { name: "Rewind", run: () => void matmul(ta, tb) };
};

/**
 * `add` of two 4-element float32 tensors: through the graph op users call (`@rewind/autodiff`,
 * which checks it is not tracing, then runs the kernel) and the bare kernel (`@rewind/tensor`).
 * @example rewindTinyAdd("op").run()
 */
export const rewindTinyAdd = (level: "op" | "kernel"): Contestant => {
  const a = t([1, 2, 3, 4], [4]);
  const b = t([5, 6, 7, 8], [4]);
  return level === "op"
    ? { name: "Rewind add (@rewind/autodiff op)", run: () => void add(a, b) }
    : { name: "Rewind add (@rewind/tensor kernel)", run: () => void T.add(a, b) };
};
