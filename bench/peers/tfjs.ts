/**
 * @file The workloads on TensorFlow.js 4.22 (the umbrella package: in Node the bare tfjs-core
 * build registers no gradients), on its `cpu` backend (plain JS kernels) and its `wasm` backend
 * (XNNPACK, SIMD; one thread in Node). The backend is global in TF.js, so every contestant
 * switches to its own in `enter` (not timed) and owns tensors created on that backend, so no
 * data moves between backends. Both backends compute synchronously, so a result is ready
 * when the op returns; each step reads its scalar loss anyway, as a training loop would.
 * Gradients come from `tf.valueAndGrads` over the eager tape, inside `tf.tidy` so nothing leaks.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm"; // registers the "wasm" backend
import { CHAR, l2, oneHotRows, type CharData, type LstmData } from "./data.js";
import { tfLstmParts } from "./tfjsLstm.js";
import type { Contestant } from "./harness.js";
import type { StepContestant } from "./rewind.js";

export type TfBackend = "cpu" | "wasm";

const label = (backend: TfBackend): string => (backend === "cpu" ? "TF.js cpu" : "TF.js wasm");

/** Makes `backend` the active one (cheap once it is initialised). */
const use = async (backend: TfBackend): Promise<void> => {
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
};

/**
 * Initialises both backends and reports the wasm backend's features.
 * @example const { simd, threads } = await initTf()
 */
export const initTf = async (): Promise<{ simd: boolean; multithread: boolean }> => {
  await tf.setBackend("cpu");
  await tf.ready();
  await tf.setBackend("wasm");
  await tf.ready();
  return {
    simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
    multithread: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
  };
};

/**
 * A training-step contestant from a loss over `params`: `run` computes the loss and every
 * parameter's gradient (read back, so TF.js does the work), `check` reports them once, and
 * `dispose` frees the parameters and `data`.
 */
const stepContestant = (
  backend: TfBackend,
  loss: (params: tf.Tensor[]) => tf.Scalar,
  params: tf.Tensor[],
  data: tf.Tensor[],
): StepContestant => {
  // valueAndGrads types its argument as (...args: Tensor[]) => Tensor.
  const vg = tf.valueAndGrads((...a: tf.Tensor[]) => loss(a));
  return {
    name: label(backend),
    enter: () => use(backend),
    run: () => tf.tidy(() => void vg(params).value.dataSync()),
    check: () =>
      tf.tidy(() => {
        const { value, grads } = vg(params);
        return { loss: value.dataSync()[0]!, gradNorms: grads.map((g) => l2(g.dataSync())) };
      }),
    dispose: () => tf.dispose([...params, ...data]),
  };
};

// ---- LSTM -------------------------------------------------------------------------------------

/**
 * The LSTM step (the loss of tfjsLstm.ts) on `backend`.
 * @example await tfLstm(makeLstmData(), "wasm")
 */
export const tfLstm = async (d: LstmData, backend: TfBackend): Promise<StepContestant> => {
  await use(backend);
  const { params, data, loss } = tfLstmParts(d);
  return stepContestant(backend, loss, params, data);
};

// ---- min-char-rnn -----------------------------------------------------------------------------

/**
 * min-char-rnn: the tanh recurrence per step (one-hot row times Wxhᵀ, as Karpathy's dense dot),
 * then the readout and softmax cross-entropy for all steps at once.
 * @example await tfChar(makeCharData(), "cpu")
 */
export const tfChar = async (d: CharData, backend: TfBackend): Promise<StepContestant> => {
  await use(backend);
  const { V, H, T } = CHAR;
  const params = [
    tf.tensor2d(d.wxh, [H, V]),
    tf.tensor2d(d.whh, [H, H]),
    tf.tensor2d(d.why, [V, H]),
    tf.tensor1d(d.bh),
    tf.tensor1d(d.by),
  ];
  const inputs = tf.tensor2d(oneHotRows(d.inputs, V), [T, V]);
  const targets = tf.tensor2d(oneHotRows(d.targets, V), [T, V]);
  const loss = (wxh: tf.Tensor, whh: tf.Tensor, why: tf.Tensor, bh: tf.Tensor, by: tf.Tensor): tf.Scalar => {
    const xs = tf.split(inputs, T, 0); // T × [1, V]
    let h: tf.Tensor = tf.zeros([1, H]);
    const hs: tf.Tensor[] = [];
    for (const x of xs) {
      h = tf.tanh(tf.add(tf.add(tf.matMul(x, wxh, false, true), tf.matMul(h, whh, false, true)), bh));
      hs.push(h);
    }
    const logits = tf.add(tf.matMul(tf.concat(hs, 0), why, false, true), by); // [T, V]
    return tf.neg(tf.sum<tf.Scalar>(tf.mul(targets, tf.logSoftmax(logits, -1))));
  };
  return stepContestant(backend, (a) => loss(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!), params, [inputs, targets]);
};

// ---- matmul and tiny ops ----------------------------------------------------------------------

/**
 * One float32 n × n matmul (computed synchronously when matMul returns), then disposed.
 * @example await tfMatmul(a, b, 512, "wasm")
 */
export const tfMatmul = async (
  a: Float32Array,
  b: Float32Array,
  n: number,
  backend: TfBackend,
): Promise<Contestant> => {
  await use(backend);
  const ta = tf.tensor2d(a, [n, n]);
  const tb = tf.tensor2d(b, [n, n]);
  return {
    name: label(backend),
    enter: () => use(backend),
    run: () => tf.matMul(ta, tb).dispose(),
    dispose: () => tf.dispose([ta, tb]),
  };
};

/**
 * `tf.add` of two 4-element tensors, then dispose (what tidy would do), per call.
 * @example await tfTinyAdd("cpu")
 */
export const tfTinyAdd = async (backend: TfBackend): Promise<Contestant> => {
  await use(backend);
  const a = tf.tensor1d([1, 2, 3, 4]);
  const b = tf.tensor1d([5, 6, 7, 8]);
  return {
    name: label(backend),
    enter: () => use(backend),
    run: () => tf.add(a, b).dispose(),
    dispose: () => tf.dispose([a, b]),
  };
};
