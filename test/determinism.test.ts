/**
 * @file Determinism. Same seed, same machine, separate processes: the examples write the same
 * losses, checkpoints and samples byte for byte, and every random draw (keys, samplers,
 * initialisers, dropout masks, sampled tokens) is the same in another process. And the three ways
 * of running a training step — eager, `jit` compiled, `jit(…, { compile: false })` interpreted —
 * give the same numbers over several optimizer steps.
 *
 * Tolerances. Eager, compiled and interpreted steps are compared with tolerance zero, bit for bit:
 * all three run the same kernels on the same operands in the same order (the compiler fuses
 * loops but never reassociates a sum, and JavaScript has no fused multiply-add), so any
 * difference is a bug, not rounding. The one comparison with a tolerance is float32 against
 * float64 training of the same model (below), where float32 rounding is the whole difference.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import type { Key, Tensor } from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { linear, lstm, rnn, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import { adam, applyUpdates, chain, clipByGlobalNorm, sgd, type GradientTransformation } from "@rewind/optim";
import { allClose } from "@rewind/testing";
import { ROOT } from "./interrupt/harness.js";
import { draws } from "./determinism/draws.js";

const run = promisify(execFile);
/** Runs an example (`pnpm example <name> …`) in its own process; resolves to its stdout. */
const example = async (name: string, ...args: string[]): Promise<string> =>
  (
    await run(process.execPath, ["--import", "tsx", join(ROOT, "examples", "run.ts"), name, ...args], {
      cwd: join(ROOT, "examples"),
      timeout: 120_000,
      maxBuffer: 1 << 24,
    })
  ).stdout;

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "rewind-determinism-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("same seed, separate processes: the same bytes", () => {
  it("char-rnn --smoke twice: identical history (every step's loss, held-out losses, samples) and checkpoint files", async () => {
    const [a, b] = [tempDir(), tempDir()];
    await Promise.all([
      example("char-rnn", "--smoke", "--seed", "3", "--out", a),
      example("char-rnn", "--smoke", "--seed", "3", "--out", b),
    ]);
    const history = readFileSync(join(a, "history.json"));
    const parsed = JSON.parse(history.toString("utf8")) as { train: number[]; samples: unknown[] };
    expect(parsed.train).toHaveLength(6); // the smoke run's steps: the files are not trivially equal
    expect(parsed.train.every(Number.isFinite)).toBe(true);
    expect(parsed.samples.length).toBeGreaterThan(0);
    expect(readFileSync(join(b, "history.json")).equals(history)).toBe(true);
    // The checkpoint holds the parameters, Adam's moments, the carried state and the key: all equal.
    expect(
      readFileSync(join(b, "checkpoint.safetensors")).equals(readFileSync(join(a, "checkpoint.safetensors"))),
    ).toBe(true);
  }, 120_000);

  it("min-char-rnn --smoke: the same seed writes the same --losses-json bytes and samples; another seed does not", async () => {
    const files = [tempDir(), tempDir(), tempDir()].map((d) => join(d, "losses.json"));
    const outs = await Promise.all(
      [
        ["0", files[0]!],
        ["0", files[1]!],
        ["1", files[2]!],
      ].map(([seed, file]) => example("min-char-rnn", "--smoke", "--seed", seed!, "--losses-json", file!)),
    );
    const bytes = files.map((f) => readFileSync(f));
    const losses = JSON.parse(bytes[0]!.toString("utf8")) as number[];
    expect(losses).toHaveLength(40); // every step of the smoke run
    expect(losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
    expect(bytes[1]!.equals(bytes[0]!)).toBe(true);
    expect(bytes[2]!.equals(bytes[0]!)).toBe(false);
    // The samples (drawn with keys split from the seed) too; timings are the only other output.
    const samples = (out: string): string[] => out.split("----").filter((_, i) => i % 2 === 1);
    expect(samples(outs[0]!).length).toBeGreaterThan(0);
    expect(samples(outs[1]!)).toEqual(samples(outs[0]!));
    expect(samples(outs[2]!)).not.toEqual(samples(outs[0]!));
  }, 120_000);

  it("every random draw of a key is the same in another process, and a different key changes every one", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", join(ROOT, "test", "determinism", "draws.ts"), "3"],
      { cwd: ROOT, maxBuffer: 1 << 24 },
    );
    const there = JSON.parse(stdout) as Record<string, string>;
    const here = draws(3);
    expect(Object.keys(here).length).toBeGreaterThanOrEqual(15);
    expect(there).toEqual(here);
    const other = draws(4);
    for (const [name, value] of Object.entries(here)) expect(other[name], name).not.toBe(value);
  }, 60_000);
});

// ---- eager, compiled and interpreted training steps --------------------------------------------

type Float = "float32" | "float64";
interface Params {
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}
const readout = linear(3);
const lossOf = (p: Params, xs: Value, ys: Value): Value =>
  A.mean(A.square(A.sub(readout.apply(p.out)(rnn(lstm, p.cell, xs).outputs), ys)));

/** The batches of steps 0…n−1: keys folded with the step, as a resumable run draws them. */
const batch = (key: Key, i: number, dtype: Float): [Tensor, Tensor] => {
  const [kx, ky] = T.random.split(T.random.foldIn(key, i), 2) as [Key, Key];
  return [
    T.astype(T.random.normal(kx, [3, 7, 4], "float64"), dtype),
    T.astype(T.random.normal(ky, [3, 7, 3], "float64"), dtype),
  ];
};

const initParams = (dtype: Float): Params => {
  const [k1, k2] = T.random.split(T.random.key(5), 2) as [Key, Key];
  // Drawn in float64 and rounded, so the float32 and float64 runs start from the same values.
  const p: Params = {
    cell: lstm.init(k1, { inputSize: 4, hiddenSize: 16 }, { dtype: "float64" }),
    out: readout.init(k2, 16, { dtype: "float64" }),
  };
  return A.treeMap<Params>((l) => T.astype(l as Tensor, dtype), p);
};

type Step<S> = (p: Params, s: S, xs: Tensor, ys: Tensor) => readonly [Tensor, Params, S];

/** `steps` optimizer steps from the same start; returns every loss and the final parameters and optimizer state. */
const train = <S>(dtype: Float, opt: GradientTransformation<S>, step: Step<S>, steps = 5) => {
  const key = T.random.key(9);
  let p = initParams(dtype);
  let s = opt.init(p);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [l, p2, s2] = step(p, s, ...batch(key, i, dtype));
    [p, s] = [p2, s2];
    losses.push(T.item(l));
  }
  return { losses, params: p, optState: s };
};

const bits = (tree: unknown): string[] =>
  A.treeLeaves(tree).map((l) =>
    T.isTensor(l)
      ? `${l.dtype}[${l.shape}]:${Buffer.from(l.data.buffer, l.data.byteOffset, l.data.byteLength).toString("hex")}`
      : JSON.stringify(l),
  );

describe("eager = jit compiled = jit interpreted, bit for bit, over several optimizer steps", () => {
  const opt = chain(clipByGlobalNorm(1), adam({ learningRate: 1e-2 }));
  type S = ReturnType<typeof opt.init>;
  const whole: Step<S> = (p, s, xs, ys) => {
    const [l, g] = A.valueAndGrad(lossOf)(p, xs, ys) as [Tensor, Params];
    const [u, s2] = opt.update(g, s, p);
    return [l, applyUpdates(p, u), s2];
  };
  const gradsOnly = A.jit(A.valueAndGrad(lossOf) as (p: Params, xs: Tensor, ys: Tensor) => [Tensor, Params]);
  const variants: Record<string, Step<S>> = {
    // The whole step — forward, BPTT, clipping, Adam, the update — traced and compiled (Adam's
    // update count is an int32 scalar tensor, so one trace per dtype serves every step).
    "jit(step) compiled": A.jit(whole),
    "jit(step) interpreted": A.jit(whole, { compile: false }),
    // char-rnn's split: compiled loss and gradient, eager optimizer.
    "jit(valueAndGrad) + eager update": (p, s, xs, ys) => {
      const [l, g] = gradsOnly(p, xs, ys);
      const [u, s2] = opt.update(g, s, p);
      return [l, applyUpdates(p, u), s2];
    },
  };
  for (const dtype of ["float32", "float64"] as const) {
    it(`LSTM (in 4, hidden 16, T 7, batch 3) + linear readout, clip + Adam, 5 steps, ${dtype}`, () => {
      const eager = train(dtype, opt, whole);
      expect(eager.losses[4]).not.toBe(eager.losses[0]); // it trains: the states compared differ from the start
      for (const [name, step] of Object.entries(variants)) {
        const r = train(dtype, opt, step);
        expect(r.losses, `${name}: losses`).toEqual(eager.losses); // numbers compared exactly
        expect(bits(r.params), `${name}: parameters`).toEqual(bits(eager.params));
        expect(bits(r.optState), `${name}: optimizer state`).toEqual(bits(eager.optState));
      }
    });
  }

  it("float32 tracks float64 within float32 rounding (SGD, 5 steps, compiled)", () => {
    // SGD rather than Adam: Adam divides by √v, so a gradient entry near zero can change sign
    // between precisions and move its parameter by a whole learning rate; SGD passes rounding
    // through at lr × its size. Bound: each forward/backward value is a chain of at most
    // ~(in + hidden)·T ≈ 140 roundings of u = 2⁻²⁴ ≈ 6e-8, so a relative error ≤ 140u ≈ 8e-6;
    // hence rtol 1e-5 on losses, and on parameters (|p| ≤ ~0.5) rtol 1e-5 plus atol 1e-6 for the
    // entries that cancel to near zero. Measured: ~1e-7 on losses, ≤ 3e-8 absolute on parameters.
    const plain = sgd({ learningRate: 0.1 });
    type P = ReturnType<typeof plain.init>;
    const grads = A.jit(A.valueAndGrad(lossOf) as (p: Params, xs: Tensor, ys: Tensor) => [Tensor, Params]);
    const step: Step<P> = (p, s, xs, ys) => {
      const [l, g] = grads(p, xs, ys);
      const [u, s2] = plain.update(g, s, p);
      return [l, applyUpdates(p, u), s2];
    };
    const f32 = train("float32", plain, step);
    const f64 = train("float64", plain, step);
    expect(allClose(f32.losses, f64.losses, { rtol: 1e-5, atol: 0 }).pass).toBe(true);
    const p32 = A.treeLeaves(f32.params).map((l) => T.astype(l as Tensor, "float64"));
    const p64 = A.treeLeaves(f64.params) as Tensor[];
    p64.forEach((w, i) => {
      const r = allClose(p32[i]!, w, { rtol: 1e-5, atol: 1e-6 });
      expect(r.pass, r.message).toBe(true);
    });
    // Not vacuous: the float32 run really ran in float32 and differs from float64 somewhere.
    expect(A.treeLeaves(f32.params).every((l) => (l as Tensor).dtype === "float32")).toBe(true);
    expect(p32.some((l, i) => l.data.some((x, j) => x !== p64[i]!.data[j]))).toBe(true);
  });
});
