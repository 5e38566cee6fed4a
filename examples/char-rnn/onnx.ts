/**
 * @file The trained model for serving: the one-step sampler as an ONNX file (`model.onnx`: a
 * character id and the recurrent state in; the next character's logits and the new state out,
 * the parameters stored in the model) and what a server needs besides it (`model.json`: the
 * vocabulary and the state tensors' names and shapes). `pnpm example serve-onnx` generates text
 * from the two files with onnxruntime-node alone.
 */
import { take, treeLeavesWithPaths, type Value } from "@rewind/autodiff";
import { toOnnx } from "@rewind/onnx";
import { linear } from "@rewind/rnn";
import { fromDataOrThrow, type Tensor } from "@rewind/tensor";
import type { AnyCharCell, Carry, Params } from "./model.js";

/** One state tensor of the sampler: the input that feeds it and the output that returns it. */
export interface StateIo {
  readonly input: string;
  readonly output: string;
  readonly shape: readonly number[];
}

/** `model.json`: the vocabulary (id → character) and the sampler's state tensors. */
export interface ServingInfo {
  readonly vocab: readonly string[];
  readonly state: readonly StateIo[];
}

/** One step: `id` [1] (int32) and the carry → the logits [1, V] of the next character and the new carry. */
export const samplerStep =
  (cell: AnyCharCell) =>
  (p: Params, id: Value, carry: Carry): { readonly logits: Value; readonly state: Carry } => {
    const [state, y] = cell.step(p.cell)(carry, take(p.embed.weight, id, 0));
    return { logits: linear(p.readout.weight.shape[0]!).apply(p.readout)(y), state };
  };

/** The sampler as ONNX model bytes, with the names and shapes a server feeds it. */
export const exportSampler = (
  cell: AnyCharCell,
  params: Params,
  vocab: readonly string[],
): { readonly bytes: Uint8Array; readonly info: ServingInfo } => {
  const carry = cell.initialCarry(1, params.cell);
  // The carry's leaves in pytree order: an LSTM's `.c` and `.h`, a GRU's or Elman's `` (one tensor).
  const leaves = treeLeavesWithPaths(carry);
  const state = leaves.map(([path, leaf]) => ({
    input: `state${path}`,
    output: `next_state${path}`,
    shape: [...leaf.shape],
  }));
  const id = fromDataOrThrow([0], [1], "int32");
  const bytes = toOnnx(samplerStep(cell), [params, id, carry], {
    bake: [0],
    inputNames: ["id", ...state.map((s) => s.input)],
    // The result's leaves in pytree order: `logits`, then the state's (object keys sort).
    outputNames: ["logits", ...state.map((s) => s.output)],
    name: "char-rnn-sampler",
  });
  return { bytes, info: { vocab, state } };
};

/** The step's outputs evaluated by Rewind (tests compare ONNX Runtime's with them). */
export const runStep = (cell: AnyCharCell, params: Params, id: Tensor, carry: Carry): Tensor[] => {
  const out = samplerStep(cell)(params, id, carry);
  return treeLeavesWithPaths(out).map(([, leaf]) => leaf as Tensor);
};
