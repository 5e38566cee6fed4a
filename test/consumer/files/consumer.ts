/**
 * @file What a TypeScript user of the published packages writes, type-checked by the consumer test
 * (`pnpm test:consumer`) against the packed tarballs' declarations under several `tsconfig`
 * settings (strict on and off, nodenext and bundler, skipLibCheck false). The workspace's
 * `pnpm typecheck` checks it against the sources too. Each `@ts-expect-error` proves that a
 * declaration really types its export: an export typed `any` would make that line an error.
 */
import { item, random, tensor, type Tensor, type TensorError } from "@rewind/tensor";
import { readFileBytes } from "@rewind/tensor/node";
import { grad, jit, matmul, mean, square, sub, valueAndGrad, type Value } from "@rewind/autodiff";
import { gru, lstm, manyToOne, rnn, type TorchCellParams } from "@rewind/rnn";
import { saveTorchSafetensors } from "@rewind/rnn/node";
import { adam, applyUpdates, chain, clipByGlobalNorm, type Checkpoint } from "@rewind/optim";
import { loadCheckpoint, saveCheckpoint } from "@rewind/optim/node";
import { allClose, checkGrads } from "@rewind/testing";

interface Params {
  readonly cell: TorchCellParams;
  readonly readout: Value;
}

const xs: Tensor = random.normal(random.key(1), [4, 6, 3], "float64");
const ys: Tensor = tensor([[1], [-1], [0.5], [0]], "float64");
const [kCell, kOut] = random.split(random.key(0));
let params: Params = {
  cell: lstm.init(kCell!, { inputSize: 3, hiddenSize: 8 }, { dtype: "float64" }),
  readout: random.normal(kOut!, [8, 1], "float64"),
};

const loss = (p: Params): Value => mean(square(sub(matmul(manyToOne(lstm, p.cell, xs).output, p.readout), ys)));
const step = jit(valueAndGrad(loss));
const optimizer = chain(clipByGlobalNorm(1), adam({ learningRate: 0.05 }));
let state = optimizer.init(params);
for (let i = 0; i < 3; i++) {
  const [value, grads] = step(params);
  const [updates, next] = optimizer.update(grads, state, params);
  params = applyUpdates(params, updates);
  state = next;
  console.log(item(value as Tensor));
}

const ckpt: Checkpoint<Params, typeof state> = { params, optState: state, step: 3 };
const saved = saveCheckpoint("consumer.safetensors", ckpt);
const loaded = loadCheckpoint("consumer.safetensors", { params, optState: state });
if (loaded._tag === "Right") {
  const restored: Params = loaded.right.params;
  console.log(allClose(restored.readout, params.readout).pass, saved._tag);
}
const bytes = readFileBytes("consumer", "consumer.safetensors");
const failure: TensorError | undefined = bytes._tag === "Left" ? bytes.left : undefined;
console.log(failure, saveTorchSafetensors);

// The other cells and layers, and a gradient check from @rewind/testing.
const { outputs } = rnn(gru, gru.init(random.key(2), { inputSize: 3, hiddenSize: 4 }, { dtype: "float64" }), xs);
console.log(outputs.shape);
checkGrads((w: Value) => mean(square(matmul(xs, w))), [random.normal(random.key(3), [3, 2], "float64")]);
console.log(grad((x: Value) => mean(square(x)))(tensor([1, 2], "float64")));

// @ts-expect-error lstm.init needs the sizes
lstm.init(kCell!);
// @ts-expect-error a checkpoint's step is a number
saveCheckpoint("x.safetensors", { params, optState: state, step: "3" });
// @ts-expect-error random.normal takes a key, not a number
random.normal(0, [2]);
