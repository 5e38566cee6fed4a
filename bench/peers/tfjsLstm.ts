/**
 * @file The LSTM workload on TensorFlow.js, backend-neutral: `pnpm bench:peers` runs it on TF.js's
 * cpu and wasm backends in Node (tfjs.ts), `pnpm bench:webgpu` on its WebGPU backend in Chromium.
 * An LSTMCell written out with tf ops in a loop over time, so the tape records every step (as
 * PyTorch's eager autograd would); weights stay in PyTorch's layout and matMul's transposeB flag
 * avoids explicit transposes.
 */
import * as tf from "@tensorflow/tfjs";
import type { LstmData } from "./data.js";

/** The LSTM workload on TF.js tensors: the six parameters, the batch, and the loss over parameters. */
export interface TfLstm {
  /** weight_ih, weight_hh, bias_ih, bias_hh, readout w, readout b. */
  readonly params: tf.Tensor[];
  /** xs [B, T, IN] and ys [B, 1]. */
  readonly data: tf.Tensor[];
  readonly loss: (params: tf.Tensor[]) => tf.Scalar;
}

/**
 * The LSTM workload's tensors on TF.js's active backend, and its MSE loss of a linear readout of
 * the last h.
 * @example const { params, loss } = tfLstmParts(makeLstmData()); loss(params)
 */
export const tfLstmParts = (d: LstmData): TfLstm => {
  const { B, T, IN, H } = d.sizes;
  const params = [
    tf.tensor2d(d.wIh, [4 * H, IN]),
    tf.tensor2d(d.wHh, [4 * H, H]),
    tf.tensor1d(d.bIh),
    tf.tensor1d(d.bHh),
    tf.tensor2d(d.w, [1, H]),
    tf.tensor1d(d.b),
  ];
  const xs = tf.tensor3d(d.xs, [B, T, IN]);
  const ys = tf.tensor2d(d.ys, [B, 1]);
  const loss = ([wIh, wHh, bIh, bHh, w, b]: tf.Tensor[]): tf.Scalar => {
    const steps = tf.unstack(xs, 1) as tf.Tensor2D[]; // T × [B, IN]
    let h: tf.Tensor = tf.zeros([B, H]);
    let c: tf.Tensor = tf.zeros([B, H]);
    for (const x of steps) {
      const gates = tf.add(
        tf.add(tf.matMul(x, wIh!, false, true), bIh!),
        tf.add(tf.matMul(h, wHh!, false, true), bHh!),
      );
      const [i, f, g, o] = tf.split(gates, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    }
    const pred = tf.add(tf.matMul(h, w!, false, true), b!);
    return tf.mean<tf.Scalar>(tf.square(tf.sub(pred, ys)));
  };
  return { params, data: [xs, ys], loss };
};
