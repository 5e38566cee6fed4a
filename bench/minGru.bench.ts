/**
 * @file Benchmarks of a minGRU layer (issue 17's speed target): B 16, T 1024, input 128, hidden
 * 128, float32, one jitted gradient of sum(outputs · w) with respect to the parameters, run with
 * `mode: "parallel"` (the cell's sequence form: one input matmul and one `linearScan` pass over
 * time) against `mode: "sequential"` (the step form in a `scan`) in the same run. The target is
 * "vs baseline" ≥ 5× for the parallel row.
 *
 * The first-call row times a fresh `jit` (trace, compile and one run) on every call, without
 * warm-up, so its maximum is the first call of the process after the rows above it; the target
 * is ≤ 0.5 s. The GFLOP/s column counts the input projection's matmul FLOPs only (forward ×3 for
 * forward + backward), the work both modes share; the "shared input projection alone" row times
 * just that work, the lower bound of both modes.
 */
import { random } from "@rewind/tensor";
import { add, jit, matmul, mul, sum, transpose, valueAndGrad, type Value } from "@rewind/autodiff";
import { minGru, rnn, type MinimalCellParams } from "@rewind/rnn";
import type { BenchCase, BenchSuite } from "./run.js";

const B = 16;
const T = 1024;
const IN = 128;
const H = 128;
const SHAPE = `B${B} T${T} H${H}`;
const SEQUENTIAL = `minGRU ${SHAPE} jit grad sequential`;
const flops = 3 * 2 * B * T * IN * 2 * H;

const data = () => {
  const [k1, k2, k3] = random.split(random.key(17), 3) as [random.Key, random.Key, random.Key];
  return {
    params: minGru.init(k1, { inputSize: IN, hiddenSize: H }, { dtype: "float32" }),
    xs: random.normal(k2, [B, T, IN], "float32"),
    w: random.normal(k3, [B, T, H], "float32"),
  };
};

const step = (mode: "parallel" | "sequential") => {
  const { params, xs, w } = data();
  const loss = (p: MinimalCellParams): Value => sum(mul(rnn(minGru, p, xs, { mode }).outputs, w));
  return { params, loss };
};

const jitted = (mode: "parallel" | "sequential"): BenchCase => ({
  name: `minGRU ${SHAPE} jit grad ${mode}`,
  flops,
  minRepeats: 5,
  maxRepeats: 20,
  ...(mode === "parallel" ? { baseline: SEQUENTIAL } : {}),
  setup: () => {
    const { params, loss } = step(mode);
    const f = jit(valueAndGrad(loss));
    return () => f(params);
  },
});

const firstCall: BenchCase = {
  name: `minGRU ${SHAPE} jit grad parallel, first call (trace + compile + run)`,
  warmup: false,
  minRepeats: 3,
  maxRepeats: 3,
  setup: () => {
    const { params, loss } = step("parallel");
    return () => jit(valueAndGrad(loss))(params);
  },
};

/**
 * The lower bound of both modes: the work they share, alone: the input projection xs·Wᵀ + b, its
 * weight and bias gradients, and one elementwise pass (w's product) in place of the recurrence.
 * Its "vs baseline" is the most the parallel row could show against the sequential one.
 */
const sharedMatmuls: BenchCase = {
  name: `minGRU ${SHAPE} shared input projection alone (fwd + weight grad), jit`,
  flops,
  baseline: SEQUENTIAL,
  minRepeats: 5,
  maxRepeats: 20,
  setup: () => {
    const { params, xs } = data();
    const w2 = random.normal(random.key(19), [B, T, 2 * H], "float32");
    const f = jit(valueAndGrad((p: MinimalCellParams) => sum(mul(add(matmul(xs, transpose(p.weight)), p.bias), w2))));
    return () => f(params);
  },
};

export const suite: BenchSuite = {
  name: "minGRU",
  cases: [jitted("sequential"), jitted("parallel"), sharedMatmuls, firstCall],
};
