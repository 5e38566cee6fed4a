/**
 * @file The README's example, kept runnable: an LSTM over a padded batch, its BPTT gradient, and
 * the loss as a graph: as written, and after the passes jit runs.
 */
import { item, random, tensor } from "@rewind/tensor";
import { jit, makeGraph, matmul, mean, printGraph, square, sub, type Concrete, type Value } from "@rewind/autodiff";
import { lstm, manyToOne, type TorchCellParams } from "@rewind/rnn";
import { adam, trainStep } from "@rewind/optim";

// Two sequences of 3 features, padded to 4 steps; the second is only 2 steps long.
const xs = random.normal(random.key(1), [2, 4, 3], "float64");
const lengths = [4, 2];
const targets = tensor([[0.5], [-0.5]], "float64");

const [kCell, kOut] = random.split(random.key(0));
type Params = { cell: TorchCellParams; readout: Value };
let params: Concrete<Params> = {
  cell: lstm.init(kCell!, { inputSize: 3, hiddenSize: 8 }, { dtype: "float64" }),
  readout: random.normal(kOut!, [8, 1], "float64"),
};

// Many-to-one: the output at each sequence's own last valid step, then a linear readout.
const loss = (p: Params): Value => {
  const { output } = manyToOne(lstm, p.cell, xs, { lengths });
  return mean(square(sub(matmul(output, p.readout), targets)));
};

const optimizer = adam({ learningRate: 0.05 });
// Loss, gradient (BPTT: a reverse scan derived from the graph), Adam and the update, as one
// jitted program; each call gives up the params and state passed in and returns the new ones.
const step = trainStep(loss, optimizer);
let state = optimizer.init(params);
for (let i = 0; i < 50; i++) ({ params, optState: state } = step(params, state));
console.log("loss after 50 Adam steps:", item(jit(loss)(params)).toFixed(6));
console.log(printGraph(makeGraph(loss)(params))); // the loss as written: x·W inside the scan body
console.log(printGraph(makeGraph(loss, { optimize: true })(params))); // after jit's passes: x·W before the loop
