/**
 * @file Everything random that a training run draws from a key — key derivation, the samplers,
 * parameter initialisation, dropout masks (as `rnn` draws them), sampled text — as the hex of
 * their bytes. The determinism test computes it in its own process and runs this file as a script
 * in another (`node --import tsx test/determinism/draws.ts <seed>` prints the JSON), and the two
 * must agree byte for byte: no draw may depend on anything but the key (no Math.random, no time,
 * no process state).
 */
import { pathToFileURL } from "node:url";
import * as T from "@rewind/tensor";
import type { Key, Tensor } from "@rewind/tensor";
import { oneHot, treeLeaves } from "@rewind/autodiff";
import { dropout, embedding, generate, gru, linear, lstm, rnn, stack } from "@rewind/rnn";

const hex = (t: unknown): string =>
  treeLeaves(t)
    .map((l) => {
      const x = l as Tensor;
      return `${x.dtype}[${x.shape}]:${Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).toString("hex")}`;
    })
    .join("|");

/** Every draw of the key `seed`, by name. */
export const draws = (seed: number): Record<string, string> => {
  const root = T.random.key(seed);
  const [k1, k2, k3, k4, k5, k6, k7, k8] = T.random.split(root, 8) as Key[];
  const words = (k: Key): string => Array.from(k.words, (w) => w.toString(16)).join(",");
  const cellParams = lstm.init(k6!, { inputSize: 5, hiddenSize: 6 }, { dtype: "float32" });
  const xs = T.random.normal(k7!, [3, 4, 5], "float32");
  const deep = stack([lstm, lstm], { dropout: 0.5 });
  const deepParams = deep.init(k6!, { inputSize: 5, hiddenSize: 6 }, { dtype: "float32" });
  const inputDrop = dropout(lstm, 0.3);
  const V = 7;
  const gen = generate(gru, gru.init(k8!, { inputSize: V, hiddenSize: 6 }, { dtype: "float64" }), {
    startToken: 0,
    batch: 2,
    maxLength: 12,
    key: T.random.foldIn(k8!, 1),
    embed: (ids) => oneHot(ids, V, "float64"),
    readout: (y) => linear(V).apply(linear(V).init(k8!, 6, { dtype: "float64" }))(y),
    sampling: { kind: "temperature", temperature: 1 },
  });
  return {
    split: T.random.split(root, 3).map(words).join(";"),
    foldIn: words(T.random.foldIn(root, 12345)),
    bits: hex(T.random.randomBits(k1!, [4, 3])),
    normal32: hex(T.random.normal(k1!, [5, 3], "float32")),
    normal64: hex(T.random.normal(k1!, [5, 3], "float64")),
    uniform: hex(T.random.uniform(k2!, [6])),
    bernoulli: hex(T.random.bernoulli(k3!, 0.3, [20])),
    categorical: hex(
      T.random.categorical(
        k4!,
        T.tensor(
          [
            [0, 1, 2],
            [2, 1, 0],
          ],
          "float32",
        ),
      ),
    ),
    permutation: hex(T.random.permutation(k5!, 10)),
    lstmInit32: hex(cellParams),
    lstmInit64: hex(lstm.init(k6!, { inputSize: 5, hiddenSize: 6 }, { dtype: "float64" })),
    gruInit: hex(gru.init(k6!, { inputSize: 5, hiddenSize: 6 }, { dtype: "float32" })),
    linearInit: hex(linear(4).init(k6!, 6, { dtype: "float32" })),
    embeddingInit: hex(embedding(9, 4).init(k6!, 0, { dtype: "float32" })),
    inputDropoutMasks: hex(inputDrop.noise!(k7!, 3, cellParams)),
    stackDropoutMasks: hex(deep.noise!(k7!, 3, deepParams)),
    stackDropoutOutputs: hex(rnn(deep, deepParams, xs, { key: k7! }).outputs),
    sampledTokens: hex(gen.tokens),
  };
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(draws(Number(process.argv[2] ?? 0)))}\n`);
}
