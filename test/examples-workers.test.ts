/**
 * @file `--workers 2` in the examples that take it: each example's own step module (the one its
 * main.ts hands to `pmap`) trained through the examples' shared `trainer` with 1 and with 2
 * workers, in this process, on small batches shaped like the example's: the losses agree within
 * float rounding. One set of 2 worker threads serves every case (pmaps with the same number of
 * workers share it), so the whole file costs one worker start-up.
 *
 * Tolerance: 1e-5 relative on each step's loss (measured: at most 1.1e-7). Splitting a mean into
 * two shard means sums the same float32 terms in another order (relative error ~1e-7 per sum);
 * over three Adam steps that stays far below 1e-5, while a wrong combination moves the loss by
 * percents (names with its shards averaged unweighted: 1.3%).
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { random, tensor, type Key, type Tensor } from "@rewind/tensor";
import { stack, treeLeaves, treeMap, type Value } from "@rewind/autodiff";
import { additiveAttention, embedding, gru, linear, padSequences } from "@rewind/rnn";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const examples = join(root, "examples");
// The examples live outside this project's rootDir (test/): loaded by computed paths and described
// by the few types used here (as test/char-rnn.test.ts does).
const load = <M>(file: string): Promise<M> => import(pathToFileURL(join(examples, file)).href) as Promise<M>;

interface Trainer {
  readonly step: (...batch: unknown[]) => Promise<number>;
  readonly close: () => Promise<void>;
}
type Build = (config: never) => unknown;
const { trainer } = await load<{
  trainer: (o: {
    workers: number;
    module: URL;
    exportName: string;
    build: Build;
    config: unknown;
    params: unknown;
  }) => Trainer;
}>("shared/trainer.ts");

interface Case {
  /** The example's folder; its step.ts exports `build` and `parallelStep`. */
  readonly example: string;
  readonly config: unknown;
  /** Fresh initial parameters (one worker's step donates them, so each run gets its own). */
  readonly params: () => Promise<unknown>;
  /** The batches, each a list of step arguments whose leaves have the batch on axis 0. */
  readonly batches: () => Promise<unknown[][]>;
}

const keys = (n: number, seed = 0): readonly Key[] => random.split(random.key(seed), n);
/** `n` random id sequences of the given lengths, ids in [lo, hi). */
const idLists = (key: Key, lengths: readonly number[], lo: number, hi: number): number[][] => {
  const u = random.uniform(key, [lengths.length, Math.max(...lengths)], { dtype: "float64" }).data;
  const width = Math.max(...lengths);
  return lengths.map((len, b) => Array.from({ length: len }, (_, t) => lo + Math.floor(u[b * width + t]! * (hi - lo))));
};
// Uneven lengths: the first shard holds far fewer valid steps than the second, so the examples whose
// loss is a mean over valid steps (names, seq2seq) must weight the shards, not average them.
const UNEVEN = [2, 3, 8, 8];

/** Windows shaped like forecast's: 56 days of 51 features, one target per day. */
const forecastBatches = (): Tensor[][] =>
  keys(3, 1).map((k) => {
    const [kx, ky] = random.split(k, 2);
    return [random.normal(kx!, [4, 56, 51]), random.normal(ky!, [4, 56, 1])];
  });
/** Emails shaped like spam's (a vocabulary of 50, 8 words), for spam's and dp-spam's models. */
const spamParams = () => {
  const [k1, k2, k3] = keys(3);
  return Promise.resolve({
    embed: embedding(50, 4).init(k1!, 50),
    cell: gru.init(k2!, { inputSize: 4, hiddenSize: 8 }),
    out: linear(2).init(k3!, 8),
  });
};
const spamBatches = (): unknown[][] =>
  keys(3, 1).map((k, i) => {
    const label = tensor(i === 1 ? [1, 1, 0, 0] : [0, 1, 1, 0], "int32");
    return [{ words: padSequences(idLists(k, UNEVEN, 2, 50), { maxLength: 8 }), label }];
  });

const cases: Case[] = [
  {
    example: "forecast",
    config: {},
    params: async () => {
      const { readout } = await load<{ readout: ReturnType<typeof linear> }>("forecast/step.ts");
      const [k1, k2] = keys(2);
      return { cell: gru.init(k1!, { inputSize: 51, hiddenSize: 8 }), out: readout.init(k2!, 8) };
    },
    batches: () => Promise.resolve(forecastBatches()),
  },
  {
    example: "spam",
    config: {},
    params: () => spamParams(),
    batches: () => Promise.resolve(spamBatches()),
  },
  {
    example: "names",
    config: { vocab: 10, embedDim: 4 },
    params: async () => {
      const { modelOf } = await load<{
        modelOf: (c: unknown) => { init: (k: Key, s: { inputSize: number; hiddenSize: number }) => unknown };
      }>("names/step.ts");
      return modelOf({ vocab: 10, embedDim: 4 }).init(keys(1)[0]!, { inputSize: 10, hiddenSize: 8 });
    },
    batches: () =>
      Promise.resolve(
        keys(3, 1).map((k) => {
          const ids = idLists(k, UNEVEN, 1, 10);
          const pad = (xs: number[][]) => padSequences(xs, { maxLength: 9 });
          return [{ inputs: pad(ids.map((s) => [0, ...s])), targets: pad(ids.map((s) => [...s, 0])) }];
        }),
      ),
  },
  {
    example: "seq2seq",
    config: { vocab: 10, steps: 3, attention: true },
    params: () => {
      const [k1, k2, k3, k4] = keys(4);
      return Promise.resolve({
        embed: embedding(10, 4).init(k1!, 10),
        encoder: gru.init(k2!, { inputSize: 4, hiddenSize: 8 }),
        decoder: additiveAttention(gru).init(k3!, { inputSize: 4, hiddenSize: 8 }),
        out: linear(10).init(k4!, 8),
      });
    },
    batches: () =>
      Promise.resolve(
        keys(3, 1).map((k) => {
          const src = idLists(k, UNEVEN, 0, 8);
          const rev = src.map((s) => [...s].reverse());
          const pad = (xs: number[][], maxLength: number) => padSequences(xs, { maxLength, padValue: 9 });
          return [
            {
              src: padSequences(src, { maxLength: 8 }),
              tgtIn: pad(
                rev.map((r) => [8, ...r]),
                9,
              ),
              tgtOut: pad(
                rev.map((r) => [...r, 9]),
                9,
              ),
            },
          ];
        }),
      ),
  },
  {
    example: "custom-cell",
    config: { learningRate: 2e-3, steps: 3 },
    params: async () => {
      const { model, readout } = await load<{
        model: { init: (k: Key, s: { inputSize: number; hiddenSize: number }) => unknown };
        readout: ReturnType<typeof linear>;
      }>("custom-cell/step.ts");
      const [k1, k2] = keys(2);
      return { cells: model.init(k1!, { inputSize: 2, hiddenSize: 4 }), out: readout.init(k2!, 4) };
    },
    batches: async () => {
      const { addingProblem } = await load<{
        addingProblem: (k: Key, batch: number, time: number) => { xs: Tensor; ys: Tensor };
      }>("custom-cell/adding.ts");
      return keys(3, 1).map((k) => {
        const { xs, ys } = addingProblem(k, 4, 6);
        return [xs, ys];
      });
    },
  },
  {
    example: "dp-spam",
    config: { learningRate: 1e-2, clip: 1, sigma: 1, words: 8 },
    params: () => spamParams(),
    batches: () => Promise.resolve(spamBatches()),
  },
  {
    example: "ensemble",
    config: { ensemble: true },
    params: async () => {
      const { readout } = await load<{ readout: ReturnType<typeof linear> }>("forecast/step.ts");
      const models = keys(2).map((k) => {
        const [k1, k2] = random.split(k, 2);
        return { cell: gru.init(k1!, { inputSize: 51, hiddenSize: 4 }), out: readout.init(k2!, 4) };
      });
      return treeMap((a: Value, b: Value) => stack([a, b], 0), models[0]!, models[1]!);
    },
    batches: () => Promise.resolve(forecastBatches()),
  },
  {
    example: "parallel",
    config: { model: "minGru parallel", lr: 3e-3 },
    params: async () => {
      const { initMinGru } = await load<{ initMinGru: (k: Key, s: object) => unknown }>("parallel/model.ts");
      return initMinGru(keys(1)[0]!, { vocab: 12, embed: 4, hidden: 6 });
    },
    batches: () =>
      Promise.resolve(
        keys(3, 1).map((k) => {
          const ids = idLists(k, [9, 9, 9, 9], 0, 12);
          const x = tensor(
            ids.map((s) => s.slice(0, 8)),
            "int32",
          );
          return [
            x,
            tensor(
              ids.map((s) => s.slice(1)),
              "int32",
            ),
          ];
        }),
      ),
  },
];

/** The matching leaves of two parameter trees. */
const zipLeaves = (a: unknown, b: unknown): [Tensor, Tensor][] => {
  const bs = treeLeaves(b) as Tensor[];
  return (treeLeaves(a) as Tensor[]).map((x, i) => [x, bs[i]!]);
};

const losses = async (c: Case, workers: number): Promise<number[]> => {
  const module = new URL(pathToFileURL(join(examples, c.example, "step.ts")).href);
  const { build } = await load<{ build: Build }>(`${c.example}/step.ts`);
  const t = trainer({ workers, module, exportName: "parallelStep", build, config: c.config, params: await c.params() });
  try {
    const out: number[] = [];
    for (const batch of await c.batches()) out.push(await t.step(...batch));
    return out;
  } finally {
    await t.close();
  }
};

describe("examples with --workers 2 reach the losses of one worker", () => {
  for (const c of cases)
    it(`${c.example}: 3 steps, each loss within 1e-5 relative`, async () => {
      const one = await losses(c, 1);
      const two = await losses(c, 2);
      expect(two).toHaveLength(3);
      two.forEach((l, i) => expect(Math.abs(l - one[i]!) / Math.abs(one[i]!)).toBeLessThan(1e-5));
    }, 60_000);

  it("dp-spam's DP-SGD step: 3 steps with the same noise, each clipped fraction equal and the parameters within 1e-5", async () => {
    const config = { learningRate: 1e-2, clip: 1, sigma: 1, words: 8 };
    const module = new URL(pathToFileURL(join(examples, "dp-spam", "step.ts")).href);
    const { privateStepOf, build } = await load<{
      privateStepOf: (c: unknown, workers: boolean) => (...args: unknown[]) => Record<string, unknown>;
      build: (c: unknown) => { optimizer: { init: (p: unknown) => unknown } };
    }>("dp-spam/step.ts");
    const { noiseLike } = await load<{ noiseLike: (p: unknown, k: Key) => unknown }>("dp-spam/dpsgd.ts");
    const { placedStep } = await load<{
      placedStep: (
        m: URL,
        name: string,
        workers: number,
      ) => {
        step: (axes: unknown[], ...args: unknown[]) => Promise<Tensor[]>;
        params: () => unknown;
        close: () => Promise<void>;
      };
    }>("shared/trainer.ts");
    const shapes = await spamParams();
    const noises = keys(3, 7).map((k) => noiseLike(shapes, k));
    // One process: the batch whole.
    const step = privateStepOf(config, false);
    let params: unknown = await spamParams();
    let optState = build(config).optimizer.init(params);
    const one: number[] = [];
    spamBatches().forEach(([batch], i) => {
      const r = step(params, optState, batch, noises[i]);
      [params, optState] = [r["params"], r["optState"]];
      one.push((r["clippedFraction"] as Tensor).data[0]!);
    });
    // Two workers: two emails each, their clipped sums added (psum) before the same noise.
    const two = placedStep(module, "parallelPrivateStep", 2);
    const start = await spamParams();
    const startState = build(config).optimizer.init(start);
    const twoFractions: number[] = [];
    try {
      for (const [i, [batch]] of spamBatches().entries()) {
        const [fraction] = await two.step([0, null], config, start, startState, batch, noises[i]);
        twoFractions.push(fraction!.data[0]!);
      }
      expect(twoFractions).toEqual(one); // counts of clipped emails: exact
      const gap = Math.max(
        ...zipLeaves(two.params(), params).map(([a, b]) => Math.max(...a.data.map((x, j) => Math.abs(x - b.data[j]!)))),
      );
      expect(gap).toBeLessThan(1e-5);
    } finally {
      await two.close();
    }
  }, 60_000);

  it("a worker count that does not divide the batch is a usage error naming the flag, the batch and the fix", async () => {
    const run = promisify(execFile);
    const failure = await run(
      process.execPath,
      ["--import", "tsx", join(examples, "run.ts"), "forecast", "--workers", "3"],
      {
        cwd: examples,
      },
    ).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(
      "forecast: --workers 3: the batch of 32 (fixed in this example) must split into equal shards, one per worker; " +
        "pass --workers 1, 2, 4, 8, 16 or 32",
    );
  }, 30_000);
});
