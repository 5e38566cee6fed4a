// Printed beside the gated bundle, for information: an LSTM over whole sequences (`rnn`, so
// `scan`) with a readout, and the BPTT gradient of its loss.
import { item, random, tensor } from "@rewind/tensor";
import { matmul, mean, square, sub, valueAndGrad } from "@rewind/autodiff";
import { lstm, manyToOne } from "@rewind/rnn";

const xs = random.normal(random.key(1), [4, 6, 3]);
const ys = tensor([[1], [-1], [0.5], [0]]);
const [kCell, kOut] = random.split(random.key(0));
const params = { cell: lstm.init(kCell, { inputSize: 3, hiddenSize: 8 }), readout: random.normal(kOut, [8, 1]) };
const loss = (p) => mean(square(sub(matmul(manyToOne(lstm, p.cell, xs).output, p.readout), ys)));
const [value, grads] = valueAndGrad(loss)(params);
document.body.textContent = `loss ${item(value).toFixed(4)}, gradient of ${Object.keys(grads.cell).length} cell tensors`;
