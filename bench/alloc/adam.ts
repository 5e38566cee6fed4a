/**
 * @file The step whose allocations `run.ts` measures: an Adam update over parameter trees of the
 * char-rnn main job's sizes (examples/char-rnn: LSTM, hidden 128, embedding 32, the 89 characters
 * of Moby Dick), with its update count an int32 scalar tensor, jitted with or without
 * `donate: [0, 1]` (the parameters and the optimizer state). The gradients are fixed tensors, so
 * only the update is measured. Run by `run.ts` in a child process:
 * `tsx bench/alloc/adam.ts plain|donate` prints one `ALLOC {…}` line.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { measureAllocations, reportAllocation } from "./measure.js";

const VOCAB = 89;
const EMBED = 32;
const HIDDEN = 128;

/** The shapes of examples/char-rnn's `Params` (PyTorch's LSTM layout: four gates stacked). */
const SHAPES = {
  embed: { weight: [VOCAB, EMBED] },
  cell: {
    weight_ih: [4 * HIDDEN, EMBED],
    weight_hh: [4 * HIDDEN, HIDDEN],
    bias_ih: [4 * HIDDEN],
    bias_hh: [4 * HIDDEN],
  },
  readout: { weight: [VOCAB, HIDDEN], bias: [VOCAB] },
};

interface State {
  readonly m: unknown;
  readonly v: unknown;
  readonly count: Value;
}

/** A tree of `SHAPES`'s structure with a tensor made by `fill` at each leaf. */
const tree = (fill: (shape: readonly number[]) => T.Tensor): unknown =>
  Object.fromEntries(
    Object.entries(SHAPES).map(([k, group]) => [
      k,
      Object.fromEntries(Object.entries(group).map(([name, shape]) => [name, fill(shape)])),
    ]),
  );
let seed = 0;
const normal = (shape: readonly number[]): T.Tensor => T.random.normal(T.random.key(seed++), shape, "float32");

const LR = 2e-2;
const [B1, B2, EPS] = [0.9, 0.999, 1e-8];

/** Adam (Kingma & Ba), bias-corrected from the count: the update `@rewind/optim`'s adam computes. */
const update = (params: unknown, state: State, grads: unknown): [unknown, State] => {
  const count = A.add(state.count, 1);
  const t = A.astype(count, "float32");
  const m = A.treeMap((mi, g) => A.add(A.mul(mi, B1), A.mul(g, 1 - B1)), state.m, grads);
  const v = A.treeMap((vi, g) => A.add(A.mul(vi, B2), A.mul(A.square(g), 1 - B2)), state.v, grads);
  const c1 = A.sub(1, A.pow(B1, t));
  const c2 = A.sub(1, A.pow(B2, t));
  const next = A.treeMap(
    (p, mi, vi) => A.sub(p, A.mul(LR, A.div(A.div(mi, c1), A.add(A.sqrt(A.div(vi, c2)), EPS)))),
    params,
    m,
    v,
  );
  return [next, { m, v, count }];
};

const variant = process.argv[2];
if (variant !== "plain" && variant !== "donate") {
  console.error("usage: tsx bench/alloc/adam.ts plain|donate");
  process.exit(2);
}
const step = A.jit(update, variant === "donate" ? { donate: [0, 1] } : {});
let params = tree(normal);
let state: State = { m: tree((s) => T.zeros(s)), v: tree((s) => T.zeros(s)), count: T.scalar(0, "int32") };
const grads = tree(normal);
const leaves = A.treeLeaves(params) as T.Tensor[];
const paramBytes = leaves.reduce((n, l) => n + l.data.byteLength, 0);

const m = await measureAllocations(
  `Adam update, ${leaves.length} tensors (${(paramBytes / 1024).toFixed(0)} KiB of parameters), ` +
    (variant === "donate" ? "donate [0, 1]" : "no donation"),
  () => {
    [params, state] = step(params, state, grads);
  },
);
if (step.traceCount() !== 1) throw new Error(`the update traced ${step.traceCount()} times`);
reportAllocation(m);
