/**
 * @file A browser consumer: imports only the browser-safe entry points. The consumer test
 * type-checks it with `lib: ["ES2022", "DOM"]` and `types: []`, and fails if @types/node enters
 * the program — the core packages' declarations must not need Node's types.
 */
import { item, random, tensor } from "@rewind/tensor";
import { jit, matmul, mean, square, sub, valueAndGrad, type Value } from "@rewind/autodiff";
import { lstm, manyToOne, type TorchCellParams } from "@rewind/rnn";
import { adam, applyUpdates, encodeCheckpoint } from "@rewind/optim";
import { cellLaws } from "@rewind/testing";

const xs = random.normal(random.key(1), [2, 5, 3]);
const ys = tensor([[1], [-1]]);
const [kCell, kOut] = random.split(random.key(0));
let params = { cell: lstm.init(kCell!, { inputSize: 3, hiddenSize: 4 }), readout: random.normal(kOut!, [4, 1]) };
const loss = (p: { cell: TorchCellParams; readout: Value }): Value =>
  mean(square(sub(matmul(manyToOne(lstm, p.cell, xs).output, p.readout), ys)));
const step = jit(valueAndGrad(loss));
const optimizer = adam({ learningRate: 0.01 });
let state = optimizer.init(params);
const [value, grads] = step(params);
const [updates, next] = optimizer.update(grads, state, params);
params = applyUpdates(params, updates);
state = next;
const bytes: Uint8Array = encodeCheckpoint({ params, optState: state, step: 1 });
export const summary = `${item(value)} ${bytes.byteLength} ${typeof cellLaws}`;
