/**
 * @file `pnpm start` (until the main job lands): a tanh RNN learns to continue a sine wave.
 * The whole model is a `scan` over a step function; its gradient (BPTT) is a reverse scan that
 * Rewind derives from the graph. Plain gradient descent, float64, a few seconds.
 */
import {
  linspace,
  mul as mulT,
  random,
  reshape as reshapeT,
  sin as sinT,
  toString,
  zeros,
  type Tensor,
} from "@rewind/tensor";
import {
  add,
  grad,
  jit,
  makeGraph,
  matmul,
  mean,
  mul,
  printGraph,
  scan,
  square,
  sub,
  tanh,
  treeMap,
  valueAndGrad,
  type Concrete,
  type Value,
} from "@rewind/autodiff";
import { endWithLauncher } from "../shared/launcher.js";

const smoke = process.argv.includes("--smoke");
endWithLauncher(); // the run ends when its launcher does (shared/launcher.ts)
const hidden = 16;
const steps = smoke ? 5 : 300;

interface Params {
  readonly wxh: Value;
  readonly whh: Value;
  readonly bh: Value;
  readonly why: Value;
  readonly by: Value;
}

/** Initial parameters, as tensors (so the jitted step returns tensors). */
const init = (): Concrete<Params> => {
  const [k1, k2, k3] = random.split(random.key(42), 3) as [random.Key, random.Key, random.Key];
  const scaled = (k: random.Key, shape: number[], s: number) => mulT(random.normal(k, shape, "float64"), s);
  return {
    wxh: scaled(k1, [1, hidden], 0.5),
    whh: scaled(k2, [hidden, hidden], 1 / Math.sqrt(hidden)),
    bh: random.normal(k3, [hidden], "float64"),
    why: scaled(k3, [hidden, 1], 0.1),
    by: zeros([1], "float64"),
  };
};

// The series: sin(t) sampled at 40 points; inputs are x_t, targets x_{t+1}. Shape [time, batch=1, 1].
const series = sinT(linspace(0, 4 * Math.PI, 41, "float64"));
const column = (from: number, to: number): Tensor => ({
  ...series,
  shape: [to - from, 1, 1],
  data: series.data.subarray(from, to),
});
const xs = column(0, 40);
const targets = column(1, 41);

const predict = (p: Params, inputs: Value): Value => {
  const [, ys] = scan(
    (h: Value, x: Value) => {
      const hNext = tanh(add(add(matmul(x, p.wxh), matmul(h, p.whh)), p.bh));
      return [hNext, add(matmul(hNext, p.why), p.by)] as const;
    },
    zeros([1, hidden], "float64"),
    inputs,
  );
  return ys;
};

const loss = (p: Params): Value => mean(square(sub(predict(p, xs), targets)));

let params = init();
const lr = 0.05;
// One gradient-descent step as one jitted program (traced once); the old parameters are donated.
const trainStep = jit(
  (p: Params): [Params, Value] => {
    const [value, g] = valueAndGrad(loss)(p);
    return [treeMap<Params>((w, gw) => sub(w, mul(gw, lr)), p, g), value];
  },
  { donate: [0] },
);
for (let step = 0; step <= steps; step++) {
  const [next, value] = trainStep(params);
  if (step % Math.max(1, Math.floor(steps / 6)) === 0)
    console.log(`step ${String(step).padStart(3)}  loss ${value.data[0]!.toFixed(5)}`);
  params = next;
}

console.log("\nThe gradient of one RNN step, as Rewind sees it (a reverse scan inside):\n");
console.log(
  printGraph(makeGraph((p: Params) => grad(loss)(p))(params))
    .split("\n")
    .slice(0, 12)
    .join("\n"),
  "\n  ...",
);
const flat = (t: Tensor) => reshapeT(t, [40]);
console.log("\npredictions:", toString(flat(jit(predict)(params, xs)), { precision: 2, threshold: 10 }));
console.log("targets:    ", toString(flat(targets), { precision: 2, threshold: 10 }));
