/**
 * @file The custom cell of this example: IndRNN (Li et al. 2018) written from plain ops with
 * `defineCell`, in a dozen lines. A module of its own so that main.ts (the laws, the training
 * loop) and the workers of `--workers N` (step.ts) share one definition.
 */
import { random, zeros, type Key } from "@rewind/tensor";
import { add, matmul, mul, relu, transpose, type Value } from "@rewind/autodiff";
import { defineCell } from "@rewind/rnn";

export interface IndRnnParams {
  readonly weight: Value; // [H, in]
  readonly bias: Value; //   [H]
  readonly u: Value; //      [H], one recurrent weight per unit
}

/** h' = relu(W x + b + u ⊙ h): each hidden unit feeds back only to itself. */
export const indRnn = defineCell<IndRnnParams, Value>({
  name: "indRnn",
  init: (key, { inputSize, hiddenSize: h }, { dtype = "float32" }) => {
    const [kw, ku] = random.split(key, 2) as [Key, Key];
    const k = 1 / Math.sqrt(inputSize);
    return {
      weight: random.uniform(kw, [h, inputSize], { min: -k, max: k, dtype }),
      bias: zeros([h], dtype),
      // Recurrent weights in [0, 1): each unit starts as a leaky memory of its own past.
      u: random.uniform(ku, [h], { min: 0, max: 1, dtype }),
    };
  },
  initialCarry: (batch, p) => zeros([batch, p.u.shape[0]!], p.u.dtype),
  step: (p, h, x) => {
    const hNext = relu(add(add(matmul(x, transpose(p.weight)), p.bias), mul(p.u, h)));
    return [hNext, hNext];
  },
  outputSize: (p) => p.u.shape[0]!,
  inputSize: (p) => p.weight.shape[1]!,
});
