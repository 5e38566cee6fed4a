/// <reference lib="dom" />
/**
 * @file The page `pnpm bench:webgpu` opens in Chromium: the LSTM training step (loss and every
 * gradient) of `pnpm bench:peers` at each size asked, on Rewind's CPU compiler
 * (`jit(valueAndGrad)`, WebAssembly in the page's main thread), on Rewind's WebGPU back end
 * (@rewind/webgpu) and on TensorFlow.js's WebGPU back end, timed interleaved by the peers'
 * harness in the same page. Each contestant's loss and gradient norms are reported once so the
 * driver can check that they agree.
 * Exposes `runWebgpuBench(sizes)` on `globalThis` for the driver (run.ts).
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu"; // registers the "webgpu" backend
import { l2, makeLstmData, type LstmSizes, type StepCheck } from "../peers/data.js";
import { timeInterleaved, type Timing } from "../peers/harness.js";
import { jit, treeMap, valueAndGrad } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";
import { disposeTree, readTree, webgpu, type WebGpu } from "@rewind/webgpu";
import { lstmGradNorms, rewindLstm, rewindLstmParts, type LstmModel, type StepContestant } from "../peers/rewind.js";
import { tfLstmParts } from "../peers/tfjsLstm.js";

/** One size's results: timings and each contestant's loss and gradient norms. */
export interface SizeResult {
  readonly sizes: LstmSizes;
  readonly timings: readonly Timing[];
  readonly checks: Readonly<Record<string, StepCheck>>;
}

/** What the page reports: the adapter, then one result per size. */
export interface BenchResult {
  readonly adapter: string;
  readonly results: readonly SizeResult[];
}

/** TF.js on WebGPU: reading the loss and every gradient back is what finishes a step there. */
const tfWebgpuLstm = (sizes: LstmSizes): StepContestant & { readonly dispose: () => void } => {
  const { params, data, loss } = tfLstmParts(makeLstmData(sizes.B, sizes));
  const vg = tf.valueAndGrads((...a: tf.Tensor[]) => loss(a));
  const step = async (): Promise<StepCheck> => {
    const { value, grads } = tf.tidy(() => vg(params));
    const [v, ...gs] = await Promise.all([value.data(), ...grads.map((g) => g.data())]);
    tf.dispose([value, ...grads]);
    return { loss: v[0]!, gradNorms: gs.map((g) => l2(g)) };
  };
  return {
    name: "TF.js webgpu",
    enter: async () => {
      if (tf.getBackend() !== "webgpu") await tf.setBackend("webgpu");
    },
    run: async () => void (await step()),
    check: step,
    dispose: () => tf.dispose([...params, ...data]),
  };
};

/**
 * Rewind on WebGPU: the same loss under `jit(valueAndGrad, { backend: gpu })`, the model uploaded
 * once (resident) and the batch captured as constants (uploaded once per signature); a step ends
 * when its loss and gradients are read back.
 */
const rewindWebgpuLstm = (gpu: WebGpu, sizes: LstmSizes): StepContestant & { readonly dispose: () => void } => {
  const { model, loss } = rewindLstmParts(makeLstmData(sizes.B, sizes));
  const resident = treeMap((t) => gpu.upload(t as Tensor), model);
  const step = jit(valueAndGrad(loss), { backend: gpu });
  const call = async (): Promise<StepCheck> => {
    const out = await step(resident as Parameters<typeof step>[0]);
    const [value, g] = (await readTree(out)) as unknown as [Tensor, LstmModel];
    disposeTree(out);
    return { loss: value.data[0]!, gradNorms: lstmGradNorms(g) };
  };
  return {
    name: "Rewind webgpu jit(valueAndGrad)",
    run: async () => void (await call()),
    check: call,
    dispose: () => disposeTree(resident),
  };
};

const describeAdapter = async (): Promise<string> => {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter: () => Promise<unknown> } }).gpu;
  const adapter = (await gpu?.requestAdapter()) as { info?: Record<string, string> } | null | undefined;
  if (adapter === undefined || adapter === null) return "no WebGPU adapter";
  const info = adapter.info ?? {};
  return ["vendor", "architecture", "device", "description"]
    .map((k) => info[k] ?? "")
    .filter(Boolean)
    .join(" ");
};

/**
 * Checks, then times, every contestant at each of `sizes` (at most `rounds` timed calls each).
 * @example await runWebgpuBench([{ B: 32, T: 50, IN: 64, H: 128 }], 5)
 */
const runWebgpuBench = async (sizes: readonly LstmSizes[], rounds: number): Promise<BenchResult> => {
  const adapter = await describeAdapter();
  const gpu = await webgpu();
  if (!(await tf.setBackend("webgpu"))) throw new Error(`TF.js could not start its webgpu backend (${adapter})`);
  await tf.ready();
  const results: SizeResult[] = [];
  for (const s of sizes) {
    const contestants = [rewindLstm(makeLstmData(s.B, s), "jit"), rewindWebgpuLstm(gpu, s), tfWebgpuLstm(s)];
    const checks: Record<string, StepCheck> = {};
    for (const c of contestants) {
      await c.enter?.();
      checks[c.name] = await c.check();
    }
    // One warm-up call, then up to `rounds` timed calls within ~10 s each; a contestant slower than
    // that (TF.js on SwiftShader takes seconds per step) gets one timed call.
    const plan = { rounds, minRuns: 1, budgetMs: 10_000, sampleMs: 0, warmMs: 0 };
    const timings = await timeInterleaved(contestants, plan, (line) => console.log(line));
    for (const c of contestants) c.dispose?.();
    results.push({ sizes: s, timings, checks });
  }
  return { adapter, results };
};

(globalThis as { runWebgpuBench?: typeof runWebgpuBench }).runWebgpuBench = runWebgpuBench;
