/**
 * @file The step whose allocations `run.ts` measures: the char-rnn training step of `pnpm start`
 * (../charRnnStep.ts: loss, gradient, clipping and Adam, B 32, T 64, LSTM 128, float32) as
 * `trainStep` compiles it, with the parameters and optimizer state donated or not. Run by
 * `run.ts` in a child process: `tsx bench/alloc/train-step.ts plain|donate` prints one `ALLOC {…}` line.
 */
import type * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { trainStep } from "@rewind/optim";
import { loss, setup } from "../charRnnStep.js";
import { measureAllocations, reportAllocation } from "./measure.js";

const variant = process.argv[2];
if (variant !== "plain" && variant !== "donate") {
  console.error("usage: tsx bench/alloc/train-step.ts plain|donate");
  process.exit(2);
}
const s = setup();
const step = trainStep(loss, s.optimizer, { hasAux: true, donate: variant === "donate" });
let { params, optState } = s;
const leaves = A.treeLeaves([params, optState]) as T.Tensor[];
const stateBytes = leaves.reduce((n, l) => n + l.data.byteLength, 0);

const m = await measureAllocations(
  `char-rnn training step, ${leaves.length} tensors of parameters and optimizer state ` +
    `(${(stateBytes / 1024).toFixed(0)} KiB), ` +
    (variant === "donate" ? "donated" : "not donated"),
  () => {
    ({ params, optState } = step(params, optState, s.carry, s.x, s.y));
  },
);
if (step.traceCount() !== 1) throw new Error(`the step traced ${step.traceCount()} times`);
reportAllocation(m);
