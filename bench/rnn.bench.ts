/**
 * @file Benchmarks of @rewind/rnn: one training step (forward + BPTT through scan) of
 *
 * - an LSTM regressor: batch 32, T = 50, input 64, hidden 128, a linear readout (128 → 1) on the
 *   last hidden state, MSE loss, float32 — the reference workload;
 * - min-char-rnn (Karpathy's 112-line numpy char-RNN): vanilla tanh RNN over one-hot characters
 *   (vocab 65), hidden 100, T = 25, batch 1, softmax cross-entropy at every step, float64 like
 *   the numpy original.
 *
 * Each is timed as `valueAndGrad` (traced and differentiated every call, as a user writes it)
 * and as `jit(valueAndGrad)` (traced once). The LSTM step with `remat: "carries"` (one carry
 * per step kept; the backward pass recomputes each step) is printed once for reference, not
 * tabled, to keep the suite short. The GFLOP/s column counts matmul FLOPs only (forward ×3 for
 * forward + backward), so it is a rough lower bound on the work done.
 */
import { random, tensor } from "@rewind/tensor";
import {
  add,
  jit,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  oneHot,
  square,
  sub,
  sum,
  transpose,
  valueAndGrad,
  type Value,
} from "@rewind/autodiff";
import { elmanTanh, lstm, rnn, type TorchCellParams } from "@rewind/rnn";
import type { BenchSuite } from "./run.js";

// ---- LSTM regressor -------------------------------------------------------------------------
const B = 32;
const T = 50;
const IN = 64;
const H = 128;

interface LstmModel {
  readonly cell: TorchCellParams;
  readonly w: Value;
  readonly b: Value;
}

const lstmData = () => {
  const [k1, k2, k3, k4] = random.split(random.key(42), 4) as [random.Key, random.Key, random.Key, random.Key];
  const model: LstmModel = {
    cell: lstm.init(k1, { inputSize: IN, hiddenSize: H }, { dtype: "float32" }),
    w: mul(random.normal(k2, [1, H], "float32"), 1 / Math.sqrt(H)),
    b: random.normal(k3, [1], "float32"),
  };
  const [kx, ky] = random.split(k4, 2) as [random.Key, random.Key];
  return { model, xs: random.normal(kx, [B, T, IN], "float32"), ys: random.normal(ky, [B, 1], "float32") };
};

const lstmLoss =
  (xs: Value, ys: Value, remat?: "carries") =>
  (m: LstmModel): Value => {
    const { finalCarry } = rnn(lstm, m.cell, xs, remat === undefined ? {} : { remat });
    const pred = add(matmul(finalCarry.h, transpose(m.w)), m.b);
    return mean(square(sub(pred, ys)));
  };

// Forward matmul FLOPs: x·W_ihᵀ and h·W_hhᵀ per step, then the readout; ×3 for forward + backward.
const lstmFlops = 3 * (T * 2 * B * 4 * H * (IN + H) + 2 * B * H);

const medianOf = (f: () => unknown, runs: number): number => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[runs >> 1]!;
};

let printedCarries = false;
const printCarriesOnce = (): void => {
  if (printedCarries) return;
  printedCarries = true;
  const { model, xs, ys } = lstmData();
  const step = valueAndGrad(lstmLoss(xs, ys, "carries"));
  step(model); // warm-up
  const ms = medianOf(() => step(model), 3);
  process.stdout.write(
    `\n    (for reference: the same LSTM step with remat "carries": ${ms.toFixed(1)} ms, median of 3)\n   `,
  );
};

const LSTM_CASE = `lstm step B=${B} T=${T} in=${IN} H=${H} f32, valueAndGrad`;

// ---- min-char-rnn ---------------------------------------------------------------------------
const V = 65;
const HC = 100;
const TC = 25;

interface CharModel {
  readonly cell: TorchCellParams;
  readonly why: Value;
  readonly by: Value;
}

const charData = () => {
  const [k1, k2, k3] = random.split(random.key(7), 3) as [random.Key, random.Key, random.Key];
  // min-char-rnn draws weights as 0.01·N(0, 1); the cell's default init is close enough for timing.
  const model: CharModel = {
    cell: elmanTanh.init(k1, { inputSize: V, hiddenSize: HC }, { dtype: "float64" }),
    why: mul(random.normal(k2, [V, HC], "float64"), 0.01),
    by: random.normal(k3, [V], "float64"),
  };
  // A deterministic "text": characters 0..64 in a fixed scrambled order; targets are the next ones.
  const chars = Array.from({ length: TC + 1 }, (_, t) => (t * 37 + 11) % V);
  const inputs = oneHot(tensor([chars.slice(0, TC)], "int32"), V, "float64"); // [1, 25, 65]
  const targets = oneHot(tensor([chars.slice(1)], "int32"), V, "float64");
  return { model, inputs, targets };
};

const charLoss =
  (inputs: Value, targets: Value) =>
  (m: CharModel): Value => {
    const { outputs } = rnn(elmanTanh, m.cell, inputs); // [1, 25, 100]
    const logits = add(matmul(outputs, transpose(m.why)), m.by); // [1, 25, 65]
    return neg(sum(mul(targets, logSoftmax(logits, -1))));
  };

const charFlops = 3 * (TC * 2 * HC * (V + HC) + TC * 2 * HC * V);
const CHAR_CASE = `min-char-rnn step V=${V} H=${HC} T=${TC} B=1 f64, valueAndGrad`;

export const suite: BenchSuite = {
  name: "rnn",
  cases: [
    {
      name: LSTM_CASE,
      flops: lstmFlops,
      minRepeats: 5,
      maxRepeats: 10,
      setup: () => {
        printCarriesOnce();
        const { model, xs, ys } = lstmData();
        const step = valueAndGrad(lstmLoss(xs, ys));
        return () => step(model);
      },
    },
    {
      name: `lstm step B=${B} T=${T} in=${IN} H=${H} f32, jit(valueAndGrad)`,
      flops: lstmFlops,
      baseline: LSTM_CASE,
      minRepeats: 5,
      maxRepeats: 10,
      setup: () => {
        const { model, xs, ys } = lstmData();
        const step = jit(valueAndGrad(lstmLoss(xs, ys)));
        return () => step(model);
      },
    },
    {
      name: CHAR_CASE,
      flops: charFlops,
      maxRepeats: 50,
      setup: () => {
        const { model, inputs, targets } = charData();
        const step = valueAndGrad(charLoss(inputs, targets));
        return () => step(model);
      },
    },
    {
      name: `min-char-rnn step V=${V} H=${HC} T=${TC} B=1 f64, jit(valueAndGrad)`,
      flops: charFlops,
      baseline: CHAR_CASE,
      maxRepeats: 50,
      setup: () => {
        const { model, inputs, targets } = charData();
        const step = jit(valueAndGrad(charLoss(inputs, targets)));
        return () => step(model);
      },
    },
  ],
};
