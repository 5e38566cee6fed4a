/**
 * @file The resume law: training N steps straight equals training k steps, saving, loading and
 * training N − k more — the same losses and parameters, bit for bit. The PRNG key is split every
 * step to draw the minibatch, so it is part of what must be resumed; the optimizer has a
 * schedule, clipping, decoupled decay and a skipped non-finite step, so every part of its state
 * matters. Two models: linear regression (eager) and a tiny tanh RNN run by `scan`, with its loss
 * and gradient under `jit`. Checkpoints go through bytes and through files (`@rewind/optim/node`).
 */
/// <reference types="node" />
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { formatTensorError, random, type Key } from "@rewind/tensor";
import {
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  encodeCheckpoint,
  restoreCheckpoint,
  skipNonFinite,
  warmupCosineDecay,
  type Checkpoint,
  type JsonConfig,
} from "../src/index.js";
import { loadCheckpoint, saveCheckpoint } from "../src/node.js";
import { expectSameBits, flat } from "./helpers.js";

interface Config {
  readonly lr: number;
  readonly batch: number;
  readonly poisonStep: number;
}

/** The optimizer, rebuilt from the config (so a resumed run trusts only what the file says). */
const optimizerFor = (c: Config) =>
  skipNonFinite(
    chain(
      clipByGlobalNorm(1),
      adamw({
        learningRate: warmupCosineDecay({ peakValue: c.lr, warmupSteps: 3, decaySteps: 20 }),
        weightDecay: 0.01,
        mask: { b: false, w: true },
      }),
    ),
  );

interface Model<P> {
  readonly init: P;
  /** The minibatch loss and its gradient for the examples at `rows`. */
  readonly lossAndGrad: (params: P, rows: readonly number[]) => readonly [number, P];
  readonly examples: number;
}

interface RunState<P> {
  readonly params: P;
  readonly optState: ReturnType<ReturnType<typeof optimizerFor>["init"]>;
  readonly step: number;
  readonly key: Key;
}

/** One training step: split the key, draw a minibatch, take a gradient step (one step is poisoned with NaN). */
const step = <P>(model: Model<P>, c: Config, s: RunState<P>): [RunState<P>, number] => {
  const [next, sub] = random.split(s.key);
  const rows = Array.from(random.permutation(sub!, model.examples).data).slice(0, c.batch);
  const [loss, g0] = model.lossAndGrad(s.params, rows);
  const g = s.step === c.poisonStep ? A.treeMap<P>((x: Value) => A.mul(x, NaN), g0) : g0;
  const [updates, optState] = optimizerFor(c).update(g, s.optState, s.params);
  return [{ params: applyUpdates(s.params, updates), optState, step: s.step + 1, key: next! }, loss];
};

const train = <P>(model: Model<P>, c: Config, from: RunState<P>, steps: number): [RunState<P>, number[]] => {
  let s = from;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [n, loss] = step(model, c, s);
    s = n;
    losses.push(loss);
  }
  return [s, losses];
};

const linearRegression = (): Model<{ b: T.Tensor; w: T.Tensor }> => {
  const [kx, kn] = random.split(random.key(1));
  const x = random.normal(kx!, [24, 3], "float64");
  const y = A.add(
    A.matmul(x, T.tensor([[1.5], [-2], [0.5]], "float64")),
    A.mul(random.normal(kn!, [24, 1], "float64"), 0.1),
  );
  const loss = (p: { b: Value; w: Value }, xb: Value, yb: Value): Value =>
    A.mean(A.square(A.sub(A.add(A.matmul(xb, p.w), p.b), yb)));
  const vg = A.valueAndGrad(loss);
  return {
    init: { b: T.zeros([1], "float64"), w: T.zeros([3, 1], "float64") },
    examples: 24,
    lossAndGrad: (p, rows) => {
      const [l, g] = vg(p, A.take(x, rows, 0), A.take(y, rows, 0)) as [T.Tensor, { b: T.Tensor; w: T.Tensor }];
      return [T.item(l), g];
    },
  };
};

/** A tanh RNN over 5 steps of 2 features, predicting a sum of its inputs from the last state. */
const tinyRnn = (): Model<{ b: T.Tensor; w: { hh: T.Tensor; ih: T.Tensor; out: T.Tensor } }> => {
  const [kx, k1, k2, k3] = random.split(random.key(2), 4);
  const xs = random.normal(kx!, [5, 16, 2], "float64"); // [time, examples, features]
  const target = A.sum(xs, { axis: [0, 2] });
  type P = { b: Value; w: { hh: Value; ih: Value; out: Value } };
  const loss = (p: P, xb: Value, tb: Value): Value => {
    const cell = (h: Value, x: Value) =>
      [A.tanh(A.add(A.add(A.matmul(x, p.w.ih), A.matmul(h, p.w.hh)), p.b)), null] as const;
    const [h] = A.scan(cell, T.zeros([xb.shape[1]!, 4], "float64"), xb);
    return A.mean(A.square(A.sub(A.reshape(A.matmul(h, p.w.out), [xb.shape[1]!]), tb)));
  };
  const vg = A.jit(A.valueAndGrad(loss));
  return {
    init: {
      b: T.zeros([4], "float64"),
      w: {
        hh: A.mul(random.normal(k1!, [4, 4], "float64"), 0.3) as T.Tensor,
        ih: random.normal(k2!, [2, 4], "float64"),
        out: random.normal(k3!, [4, 1], "float64"),
      },
    },
    examples: 16,
    lossAndGrad: (p, rows) => {
      const [l, g] = vg(p, A.take(xs, rows, 1), A.take(target, rows, 0)) as [
        T.Tensor,
        ReturnType<typeof tinyRnn>["init"],
      ];
      return [T.item(l), g];
    },
  };
};

const dir = mkdtempSync(join(tmpdir(), "rewind-optim-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Via = "bytes" | "file";

/** Saves a run as a checkpoint and loads it back, fitting a fresh template. */
const roundTrip = <P>(model: Model<P>, s: RunState<P>, config: Config, via: Via): [RunState<P>, Config] => {
  const ckpt: Checkpoint<P, RunState<P>["optState"]> = { ...s, config: config as unknown as JsonConfig };
  const template = { params: model.init, optState: optimizerFor(config).init(model.init) };
  let restored;
  if (via === "bytes") {
    restored = restoreCheckpoint(encodeCheckpoint(ckpt), template);
  } else {
    const path = join(dir, `step-${s.step}.safetensors`);
    const saved = saveCheckpoint(path, ckpt);
    if (E.isLeft(saved)) return expect.fail(formatTensorError(saved.left));
    restored = loadCheckpoint(path, template);
  }
  if (E.isLeft(restored)) return expect.fail(formatTensorError(restored.left));
  const r = restored.right;
  if (r.key === undefined) return expect.fail("the key was not restored");
  return [{ params: r.params, optState: r.optState, step: r.step, key: r.key }, r.config as unknown as Config];
};

describe.each([
  ["linear regression (eager)", linearRegression],
  ["tiny RNN (scan, jit)", tinyRnn],
] as const)("resume law: %s", (_, makeModel) => {
  const model = makeModel() as Model<unknown>;
  const config: Config = { lr: 0.1, batch: 6, poisonStep: 4 };
  const N = 10;
  const start: RunState<unknown> = {
    params: model.init,
    optState: optimizerFor(config).init(model.init),
    step: 0,
    key: random.key(7),
  };
  const [straight, losses] = train(model, config, start, N);

  it("the straight run learns, and its poisoned step was skipped", () => {
    const everything = Array.from({ length: model.examples }, (_, i) => i);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(model.lossAndGrad(straight.params, everything)[0]).toBeLessThan(
      0.8 * model.lossAndGrad(model.init, everything)[0],
    );
    expect(Number(straight.optState.totalNotFinite)).toBe(1);
  });

  it.each([
    [0, "bytes"],
    [3, "bytes"],
    [4, "file"],
    [5, "bytes"],
    [7, "file"],
    [N, "bytes"],
  ] as const)("stopping after %i steps and resuming through %s gives the same run", (k, via) => {
    const [first, before] = train(model, config, start, k);
    const [resumed, resumedConfig] = roundTrip(model, first, config, via);
    expect(resumedConfig).toEqual(config);
    expect(resumed.step).toBe(k);
    const [end, after] = train(model, resumedConfig, resumed, N - k);
    expectSameBits([...before, ...after], losses);
    expectSameBits(flat(end.params), flat(straight.params));
    expectSameBits(flat(end.optState), flat(straight.optState));
    expect(end.key).toEqual(straight.key);
    expect(Number(end.optState.totalNotFinite)).toBe(1);
  });
});

describe("@rewind/optim/node", () => {
  it("writes atomically (no temporary file left behind) and reports I/O errors as Lefts", () => {
    const path = join(dir, "atomic.safetensors");
    const state = { params: { w: T.tensor([1], "float64") }, optState: {}, step: 0 };
    expect(E.isRight(saveCheckpoint(path, state))).toBe(true);
    expect(E.isRight(saveCheckpoint(path, { ...state, step: 1 }))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith("atomic"))).toEqual(["atomic.safetensors"]);
    const loaded = loadCheckpoint(path);
    expect(E.isRight(loaded) && loaded.right.step).toBe(1);

    const missing = loadCheckpoint(join(dir, "nope.safetensors"));
    expect(E.isLeft(missing) && formatTensorError(missing.left)).toMatch(
      /^loadCheckpoint: cannot read ".*nope\.safetensors": ENOENT/,
    );
    const unwritable = saveCheckpoint(join(dir, "no-such-dir", "x.safetensors"), state);
    expect(E.isLeft(unwritable) && formatTensorError(unwritable.left)).toMatch(
      /^saveCheckpoint: cannot write ".*x\.safetensors": ENOENT/,
    );
    const bad = saveCheckpoint(path, { ...state, step: -1 });
    expect(E.isLeft(bad) && formatTensorError(bad.left)).toMatch(/step must be a non-negative integer/);
  });

  it("names the file in a decoding error", () => {
    const path = join(dir, "plain.safetensors");
    expect(E.isRight(saveCheckpoint(path, { params: {}, optState: {}, step: 0 }))).toBe(true);
    const wrong = loadCheckpoint(path, { params: { w: T.zeros([1]) }, optState: {} });
    expect(E.isLeft(wrong) && formatTensorError(wrong.left)).toMatch(
      /^restoreCheckpoint: ".*plain\.safetensors": the checkpoint does not fit the template: params\.w: missing/,
    );
  });
});
