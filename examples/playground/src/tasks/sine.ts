/**
 * @file The sine-wave forecaster: at every step the cell reads y_t of a random sine wave
 * (amplitude 0.5–1, 0.1–0.4 radians per step, any phase) and a linear readout predicts y_{t+1};
 * the loss is the mean squared error. The preview shows a fixed wave: one-step predictions while
 * the model reads the truth, then a free run in which it reads its own predictions — a forecast
 * that only stays on the wave once the model has learnt the frequency from the context.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";
import { mean, reshape, scan, square, sub, type Value } from "@rewind/autodiff";
import { linear, rnn, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import type { Preview, RunConfig } from "../protocol.js";
import { cellOf, type Carry } from "./charModel.js";
import type { Task } from "./types.js";

const BATCH = 32;
const STEPS = 48;
const CONTEXT = 48; // preview: steps read from the truth
const HORIZON = 48; // preview: steps run free

/** The forecaster's parameters: the cell and the readout to one value. */
export interface SineParams {
  readonly cell: TorchCellParams;
  readonly readout: LinearParams;
}

/** Waves `[B, T, 1]` and the same waves one step later. */
export interface WaveBatch {
  readonly x: Tensor;
  readonly y: Tensor;
}

/** `count` waves of `length + 1` samples each, with amplitude, frequency and phase drawn from `key`. */
const waves = (key: Key, count: number, length: number): Float32Array[] => {
  const u = random.uniform(key, [count, 3], { dtype: "float64" }).data;
  return Array.from({ length: count }, (_, b) => {
    const amplitude = 0.5 + 0.5 * u[3 * b]!;
    const omega = 0.1 + 0.3 * u[3 * b + 1]!;
    const phase = 2 * Math.PI * u[3 * b + 2]!;
    return Float32Array.from({ length: length + 1 }, (_, t) => amplitude * Math.sin(omega * t + phase));
  });
};

const toBatch = (rows: readonly Float32Array[], length: number): WaveBatch => {
  const x = new Float32Array(rows.length * length);
  const y = new Float32Array(rows.length * length);
  rows.forEach((w, b) => {
    x.set(w.subarray(0, length), b * length);
    y.set(w.subarray(1, length + 1), b * length);
  });
  return {
    x: fromDataOrThrow(x, [rows.length, length, 1], "float32"),
    y: fromDataOrThrow(y, [rows.length, length, 1], "float32"),
  };
};

/**
 * The sine-wave task.
 * @example sineTask({ task: "sine", cell: "gru", hidden: 16, seed: 0 }).lossLabel // "MSE"
 */
export const sineTask = (config: RunConfig): Task<SineParams, WaveBatch> => {
  const cell = cellOf(config.cell);
  const readout = linear(1);
  /** Predictions `[B, T, 1]`: the readout runs on all steps at once, outside the scan. */
  const predict = (p: SineParams, x: Value): Value => readout.apply(p.readout)(rnn(cell, p.cell, x).outputs);

  // The preview's wave is fixed (its own key), so successive previews show the same curve improving.
  const shown = waves(random.key(2024), 1, CONTEXT + HORIZON)[0]!;

  const preview = (p: SineParams): Preview => {
    const context = toBatch([shown], CONTEXT);
    const { outputs, finalCarry } = rnn(cell, p.cell, context.x);
    const teacherForced = Array.from((readout.apply(p.readout)(outputs) as Tensor).data);
    // Free run: from the state after the context, feed back the model's own prediction of the
    // next value, then each new prediction, HORIZON times.
    const step = cell.step(p.cell);
    const first = fromDataOrThrow([teacherForced[CONTEXT - 1]!], [1, 1], "float32");
    const [, ys] = scan(
      ([carry, yPrev]: readonly [Carry, Value], _x: null): [readonly [Carry, Value], Value] => {
        const [next, h] = step(carry, yPrev);
        const y = readout.apply(p.readout)(h);
        return [[next, y], y];
      },
      [finalCarry, first] as const,
      null,
      { length: HORIZON },
    );
    const freeRun = Array.from((reshape(ys, [HORIZON]) as Tensor).data);
    return {
      kind: "forecast",
      title: "Forecast of a fixed wave",
      truth: Array.from(shown.subarray(1)),
      teacherForced,
      freeRun,
      context: CONTEXT,
      note: `reads the true wave for ${CONTEXT} steps (one-step predictions), then runs ${HORIZON} steps on its own outputs`,
    };
  };

  const graphBatch = toBatch(waves(random.key(7), 1, 4), 4);
  return {
    summary: `random sine waves (amplitude 0.5–1, 0.1–0.4 rad/step); ${config.cell.toUpperCase()} ${config.hidden} + linear readout, batch ${BATCH} × ${STEPS} steps`,
    lossLabel: "MSE",
    init: (key) => {
      const [kCell, kOut] = random.split(key, 2) as [Key, Key];
      return {
        cell: cell.init(kCell, { inputSize: 1, hiddenSize: config.hidden }),
        readout: readout.init(kOut, config.hidden),
      };
    },
    loss: (p, b) => mean(square(sub(predict(p, b.x), b.y))),
    batch: (key) => toBatch(waves(key, BATCH, STEPS), STEPS),
    graphBatch,
    tracedOn: "one wave of 4 steps",
    preview,
    learningRate: 1e-2,
    clip: 1,
  };
};
