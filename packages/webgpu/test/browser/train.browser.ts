/**
 * @file A whole training step on the device: an LSTM layer's loss, its gradient (forward and
 * backward scans) and an Adam update, with the parameters, the optimizer state and the data
 * resident between steps (nothing uploaded after the first call). The losses follow the CPU
 * jit's step for step within the float32 tolerance, and go down.
 *
 * The Adam here is written in float32: @rewind/optim's computes its bias corrections in float64
 * (rounded once per dtype, as JavaScript numbers did), which the device refuses (README: not done).
 */
import * as A from "@rewind/autodiff";
import type { DeviceArray, Value } from "@rewind/autodiff";
import { lstm, rnn } from "@rewind/rnn";
import { random, scalar, type Tensor } from "@rewind/tensor";
import { expect, it } from "vitest";
import { readTree } from "../../src/index.js";
import { expectMatch, gpuOnce } from "./helpers.js";

const xs = random.normal(random.key(0), [4, 6, 3]);
const target = random.normal(random.key(1), [4, 6, 5]);
const params0 = lstm.init(random.key(2), { inputSize: 3, hiddenSize: 5 });
type Params = typeof params0;

/** Adam in float32 (lr 0.05, β 0.9/0.999), its step count a float32 scalar. */
const optimizer = {
  init: (p: Params) => ({
    m: A.treeMap((w: Value) => A.zerosLike(w), p),
    v: A.treeMap((w: Value) => A.zerosLike(w), p),
    t: scalar(0),
  }),
  update: (g: Params, s: { m: Params; v: Params; t: Value }, p: Params) => {
    const t = A.add(s.t, 1);
    const m = A.treeMap<Params>((mi: Value, gi: Value) => A.add(A.mul(mi, 0.9), A.mul(gi, 0.1)), s.m, g);
    const v = A.treeMap<Params>((vi: Value, gi: Value) => A.add(A.mul(vi, 0.999), A.mul(A.square(gi), 0.001)), s.v, g);
    const c1 = A.sub(1, A.pow(scalar(0.9), t));
    const c2 = A.sub(1, A.pow(scalar(0.999), t));
    const next = A.treeMap<Params>(
      (w: Value, mi: Value, vi: Value) =>
        A.sub(w, A.mul(0.05, A.div(A.div(mi, c1), A.add(A.sqrt(A.div(vi, c2)), 1e-8)))),
      p,
      m,
      v,
    );
    return { params: next, state: { m, v, t } };
  },
};
const loss = (p: Params, x: Value, y: Value) =>
  A.mean(A.square(A.sub(rnn(lstm, p, x, { lengths: [6, 4, 6, 2] }).outputs, y)));
const trainStep = (p: Params, state: unknown, x: Value, y: Value) => {
  const [l, g] = A.valueAndGrad(loss)(p, x, y);
  const { params, state: next } = optimizer.update(g, state as never, p);
  return { params, state: next, loss: l };
};

it("trains an LSTM with Adam on the device: resident state, the CPU's losses, going down", async () => {
  const gpu = await gpuOnce();
  const steps = 6;
  const cpuStep = A.jit(trainStep);
  let cpu = { params: params0, state: optimizer.init(params0) as unknown };
  const cpuLosses: Tensor[] = [];
  for (let i = 0; i < steps; i++) {
    const out = cpuStep(cpu.params, cpu.state, xs, target);
    cpuLosses.push(out.loss);
    cpu = out;
  }
  const devStep = gpu.jit(trainStep);
  const x = gpu.upload(xs);
  const y = gpu.upload(target);
  let dev = await devStep(params0, optimizer.init(params0), x, y);
  const queue = gpu.device.queue as { writeBuffer: (...a: unknown[]) => void };
  const write = queue.writeBuffer.bind(queue);
  let writes = 0;
  queue.writeBuffer = (...a: unknown[]) => {
    writes++;
    write(...a);
  };
  const devLosses: DeviceArray[] = [dev.loss];
  try {
    for (let i = 1; i < steps; i++) {
      dev = await devStep(dev.params, dev.state, x, y);
      devLosses.push(dev.loss);
    }
  } finally {
    delete (queue as { writeBuffer?: unknown }).writeBuffer;
  }
  expect(writes).toBe(0);
  const losses = await readTree(devLosses);
  losses.forEach((l, i) => expectMatch(l, cpuLosses[i]!, { terms: 100 }, `step ${i}`));
  expect(losses[steps - 1]!.data[0]).toBeLessThan(losses[0]!.data[0]! * 0.95);
});
