/**
 * @file The workloads on jax-js 0.1.25, on its `wasm` device. In Node there is no global
 * `Worker`, so jax-js's wasm worker pool is never created and kernels run on the main thread
 * (one thread, like the other contestants).
 *
 * Conventions that shape this code: every jax-js op and transformed function consumes (disposes)
 * its array arguments, so an array used again is passed as `.ref` (+1 reference); jax-js has no
 * `scan`, so the recurrence is unrolled in JavaScript inside the jitted function (jit traces the
 * loop once and compiles all T steps into one program); arrays are lazy, so each timed call waits
 * for its outputs (`blockUntilReady`) and reads its loss, as a training loop would.
 */
import { blockUntilReady, defaultDevice, init, jit, nn, numpy as np, valueAndGrad } from "@jax-js/jax";
import { CHAR, LSTM, l2, oneHotRows, type CharData, type LstmData } from "./data.js";
import type { Contestant } from "./harness.js";
import type { StepContestant } from "./rewind.js";

type Arr = np.Array;

/**
 * Starts jax-js's wasm backend and makes it the default device; returns the time it took.
 * @example const ms = await initJax()
 */
export const initJax = async (): Promise<number> => {
  const t0 = performance.now();
  const devices = await init("wasm");
  if (!devices.includes("wasm")) throw new Error(`jax-js: wasm device unavailable (got ${devices.join(", ")})`);
  defaultDevice("wasm");
  return performance.now() - t0;
};

// data.ts allocates every array with `new Float32Array(n)`: its buffer is an ArrayBuffer, never shared.
const arr = (data: Float32Array, shape: number[]): Arr => np.array(data as Float32Array<ArrayBuffer>).reshape(shape);

// ---- LSTM -------------------------------------------------------------------------------------

/** The LSTM parameters as a pytree (jax-js needs a `type`, not an `interface`, for JsTree). */
export type LstmParams = { wIh: Arr; wHh: Arr; bIh: Arr; bHh: Arr; w: Arr; b: Arr };
export const LSTM_KEYS = ["wIh", "wHh", "bIh", "bHh", "w", "b"] as const;

/** A new reference to every leaf, to pass to a function that consumes its arguments. */
export const refs = (p: LstmParams): LstmParams => ({
  wIh: p.wIh.ref,
  wHh: p.wHh.ref,
  bIh: p.bIh.ref,
  bHh: p.bHh.ref,
  w: p.w.ref,
  b: p.b.ref,
});

/**
 * The LSTM loss, consuming `p`, `xs` [B, T, IN] and `ys` [B, 1]. Transposed weights are taken once,
 * outside the loop (`.T` of a weight per step would also be fused by jit, but this is what one
 * would write).
 */
export const lstmLoss = (p: LstmParams, xs: Arr, ys: Arr): Arr => {
  const { T, H } = LSTM;
  const B = xs.shape[0]!;
  const wIhT = p.wIh.transpose(); // [IN, 4H]
  const wHhT = p.wHh.transpose(); // [H, 4H]
  let h = np.zeros([B, H]);
  let c = np.zeros([B, H]);
  for (let t = 0; t < T; t++) {
    const x = xs.ref.slice([], t); // [B, IN]
    const gates = np.matmul(x, wIhT.ref).add(p.bIh.ref).add(np.matmul(h, wHhT.ref).add(p.bHh.ref));
    const [i, f, g, o] = np.split(gates, 4, 1) as [Arr, Arr, Arr, Arr];
    c = nn
      .sigmoid(f)
      .mul(c)
      .add(nn.sigmoid(i).mul(np.tanh(g)));
    h = nn.sigmoid(o).mul(np.tanh(c.ref));
  }
  c.dispose();
  xs.dispose();
  wIhT.dispose();
  wHhT.dispose();
  p.bIh.dispose();
  p.bHh.dispose();
  const pred = np.matmul(h, p.w.transpose()).add(p.b);
  return np.square(pred.sub(ys)).mean();
};

export const lstmArrays = (d: LstmData) => {
  const { B, T, IN, H } = d.sizes;
  const params: LstmParams = {
    wIh: arr(d.wIh, [4 * H, IN]),
    wHh: arr(d.wHh, [4 * H, H]),
    bIh: arr(d.bIh, [4 * H]),
    bHh: arr(d.bHh, [4 * H]),
    w: arr(d.w, [1, H]),
    b: arr(d.b, [1]),
  };
  return { params, xs: arr(d.xs, [B, T, IN]), ys: arr(d.ys, [B, 1]) };
};

/** The jitted LSTM training step, `jit(valueAndGrad(loss))`, a fresh function each call. */
export const jaxLstmStepFn = () => jit(valueAndGrad(lstmLoss));

/**
 * Runs one step and waits for every output; returns the loss (reading it consumes it).
 * @example await jaxLstmCall(step, arrays)
 */
export const jaxLstmCall = async (
  step: ReturnType<typeof jaxLstmStepFn>,
  a: ReturnType<typeof lstmArrays>,
): Promise<{ loss: number; grads: LstmParams }> => {
  const [loss, grads] = step(refs(a.params), a.xs.ref, a.ys.ref);
  await blockUntilReady(grads);
  return { loss: loss.dataSync()[0]!, grads };
};

export const disposeTree = (p: LstmParams): void => LSTM_KEYS.forEach((k) => p[k].dispose());

/**
 * The LSTM training step on jax-js.
 * @example await jaxLstm(makeLstmData()).run()
 */
export const jaxLstm = (d: LstmData): StepContestant => {
  const a = lstmArrays(d);
  const step = jaxLstmStepFn();
  return {
    name: "jax-js wasm jit(valueAndGrad)",
    run: async () => disposeTree((await jaxLstmCall(step, a)).grads),
    check: async () => {
      const { loss, grads } = await jaxLstmCall(step, a);
      return { loss, gradNorms: LSTM_KEYS.map((k) => l2(grads[k].dataSync())) }; // dataSync consumes
    },
    dispose: () => {
      disposeTree(a.params);
      a.xs.dispose();
      a.ys.dispose();
      step.dispose();
    },
  };
};

/** The pieces the first-call measurement needs (it builds its own step function). */
export const jaxLstmArrays = lstmArrays;

// ---- min-char-rnn -----------------------------------------------------------------------------

type CharParams = { wxh: Arr; whh: Arr; why: Arr; bh: Arr; by: Arr };
const CHAR_KEYS = ["wxh", "whh", "why", "bh", "by"] as const;

/** min-char-rnn's loss, consuming its arguments; inputs/targets are one-hot `[T, V]`. */
const charLoss = (p: CharParams, inputs: Arr, targets: Arr): Arr => {
  const { H, T } = CHAR;
  const wxhT = p.wxh.transpose(); // [V, H]
  const whhT = p.whh.transpose(); // [H, H]
  const xs = np.split(inputs, T, 0); // T × [1, V]
  let h = np.zeros([1, H]);
  const hs: Arr[] = [];
  for (const x of xs) {
    h = np.tanh(np.matmul(x, wxhT.ref).add(np.matmul(h, whhT.ref)).add(p.bh.ref));
    hs.push(h.ref);
  }
  h.dispose();
  wxhT.dispose();
  whhT.dispose();
  p.bh.dispose();
  const logits = np.matmul(np.concatenate(hs, 0), p.why.transpose()).add(p.by); // [T, V]
  return targets.mul(nn.logSoftmax(logits, -1)).sum().neg();
};

/**
 * min-char-rnn's training step on jax-js (jit of valueAndGrad, float32).
 * @example await jaxChar(makeCharData()).run()
 */
export const jaxChar = (d: CharData): StepContestant => {
  const { V, H, T } = CHAR;
  const params: CharParams = {
    wxh: arr(d.wxh, [H, V]),
    whh: arr(d.whh, [H, H]),
    why: arr(d.why, [V, H]),
    bh: arr(d.bh, [H]),
    by: arr(d.by, [V]),
  };
  const inputs = arr(oneHotRows(d.inputs, V), [T, V]);
  const targets = arr(oneHotRows(d.targets, V), [T, V]);
  const step = jit(valueAndGrad(charLoss));
  const call = async (): Promise<{ loss: number; grads: CharParams }> => {
    const p: CharParams = {
      wxh: params.wxh.ref,
      whh: params.whh.ref,
      why: params.why.ref,
      bh: params.bh.ref,
      by: params.by.ref,
    };
    const [loss, grads] = step(p, inputs.ref, targets.ref);
    await blockUntilReady(grads);
    return { loss: loss.dataSync()[0]!, grads };
  };
  return {
    name: "jax-js wasm jit(valueAndGrad)",
    run: async () => {
      const { grads } = await call();
      CHAR_KEYS.forEach((k) => grads[k].dispose());
    },
    check: async () => {
      const { loss, grads } = await call();
      return { loss, gradNorms: CHAR_KEYS.map((k) => l2(grads[k].dataSync())) };
    },
    dispose: () => {
      CHAR_KEYS.forEach((k) => params[k].dispose());
      inputs.dispose();
      targets.dispose();
      step.dispose();
    },
  };
};

// ---- matmul and tiny ops ----------------------------------------------------------------------

/**
 * One eager float32 n × n matmul, waited for, then disposed.
 * @example await jaxMatmul(a, b, 512).run()
 */
export const jaxMatmul = (a: Float32Array, b: Float32Array, n: number): Contestant => {
  const ja = arr(a, [n, n]);
  const jb = arr(b, [n, n]);
  return {
    name: "jax-js wasm",
    run: async () => {
      const c = await np.matmul(ja.ref, jb.ref).blockUntilReady();
      c.dispose();
    },
    dispose: () => {
      ja.dispose();
      jb.dispose();
    },
  };
};

/**
 * `add` of two 4-element arrays, eager or through `jit`. jax-js is lazy, so the result is read
 * (`dataSync`, which also frees it) to make it exist; for an array this small jax-js evaluates
 * the expression in JavaScript rather than dispatching a wasm kernel.
 * @example jaxTinyAdd("eager").run()
 */
export const jaxTinyAdd = (mode: "eager" | "jit"): Contestant => {
  const a = np.array(new Float32Array([1, 2, 3, 4]));
  const b = np.array(new Float32Array([5, 6, 7, 8]));
  const addJ = jit((x: Arr, y: Arr) => x.add(y));
  return mode === "eager"
    ? {
        name: "jax-js wasm (eager, read back)",
        run: () => void a.ref.add(b.ref).dataSync(),
        dispose: () => {
          a.dispose();
          b.dispose();
          addJ.dispose();
        },
      }
    : {
        name: "jax-js wasm (jit call, read back)",
        run: () => void addJ(a.ref, b.ref).dataSync(),
        dispose: () => {
          a.dispose();
          b.dispose();
          addJ.dispose();
        },
      };
};
