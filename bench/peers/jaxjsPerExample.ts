/**
 * @file Per-example gradients of the LSTM workload on jax-js 0.1.25: `jit(vmap(valueAndGrad(loss
 * of one example), [null, 0, 0]))`, the program a JAX user writes for DP-SGD. The loss of one
 * example is the LSTM section's loss on a batch of one (jaxjs.ts), so nothing differs but `vmap`.
 */
import { blockUntilReady, jit, numpy as np, valueAndGrad, vmap } from "@jax-js/jax";
import { LSTM, l2, type LstmData } from "./data.js";
import { LSTM_KEYS, disposeTree, lstmArrays, lstmLoss, refs, type LstmParams } from "./jaxjs.js";
import type { StepContestant } from "./rewind.js";

type Arr = np.Array;

/** One example's loss: `x` [T, IN] and `y` [1] as a batch of one; consumes its arguments. */
const exampleLoss = (p: LstmParams, x: Arr, y: Arr): Arr =>
  lstmLoss(p, x.reshape([1, LSTM.T, LSTM.IN]), y.reshape([1, 1]));

/**
 * Per-example LSTM gradients on jax-js: one jitted, vmapped program.
 * @example await jaxPerExample(makeLstmData()).run()
 */
export const jaxPerExample = (d: LstmData): StepContestant => {
  const a = lstmArrays(d);
  const step = jit(vmap(valueAndGrad(exampleLoss), [null, 0, 0]));
  const call = async (): Promise<[Arr, LstmParams]> => {
    const [losses, grads] = step(refs(a.params), a.xs.ref, a.ys.ref) as [Arr, LstmParams];
    await blockUntilReady(grads);
    return [losses, grads];
  };
  return {
    name: "jax-js wasm jit(vmap(valueAndGrad))",
    run: async () => {
      const [losses, grads] = await call();
      losses.dispose();
      disposeTree(grads);
    },
    check: async () => {
      const [losses, grads] = await call();
      const l = Array.from(losses.dataSync()); // dataSync consumes
      // The L2 norm of a stacked [B, ...] gradient is the norm of all its examples' gradients.
      const gradNorms = LSTM_KEYS.map((k) => l2(grads[k].dataSync()));
      return { loss: l.reduce((s, x) => s + x, 0) / l.length, gradNorms };
    },
    dispose: () => {
      disposeTree(a.params);
      a.xs.dispose();
      a.ys.dispose();
      step.dispose();
    },
  };
};
