/**
 * @file Child process of long-sequences.test.ts (and test/soak/long-sequences.ts): backpropagates
 * through the LSTM of long-sequences.support.ts over T steps under one remat policy, measures
 * the live memory, and prints one JSON line (`MemoryReport`).
 *
 *     node --expose-gc --no-flush-bytecode --import tsx test/long-sequences.child.ts '{"every":100}' 10000 [jit] [manyToOne [batch]]
 *
 * The loss is the raw `scan` of long-sequences.support.ts, or with a fourth argument `manyToOne`
 * the same LSTM through @rewind/rnn's `manyToOne` (no-output-stacking.test.ts); a fifth sets the
 * batch size (default `BATCH`). With REWIND_MEM_FORWARD_ONLY=1 it stops after the forward pass.
 *
 * How it measures. The typed-array constructors are wrapped before Rewind is loaded, so every
 * buffer the library allocates is a point where we may sample: every so many allocations (about
 * `SAMPLES_PER_RUN` per run, the stride set from a warm-up run's count, so load on the machine
 * changes nothing) and at every phase boundary. A sample runs two full GCs (V8 finishes freeing one
 * GC's dead ArrayBuffers only when the next starts) and reads the bytes still reachable: V8's heap
 * spaces other than the code spaces (optimised machine code is not data) plus typed-array backing
 * stores. Figures are deltas from a baseline taken after the warm-up, once parameters and inputs
 * exist: `held` is what the forward pass keeps for the backward pass, `backwardPeak` the most the
 * backward pass ever had alive. Sampling can only under-read a peak, never over-read it.
 * Under `jit` the forward and backward passes are one compiled call, so only its peak is reported.
 */
import { getHeapSpaceStatistics } from "node:v8";
import type * as TensorModule from "@rewind/tensor";
import type * as AutodiffModule from "@rewind/autodiff";
import type * as Support from "./long-sequences.support.js";

/** What one child run prints. */
export interface MemoryReport {
  readonly policy: AutodiffModule.ScanOptions["remat"];
  readonly length: number;
  readonly jit: boolean;
  /** `estimateScanResiduals` of the LSTM's scan under this policy (bytes). */
  readonly scanEstimate: number;
  /** `estimateResiduals` of the whole loss: every value on the forward tape (an upper bound). */
  readonly tapeEstimate: number;
  /** Live bytes kept between the passes (after the forward pass, pullback alive); null under jit. */
  readonly held: number | null;
  /** The highest live bytes sampled during the forward pass; null under jit. */
  readonly forwardPeak: number | null;
  /** The highest live bytes sampled during the backward pass (under jit: during the whole call). */
  readonly backwardPeak: number;
  readonly samples: number;
  readonly forwardMs: number;
  readonly backwardMs: number;
  /** The gradient leaves by name, flattened, for comparing policies. */
  readonly grads: Readonly<Record<string, readonly number[]>>;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("long-sequences.child: run node with --expose-gc");
const collect = gc;

/** About how many samples a run takes, whatever the length and the machine's load. */
const SAMPLES_PER_RUN = Number(process.env["REWIND_MEM_SAMPLES"] ?? 30);
const CODE_SPACES = new Set(["code_space", "code_large_object_space"]);
const live = (): number => {
  let heap = 0;
  for (const s of getHeapSpaceStatistics()) if (!CODE_SPACES.has(s.space_name)) heap += s.space_used_size;
  return heap + process.memoryUsage().arrayBuffers;
};

let peak = 0;
let samples = 0;
let allocations = 0;
/** Sample every `sampleEvery`-th allocation; set after the warm-up has counted a run's allocations. */
let sampleEvery = Infinity;
const sample = (): number => {
  collect();
  collect();
  samples++;
  const v = live();
  if (v > peak) peak = v;
  return v;
};

for (const name of ["Float32Array", "Float64Array", "Int32Array", "Uint8Array"] as const) {
  const Base = globalThis[name] as unknown as new (a?: unknown, b?: unknown, c?: unknown) => object;
  // A subclass, so `instanceof Float32Array` still holds; fixed parameters rather than `...args`
  // (a spread in a derived constructor is much slower; trailing undefined arguments are ignored).
  const Sampled = class extends Base {
    constructor(a?: unknown, b?: unknown, c?: unknown) {
      super(a, b, c);
      if (++allocations % sampleEvery === 0) sample();
    }
  };
  Object.defineProperty(Sampled, "name", { value: name });
  (globalThis as Record<string, unknown>)[name] = Sampled;
}

const T: typeof TensorModule = await import("@rewind/tensor");
const A: typeof AutodiffModule = await import("@rewind/autodiff");
const S: typeof Support = await import("./long-sequences.support.js");

const [policyArg = '"all"', lengthArg = "10000", modeArg = "", lossArg = "scan", batchArg] = process.argv.slice(2);
const batch = batchArg === undefined ? S.BATCH : Number(batchArg);
const policy = JSON.parse(policyArg) as NonNullable<AutodiffModule.ScanOptions["remat"]>;
const length = Number(lengthArg);
const useJit = modeArg === "jit";
const opts: AutodiffModule.ScanOptions = { remat: policy };

const params = S.lstmParams();
const xs = S.sequence(length, "float32", batch);
const lossOf = lossArg === "manyToOne" ? S.rnnManyToOneLoss : S.manyToOneLoss;
const loss = lossOf(xs, opts);
const scanEstimate = A.estimateScanResiduals(
  S.lastStateStep(params),
  { h: T.zeros([batch, S.HIDDEN]), c: T.zeros([batch, S.HIDDEN]) },
  xs,
  opts,
).bytes;
const tapeEstimate = A.estimateResiduals(loss, params).bytes;

// Warm up on a short sequence, so objects V8 creates once (feedback, caches) are in the baseline;
// its allocations per step set the sampling stride.
const WARM = 500;
const warm = lossOf(S.sequence(WARM, "float32", batch), opts);
const before = allocations;
const forwardOnly = process.env["REWIND_MEM_FORWARD_ONLY"] === "1";
if (useJit) A.jit(A.grad(warm))(params);
else if (forwardOnly) A.vjp(warm, params);
else A.grad(warm)(params);
sampleEvery = Math.max(64, Math.round((((allocations - before) / WARM) * length) / SAMPLES_PER_RUN));

// The baseline is the floor of a few collections, so leftovers of the warm-up that V8 releases
// only after more than one cycle are not counted as residuals released during the run.
let baseline = sample();
for (let i = 0; i < 3; i++) baseline = Math.min(baseline, sample());
peak = baseline;
const t0 = performance.now();
let grads: Record<string, TensorModule.Tensor>;
let held: number | null = null;
let forwardPeak: number | null = null;
let t1 = t0;
if (useJit) {
  // The first call, which also compiles: a compiled runner keeps its planned buffers for reuse,
  // so a second call would start with them already in the baseline.
  grads = A.jit(A.grad(loss))(params) as unknown as Record<string, TensorModule.Tensor>;
} else {
  const [, pullback] = A.vjp(loss, params);
  held = sample() - baseline;
  forwardPeak = peak - baseline;
  peak = held + baseline;
  t1 = performance.now();
  // REWIND_MEM_FORWARD_ONLY=1: only `held` is wanted (no-output-stacking.test.ts), so no backward pass.
  grads = forwardOnly ? {} : (pullback(T.scalar(1))[0] as unknown as Record<string, TensorModule.Tensor>);
}
sample();
const t2 = performance.now();

const report: MemoryReport = {
  policy,
  length,
  jit: useJit,
  scanEstimate,
  tapeEstimate,
  held,
  forwardPeak,
  backwardPeak: peak - baseline,
  samples,
  forwardMs: Math.round(t1 - t0),
  backwardMs: Math.round(t2 - t1),
  grads: Object.fromEntries(
    Object.keys(grads)
      .sort()
      .map((k) => [k, Array.from(grads[k]!.data, Number)]),
  ),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
