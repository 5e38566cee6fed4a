/**
 * @file A whole training step on the device, as users write it: @rewind/optim's `trainStep` with
 * global-norm clipping and Adam on a cosine schedule, given `backend: gpu`. The LSTM's loss, its
 * gradient (forward and backward scans) and the update run as kernels; the optimizer's update
 * count, the schedule and Adam's float64 bias corrections run on the host lane (they depend on
 * the count only), so after the first step nothing but those few scalars is uploaded, and nothing
 * is read back until the losses are. The losses follow the CPU step's within the float32
 * tolerance, and go down.
 */
import * as A from "@rewind/autodiff";
import type { DeviceArray, Value } from "@rewind/autodiff";
import { adam, chain, clipByGlobalNorm, cosineDecay, skipNonFinite, trainStep } from "@rewind/optim";
import { lstm, rnn } from "@rewind/rnn";
import { fromDataOrThrow, random, type Tensor } from "@rewind/tensor";
import { expect, it } from "vitest";
import { GpuArray, readTree } from "../../src/index.js";
import { flattenDevice } from "../../src/tree.js";
import { expectMatch, gpuOnce } from "./helpers.js";

const xs = random.normal(random.key(0), [4, 6, 3]);
const target = random.normal(random.key(1), [4, 6, 5]);
const params0 = lstm.init(random.key(2), { inputSize: 3, hiddenSize: 5 });
type Params = typeof params0;

const optimizer = chain(clipByGlobalNorm(1), adam({ learningRate: cosineDecay({ initValue: 0.05, decaySteps: 20 }) }));
const loss = (p: Params, x: Value, y: Value) =>
  A.mean(A.square(A.sub(rnn(lstm, p, x, { lengths: [6, 4, 6, 2] }).outputs, y)));

it("trains an LSTM with optim's clipped, scheduled Adam on the device: the CPU's losses, scalars on the host", async () => {
  const gpu = await gpuOnce();
  const steps = 6;
  const cpuStep = trainStep(loss, optimizer, { donate: false });
  let cpu = { params: params0, optState: optimizer.init(params0) };
  const cpuLosses: Tensor[] = [];
  for (let i = 0; i < steps; i++) {
    const out = cpuStep(cpu.params, cpu.optState, xs, target);
    cpuLosses.push(out.loss);
    cpu = out;
  }
  const devStep = trainStep(loss, optimizer, { backend: gpu });
  const x = gpu.upload(xs);
  const y = gpu.upload(target);
  let dev = await devStep(params0, optimizer.init(params0), x, y);
  const queue = gpu.device.queue as { writeBuffer: (b: unknown, o: number, data: ArrayBufferView) => void };
  const write = queue.writeBuffer.bind(queue);
  const written: number[] = [];
  queue.writeBuffer = (b, o, data) => {
    written.push(data.byteLength);
    write(b, o, data);
  };
  const devLosses: DeviceArray[] = [dev.loss];
  try {
    for (let i = 1; i < steps; i++) {
      dev = await devStep(dev.params, dev.optState, x, y);
      devLosses.push(dev.loss);
    }
  } finally {
    delete (queue as { writeBuffer?: unknown }).writeBuffer;
  }
  // Only scalars go up after the first step (the learning rate and bias corrections, 4 bytes each).
  expect(written.length).toBeGreaterThan(0);
  expect(written.filter((bytes) => bytes !== 4)).toEqual([]);
  const leaves = flattenDevice([dev.params, dev.optState])[0] as GpuArray[];
  expect(leaves.every((l) => l instanceof GpuArray)).toBe(true);
  // The update counts (Adam's, the schedule's) stay on the host; the model's arrays and the moments on the device.
  const onHost = leaves.filter((l) => l.onHost).map((l) => `${l.dtype}[${l.shape.join(",")}]`);
  expect(onHost).toEqual(["int32[]", "int32[]"]);
  expect(leaves.filter((l) => !l.onHost).every((l) => l.shape.length > 0)).toBe(true);
  expect(devStep.cacheSize()).toBe(1);
  const losses = await readTree(devLosses);
  losses.forEach((l, i) => expectMatch(l, cpuLosses[i]!, { terms: 100 }, `step ${i}`));
  expect(losses[steps - 1]!.data[0]).toBeLessThan(losses[0]!.data[0]! * 0.95);
  const params = await readTree(dev.params);
  const want = A.treeLeaves(cpu.params) as Tensor[];
  (A.treeLeaves(params) as Tensor[]).forEach((w, i) => expectMatch(w, want[i]!, { terms: 1000 }, `w ${i}`));
});

it("runs skipNonFinite on the device: a NaN batch is skipped as on the CPU (its count is read back)", async () => {
  const gpu = await gpuOnce();
  const guarded = skipNonFinite(optimizer);
  const bad = fromDataOrThrow(
    target.data.map((v, i) => (i === 0 ? NaN : v)),
    target.shape,
    "float32",
  );
  const batches = [target, bad, target, target];
  const cpuStep = trainStep(loss, guarded, { donate: false });
  let cpu = { params: params0, optState: guarded.init(params0) };
  const devStep = trainStep(loss, guarded, { backend: gpu });
  let dev = await devStep(params0, guarded.init(params0), xs, batches[0]!);
  cpu = cpuStep(cpu.params, cpu.optState, xs, batches[0]!);
  for (const y of batches.slice(1)) {
    dev = await devStep(dev.params, dev.optState, xs, y);
    cpu = cpuStep(cpu.params, cpu.optState, xs, y);
  }
  const state = await readTree(dev.optState);
  expect(Number(state.notFiniteCount.data[0])).toBe(Number(cpu.optState.notFiniteCount.data[0]));
  expect([Number(state.totalNotFinite.data[0]), Number(cpu.optState.totalNotFinite.data[0])]).toEqual([1, 1]);
  const params = await readTree(dev.params);
  const want = A.treeLeaves(cpu.params) as Tensor[];
  (A.treeLeaves(params) as Tensor[]).forEach((w, i) => expectMatch(w, want[i]!, { terms: 1000 }, `w ${i}`));
});
